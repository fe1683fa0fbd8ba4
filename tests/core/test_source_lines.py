"""Large Python task files are scanned as text for slug lines; the scan agrees with the AST."""

from __future__ import annotations

from hud_sync_hook.discovery import _child

SOURCE = '''"""Generated tasks."""
import json

BASE: dict = {"level": 1}
count = 0
count += 1
t = make("checkout")
t.slug = "from-attribute"
other = make("x", slug="from-keyword")
tasks = [
    {"slug": "dict-one", "scenario": "s", "args": {"n": 1}},
    {
        'slug': 'dict-two',
        "scenario": "s",
    },
]
'''


def test_text_scan_finds_the_same_lines_as_the_ast(tmp_path):
    path = tmp_path / "tasks.py"
    path.write_text(SOURCE)
    by_ast = _child._source_lines(path)
    by_scan = _child._scan_lines(SOURCE.encode())
    assert by_ast["slugs"] == by_scan["slugs"] == {
        "from-attribute": [8],
        "from-keyword": [9],
        "dict-one": [11],
        "dict-two": [13],
    }
    assert by_scan["names"] == by_ast["names"] == {"BASE": 4, "count": 5, "t": 7, "other": 9, "tasks": 10}


def test_files_above_the_threshold_use_the_scan(tmp_path):
    path = tmp_path / "tasks.py"
    rows = "".join(f'    {{"slug": "t{i}", "scenario": "s", "args": {{"pad": "{"x" * 200}"}}}},\n' for i in range(25_000))
    path.write_text("tasks = [\n" + rows + "]\n")
    assert path.stat().st_size > _child.LARGE_SOURCE_BYTES
    lines = _child._source_lines(path)
    assert lines["slugs"]["t0"] == [2] and lines["slugs"]["t24999"] == [25_001]
    assert lines["names"] == {"tasks": 1}
