"""Child process that imports user task files and reports their tasks as JSON lines.

Runs user code: everything it prints goes to /dev/null, results go over a private copy of the
original stdout, one `{"done": ...}` line per target, so the parent can tell how far it got.
Must stay importable without third-party packages.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib.util
import json
import math
import os
import re
import sys
import traceback
from collections import deque
from pathlib import Path
from typing import Any, Iterator

_JSON_SCALARS = (str, int, float, bool, type(None))
_exit = os._exit  # taken before any task file runs: one that replaces os._exit cannot keep the child alive


def main() -> None:
    request = json.loads(sys.stdin.read())
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    sys.stdin = open(os.devnull)  # noqa: SIM115
    project_root = request.get("project_root")
    # This process imports a few files and exits: garbage cycles can wait for the exit, while the
    # cycle collector, left on, rescans every task built so far again and again (a large generated
    # task file imports and parses two to three times faster without it).
    gc.disable()
    for index, target in enumerate(request["targets"]):
        record = import_target(target, project_root, index)
        try:
            line = json.dumps(record, allow_nan=True)
        except BaseException as err:  # noqa: BLE001 - e.g. an int too long to write out
            line = json.dumps({"done": True, "error": describe_error(err, Path(target["path"]))})
        channel.write(line + "\n")
        channel.flush()
    channel.close()
    _exit(0)  # threads started by user code must not keep the child alive


def import_target(target: dict[str, str], project_root: str | None, index: int) -> dict[str, Any]:
    path = Path(target["path"])
    is_package = target["kind"] == "package"
    source_file = path / "__init__.py" if is_package else path
    module_name = f"_hud_sync_{'pkg_' if is_package else ''}{path.stem if not is_package else path.name}_{index}"
    extra = [str(path.parent)] if is_package else [str(path.parent)]
    if project_root and not is_package:
        extra.append(project_root)
    inserted = []
    for entry in extra:
        if entry not in sys.path:
            sys.path.insert(0, entry)
            inserted.append(entry)
    try:
        if is_package:
            spec = importlib.util.spec_from_file_location(
                module_name, source_file, submodule_search_locations=[str(path)]
            )
        else:
            spec = importlib.util.spec_from_file_location(module_name, source_file)
        if spec is None or spec.loader is None:
            return {"done": True, "error": "ImportError: cannot create a module spec for this file"}
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except BaseException as err:  # noqa: BLE001 - user code may raise anything, SystemExit included
        return {"done": True, "error": describe_error(err, source_file)}
    finally:
        for entry in inserted:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)
        sys.modules.pop(module_name, None)
    try:
        return {"done": True, "tasks": collect(module, source_file)}
    except BaseException as err:  # noqa: BLE001 - a task's properties are user code too
        return {"done": True, "error": describe_error(err, source_file)}


def describe_error(err: BaseException, source_file: Path) -> str:
    """`Name: message (line N)`, N being the task file's line the error passed through, if any."""
    name = type(err).__name__
    if isinstance(err, SyntaxError) and (not err.filename or Path(err.filename) == source_file):
        return f"SyntaxError: {err.msg}" + (f" (line {err.lineno})" if err.lineno else "")
    if isinstance(err, SystemExit):
        try:
            code = _safe_str(repr(err.code))
        except BaseException:  # noqa: BLE001 - the exit code is the file's own object
            code = f"<{type(err.code).__name__}>"
        message = f"the file called sys.exit({code}) while being imported; do not exit at import time"
    elif isinstance(err, KeyboardInterrupt):
        message = "the import was interrupted"
    elif isinstance(err, SyntaxError):
        # In a module the task file imports: its line is in that file, the task file's is the import.
        message = _safe_str(f"{err.msg} in {err.filename}" + (f", line {err.lineno}" if err.lineno else ""))
    else:
        message = _safe_str(err)
    if isinstance(err, ModuleNotFoundError) and (err.name or "").split(".")[0] == "hud":
        message += (
            " (install the HUD SDK the project uses: pip install 'hud>=0.6' for v6, pip install 'hud-python<0.6'"
            " for v5; with pre-commit add it to additional_dependencies)"
        )
    line = None
    for frame in traceback.extract_tb(err.__traceback__):
        if Path(frame.filename) == source_file:
            line = frame.lineno
    where = f" (line {line})" if line else ""
    return f"{name}: {message}{where}"


