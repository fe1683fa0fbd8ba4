tasks = [{'slug': 'a', 'scenario': 'checkout', 'args': {'n': 10 ** 5000}}]
