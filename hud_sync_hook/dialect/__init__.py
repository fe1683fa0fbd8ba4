"""The two HUD SDK generations behind one seam, and the choice between them.

v5 (`hud-python` 0.5.x) and v6 (`hud` 0.6.x) differ in where tasks are found, how a row reads, what
is valid, the content signature, the upload record, the platform API and the config schema. Each
generation is a `Dialect` value (`v5.py`, `v6.py`); the pipeline asks its dialect instead of
branching. The choice is made once, before any task file is imported, by `choose`, which reads
only text (standard library only, so the push hook's fast path can use it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hud_sync_hook.errors import HudSyncError

NAMES = ("v5", "v6")
CHOICES = ("auto", *NAMES)
LABELS = {"v5": "HUD SDK v5 (hud-python 0.5)", "v6": "HUD SDK v6 (hud 0.6)"}


@dataclass(frozen=True)
class Dialect:
    """One SDK generation's rules. Every part is a plain function so that a generation can reuse
    another's by assignment."""

    name: str
    label: str
    #: source folder -> the Python file groups tried in order (standard library only)
    python_groups: Callable[[Path], list[list[Path]]]
    #: data file names read from a folder, in order (empty: the generation reads none)
    data_names: tuple[str, ...]
    #: (source, base, import_timeout, allow_python) -> Discovery
    discover: Callable[..., Any]
    #: (mapping, Location) -> a task value
    task_from_mapping: Callable[..., Any]
    #: tasks -> problems
    validate: Callable[..., Any]
    #: remote task record -> (slug, signature digest) or None
    remote_entry: Callable[[dict[str, Any]], Any]
    #: how a task is compared for the plan's field-level changes: a `diff.Rules` (the same slug
    #: and signature as `remote_entry`, and the fields an update shows)
    diff: Any
    #: (api_url, api_key, project_root=, timeout=) -> platform client
    open_platform: Callable[..., Any]
    #: config data (a dict) -> (taskset id, registry id) as this generation reads them
    config_ids: Callable[[dict[str, Any]], tuple[Any, Any]]
    #: the loaded `ProjectConfig` -> the view of it this generation reads and writes
    adapt_config: Callable[[Any], Any]
    #: (platform, local tasks) -> None: what the generation asks the platform before planning
    before_plan: Callable[[Any, Any], None]
    #: (local tasks, taskset id, name) -> whether `.hud/config.json` changed, after an upload
    remember_taskset: Callable[[Any, Any, Any], bool]
    #: (remote task records, output path) -> None: `export` in this generation's row shape
    write_export: Callable[[list[dict[str, Any]], Path], None]
    #: (config, platform, environment) -> None: store the linked environment (`link-env`)
    link_env: Callable[[Any, Any, dict[str, Any]], None]


def get(name: str) -> Dialect:
    """The dialect called `name` (`v5` or `v6`), imported only when asked for."""
    if name == "v5":
        from hud_sync_hook.dialect.v5 import DIALECT
    elif name == "v6":
        from hud_sync_hook.dialect.v6 import DIALECT
    else:
        raise HudSyncError(f"--sdk must be one of {', '.join(CHOICES)}, got {name!r}")
    return DIALECT


@dataclass(frozen=True)
class Choice:
    """Which generation, and the evidence it was chosen from (for the plan and for messages)."""

    name: str
    reason: str


# What a Python task file of each generation says, read as text: v6 makes tasks with
# `@env.template(...)`, v5 with `@env.scenario(...)` or `Task(scenario=...)`.
_V6_PY = re.compile(rb"@\s*[\w.]+\.template\s*\(")
_V5_PY = re.compile(rb"@\s*[\w.]+\.scenario\s*\(|\bscenario\s*=")
_SNIFF_BYTES = 1 << 20
_V5_CONFIG_KEYS = ("tasksetId", "registryId", "projectId", "tasksetName", "registryName")
_V6_CONFIG_KEYS = ("version", "scope", "taskset_id", "registry_id", "project_id")


def row_generation(row: Any) -> str | None:
    """`v6` for a row with `id` and a string `env`, `v5` for one with `scenario` or an `env`
    object, None when the row says neither."""
    if not isinstance(row, dict):
        return None
    env = row.get("env")
    if "scenario" in row or isinstance(env, dict):
        return "v5"
    if "id" in row and (isinstance(env, str) or env is None):
        return "v6"
    return None