def _safe_str(value: Any) -> str:
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001
        return f"<{type(value).__name__} whose str() fails>"
    return " ".join(text.split())[:500]


def is_task_object(value: Any) -> bool:
    if isinstance(value, type) or isinstance(value, (dict, list, tuple, str, bytes)):
        return False
    try:
        return all(hasattr(value, attr) for attr in ("scenario", "args", "env", "slug")) and isinstance(
            getattr(value, "scenario"), (str, type(None))
        )
    except Exception:  # noqa: BLE001
        return False


def is_task_dict(value: Any) -> bool:
    return isinstance(value, dict) and "scenario" in value and "slug" in value


def collect(module: Any, source_file: Path) -> list[dict[str, Any]]:
    lines = _source_lines(source_file)
    found: list[tuple[Any, int | None, int | None]] = []  # (task, line of its element in `tasks`, fallback)
    tasks_attr = getattr(module, "tasks", None)
    if isinstance(tasks_attr, dict):
        candidates = list(tasks_attr.values())
    elif isinstance(tasks_attr, (list, tuple)):
        candidates = list(tasks_attr)
    else:
        candidates = []
    tasks_line = lines["names"].get("tasks")
    elements = _matching_elements(lines["elements"], candidates, module)
    found = [
        (c, elements[i] if i < len(elements) else None, tasks_line)
        for i, c in enumerate(candidates)
        if isinstance(c, dict) or is_task_object(c)
    ]
    bound: dict[int, str] = {}
    for name, value in list(vars(module).items()):
        if not name.startswith("_") and name != "tasks" and (is_task_object(value) or isinstance(value, dict)):
            bound.setdefault(id(value), name)
    if not found:
        seen: set[int] = set()
        for name, value in list(vars(module).items()):
            if name.startswith("_") or id(value) in seen:
                continue
            if is_task_object(value) or is_task_dict(value):
                seen.add(id(value))
                found.append((value, None, lines["names"].get(name)))
    out = []
    slug_seen: dict[str, int] = {}
    for value, element_line, fallback_line in found:
        task, not_json = to_plain(value)
        out.append(
            {
                "task": task,
                "file": str(source_file),
                "line": _creation_line(lines, task.get("slug"), bound.get(id(value)), element_line, slug_seen)
                or fallback_line,
                "not_json": not_json,
                "row": isinstance(value, dict),
            }
        )
    return out


def _matching_elements(elements: list[tuple[int, str | None, str | None]], candidates: list[Any], module: Any) -> list[int]:
    """The lines of the literal `tasks = [...]`'s elements, when the list still starts with them (items
    appended later follow); nothing when a named element or a literal slug shows it was reordered."""
    if len(elements) > len(candidates):
        return []
    for (_line, slug, name), candidate in zip(elements, candidates):
        if name is not None and getattr(module, name, None) is not candidate:
            return []
        if slug is not None:
            value = candidate.get("slug") if isinstance(candidate, dict) else getattr(candidate, "slug", None)
            if not isinstance(value, str) or value.strip() != slug.strip():
                return []
    return [line for line, _slug, _name in elements]


def _element(node: ast.expr) -> tuple[int, str | None, str | None]:
    """An element of a literal `tasks` list: its line, and its literal slug or its name when it shows one."""
    if isinstance(node, ast.Name):
        return node.lineno, None, node.id
    pairs: list[tuple[Any, Any]] = []
    if isinstance(node, ast.Dict):
        pairs = [(k.value, v) for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)]
    elif isinstance(node, ast.Call):
        pairs = [(k.arg, k.value) for k in node.keywords]
    for key, value in pairs:
        if key == "slug" and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return node.lineno, value.value, None
    return node.lineno, None, None


