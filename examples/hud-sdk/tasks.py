"""Tasks written with the HUD SDK (`pip install hud-python`), the way its users write them."""

from hud import Environment

env = Environment("shop-env")

checkout_alice = env("checkout", user_id="alice", cart=[{"sku": "A-100", "qty": 2}])
checkout_alice.slug = "checkout-alice"
checkout_alice.columns = {"difficulty": "easy"}

refund_bob = env("refund", order_id="ord-7")
refund_bob.slug = "refund-bob"
refund_bob.validation = [{"name": "check_refund", "arguments": {"order_id": "ord-7"}}]

tasks = [checkout_alice, refund_bob]
