tasks = [{'slug': 'one', 'scenario': 'checkout'}]
