"""v6 consumer projects for the hook tests: rows with `env` as a string and `id`, and a flat folder
of `*.py` files (env.py included) whose tasks have the SDK's shape, so no SDK need be installed."""

from __future__ import annotations

import json

LABEL = "HUD SDK v6 (hud 0.6)"


def row(n: int, slug: str | None = None, env: str = "letters") -> dict:
    found: dict = {"env": env, "id": "count", "args": {"n": n}}
    if slug is not None:
        found["slug"] = slug
    return found


def jsonl(*rows: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


# What `hud.eval.Task` offers the v6 import child: env, id, args, slug and model_dump.
SHAPE_PY = '''
class Task:
    def __init__(self, env, id, args=None, slug=None):
        self.env, self.id, self.args, self.slug = env, id, args or {}, slug
    def model_dump(self, mode="json", exclude_none=True):
        return {k: v for k, v in vars(self).items() if v is not None}
'''


def shaped_py(*tasks: tuple[str | None, int]) -> str:
    """A module defining one public Task per (slug, n); a slug of None leaves the SDK's default."""
    lines = ["from shape import Task", ""]
    for i, (slug, n) in enumerate(tasks):
        lines.append(f"task_{i} = Task('letters', 'count', {{'n': {n}}}, slug={slug!r})")
    return "\n".join(lines) + "\n"
