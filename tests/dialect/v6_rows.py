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


# -- runtime_config: valid and invalid shapes of every nested model of the SDK ------------------

_NUMBERISH = [1, 2, 0, -1, 0.5, 2.0, 2.5, True, False, "2", " 3 ", "2.0", "2.5", "1e3", "1_000", "0x10", "", "inf", "nan", "-1", None, [], {}, 10**30, 1e300]
_TEXTISH = ["linux", "x", "", " ", 5, None, True, ["a"], {"a": 1}, "ü", "line\nbreak"]
_BOOL_GOOD = [True, False, "yes", "no", "on", "off", "t", "1", 0, 1, 1.0, "OFF"]
_BOOL_BAD = [2, "maybe", "", " yes", 0.5]


def _maybe(rng: random.Random, p: float = 0.5) -> bool:
    return rng.random() < p


def _pick(rng: random.Random, good: list[Any], bad: list[Any], p_bad: float) -> Any:
    return rng.choice(bad if rng.random() < p_bad else good)


def _gpu(rng: random.Random, p_bad: float) -> Any:
    if rng.random() < p_bad / 3:
        return rng.choice([5, "a100", [], None])
    gpu: dict[str, Any] = {}
    if _maybe(rng):
        gpu["type"] = _pick(rng, ["A100", ["A100", "H100"], None, ["x", ""]], ["", [], 5, [1], {"a": 1}], p_bad)
    if _maybe(rng):
        gpu["count"] = _pick(rng, [1, 2, "3", 4.0, True], [0, -1, 1.5, "two", None], p_bad)
    if rng.random() < p_bad / 4:
        gpu["memory"] = 80
    return gpu


def _tpu(rng: random.Random, p_bad: float) -> Any:
    tpu: dict[str, Any] = {}
    if rng.random() > p_bad / 3:
        tpu["type"] = _pick(rng, ["v4", "v5e"], ["", 4, None], p_bad)
    if rng.random() > p_bad / 3:
        tpu["topology"] = _pick(rng, ["2x2", "2x2x4", "10x1"], ["2", "0x2", "2x2\n", "2X2", "２x2", 4, None, ""], p_bad)
    if rng.random() < p_bad / 4:
        tpu["zone"] = "eu"
    return tpu


def _resources(rng: random.Random, p_bad: float) -> Any:
    out: dict[str, Any] = {}
    if _maybe(rng):
        out["cpu"] = _pick(rng, [1, 2, 0.5, "2", " 3 ", "1e3", True, None, 4.0], _NUMBERISH, p_bad)
    for key in ("memory_mb", "storage_mb"):
        if _maybe(rng, 0.4):
            out[key] = _pick(rng, [512, "1024", 2048.0, " 8 ", "1_000", "16.0", None, True], _NUMBERISH, p_bad)
    if _maybe(rng, 0.3):
        out["gpu"] = None if _maybe(rng, 0.2) else _gpu(rng, p_bad)
    if _maybe(rng, 0.3):
        out["os"] = _pick(rng, ["linux", "windows", None], _TEXTISH, p_bad)
    if _maybe(rng, 0.2):
        out["tpu"] = None if _maybe(rng, 0.2) else _tpu(rng, p_bad)
    if rng.random() < p_bad / 4:
        out[rng.choice(["disk", "CPU", "memory"])] = 1
    return out


def _limits(rng: random.Random, p_bad: float) -> Any:
    out: dict[str, Any] = {}
    for key in ("startup_timeout_s", "run_timeout_s"):
        if _maybe(rng):
            out[key] = _pick(rng, [30, "60", 90.0, None, " 5"], _NUMBERISH, p_bad)
    if rng.random() < p_bad / 4:
        out["timeout"] = 5
    return out


