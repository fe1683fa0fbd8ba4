"""Deterministic benchmark fixtures: the same N tasks as JSONL, YAML and a generated `tasks.py`.

Task i depends only on i (its own seeded random generator), so the 1,000-task fixture is the first
thousand of the 10,000-task one. Args look like real tasks: a prompt of 50-500 characters (a few in
other scripts), nested objects and lists; a third of the tasks carry `validation` and `columns`.
The remote seed is the first half of the tasks, a tenth of them with different args, so a plan
finds half to create, a twentieth to update and the rest unchanged.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Iterator

GENERATOR_VERSION = 1
FORMATS = ("jsonl", "yaml", "py", "jsonl-v6")
FILE_NAMES = {"jsonl": "tasks.jsonl", "yaml": "tasks.yaml", "py": "tasks.py", "jsonl-v6": "tasks.jsonl"}
ENV_NAME = "bench-env"
SCENARIOS = ("checkout", "refund", "search", "support-chat", "inventory", "onboarding")

WORDS = (
    "the customer wants to order a pair of running shoes in size forty two and pay with the saved "
    "card but only if delivery arrives before friday otherwise cancel and explain why in a short "
    "polite message include the order number and the tracking link when available check stock in "
    "the nearest warehouse first then compare prices across three vendors and choose the cheapest "
    "option that meets the deadline report the total with taxes and shipping apply any coupon code "
    "found in the account history never share personal data with third parties escalate to a human "
    "agent when the request is ambiguous or the amount exceeds the approval limit"
).split()
# A few words in other scripts, so that canonical JSON has non-ASCII to escape.
FOREIGN = ("café", "naïve", "Straße", "façade", "東京", "пример", "ñandú", "crème brûlée", "日本語", "emoji 🚀")
LOCALES = ("en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "es-ES")
TAGS = ("billing", "search", "mobile", "web", "regression", "smoke", "long-horizon", "tool-use")


def _text(rng: random.Random, low: int, high: int) -> str:
    target = rng.randint(low, high)
    words: list[str] = []
    length = 0
    while length < target:
        word = rng.choice(FOREIGN) if rng.random() < 0.02 else rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    text = " ".join(words)[:target]
    return text.rstrip() or "x"


def make_task(i: int) -> dict[str, Any]:
    """Task number i, always the same."""
    rng = random.Random(f"hud-sync-hook-bench-{i}")
    args: dict[str, Any] = {
        "prompt": _text(rng, 50, 500),
        "user": {
            "id": f"user-{rng.randrange(10**6):06d}",
            "locale": rng.choice(LOCALES),
            "preferences": {
                "notifications": rng.random() < 0.5,
                "max_price": round(rng.uniform(5, 500), 2),
                "currency": rng.choice(("USD", "EUR", "GBP", "JPY")),
            },
        },
        "items": [
            {"sku": f"SKU-{rng.randrange(10**5):05d}", "qty": rng.randint(1, 5), "price": round(rng.uniform(1, 200), 2)}
            for _ in range(rng.randint(0, 4))
        ],
        "max_steps": rng.choice((10, 20, 30, 50)),
    }
    if rng.random() < 0.3:
        args["notes"] = _text(rng, 50, 200)
    task: dict[str, Any] = {
        "slug": f"task-{i:06d}",
        "env": {"name": ENV_NAME},
        "scenario": rng.choice(SCENARIOS),
        "args": args,
    }
    if i % 3 == 0:
        task["validation"] = [
            {"name": "check_order", "arguments": {"order_id": f"ORD-{rng.randrange(10**8):08d}", "total": round(rng.uniform(1, 999), 2)}},
            {"name": "check_message", "arguments": {"contains": _text(rng, 10, 60)}},
        ]
        task["columns"] = {
            "difficulty": rng.choice(("easy", "medium", "hard")),
            "score": rng.randint(0, 100),
            "tags": sorted(rng.sample(TAGS, rng.randint(1, 3))),
        }
    return task


def tasks(count: int) -> Iterator[dict[str, Any]]:
    return (make_task(i) for i in range(count))


def remote_record(task: dict[str, Any], i: int) -> dict[str, Any]:
    """The upload record the remote was seeded with: task i, with different args for every tenth."""
    record: dict[str, Any] = {
        "slug": task["slug"],
        "env": task["env"],
        "scenario": f"{ENV_NAME}:{task['scenario']}",
        "args": task["args"],
    }
    if i % 10 == 0:
        record["args"] = {**task["args"], "prompt": task["args"]["prompt"] + " (previous wording)"}
    if "validation" in task:
        record["validation"] = task["validation"]
    if "columns" in task:
        # As a correct upload stores them: the SDK's model types number columns as floats.
        record["column_values"] = {**task["columns"], "score": float(task["columns"]["score"])}
    return record


def remote_seed(count: int) -> Iterator[dict[str, Any]]:
    """What the remote holds for an N-task fixture: the first half, a tenth of them changed."""
    return (remote_record(make_task(i), i) for i in range(count // 2))


def expected_counts(count: int) -> dict[str, int]:
    half = count // 2
    update = len(range(0, half, 10))
    return {"create": count - half, "update": update, "unchanged": half - update}


def _write_jsonl(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for task in tasks(count):
            out.write(json.dumps(task, ensure_ascii=False) + "\n")


def v6_row(task: dict[str, Any]) -> dict[str, Any]:
    """Task i as a row of the v6 SDK (`hud` 0.6): the env by name, the template `id`."""
    row: dict[str, Any] = {"env": ENV_NAME, "id": task["scenario"], "args": task["args"], "slug": task["slug"]}
    for key in ("validation", "columns"):
        if key in task:
            row[key] = task[key]
    return row


def remote_item_v6(task: dict[str, Any], i: int) -> dict[str, Any]:
    """The `/v2` upload item the remote was seeded with: task i, different args for every tenth."""
    row = v6_row(task)
    item: dict[str, Any] = {"name": row.pop("slug"), "env": {"name": row.pop("env")}, "task_id": row.pop("id"), **row}
    if i % 10 == 0:
        item["args"] = {**task["args"], "prompt": task["args"]["prompt"] + " (previous wording)"}
    return item


def remote_seed_v6(count: int) -> Iterator[dict[str, Any]]:
    return (remote_item_v6(make_task(i), i) for i in range(count // 2))


def _write_jsonl_v6(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for task in tasks(count):
            out.write(json.dumps(v6_row(task), ensure_ascii=False) + "\n")


def _write_yaml(path: Path, count: int) -> None:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with path.open("w", encoding="utf-8") as out:
        out.write("# generated benchmark tasks\ntasks:\n")
        for task in tasks(count):
            # One list item at a time keeps memory flat; indented under `tasks:`.
            text = yaml.dump([task], Dumper=dumper, allow_unicode=True, sort_keys=False, width=120)
            out.write("".join("  " + line + "\n" for line in text.splitlines()))


def _write_py(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write('"""Generated benchmark tasks: plain dicts, as a task generator script might write them."""\n\n')
        out.write("tasks = [\n")
        for task in tasks(count):
            out.write(f"    {task!r},\n")
        out.write("]\n")


WRITERS = {"jsonl": _write_jsonl, "yaml": _write_yaml, "py": _write_py, "jsonl-v6": _write_jsonl_v6}


def ensure_fixture(root: Path, count: int, fmt: str) -> Path:
    """The fixture file for `count` tasks in `fmt`, generated once (regenerated when the generator changes)."""
    folder = root / f"{count}-{fmt}"
    path = folder / FILE_NAMES[fmt]
    stamp = folder / ".generator"
    wanted = f"{GENERATOR_VERSION}:{count}:{fmt}"
    if path.exists() and stamp.exists() and stamp.read_text() == wanted:
        return path
    folder.mkdir(parents=True, exist_ok=True)
    # A marker so discovery takes this folder as the project root (config and all stay inside).
    (folder / "pyproject.toml").write_text('[project]\nname = "bench-fixture"\nversion = "0"\n')
    partial = path.with_suffix(path.suffix + ".partial")
    WRITERS[fmt](partial, count)
    partial.replace(path)
    stamp.write_text(wanted)
    return path
