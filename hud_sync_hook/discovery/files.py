"""Read tasks from JSON, JSONL and YAML files, keeping the line each task starts on.

Malformed files are reported as problems at file:line:column rather than raised, so that every
problem in a repository shows at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator

from hud_sync_hook import safefs
from hud_sync_hook.model import Location, Problem, TaskSpec, describe_type
from hud_sync_hook.task_row import read_row
from hud_sync_hook.validate import compact_if_valid

_WS = json.decoder.WHITESPACE  # what the standard decoder skips between tokens


def read_task_file(path: Path, shown: str, make_task: Any = None) -> tuple[list[TaskSpec], list[Problem]]:
    """Parse one task file; `shown` is the path used in messages. `make_task(row, location)` makes
    each row a task (made compact if it validates); an SDK generation brings its own."""
    problems: list[Problem] = []
    tasks: list[TaskSpec] = []
    suffix = path.suffix.lower()
    raw = None
    try:
        if suffix == ".jsonl":
            # Line by line, each task made compact as it is read, so that a large file is never
            # held whole, nor as one decoded string, nor as parsed values.
            with safefs.open_regular(path) as handle:
                try:
                    _collect(_jsonl_rows(_text_lines(handle), shown, problems), shown, tasks, problems, make_task)
                except UnicodeDecodeError:
                    raw = safefs.read_bytes(path)  # reported below, as for the other formats
        else:
            raw = safefs.read_bytes(path)
    except safefs.UnsafePath as err:
        return [], [Problem(Location(shown), err.reason, err.fix)]
    except IsADirectoryError:
        return [], [Problem(Location(shown), "is a folder, not a task file", "rename or remove it")]
    except OSError as err:
        reason = err.strerror or type(err).__name__
        return [], [Problem(Location(shown), f"cannot be read: {reason}", "check the file's permissions")]
    if raw is not None:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            line = raw.count(b"\n", 0, err.start) + 1
            return [], [
                Problem(
                    Location(shown, line),
                    f"is not valid UTF-8 (byte {err.start})",
                    "save the file as UTF-8",
                )
            ]
        problems = []
        tasks = []
        if suffix == ".jsonl":
            rows: Iterable[tuple[Any, int]] = _jsonl_rows(text.split("\n"), shown, problems)
        elif suffix == ".json":
            rows = _json_rows(text, shown, problems)
        else:
            rows = _yaml_rows(text, shown, problems)
        _collect(rows, shown, tasks, problems, make_task)
    return tasks, problems


def row_task(value: dict[str, Any], location: Location) -> TaskSpec:
    """A v5 row as a task read through the SDK's model (`task_row`), made compact if it validates."""
    task = read_row(value, location)
    compact_if_valid(task)
    return task


def _collect(
    rows: Iterable[tuple[Any, int]], shown: str, tasks: list[Any], problems: list[Problem], make_task: Any = None
) -> None:
    """Each row (value, line) as a task (`make_task`, v5 rows by default), made compact if it
    validates; a non-object is a problem."""
    make = make_task or row_task
    for value, line in rows:
        if isinstance(value, dict):
            tasks.append(make(value, Location(shown, line)))
        else:
            problems.append(
                Problem(
                    Location(shown, line),
                    f"a task must be an object, found {describe_type(value)}",
                    "write each task as an object with slug, scenario and args",
                )
            )


def _json_error(err: json.JSONDecodeError, shown: str, line_offset: int = 0) -> Problem:
    return Problem(
        Location(shown, err.lineno + line_offset, err.colno),
        f"invalid JSON: {err.msg}",
        "fix the syntax at that position",
    )


def _json_rows(text: str, shown: str, problems: list[Problem]) -> list[tuple[Any, int]]:
    """Rows of a JSON array (or one object) with the line where each element starts."""
    decoder = json.JSONDecoder()
    start = _WS.match(text, 0).end()
    if start == len(text):
        problems.append(Problem(Location(shown, 1), "is empty", "write a JSON array of tasks"))
        return []
    if text[start] != "[":
        first_line = text.count("\n", 0, start) + 1
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            problems.append(_json_error(err, shown))
            return []
        except (RecursionError, ValueError) as err:
            problems.append(_unreadable_value(err, shown, first_line))
            return []
        return [(value, first_line)]
    rows: list[tuple[Any, int]] = []
    pos = _WS.match(text, start + 1).end()
    line = text.count("\n", 0, pos) + 1
    counted = pos
    try:
        if pos < len(text) and text[pos] == "]":
            pos += 1
        else:
            while True:
                line += text.count("\n", counted, pos)
                counted = pos
                value, end = decoder.raw_decode(text, pos)
                rows.append((value, line))
                pos = _WS.match(text, end).end()
                if pos < len(text) and text[pos] == ",":
                    pos = _WS.match(text, pos + 1).end()
                    if pos < len(text) and text[pos] == "]":
                        raise json.JSONDecodeError("trailing comma before ']'", text, pos)
                    continue
                if pos < len(text) and text[pos] == "]":
                    pos += 1
                    break
                raise json.JSONDecodeError("expected ',' or ']'", text, pos)
        rest = _WS.match(text, pos).end()
        if rest != len(text):
            raise json.JSONDecodeError("extra data after the array", text, rest)
    except json.JSONDecodeError as err:
        problems.append(_json_error(err, shown))
        return []
    except (RecursionError, ValueError) as err:
        problems.append(_unreadable_value(err, shown, line + text.count("\n", counted, pos)))
        return []
    return rows


NESTED_TOO_DEEPLY = "nested too deeply to read (lists or objects inside each other thousands of times)"