def _service(rng: random.Random, p_bad: float) -> Any:
    if rng.random() < p_bad / 6:
        return rng.choice([None, "web", [1]])
    service: dict[str, Any] = {}
    if _maybe(rng, 0.7):
        service["image"] = _pick(rng, ["python:3.11", None], [5, ["a"]], p_bad)
    if _maybe(rng, 0.2):
        service["build"] = _pick(rng, [".", {"context": ".", "args": {"A": 1}}, None], [5, ["."]], p_bad)
    if _maybe(rng, 0.2):
        service["user"] = _pick(rng, ["1000", 1000, "app", True, 5.0, None], [5.5, [1], {}], p_bad)
    if _maybe(rng, 0.4):
        service["environment"] = _pick(
            rng,
            [{"A": "1", "B": 2, "C": True, "D": 1.5, "E": [1, "x"], "F": {"g": None}}, ["A=1", "B=", "C=x=y"], {}, []],
            [{"A": None}, ["A"], [1], "A=1", None],
            p_bad,
        )
    for key in ("entrypoint", "command"):
        if _maybe(rng, 0.3):
            service[key] = _pick(rng, ["python -m app", ["sh", "-c", "echo 'hi there'"], "echo \"a b\" c", None, ""], ["echo 'open", [1], 5], p_bad)
    if _maybe(rng, 0.2):
        service["working_dir"] = _pick(rng, ["/app", None], [5], p_bad)
    if _maybe(rng, 0.3):
        check: dict[str, Any] = {}
        if _maybe(rng):
            check["test"] = _pick(rng, [["CMD", "true"], ["NONE"]], [[], "CMD true", [1]], p_bad)
        if _maybe(rng, 0.3):
            check["disable"] = _pick(rng, [*_BOOL_GOOD, None], _BOOL_BAD, p_bad)
        if _maybe(rng, 0.3):
            check["interval"] = _pick(rng, ["5s", None], [5], p_bad)
        if _maybe(rng, 0.3):
            check["retries"] = _pick(rng, [3, "3", None], ["x", 1.5], p_bad)
        if _maybe(rng, 0.2):
            check["x-note"] = rng.choice([None, "kept", 1])
        service["healthcheck"] = check if not _maybe(rng, 0.1) else None
    if _maybe(rng, 0.2):
        service["network_mode"] = _pick(rng, ["service:db", "host", None], [1], p_bad)
    if _maybe(rng, 0.3):
        service["expose"] = _pick(rng, [[80, "8080", "53/udp", True, None, 1.5], []], ["80", None, 80], p_bad)
    if _maybe(rng, 0.4):
        service["ports"] = _pick(
            rng,
            [[80, "8080", "8080:80", "127.0.0.1:8080:80/udp", ":80", {"target": "81", "published": 9000}, {"target": 82, "protocol": "udp", "mode": None}, True], []],
            [["80-81"], ["80/sctp"], ["a:b:c:80"], ["x"], [{"protocol": "tcp"}], [{"target": 1, "protocol": None}], [None], [1.5], "80", None, ["１"], ["²"]],
            p_bad,
        )
    if _maybe(rng, 0.3):
        service["volumes"] = _pick(rng, [["./data:/data", {"type": "bind", "source": ".", "target": "/x"}], []], [[1], "./d:/d", None], p_bad)
    if _maybe(rng, 0.2):
        service["depends_on"] = rng.choice([["db"], None, {"db": {"condition": "service_healthy"}}])
    return service


def _document(rng: random.Random, p_bad: float) -> Any:
    if rng.random() < p_bad / 4:
        return rng.choice(["compose.yaml", None, 5, [], {}])
    doc: dict[str, Any] = {}
    if _maybe(rng, 0.3):
        doc["name"] = _pick(rng, ["proj", None], [5], p_bad)
    doc["services"] = {name: _service(rng, p_bad) for name in rng.sample(["main", "db", "cache"], rng.randint(0, 2))}
    if rng.random() < p_bad / 6:
        doc["services"] = rng.choice([[], None, "main"])
    if _maybe(rng, 0.3):
        doc["networks"] = _pick(rng, [{"a": None, "b": {"driver": "bridge", "x": None}}, {}], [{"a": 1}, [], None], p_bad)
    if _maybe(rng, 0.2):
        doc[rng.choice(["volumes", "x-extra", "configs"])] = rng.choice([{"v": {}}, None, [1, None]])
    return doc


def _compose(rng: random.Random, p_bad: float) -> Any:
    compose: dict[str, Any] = {}
    if rng.random() > p_bad / 4:
        compose["document"] = _document(rng, p_bad)
    if _maybe(rng, 0.3):
        compose["root"] = _pick(rng, [{"compose_path": "compose.yaml"}, None], ["/srv", {"compose_path": 5}, {"path": "x"}, {}], p_bad)
    if _maybe(rng, 0.3):
        compose["service_access"] = _pick(rng, [*_BOOL_GOOD, None], _BOOL_BAD, p_bad)
    if rng.random() < p_bad / 4:
        compose["extra"] = 1
    return compose


def runtime_config(rng: random.Random, p_bad: float = 0.0) -> Any:
    """A `runtime_config` of every nested model; with `p_bad` > 0, some fields break a rule of the
    SDK's models (wrong types, unknown keys, out of range, empty, both image and compose)."""
    if rng.random() < p_bad / 8:
        return rng.choice(["img", [], 5, True])
    config: dict[str, Any] = {}
    source = rng.random()
    if source < 0.4:
        config["image"] = _pick(rng, ["python:3.11", "img", None], ["", 5, ["img"]], p_bad)
    elif source < 0.6:
        config["compose"] = None if _maybe(rng, 0.1) else _compose(rng, p_bad)
    elif source < 0.65:
        config["image"] = "img"
        config["compose"] = _compose(rng, p_bad) if rng.random() < p_bad else None
    if _maybe(rng, 0.5):
        config["resources"] = None if _maybe(rng, 0.1) else _resources(rng, p_bad)
    if _maybe(rng, 0.3):
        config["limits"] = None if _maybe(rng, 0.1) else _limits(rng, p_bad)
    if rng.random() < p_bad / 4:
        config[rng.choice(["env", "Image", "gpu"])] = "x"
    return config


