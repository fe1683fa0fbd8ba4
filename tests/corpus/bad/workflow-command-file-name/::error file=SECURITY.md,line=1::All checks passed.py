tasks = [{"scenario": "checkout", "args": {}}]
