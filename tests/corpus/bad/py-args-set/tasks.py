tasks = [
    {'slug': 'a', 'scenario': 'checkout', 'args': {'tags': {'x', 'y'}}},
]
