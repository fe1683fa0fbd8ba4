class Opaque:
    def __str__(self):
        raise RuntimeError('no str')
    __repr__ = __str__

tasks = [
    {'slug': 'a', 'scenario': 'checkout', 'args': {'thing': Opaque()}},
]
