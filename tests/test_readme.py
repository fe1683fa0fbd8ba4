"""The README's first two commands, as a new user runs them on a machine with only `python3`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.helpers.repo import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
QUICKSTART, TEST_COMMAND = re.findall(r"^```bash\n(.+)\n```$", README, re.M)[:2]


def test_the_commands_need_only_python3_and_leave_the_system_python_alone():
    for command in (QUICKSTART, TEST_COMMAND):
        steps = [step.strip() for step in command.split("&&")]
        assert steps[0] == "python3 -m venv .venv", command  # no `python`, no system-wide pip
        assert all(step.startswith(".venv/bin/") for step in steps[1:]), command


def test_ci_runs_the_readme_test_command_exactly():
    lines = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert TEST_COMMAND in lines


def test_the_quickstart_works_in_a_fresh_clone(tmp_path: Path):
    clone = tmp_path / "clone"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    for name in files.stdout.splitlines():
        source = REPO_ROOT / name
        if source.is_file() and not name.startswith("benchmarks/.fixtures/"):
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    assert not (clone / ".venv").exists() and not (clone / "examples/quickstart/.hud").exists()
    result = subprocess.run(["bash", "-c", QUICKSTART], cwd=clone, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Summary: 3 to create, 0 to update, 0 unchanged, 0 remote-only" in result.stdout
    assert result.stdout.rstrip().endswith("All tasks up to date (0 to create, 0 to update, 3 unchanged, 0 remote-only)")
    assert (clone / "examples/quickstart/.hud/config.json").is_file()
    assert (clone / "examples/quickstart/.hud/local-platform.sqlite").is_file()
