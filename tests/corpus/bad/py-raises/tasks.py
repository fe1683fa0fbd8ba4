CONFIG = {}
level = CONFIG['level']
tasks = []