# -- task sets for the differential test (tests/differential/tasksets.py makes and writes them) ---

def _slug_of(row: dict[str, Any]) -> str:
    from hud_sync_hook.dialect.v6_model import default_slug

    return row["slug"] if "slug" in row else default_slug(row["id"], row.get("args") or {})


def make_row(rng: random.Random, name: str) -> dict[str, Any]:
    """One row the v6 SDK accepts; `name` is unique in its set and keeps default slugs apart."""
    from tests.differential.tasksets import _validation, json_value

    row: dict[str, Any] = {"env": rng.choice(ENVS), "id": rng.choice(TEMPLATES)}
    args = {f"k{j}": json_value(rng) for j in range(rng.randint(0, 3))}
    if rng.random() < 0.9:
        args["n"] = name
    if args or rng.random() < 0.5:
        row["args"] = args
    if rng.random() < 0.4 or not args:
        row["slug"] = rng.choice([name, f"  {name} ", f"{name}/ü"])
    roll = rng.random()
    if roll < 0.1:
        row["validation"] = rng.choice([None, []])
    elif roll < 0.35:
        row["validation"] = _validation(rng)
    if rng.random() < 0.3:
        row["agent_config"] = rng.choice([None, {}, {"system_prompt": "x"}, {"a": None, "t": 0.5}])
    if rng.random() < 0.4:
        row["columns"] = rng.choice([None, {}, {"difficulty": "easy"}, {"n": None}, {"tags": ["a", "b"]}, {"score": json_value(rng)}])
    if rng.random() < 0.4:
        row["runtime_config"] = runtime_config(rng)
    if rng.random() < 0.05:  # a Compose file next to the rows (COMPOSE_FILES)
        row["runtime_config"] = {"compose": {"document": rng.choice(["compose.yaml", "./compose.yaml"]), **rng.choice([{}, {"root": "."}, {"service_access": True}])}}
    if rng.random() < 0.15:
        verifier: dict[str, Any] = {"env": rng.choice(ENVS), "id": "v", "args": rng.choice([{}, {"a": 1}, {"a": json_value(rng)}])}
        if rng.random() < 0.3:
            verifier["runtime_config"] = runtime_config(rng)
        if rng.random() < 0.3:
            verifier["slug"] = "check"
        row["verifier"] = verifier
    if rng.random() < 0.1:
        row[rng.choice(["metadata", "x_note", "prompt"])] = json_value(rng)
    return row


# Ways a row is surely refused by the SDK's model, each with the field it breaks.
_BAD_RUNTIME = [
    "img", {"image": ""}, {"image": 5}, {"resources": {"gpu": {"count": 0}}}, {"limits": {"timeout": 1}},
    {"resources": {"cpu": "two"}}, {"resources": {"cpu": 0}}, {"compose": {}}, {"compose": {"document": {}}},
    {"image": "a", "compose": {"document": {"services": {}}}}, {"resources": {"tpu": {"type": "v4", "topology": "2"}}},
    {"compose": {"document": {"services": {"m": {"ports": ["80/sctp"]}}}}}, {"resources": {"memory_mb": 1.5}},
    {"resources": {"os": ""}}, {"resources": {"gpu": {"type": []}}}, {"compose": {"document": {"services": {"m": {"environment": {"A": None}}}}}},
    {"compose": {"document": {"services": {}}, "root": "/srv"}}, {"limits": {"run_timeout_s": "soon"}}, {"Image": "x"},
]
REFUSALS = [
    ("env", lambda r: r.pop("env")),
    ("env", lambda r: r.__setitem__("env", {"name": "letters"})),
    ("env", lambda r: r.__setitem__("env", "")),
    ("env", lambda r: r.__setitem__("env", 5)),
    ("id", lambda r: r.pop("id")),
    ("id", lambda r: r.__setitem__("id", 5)),
    ("id", lambda r: r.__setitem__("id", "")),
    ("args", lambda r: r.__setitem__("args", [1])),
    ("args", lambda r: r.__setitem__("args", None)),
    ("slug", lambda r: r.__setitem__("slug", "")),
    ("slug", lambda r: r.__setitem__("slug", 7)),
    ("validation", lambda r: r.__setitem__("validation", {})),
    ("validation", lambda r: r.__setitem__("validation", [1])),
    ("agent_config", lambda r: r.__setitem__("agent_config", ["x"])),
    ("columns", lambda r: r.__setitem__("columns", "easy")),
    *[("runtime_config", lambda r, bad=bad: r.__setitem__("runtime_config", bad)) for bad in _BAD_RUNTIME],
    ("verifier", lambda r: r.__setitem__("verifier", "v")),
    ("verifier", lambda r: r.__setitem__("verifier", {"env": "e"})),
    ("verifier", lambda r: r.__setitem__("verifier", {"env": "e", "id": "v", "verifier": {"env": "e", "id": "w"}})),
    ("verifier", lambda r: r.__setitem__("verifier", {"env": "e", "id": "v", "runtime_config": {"limits": {"run_timeout_s": 0}}})),
]


