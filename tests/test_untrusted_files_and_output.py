"""Links and special files in a repository, and text from a repository or a platform in every output.

Real repositories in temporary folders, the real CLI, the real `serve`; the hostile values are
planted in the platform's store the way any client could upload them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from hud_sync_hook import inert
from hud_sync_hook.platform.local import LocalPlatform
from tests.helpers.repo import make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

KEY = {"HUD_API_KEY": HUD_API_KEY}
TASK = {"slug": "one", "scenario": "checkout", "env": {"name": "shop"}, "args": {}}
EVIL_NAME = "ev\x1b[2Jil\n::error::name"
EVIL_SLUG = "=evil\x1b[31m\r\n::error file=a.py::PWNED\u202e"


def forged(output: str) -> list[str]:
    """Lines a GitHub runner would take for a workflow command, or that hold a raw control character."""
    return [
        line for line in output.split("\n")
        if line.lstrip().startswith("::") or "##[" in line or any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in line)
    ]


def test_a_hud_folder_linking_out_of_the_repository_is_never_written(tmp_path: Path):
    project, outside = tmp_path / "p", tmp_path / "outside"
    make_repo(project, {"tasks.json": [TASK]})
    outside.mkdir()
    (project / ".hud").symlink_to(outside)
    ran = run_cli("apply", "ts", ".", "--api-url", "local", "--yes", cwd=project)
    assert ran.returncode == 1
    assert ran.stderr.strip() == (
        "hud-sync-hook: error: .hud: is a link to a file outside the repository; refusing to write into it; "
        "replace the link with the file itself"
    )
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("command", ["plan", "export"])
def test_out_never_writes_through_a_link(tmp_path: Path, command: str):
    project = tmp_path / "p"
    make_repo(project, {"tasks.json": [TASK]})
    victim = tmp_path / "victim.json"
    victim.write_text("precious\n")
    (project / "out.json").symlink_to(victim)
    LocalPlatform(project / ".hud" / "local-platform.sqlite").upload("ts", [TASK], None)
    args = ["plan", "ts", ".", "--out", "out.json"] if command == "plan" else ["export", "ts", "--out", "out.json"]
    ran = run_cli(*args, "--api-url", "local", cwd=project)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "out.json: is a link; refusing to write through it; remove the link or choose another path" in ran.stderr
    assert victim.read_text() == "precious\n" and (project / "out.json").is_symlink()


@pytest.fixture
def evil_platform(tmp_path: Path):
    """`serve` holding a taskset whose name and remote-only slug carry escapes and forged commands."""
    folder = tmp_path / "serve"
    folder.mkdir()
    platform = LocalPlatform(folder / "platform.sqlite")
    record = {**TASK, "slug": EVIL_SLUG, "args": {"a": "+cmd|' /C calc'!A0", "b": "@SUM(1)", "n": -3, "t": "\tx"}}
    taskset = platform.upload(EVIL_NAME, [record], None).taskset_id
    with start_serve(folder, "--api-key", HUD_API_KEY) as server:
        yield server, taskset


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_remote_names_and_slugs_are_inert_in_every_format(tmp_path: Path, evil_platform, fmt: str):
    server, taskset = evil_platform
    project = tmp_path / "p"
    make_repo(project, {"tasks.json": [TASK]})
    ran = run_cli("plan", taskset, ".", "--api-url", server.url, "--format", fmt, "--out", "plan.out",
                  cwd=project, env=KEY)
    assert ran.returncode == 0, ran.stderr
    assert forged(ran.stdout + ran.stderr) == []
    assert forged((project / "plan.out").read_text()) == []
    if fmt == "json":
        data = json.loads(ran.stdout)
        assert data["remote_only"] == [EVIL_SLUG] and data["taskset"]["name"] == EVIL_NAME  # inert, and exact
        assert "\\u202e" in ran.stdout
    elif fmt == "text":
        assert "    - =evil\\x1b[31m\\r\\n::error file=a.py::PWNED\\u202e" in ran.stdout
        assert "Sync plan for 'ev\\x1b[2Jil\\n::error::name'" in ran.stdout


def test_csv_export_writes_formulas_as_text(tmp_path: Path, evil_platform):
    server, taskset = evil_platform
    ran = run_cli("export", taskset, "--out", "tasks.csv", "--api-url", server.url, cwd=tmp_path, env=KEY)
    assert ran.returncode == 0, ran.stderr
    assert forged(ran.stdout + ran.stderr) == []
    with open(tmp_path / "tasks.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["slug"] == "'" + EVIL_SLUG
    assert rows[0]["arg:a"] == "'+cmd|' /C calc'!A0" and rows[0]["arg:b"] == "'@SUM(1)"
    assert rows[0]["arg:n"] == "-3" and rows[0]["arg:t"] == "'\tx"  # numbers stay numbers


@pytest.mark.parametrize("value, shown", [
    ("::error::x", "\\x3a:error::x"),
    ("   ::warning::x", "   \\x3a:warning::x"),
    ("ok ##[error]x", "ok #\\x23[error]x"),
    ("a\x1b[2Jb\x9bc\u2028d", "a\\x1b[2Jb\\x9bc\\u2028d"),
    ("line\nbreak\r", "line\\nbreak\\r"),
    ("plain: ok", "plain: ok"),
])
def test_one_line_for_the_terminal(value: str, shown: str):
    assert inert.line(value) == shown
    assert inert.line(inert.line(value)) == shown  # escaping twice changes nothing more


def test_csv_cells():
    assert [inert.csv_cell(v) for v in ("=1+1", "+1", "-x", "@a", "\tx", "\rx", "ok", -1, None)] == [
        "'=1+1", "'+1", "'-x", "'@a", "'\tx", "'\rx", "ok", -1, "",
    ]