def _creation_line(
    lines: dict[str, Any], slug: Any, name: str | None, element_line: int | None, slug_seen: dict[str, int]
) -> int | None:
    """The line that created a task: the module-level assignment of the name it is bound to, else its
    element in a literal `tasks` list, else the k-th literal of its slug for the k-th task with it."""
    nth = None
    if isinstance(slug, str):
        key = slug.strip()
        nth = slug_seen.get(key, 0)
        slug_seen[key] = nth + 1
    if name is not None and name in lines["assigned"]:
        return lines["assigned"][name]
    if element_line is not None:
        return element_line
    occurrences = lines["slugs"].get(slug.strip(), []) if isinstance(slug, str) else []
    if nth is not None and occurrences:
        return occurrences[min(nth, len(occurrences) - 1)]
    return None


# Above this size a second full parse of the file (Python already compiled it once to import it)
# costs more than the line numbers are worth: a text scan finds the same literals.
LARGE_SOURCE_BYTES = 4 * 1024 * 1024
_SLUG_LITERAL = re.compile(rb"""(?:\bslug\s*=\s*|["']slug["']\s*:\s*)(["'])([^"'\\\n]*)\1""")
_TOP_LEVEL_NAME = re.compile(rb"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=\n]*)?(?:[-+*/|&]?=)(?!=)", re.M)


def _source_lines(source_file: Path) -> dict[str, Any]:
    """Where tasks are made: the lines of each slug literal (`t.slug = "x"`, `"slug": "x"`,
    `slug="x"`) in source order, each module-level name's first and last assignment, and the line of
    each element of a literal `tasks = [...]` (or tuple, or dict's values)."""
    slugs: dict[str, list[int]] = {}
    names: dict[str, int] = {}
    empty: dict[str, Any] = {"slugs": slugs, "names": names, "assigned": {}, "elements": []}
    try:
        source = source_file.read_bytes()
    except OSError:
        return empty
    if len(source) > LARGE_SOURCE_BYTES:
        return _scan_lines(source)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return empty
    assigned: dict[str, int] = {}
    elements: list[tuple[int, str | None, str | None]] = []
    for stmt in tree.body:
        targets = []
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
            targets = [stmt.target]
        for target in targets:
            if isinstance(target, ast.Name):
                names.setdefault(target.id, stmt.lineno)
                if not isinstance(stmt, ast.AugAssign):
                    assigned[target.id] = stmt.lineno
                if target.id == "tasks" and isinstance(stmt.value, (ast.List, ast.Tuple, ast.Dict)):
                    items = stmt.value.values if isinstance(stmt.value, ast.Dict) else stmt.value.elts
                    elements = [_element(item) for item in items if item is not None]
    for node in _walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == "slug":
                    _remember(slugs, node.value.value, node.lineno)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "slug" and isinstance(value, ast.Constant):
                    _remember(slugs, value.value, key.lineno)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "slug" and isinstance(keyword.value, ast.Constant):
                    _remember(slugs, keyword.value.value, keyword.value.lineno)
    for found in slugs.values():
        found.sort()  # the walk is breadth first; the k-th task with a slug is its k-th literal
    return {"slugs": slugs, "names": names, "assigned": assigned, "elements": elements}


def _scan_lines(source: bytes) -> dict[str, Any]:
    """The slug and name lines of `_source_lines`, found by scanning the text: for very large files."""
    slugs: dict[str, list[int]] = {}
    names: dict[str, int] = {}
    line, counted = 1, 0
    for match in _SLUG_LITERAL.finditer(source):
        line += source.count(b"\n", counted, match.start())
        counted = match.start()
        try:
            _remember(slugs, match.group(2).decode("utf-8"), line)
        except UnicodeDecodeError:
            continue
    line, counted = 1, 0
    for match in _TOP_LEVEL_NAME.finditer(source):
        line += source.count(b"\n", counted, match.start())
        counted = match.start()
        names.setdefault(match.group(1).decode("ascii"), line)
    return {"slugs": slugs, "names": names, "assigned": {}, "elements": []}


