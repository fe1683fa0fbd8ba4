"""JSON, JSONL and YAML task files: rows with their lines, malformed files with line and column."""

from __future__ import annotations

import json
from pathlib import Path

from hud_sync_hook.discovery import discover
from hud_sync_hook.validate import validate


def found(tmp_path: Path, name: str, content: str | bytes):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return discover(path, base=tmp_path)


def test_json_array_rows_carry_their_start_line(tmp_path):
    text = '[\n  {"slug": "a", "scenario": "s"},\n\n  {\n    "slug": "b",\n    "scenario": "s", "args": {"x": [1, 2]}\n  }\n]\n'
    result = found(tmp_path, "tasks.json", text)
    assert [(t.slug, t.location.line) for t in result.tasks] == [("a", 2), ("b", 4)]
    assert result.tasks[1].args == {"x": [1, 2]}
    assert result.problems == []


def test_json_single_object_and_bom(tmp_path):
    result = found(tmp_path, "tasks.json", b'\xef\xbb\xbf{"slug": "only", "scenario": "s"}')
    assert [t.slug for t in result.tasks] == ["only"]


def test_malformed_json_reports_line_and_column(tmp_path):
    result = found(tmp_path, "tasks.json", '[\n  {"slug": "a", "scenario": "s"},\n  {"slug": "b" "scenario": "s"}\n]')
    (problem,) = result.problems
    assert str(problem).startswith("tasks.json:3:16: invalid JSON: Expecting ',' delimiter")
    assert result.tasks == []


def test_trailing_comma_and_truncation(tmp_path):
    (problem,) = found(tmp_path, "a.json", '[{"slug": "a", "scenario": "s"},\n]').problems
    assert "a.json:2:1: invalid JSON: trailing comma" in str(problem)
    (problem,) = found(tmp_path, "b.json", '[{"slug": "a", "scen').problems
    assert str(problem).startswith("b.json:1:")


def test_jsonl_rows_arrays_blank_lines_and_bad_lines(tmp_path):
    text = '{"slug": "a", "scenario": "s"}\n\n[{"slug": "b", "scenario": "s"}, {"slug": "c", "scenario": "s"}]\n42\n{"slug": \n'
    result = found(tmp_path, "tasks.jsonl", text)
    assert [(t.slug, t.location.line) for t in result.tasks] == [("a", 1), ("b", 3), ("c", 3)]
    messages = sorted(str(p) for p in result.problems)
    assert messages == [
        "tasks.jsonl:4: a task must be an object, found a number (write each task as an object with slug, scenario and args)",
        "tasks.jsonl:5:10: invalid JSON: Expecting value (fix the syntax at that position)",
    ]


def test_yaml_list_and_mapping_with_tasks(tmp_path):
    text = "# tasks\n- slug: a\n  scenario: s\n  args: {x: 1}\n- slug: b\n  scenario: s\n"
    result = found(tmp_path, "tasks.yaml", text)
    assert [(t.slug, t.location.line) for t in result.tasks] == [("a", 2), ("b", 5)]
    mapping = found(tmp_path, "more.yml", "version: 1\ntasks:\n  - slug: c\n    scenario: s\n")
    assert [(t.slug, t.location.line) for t in mapping.tasks] == [("c", 3)]


def test_yaml_errors_have_positions_and_unsafe_tags_are_refused(tmp_path):
    (problem,) = found(tmp_path, "tabs.yaml", "- slug: a\n\tscenario: s\n").problems
    assert str(problem).startswith("tabs.yaml:2:1: invalid YAML")
    (problem,) = found(tmp_path, "evil.yaml", "- !!python/object/apply:os.system ['true']\n").problems
    assert str(problem).startswith("evil.yaml:1:3: invalid YAML: could not determine a constructor")
    (problem,) = found(tmp_path, "notasks.yaml", "name: x\n").problems
    assert "has no 'tasks' list" in str(problem)


def test_yaml_alias_bomb_is_refused(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 9) + "]")
    text = "bomb:\n" + "\n".join("  " + line for line in lines) + "\ntasks:\n  - slug: x\n    scenario: s\n    args: {b: *a9}\n"
    (problem,) = found(tmp_path, "bomb.yaml", text).problems
    assert "billion laughs" in str(problem)


def test_invalid_utf8_names_the_line(tmp_path):
    (problem,) = found(tmp_path, "tasks.jsonl", b'{"slug": "a", "scenario": "s"}\n{"slug": "\xff"}\n').problems
    assert str(problem) == "tasks.jsonl:2: is not valid UTF-8 (byte 41) (save the file as UTF-8)"


def test_directory_named_like_a_task_file(tmp_path):
    (tmp_path / "tasks.json").mkdir()
    (problem,) = discover(tmp_path, base=tmp_path).problems
    assert str(problem) == "tasks.json: is a folder, not a task file (rename or remove it)"


def test_round_trip_of_json_rows(tmp_path):
    rows = [{"slug": f"t{i}", "scenario": "s", "args": {"i": i, "u": "é"}} for i in range(50)]
    result = found(tmp_path, "tasks.json", json.dumps(rows, indent=1))
    assert [t.args for t in result.tasks] == [r["args"] for r in rows]


def test_valid_rows_are_kept_compact_and_invalid_ones_as_written(tmp_path):
    # A large taskset is held as one canonical string per task; a task with problems is kept as
    # read, for validation to report on.
    lines = [
        {"slug": "a", "scenario": "s", "env": {"name": "e"}, "args": {"text": "é" * 3, "n": [1, 2.5]}},
        {"slug": "b", "scenario": "s", "args": ["not", "a", "mapping"]},
        {"slug": "c", "scenario": "s", "args": {}, "validation": [{"name": "v"}], "columns": {"k": 1}},
    ]
    result = found(tmp_path, "tasks.jsonl", "".join(json.dumps(row) + "\n" for row in lines))
    a, b, c = result.tasks
    assert (a.compacted, b.compacted, c.compacted) == (True, False, True)
    assert a.args == {"text": "ééé", "n": [1, 2.5]} and a.location.line == 1
    assert c.validation == [{"name": "v", "arguments": {}}] and c.columns == {"k": 1}
    problems = validate(result.tasks)
    assert [str(p).split(" (")[0] for p in problems] == ["tasks.jsonl:2: task 'b': args must be a mapping, found a list"]