def _unreadable_value(err: Exception, shown: str, line: int) -> Problem:
    """Valid JSON syntax that Python will not turn into values: too deep, or a number too long."""
    if isinstance(err, RecursionError):
        return Problem(Location(shown, line), NESTED_TOO_DEEPLY, "flatten the data")
    message = f"holds a value that cannot be read: {' '.join(str(err).split(';')[0].split())}"
    return Problem(Location(shown, line), message, "write very long numbers as strings")


def _text_lines(handle: BinaryIO) -> Iterator[str]:
    """A UTF-8 file's lines as `text.split("\\n")` gives them (BOM dropped), one at a time.

    Raises UnicodeDecodeError for a line that is not UTF-8 (a line break never splits a character).
    """
    first = True
    for raw in handle:
        if first:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
            first = False
        line = raw.decode("utf-8")
        yield line[:-1] if line.endswith("\n") else line


def _jsonl_rows(lines: Iterable[str], shown: str, problems: list[Problem]) -> Iterator[tuple[Any, int]]:
    """Rows of a JSONL file as they are read; a line that is not JSON is a problem, and skipped."""
    loads = json.loads
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = loads(line)
        except json.JSONDecodeError as err:
            problems.append(_json_error(err, shown, number - 1))
            continue
        except (RecursionError, ValueError) as err:
            problems.append(_unreadable_value(err, shown, number))
            continue
        if isinstance(value, list):
            for item in value:
                yield item, number
        else:
            yield value, number


def _yaml_rows(text: str, shown: str, problems: list[Problem]) -> list[tuple[Any, int]]:
    """Rows of a YAML list (or of a mapping's `tasks` list), each with its node's line."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    node = None
    try:
        node = loader.get_single_node()
        if node is None:
            problems.append(Problem(Location(shown, 1), "is empty", "write a YAML list of tasks"))
            return []
        if isinstance(node, yaml.MappingNode):
            items_node = None
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == "tasks":
                    items_node = value
            if items_node is None:
                problems.append(
                    Problem(
                        Location(shown, node.start_mark.line + 1),
                        "has no 'tasks' list",
                        "write a list of tasks, or a mapping with a 'tasks' list",
                    )
                )
                return []
            node = items_node
        if not isinstance(node, yaml.SequenceNode):
            problems.append(
                Problem(
                    Location(shown, node.start_mark.line + 1),
                    "tasks must be a list",
                    "write a list of tasks, or a mapping with a 'tasks' list",
                )
            )
            return []
        _check_alias_expansion(node)
        values = loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = (err.problem or err.context or "invalid YAML").strip()
        fix = "fix the syntax at that position"
        if "constructor for the tag" in problem:
            fix = "tags that make Python objects are never loaded (safe loader): write plain values"
        elif "maximum nesting depth" in problem:
            # PyYAML 6.0.4+ stops deep nesting itself; older releases end in a RecursionError.
            problem, fix = NESTED_TOO_DEEPLY, "flatten the data"
        problems.append(
            Problem(
                Location(shown, mark.line + 1 if mark else None, mark.column + 1 if mark else None),
                f"invalid YAML: {problem}",
                fix,
            )
        )
        return []
    except yaml.YAMLError as err:
        problems.append(Problem(Location(shown), f"invalid YAML: {err}", "fix the file's syntax"))
        return []
    except (RecursionError, ValueError, OverflowError) as err:
        problems.append(_unreadable_value(err, shown, 1 if node is None else node.start_mark.line + 1))
        return []
    finally:
        loader.dispose()
    rows = [(value, item.start_mark.line + 1) for value, item in zip(values, node.value)]
    for value, line in rows:
        if isinstance(value, dict):
            _plain_yaml_values(value, shown, line, problems)
    return rows


_JSON_SCALARS = (str, int, float, bool, type(None))


def _plain_yaml_values(task: dict[str, Any], shown: str, line: int, problems: list[Problem]) -> None:
    """YAML can hold dates, bytes, sets and non-string keys, which JSON cannot: report each one and
    put its text in its place, so that the rest of the task can still be checked."""

    def plain(value: Any, path: str) -> Any:
        if isinstance(value, _JSON_SCALARS):
            return value
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    report(f"{path} has the key {key!r}, {describe_type(key)}", "quote the key in the YAML file")
                    key = str(key)
                out[key] = plain(item, f"{path}.{key}")
            return out
        if isinstance(value, list):
            return [plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
        kind = {"date": "a date", "datetime": "a date and time", "bytes": "binary data", "set": "a set"}
        name = type(value).__name__
        fix = "write a list instead" if isinstance(value, (set, frozenset)) else "quote it in the YAML file"
        report(f"{path} is {kind.get(name, name)}", fix)
        return str(value)

    def report(message: str, fix: str) -> None:
        slug = task.get("slug")
        label = f"task {slug!r}: " if isinstance(slug, str) and slug.isprintable() else ""
        problems.append(Problem(Location(shown, line), f"{label}{message}, which JSON cannot hold", fix))

    for key, value in list(task.items()):
        if not isinstance(value, _JSON_SCALARS):
            task[key] = plain(value, str(key))


MAX_YAML_EXPANDED_NODES = 5_000_000


def _check_alias_expansion(root: Any) -> None:
    """Refuse YAML whose aliases expand far beyond its size (the 'billion laughs' attack).

    Counts only what the aliases add, so that a large file without such tricks is read.
    """
    import yaml

    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 1  # a cycle counts once
        if isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        else:
            total = 1
        sizes[id(node)] = total
        return total

    if size(root) - len(sizes) > MAX_YAML_EXPANDED_NODES:
        mark = root.start_mark
        raise yaml.MarkedYAMLError(
            problem="aliases expand to more than 5,000,000 values (a 'billion laughs' file?)",
            problem_mark=mark,
        )