_LEAVES = (ast.Constant, ast.Name, ast.expr_context)


def _walk(tree: ast.AST) -> Iterator[ast.AST]:
    """The nodes that can hold a slug, in `ast.walk`'s order (breadth first), about three times as
    fast: leaves (constants, names) are never queued, and children are found without generators."""
    todo = deque([tree])
    while todo:
        node = todo.popleft()
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                todo.extend(item for item in value if isinstance(item, ast.AST) and not isinstance(item, _LEAVES))
            elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
                todo.append(value)
        yield node


def _remember(slugs: dict[str, list[int]], value: Any, line: int) -> None:
    if isinstance(value, str):
        slugs.setdefault(value.strip(), []).append(line)


def to_plain(task: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A task object or dict as plain JSON data, plus the places that JSON cannot hold."""
    if isinstance(task, dict):
        raw = dict(task)
    else:
        env = getattr(task, "env", None)
        env_name = env if isinstance(env, str) or env is None else getattr(env, "name", None)
        raw = {
            "slug": getattr(task, "slug", None),
            "scenario": getattr(task, "scenario", None),
            "env": env_name,
            "args": getattr(task, "args", None),
            "validation": getattr(task, "validation", None),
            "agent_config": getattr(task, "agent_config", None),
            "columns": getattr(task, "columns", None),
        }
    if isinstance(task, dict):
        # A dict is read as a data row is (the SDK's Task model), which takes env as an object.
        env = raw.get("env")
        if env is not None and not isinstance(env, (dict, str)) and isinstance(getattr(env, "name", None), str):
            raw["env"] = {"name": env.name}
    elif isinstance(raw.get("env"), dict):
        raw["env"] = raw["env"].get("name")
    validation = raw.get("validation")
    if validation and isinstance(validation, (list, tuple)):
        raw["validation"] = [
            call if isinstance(call, dict) else {"name": getattr(call, "name", None), "arguments": getattr(call, "arguments", None) or {}}
            for call in validation
        ]
    agent_config = raw.get("agent_config")
    if agent_config is not None and not isinstance(agent_config, dict) and hasattr(agent_config, "model_dump"):
        raw["agent_config"] = agent_config.model_dump(exclude_none=True)
    columns = raw.get("columns")
    if columns and not isinstance(columns, dict) and hasattr(columns, "items"):
        raw["columns"] = dict(columns)
    raw = {key: value for key, value in raw.items() if isinstance(key, str)}
    try:  # the usual case, checked at C speed: everything in it is already JSON
        json.dumps(raw, allow_nan=True, default=_not_json)
    except Exception:  # noqa: BLE001 - anything else is sorted out, and reported, below
        pass
    else:
        return raw, []
    not_json: list[tuple[str, str]] = []
    plain = {key: _jsonable(value, key, not_json) for key, value in raw.items()}
    return plain, not_json


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


def _jsonable(value: Any, path: str, not_json: list[tuple[str, str]]) -> Any:
    if isinstance(value, _JSON_SCALARS):
        if isinstance(value, float) and not math.isfinite(value):
            return value  # validation reports NaN and Infinity with the task's place
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                not_json.append((f"{path} key {_safe_str(key)!r}", type(key).__name__))
                key = _safe_str(key)
            out[key if isinstance(key, str) else json.dumps(key)] = _jsonable(item, f"{path}.{key}", not_json)
        return out
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, f"{path}[{i}]", not_json) for i, item in enumerate(value)]
    not_json.append((path, type(value).__name__))
    return _safe_str(value)


if __name__ == "__main__":
    main()
