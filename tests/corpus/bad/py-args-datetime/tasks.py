import datetime
tasks = [
    {'slug': 'a', 'scenario': 'checkout', 'args': {'due': datetime.datetime(2024, 5, 1)}},
]
