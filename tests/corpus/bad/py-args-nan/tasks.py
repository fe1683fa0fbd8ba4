tasks = [
    {'slug': 'a', 'scenario': 'checkout', 'args': {'x': float('nan')}},
]
