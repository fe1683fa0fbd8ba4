"""Tasks for the quickstart taskset.

Written as plain dicts so the example runs without the HUD SDK; with `hud-python` installed you
would write `env = Environment("shop-env")` and `t = env("checkout", user_id="alice")` instead.
"""

ENV = {"name": "shop-env"}

tasks = [
    {
        "slug": "checkout-alice",
        "env": ENV,
        "scenario": "checkout",
        "args": {"user_id": "alice", "cart": [{"sku": "A-100", "qty": 2}]},
        "columns": {"difficulty": "easy", "tags": ["cart", "payment"]},
    },
    {
        "slug": "checkout-bob",
        "env": ENV,
        "scenario": "checkout",
        "args": {"user_id": "bob", "cart": [{"sku": "B-200", "qty": 1}], "coupon": "WELCOME10"},
        "columns": {"difficulty": "medium", "tags": ["cart", "coupon"]},
    },
    {
        "slug": "refund-carol",
        "env": ENV,
        "scenario": "refund",
        "args": {"order_id": "ord-3", "reason": "damaged"},
        "validation": [{"name": "check_refund", "arguments": {"order_id": "ord-3"}}],
        "columns": {"difficulty": "hard", "tags": ["refund"]},
    },
]
