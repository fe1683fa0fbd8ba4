"""Seeded random task sets for the differential test, the files they are written as, and mutations.

Rows cover what the SDK's Task model coerces: args of every JSON type (big integers, floats, -0.0,
unicode), validation absent/null/[]/calls, agent_config absent/null/{}/known and unknown keys with
lax booleans, columns of every type, environment names that need normalising, scenarios with and
without the environment prefix, and keys the model ignores. Everything here is plain data: the
same set is written as JSONL, JSON, YAML or a tasks.py of SDK `Task` objects.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any, Callable, NamedTuple

ENV_NAMES = ["Shop Env", "shop-env", "My_Env", "Émile", "ÄÖ", "a.b", "UPPER", "  spaced  ", "x--y", "café_bar", "", "日本"]
SCENARIOS = ["buy", "refund", "check-out", "søk", "scenario_2"]
TEXT = ["", "plain", "é", "naïve café", "日本語", "emoji 🎉", 'quote " and \\ slash', "line\nbreak", "tab\t", "yes", "3", "null", "-0.0"]
FLAG_VALUES = [True, False, 0, 1, 1.0, 0.0, -0.0, "yes", "no", "on", "off", "t", "f", "TRUE", "False", "Y", "n", "1", "0"]


def _number(rng: random.Random) -> Any:
    return rng.choice(
        [
            0,
            -1,
            rng.randint(-1000, 1000),
            2**53 + 1,
            2**63,
            -(10**25),
            10**40 + 7,
            rng.uniform(-1e6, 1e6),
            -0.0,
            0.0,
            1.0,
            1e300,
            5e-324,
            0.1,
            1.5e-10,
        ]
    )


def _scalar(rng: random.Random) -> Any:
    kind = rng.randrange(5)
    if kind == 0:
        return _number(rng)
    if kind == 1:
        return rng.choice(TEXT)
    if kind == 2:
        return rng.choice([True, False])
    if kind == 3:
        return None
    return rng.choice(TEXT) + str(rng.randrange(100))


def json_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth >= 2 or roll < 0.6:
        return _scalar(rng)
    if roll < 0.8:
        return [json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(TEXT) + str(i): json_value(rng, depth + 1) for i in range(rng.randrange(4))}


def _column(rng: random.Random) -> Any:
    return rng.choice(
        [
            lambda: rng.choice(TEXT),
            lambda: rng.randint(-5, 5),
            lambda: _number(rng),
            lambda: rng.choice([True, False]),
            lambda: [rng.choice(TEXT) for _ in range(rng.randrange(3))],
            lambda: None,
        ]
    )()


def _agent_config(rng: random.Random) -> Any:
    config: dict[str, Any] = {}
    if rng.random() < 0.4:
        config["system_prompt"] = rng.choice([None, "", "Be brief.", "日本語で"])
    for flag in ("append_setup_output", "append_setup_tool"):
        if rng.random() < 0.4:
            config[flag] = rng.choice(FLAG_VALUES)
    if rng.random() < 0.3:
        config[rng.choice(["allowed_tools", "disallowed_tools", "temperature"])] = rng.choice([["*"], 0.2, None])
    return config


def _validation(rng: random.Random) -> Any:
    calls = []
    for i in range(rng.randrange(1, 3)):
        call: dict[str, Any] = {"name": f"check_{i}"}
        roll = rng.randrange(4)
        if roll == 1:
            call["arguments"] = None
        elif roll == 2:
            call["arguments"] = {}
        elif roll == 3:
            call["arguments"] = {"k": json_value(rng)}
        if rng.random() < 0.2:
            call[rng.choice(["id", "annotation"])] = "note"
        calls.append(call)
    return calls


def make_row(rng: random.Random, slug: str) -> dict[str, Any]:
    """One task row the SDK's model accepts."""
    row: dict[str, Any] = {"slug": slug if rng.random() < 0.9 else f"  {slug} "}
    env = rng.choice([None, None, *ENV_NAMES])
    scenario = rng.choice(SCENARIOS)
    if env is not None:
        row["env"] = {"name": env}
        if rng.random() < 0.2:
            row["env"]["include"] = ["tool_a"]
    if rng.random() < 0.25:
        scenario = f"{rng.choice(['shop-env', 'other', 'Shop Env'])}:{scenario}"
    row["scenario"] = scenario
    roll = rng.random()
    if roll < 0.1:
        pass
    elif roll < 0.2:
        row["args"] = rng.choice([None, {}, [], 0, ""])
    else:
        row["args"] = {f"a{i}": json_value(rng) for i in range(rng.randrange(1, 5))}
    roll = rng.random()
    if roll < 0.15:
        row["validation"] = rng.choice([None, []])
    elif roll < 0.45:
        row["validation"] = _validation(rng)
    roll = rng.random()
    if roll < 0.1:
        row["agent_config"] = None
    elif roll < 0.5:
        row["agent_config"] = _agent_config(rng)
    roll = rng.random()
    if roll < 0.1:
        row["columns"] = {}
    elif roll < 0.55:
        row["columns"] = {name: _column(rng) for name in rng.sample(["level", "tags", "score", "owner", "état"], rng.randrange(1, 4))}
    if rng.random() < 0.1:
        row["column_values"] = {"ignored": "by the model"}
    if rng.random() < 0.1:
        row["metadata"] = {"note": json_value(rng)}
    return row


