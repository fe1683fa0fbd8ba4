tasks = [
    {"slug": "a", "scenario": "checkout"}
    {"slug": "b"}
]
