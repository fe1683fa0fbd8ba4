"""Start-up stays light: paths that need no network, YAML or git do not import those libraries.

Structural, not timed: each command runs in a fresh interpreter, which then lists what it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# What the issue names as heavy: the HTTP client, YAML, GitPython, the HTTP server, rich.
HEAVY_PACKAGES = ("httpx", "yaml", "git", "rich")
HEAVY_MODULES = ("http.server",)

PROBE = """
import json, sys
from hud_sync_hook.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def imported_by(argv: list[str], cwd: Path, stdin: str = "") -> tuple[int, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(REPO_ROOT)},
    )
    last = proc.stdout.strip().splitlines()[-1]
    report = json.loads(last)
    return report["code"], set(report["modules"])


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m in HEAVY_MODULES or m.split(".")[0] in HEAVY_PACKAGES)


def test_version_imports_nothing_heavy(tmp_path: Path) -> None:
    code, modules = imported_by(["--version"], tmp_path)
    assert code == 0
    assert heavy_in(modules) == []
    assert not any(m.startswith("hud_sync_hook.commands") for m in modules)


def test_validate_of_an_empty_folder_imports_nothing_heavy(tmp_path: Path) -> None:
    code, modules = imported_by(["validate", "."], tmp_path)
    assert code == 1  # no tasks found
    assert heavy_in(modules) == []


def test_validate_of_a_jsonl_file_imports_nothing_heavy(tmp_path: Path) -> None:
    (tmp_path / "tasks.jsonl").write_text(
        '{"slug": "a", "scenario": "s", "env": {"name": "e"}, "args": {"x": 1}}\n', encoding="utf-8"
    )
    code, modules = imported_by(["validate", "tasks.jsonl"], tmp_path)
    assert code == 0
    assert heavy_in(modules) == []


def test_pre_push_with_nothing_pushed_imports_nothing_heavy(tmp_path: Path) -> None:
    if not (REPO_ROOT / "hud_sync_hook" / "commands" / "pre_push.py").exists():
        pytest.skip("the pre-push command is not there yet")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, capture_output=True)
    # git gives the hook no ref lines when nothing is pushed.
    code, modules = imported_by(["pre-push", "origin", "https://example.com/repo.git"], tmp_path, stdin="")
    assert code == 0
    assert heavy_in(modules) == []