def _pinned(change):
    """The change made with the row's slug written out: in v6 the default slug follows id and
    args, and a changed slug is another task, not an update."""

    def apply(rng: random.Random, row: dict[str, Any]) -> bool:
        row["slug"] = _slug_of(row)
        return change(rng, row)

    return apply


def _respell_numbers(rng: random.Random, row: dict[str, Any]) -> bool:
    """A runtime_config number written as the SDK reads it the same: 2 as "2", "512" as 512.0."""
    resources = (row.get("runtime_config") or {}).get("resources") if isinstance(row.get("runtime_config"), dict) else None
    if not isinstance(resources, dict):
        return False
    for key in ("cpu", "memory_mb", "storage_mb"):
        value = resources.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == int(value):
            resources[key] = rng.choice([str(int(value)), f" {int(value)} ", float(value)])
            return True
        if isinstance(value, str):
            resources[key] = float(value.strip().replace("_", "")) if key == "cpu" else int(float(value.strip().replace("_", "")))
            return True
    return False


def _null_inside_resources(rng: random.Random, row: dict[str, Any]) -> bool:
    config = row.get("runtime_config")
    if not isinstance(config, dict) or not isinstance(config.get("resources"), dict):
        return False
    missing = [key for key in ("os", "gpu", "tpu", "cpu") if key not in config["resources"]]
    if not missing:
        return False
    config["resources"][rng.choice(missing)] = None
    return True


def mutations() -> list[tuple[str, bool, Any]]:
    """(field, changes the signature, change(rng, row) -> applied?)."""
    from tests.differential.tasksets import _neutral, _real

    return [
        _real("args", _pinned(lambda rng, r: r.__setitem__("args", {**(r.get("args") or {}), "mutated": rng.randrange(10**6)}) or True)),
        _real("env", _pinned(lambda rng, r: r.__setitem__("env", r["env"] + "-2") or True)),
        _real("id", _pinned(lambda rng, r: r.__setitem__("id", r["id"] + "2") or True)),
        _real("columns", _pinned(lambda rng, r: r.__setitem__("columns", {**(r.get("columns") or {}), "mutated": "v"}) or True)),
        _real("validation", _pinned(lambda rng, r: r.__setitem__("validation", [*(r.get("validation") or []), {"name": "m"}]) or True)),
        _real("agent_config", _pinned(lambda rng, r: r.get("agent_config") is None and (r.__setitem__("agent_config", {}) or True))),
        _real(
            "runtime_config",
            _pinned(lambda rng, r: r.__setitem__("runtime_config", {**(r.get("runtime_config") or {}), "limits": {"run_timeout_s": rng.randrange(1, 10**6)}}) or True),
        ),
        _real("verifier", _pinned(lambda rng, r: r.__setitem__("verifier", {"env": r["env"], "id": "v2", "args": {}}) or True)),
        _neutral("slug", _pinned(lambda rng, r: True)),
        _neutral("runtime_config", _pinned(_respell_numbers)),
        _neutral("runtime_config", _pinned(_null_inside_resources)),
        _neutral("ignored", _pinned(lambda rng, r: r.__setitem__("metadata", {"x": 1}) or True)),
    ]


def _task_source(row: dict[str, Any]) -> str:
    return f"Task(**{row!r})"


# Written next to every v6 task file: the Compose file some rows name, with the project's .env.
COMPOSE_FILES = {
    "compose.yaml": "x-base: &base\n  image: app:${TAG}\nservices:\n  main:\n    <<: *base\n    command: run '$$HOME' ${MODE:-fast}\n    ports: ['8080:80']\n",
    ".env": "TAG=1.2\nexport MODE=\"slow mode\"\n",
}


def generation() -> Any:
    from tests.differential.tasksets import Generation

    return Generation(make_row, REFUSALS, mutations, _slug_of, _task_source, "from hud.eval import Task", COMPOSE_FILES)
