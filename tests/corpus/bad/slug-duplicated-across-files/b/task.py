tasks = [
    {'slug': 'dup', 'scenario': 'refund'},
]
