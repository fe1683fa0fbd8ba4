"""Seeded random v6 task rows, the shapes users write: nested args of every JSON kind, optional
metadata (empty and not), runtime configs and verifiers, explicit and default slugs."""

from __future__ import annotations

import random
from typing import Any

ENVS = ("letters", "shop-env", "e")
TEMPLATES = ("count", "checkout", "t")


def value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 2 or roll < 0.5:
        return rng.choice([1, 1.0, 2.5, -3, "x", "ü", "emoji 🍓", True, False, None, 10**20, "", "a b", "line\nbreak"])
    if roll < 0.75:
        return [value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice("abcxyz") + str(i): value(rng, depth + 1) for i in range(rng.randint(0, 3))}


def rows(seed: int, count: int) -> list[dict[str, Any]]:
    """`count` valid rows with unique slugs."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(count):
        row: dict[str, Any] = {"env": rng.choice(ENVS), "id": rng.choice(TEMPLATES)}
        if rng.random() < 0.8:
            row["args"] = {f"k{j}": value(rng) for j in range(rng.randint(0, 3))}
        row["args"] = {**row.get("args", {}), "n": i}  # unique default slugs
        if rng.random() < 0.5:
            row["slug"] = f"task-{seed}-{i}"
        if rng.random() < 0.3:
            row["validation"] = rng.choice([[], [{"name": "f", "arguments": {"x": 1}}], [{"q": None}]])
        if rng.random() < 0.3:
            row["agent_config"] = rng.choice([{}, {"system_prompt": "x"}, {"a": None}])
        if rng.random() < 0.3:
            row["columns"] = rng.choice([{}, {"difficulty": "easy"}, {"n": None}, {"tags": ["a", "b"]}])
        if rng.random() < 0.2:
            row["runtime_config"] = rng.choice(
                [{"image": "img"}, {"image": "i", "resources": {"cpu": 2, "memory_mb": None}}, {"limits": {"run_timeout_s": 5}, "image": None}]
            )
        if rng.random() < 0.2:
            row["verifier"] = {"env": "letters", "id": "v", "args": rng.choice([{}, {"a": 1}])}
        if rng.random() < 0.1:
            row["unknown_key"] = 1
        out.append(row)
    return out
