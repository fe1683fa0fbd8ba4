"""What the speed-ups must not change: large files are read, and read exactly as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from hud_sync_hook.discovery import files
from hud_sync_hook.discovery.files import read_task_file


def yaml_tasks(count: int) -> str:
    return "tasks:\n" + "".join(
        f"  - slug: t{i}\n    scenario: s\n    args: {{a: [1, 2, 3], b: {{c: d}}}}\n" for i in range(count)
    )


def test_a_large_yaml_file_without_aliases_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_YAML_EXPANDED_NODES", 100)  # far fewer than the file's nodes
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml_tasks(50), encoding="utf-8")
    tasks, problems = read_task_file(path, "tasks.yaml")
    assert problems == []
    assert [t.slug for t in tasks] == [f"t{i}" for i in range(50)]


def test_aliases_that_expand_beyond_the_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_YAML_EXPANDED_NODES", 100)
    path = tmp_path / "tasks.yaml"
    path.write_text(
        "base: &b [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
        "tasks:\n" + "".join(f"  - {{slug: t{i}, scenario: s, args: {{x: *b}}}}\n" for i in range(12)),
        encoding="utf-8",
    )
    tasks, (problem,) = read_task_file(path, "tasks.yaml")
    assert tasks == []
    assert "billion laughs" in str(problem)


def test_a_few_aliases_within_the_limit_are_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_YAML_EXPANDED_NODES", 100)
    path = tmp_path / "tasks.yaml"
    path.write_text(
        "base: &b [1, 2, 3]\ntasks:\n" + "".join(f"  - {{slug: t{i}, scenario: s, args: {{x: *b}}}}\n" for i in range(20)),
        encoding="utf-8",
    )
    tasks, problems = read_task_file(path, "tasks.yaml")
    assert problems == []
    assert tasks[7].args == {"x": [1, 2, 3]}


@pytest.mark.parametrize(
    "data",
    [
        b'\xef\xbb\xbf{"slug": "a", "scenario": "s"}\n{"slug": "\xff"}\n',  # a BOM, then a bad byte
        b'\xef\xbb\xbf\n\xff',
        b'{"slug": "a", "scenario": "s"}\r\n\xc3\n',  # a character cut short by the line break
        b'{"slug": "a", "scenario": "s"}\n{"slug": "\xc3',  # ... by the end of the file
    ],
)
def test_a_jsonl_file_that_is_not_utf8_is_reported_as_a_whole(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_bytes(data)
    with pytest.raises(UnicodeDecodeError) as whole:
        data.decode("utf-8-sig")
    line = data.count(b"\n", 0, whole.value.start) + 1
    tasks, (problem,) = read_task_file(path, "tasks.jsonl")
    assert tasks == []
    assert str(problem) == f"tasks.jsonl:{line}: is not valid UTF-8 (byte {whole.value.start}) (save the file as UTF-8)"


def test_jsonl_lines_are_split_as_before(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"slug": "a", "scenario": "s"}\r\n'
        b"\xc2\xa0\n"  # a no-break space: a blank line
        b'[{"slug": "b", "scenario": "s"}, {"slug": "c", "scenario": "s"}]\n'
        b'{"slug": "d",\n'
        b'{"slug": "e", "scenario": "s"}'
    )
    tasks, (problem,) = read_task_file(path, "tasks.jsonl")
    assert [(t.slug, t.location.line) for t in tasks] == [("a", 1), ("b", 3), ("c", 3), ("e", 5)]
    assert str(problem).startswith("tasks.jsonl:4:14: invalid JSON: Expecting property name")
