loop = []
loop.append(loop)
tasks = [{'slug': 'a', 'scenario': 'checkout', 'args': {'loop': loop}}]
