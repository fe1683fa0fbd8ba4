tasks = [
    {'slug': 'ok-a', 'scenario': 'checkout'},
    {'slug': 'dup', 'scenario': 'checkout'},
]