def _first_json_row(path: Path) -> Any:
    """The first task row of a JSON or JSONL file, read from its beginning only."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return None
    text = head.decode("utf-8-sig", "ignore")
    decoder = json.JSONDecoder()
    if path.suffix == ".jsonl":
        for line in text.splitlines():
            if line.strip():
                try:
                    value = json.loads(line)
                except (ValueError, RecursionError):  # reported by discovery, with its line
                    return None
                return value[0] if isinstance(value, list) and value else value
        return None
    start = len(text) - len(text.lstrip())
    if text[start : start + 1] == "[":
        start = len(text) - len(text[start + 1 :].lstrip())
    try:
        value, _ = decoder.raw_decode(text, start)
    except (ValueError, RecursionError):  # reported by discovery, with its line
        return None
    return value


def _first_yaml_row(path: Path) -> Any:
    """The keys of the first YAML task, read as text: `- id:` / `  env: name` style lines."""
    try:
        text = path.read_bytes()[:_SNIFF_BYTES].decode("utf-8", "ignore")
    except OSError:
        return None
    row: dict[str, Any] = {}
    for line in text.splitlines():
        match = re.match(r"^(?:- |  |\s*-\s+)?\s*([A-Za-z_]+)\s*:\s*(.*)$", line)
        if match:
            key, value = match.groups()
            if key in row:
                break
            row[key] = {} if value.strip() in ("", "{}") and key == "env" else value
    return row or None


def file_generation(path: Path) -> str | None:
    """What one task file says about its generation, read as text; None when it says nothing."""
    suffix = path.suffix
    if suffix == ".py":
        try:
            data = path.read_bytes()[:_SNIFF_BYTES]
        except OSError:
            return None
        v6, v5 = bool(_V6_PY.search(data)), bool(_V5_PY.search(data))
        if v6 != v5:
            return "v6" if v6 else "v5"
        return None
    if suffix in (".json", ".jsonl"):
        return row_generation(_first_json_row(path))
    if suffix in (".yaml", ".yml"):
        return row_generation(_first_yaml_row(path))
    return None


def config_generation(data: dict[str, Any]) -> str | None:
    """`v6` for the scoped, versioned schema; None for the camelCase keys both generations read."""
    if any(key in data for key in _V6_CONFIG_KEYS):
        return "v6"
    return None


def installed_generation() -> str | None:
    """The generation of the HUD SDK installed next to hud-sync-hook, from its metadata only."""
    from importlib import metadata

    for distribution, generation in (("hud", "v6"), ("hud-python", None)):
        try:
            version = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
        if generation is None:
            generation = "v5" if version.startswith("0.5") else "v6"
        return generation
    return None


def candidate_files(source: Path) -> list[Path]:
    """The files either generation could read from `source`: the file itself, or a folder's root
    `.py` files, `task.py` one level down, and its `tasks.*` data files."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        return []
    found = sorted(p for p in source.glob("*.py") if p.is_file())
    found += sorted(p for p in source.glob("*/task.py") if p.is_file() and not p.parent.name.startswith((".", "_")))
    found += [source / name for name in ("tasks.json", "tasks.jsonl", "tasks.yaml", "tasks.yml") if (source / name).is_file()]
    return found


def choose(
    flag: str | None,
    source: Path,
    *,
    config_data: dict[str, Any] | None = None,
    config_shown: str = ".hud/config.json",
    base: Path | None = None,
) -> Choice:
    """Pick the generation before anything is imported: the flag; else what the config schema and
    the task files say (two generations at once is an error naming the files); else the installed
    SDK; else v5."""
    if flag and flag != "auto":
        get(flag)  # an unknown name is an error
        return Choice(flag, f"--sdk {flag}")
    votes: dict[str, list[str]] = {"v5": [], "v6": []}
    from_config = config_generation(config_data or {})
    if from_config:
        votes[from_config].append(config_shown)
    for path in candidate_files(source):
        generation = file_generation(path)
        if generation:
            votes[generation].append(_shown(path, base))
    if votes["v5"] and votes["v6"]:
        raise HudSyncError(
            "this project mixes two HUD SDK generations: v5 in "
            + ", ".join(votes["v5"][:5])
            + "; v6 in "
            + ", ".join(votes["v6"][:5])
            + ". Keep one generation per project (move the other's tasks to their own folder), "
            "or pass --sdk v5|v6"
        )
    for name in ("v6", "v5"):
        if votes[name]:
            return Choice(name, "from " + ", ".join(votes[name][:3]))
    installed = installed_generation()
    if installed:
        return Choice(installed, "from the installed HUD SDK")
    return Choice("v5", "default (nothing in the project names a generation)")


def _shown(path: Path, base: Path | None) -> str:
    try:
        return path.resolve().relative_to((base or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return str(path)
