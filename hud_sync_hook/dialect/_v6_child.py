"""The import child for v6 task files: the v5 child's isolation and reporting, with the v6 SDK's
collection rules (`hud.eval.Taskset._scan_tasks`) put in place of its `collect`.

Must stay importable without third-party packages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hud_sync_hook.discovery import _child


def is_v6_task(value: Any) -> bool:
    """A `hud.eval.Task` by its shape: `env` (a name), `id`, `args`, `slug`, and no `scenario`."""
    if isinstance(value, type) or isinstance(value, (dict, list, tuple, str, bytes)):
        return False
    try:
        return (
            all(hasattr(value, attr) for attr in ("env", "id", "args", "slug"))
            and not hasattr(value, "scenario")
            and isinstance(getattr(value, "env"), str)
        )
    except Exception:  # noqa: BLE001 - properties are user code
        return False


def is_taskset(value: Any) -> bool:
    return type(value).__name__ == "Taskset" and isinstance(getattr(value, "tasks", None), dict)


def dump(task: Any) -> dict[str, Any]:
    """The task as the SDK dumps it (`model_dump(mode="json", exclude_none=True)`)."""
    if callable(getattr(task, "model_dump", None)):
        row = task.model_dump(mode="json", exclude_none=True)
        _keep_infinite_cpu(row, task)
        return row
    row = {key: getattr(task, key, None) for key in ("env", "id", "args", "slug", "validation", "agent_config", "columns", "runtime_config", "verifier")}
    return {key: value for key, value in row.items() if value is not None}


def _keep_infinite_cpu(row: dict[str, Any], task: Any) -> None:
    """A cpu of infinity is dumped as null and kept, where a null written there is dropped: hand
    it over as the text "inf", which the row reader reads as the SDK does (and dumps as null)."""
    resources = (row.get("runtime_config") or {}).get("resources") if isinstance(row.get("runtime_config"), dict) else None
    if not isinstance(resources, dict) or resources.get("cpu", 0) is not None:
        return
    try:
        cpu = task.model_dump(mode="python", exclude_none=True)["runtime_config"]["resources"]["cpu"]
    except Exception:  # noqa: BLE001 - a shape this child does not know: leave the dump as it is
        return
    if cpu == float("inf"):
        resources["cpu"] = "inf"


def collect(module: Any, source_file: Path) -> list[dict[str, Any]]:
    """Public attributes in `dir()` order: tasks, a Taskset's tasks, tasks inside lists and tuples
    (not dict values); each object once. A v5 task found here is reported as such."""
    lines = _child._source_lines(source_file)
    seen: set[int] = set()
    slug_seen: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        value = getattr(module, name, None)
        if is_v6_task(value) or _child.is_task_object(value):
            items = [value]
        elif is_taskset(value):
            items = list(value.tasks.values())
        elif isinstance(value, (list, tuple)):
            items = [item for item in value if is_v6_task(item) or _child.is_task_object(item)]
        else:
            continue
        for item in items:
            if id(item) in seen:
                continue
            seen.add(id(item))
            if is_v6_task(item):
                row, not_json = _child.to_plain(dump(item))
            else:
                row, not_json = {"generation": "v5", "slug": _child._safe_str(getattr(item, "slug", None))}, []
            bound = name if item is value else None  # a task bound to a module-level name is made there
            line = _child._creation_line(lines, row.get("slug"), bound, None, slug_seen)
            out.append({"task": row, "file": str(source_file), "line": line or lines["names"].get(name), "not_json": not_json})
    return out


if __name__ == "__main__":
    _child.collect = collect
    _child.main()