# Ways a row is refused by the model, each with the field it breaks.
REFUSALS = [
    ("env", lambda r: r.__setitem__("env", "shop")),
    ("env", lambda r: r.__setitem__("env", {})),
    ("env", lambda r: r.__setitem__("env", {"name": "e", "include": "tool"})),
    ("columns", lambda r: r.__setitem__("columns", None)),
    ("columns", lambda r: r.__setitem__("columns", {"level": {"nested": 1}})),
    ("columns", lambda r: r.__setitem__("columns", {"tags": ["a", 1]})),
    ("columns", lambda r: r.__setitem__("columns", {"big": 2**1024})),
    ("agent_config", lambda r: r.__setitem__("agent_config", {"append_setup_output": "maybe"})),
    ("agent_config", lambda r: r.__setitem__("agent_config", {"append_setup_tool": 2})),
    ("agent_config", lambda r: r.__setitem__("agent_config", {"system_prompt": 5})),
    ("agent_config", lambda r: r.__setitem__("agent_config", ["x"])),
    ("validation", lambda r: r.__setitem__("validation", {})),
    ("validation", lambda r: r.__setitem__("validation", [{"arguments": {}}])),
    ("validation", lambda r: r.__setitem__("validation", [{"name": "v", "arguments": [1]}])),
    ("validation", lambda r: r.__setitem__("validation", [{"name": "v", "id": 7}])),
    ("args", lambda r: r.__setitem__("args", [1, 2])),
    ("args", lambda r: r.__setitem__("args", "text")),
    ("metadata", lambda r: r.__setitem__("metadata", None)),
    ("id", lambda r: r.__setitem__("id", 5)),
    ("slug", lambda r: r.__setitem__("slug", 12)),
    ("slug", lambda r: r.__setitem__("slug", " " + "s" * 100)),
    ("scenario", lambda r: r.__setitem__("scenario", "")),
    ("legacy", lambda r: r.update(prompt="do it", mcp_config={"hud": {"url": "http://127.0.0.1:9"}})),
]


def _real(field: str, change):
    return (field, True, change)


def _neutral(field: str, change):
    return (field, False, change)


def _set_arg(rng: random.Random, row: dict[str, Any]) -> None:
    args = row.get("args") if isinstance(row.get("args"), dict) else {}
    row["args"] = {**args, "mutated": f"value-{rng.randrange(10**6)}"}


def _rescenario(rng: random.Random, row: dict[str, Any]) -> None:
    row["scenario"] = row["scenario"] + "-2"


def _column_numbers_as_floats(rng: random.Random, row: dict[str, Any]) -> bool:
    columns = row.get("columns")
    if not columns:
        return False
    for name, value in columns.items():
        if isinstance(value, bool):
            columns[name] = float(value)
            return True
        if isinstance(value, int) and abs(value) < 2**53:
            columns[name] = float(value)
            return True
    return False


_SAME_FLAG = {True: ["yes", "on", "t", 1, 1.0, "TRUE", "1"], False: ["no", "off", "f", 0, -0.0, "False", "0"]}


def _same_flags_spelled_otherwise(rng: random.Random, row: dict[str, Any]) -> bool:
    """`{}` and explicit false flags, or a flag written as another word pydantic reads the same."""
    config = row.get("agent_config")
    if not isinstance(config, dict):
        return False
    for flag in ("append_setup_output", "append_setup_tool"):
        value = config.get(flag, False)
        meaning = value.lower() in ("1", "on", "t", "true", "y", "yes") if isinstance(value, str) else bool(value)
        config[flag] = rng.choice(_SAME_FLAG[meaning])
    return True


