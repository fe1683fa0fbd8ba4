import sys
print('x' * 10_000_000)
sys.stderr.write('y' * 1_000_000)
tasks = [{'slug': 'ok', 'env': {'name': 'shop'}, 'scenario': 'checkout'}]
