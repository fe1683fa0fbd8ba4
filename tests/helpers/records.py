"""Task records and a registry as the platform tests upload and serve them."""

from __future__ import annotations

REGISTRY = [
    {"id": "reg-1", "name": "my-env", "scenarios": ["checkout", "refund"], "name_display": "My Env",
     "latest_version": 3},
    {"id": "reg-2", "name": "other-env", "scenarios": ["browse"]},
]


def task(slug: str, scenario: str = "checkout", env: str = "my-env", **extra) -> dict:
    record = {"slug": slug, "env": {"name": env}, "scenario": f"{env}:{scenario}", "args": {"n": slug}}
    record.update(extra)
    return record