def mutations() -> list[tuple[str, bool, Any]]:
    """(field, changes the signature, change(rng, row) -> applied?)."""
    return [
        _real("args", lambda rng, r: _set_arg(rng, r) or True),
        _real("scenario", lambda rng, r: _rescenario(rng, r) or True),
        _real("columns", lambda rng, r: r.__setitem__("columns", {**(r.get("columns") or {}), "mutated": "v"}) or True),
        _real(
            "agent_config",
            lambda rng, r: r.__setitem__("agent_config", {**(r.get("agent_config") or {}), "system_prompt": f"p{rng.randrange(10**6)}"}) or True,
        ),
        _real("agent_config", lambda rng, r: r.get("agent_config") is None and (r.__setitem__("agent_config", {}) or True)),
        _real("validation", lambda rng, r: r.__setitem__("validation", [*(r.get("validation") or []), {"name": "mutated"}]) or True),
        _neutral("env", lambda rng, r: r.__setitem__("env", {"name": rng.choice(ENV_NAMES)}) or True),
        _neutral("columns", _column_numbers_as_floats),
        _neutral(
            "agent_config",
            lambda rng, r: isinstance(r.get("agent_config"), dict)
            and (r["agent_config"].update(temperature=0.5, system_prompt=r["agent_config"].get("system_prompt")) or True),
        ),
        _neutral("agent_config", _same_flags_spelled_otherwise),
        _neutral("validation", lambda rng, r: not r.get("validation") and (r.__setitem__("validation", rng.choice([None, []])) or True)),
        _neutral("args", lambda rng, r: not r.get("args") and (r.__setitem__("args", rng.choice([None, {}, [], 0])) or True)),
        _neutral("ignored", lambda rng, r: r.__setitem__("column_values", {"x": 1}) or True),
        _neutral("slug", lambda rng, r: r.__setitem__("slug", f" {r['slug'].strip()}  ") or True),
    ]


class Generation(NamedTuple):
    """What differs between SDK generations in a task set: rows, refusals, mutations, the slug the
    official client gives a row, and a row as a line of a tasks.py."""

    make_row: Callable[[random.Random, str], dict[str, Any]]
    refusals: list[tuple[str, Callable[[dict[str, Any]], Any]]]
    mutations: Callable[[], list[tuple[str, bool, Any]]]
    slug: Callable[[dict[str, Any]], str]
    task_source: Callable[[dict[str, Any]], str]
    imports: str
    files: dict[str, str] = {}  # written next to every task file (files the rows name)


def _v5_task(row: dict[str, Any]) -> str:
    # As the SDK's loader builds a Task from a row: false args become {}.
    return f"Task(**{ {**row, 'args': row.get('args') or {}}!r})"


V5 = Generation(make_row, REFUSALS, mutations, lambda row: row["slug"].strip(), _v5_task, "from hud.eval.task import Task")


def make_set(seed: int, size: int | None = None, generation: Generation = V5) -> dict[str, Any]:
    """A task set: valid rows, some refused rows, and one mutation of one valid row."""
    rng = random.Random(seed)
    size = size or rng.randrange(3, 9)
    rows = [generation.make_row(rng, f"t{seed}-{i}-{rng.choice(['a', 'é', 'z'])}") for i in range(size)]
    refused: dict[int, str] = {}
    if rng.random() < 0.35:
        broken = copy.deepcopy(rows)
        for index in rng.sample(range(size), rng.randrange(1, min(3, size) + 1)):
            field, breaks = rng.choice(generation.refusals)
            breaks(broken[index])
            refused[index] = field
    else:
        broken = None
    options = generation.mutations()
    while True:
        target = rng.randrange(size)
        field, real, change = rng.choice(options)
        mutated = copy.deepcopy(rows)
        if change(rng, mutated[target]):
            break
    return {
        "seed": seed,
        "rows": rows,
        "broken": broken,
        "refused": refused,
        "mutated": mutated,
        "mutation": {"slug": generation.slug(rows[target]), "field": field, "changes_signature": real},
    }


def write(rows: list[dict[str, Any]], folder: Path, kind: str, generation: Generation = V5) -> Path:
    """Write the rows as `tasks.<kind>`; returns the file. Each JSON row is on its own line,
    `tasks.json` starting with `[` alone, so row i is on line i + 2 there and i + 1 in JSONL."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("tasks.*"):
        old.unlink()
    for name, text in generation.files.items():
        (folder / name).write_text(text, encoding="utf-8")
    if kind == "jsonl":
        path = folder / "tasks.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    elif kind == "json":
        path = folder / "tasks.json"
        path.write_text("[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]\n", encoding="utf-8")
    elif kind == "yaml":
        import yaml

        path = folder / "tasks.yaml"
        path.write_text(yaml.safe_dump(rows, allow_unicode=True, sort_keys=False), encoding="utf-8")
    elif kind == "py":
        path = folder / "tasks.py"
        lines = [generation.imports, "", "tasks = ["]
        lines += [f"    {generation.task_source(row)}," for row in rows]
        lines.append("]")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        raise ValueError(kind)
    return path


def row_line(kind: str, index: int) -> int:
    return index + (2 if kind == "json" else 1)
