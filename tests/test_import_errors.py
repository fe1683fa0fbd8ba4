"""A task file that fails to import, through `validate`, `plan` and `apply` against the real `serve`.

Each such file is one line `file:line: message`, exit 1, and nothing is sent to the platform, unless
`--allow-import-errors GLOB` (relative to the working directory) or `allowImportErrors` in
`.hud/config.json` (relative to the folder that holds `.hud/`) lists it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.repo import make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.hooks.conftest import serve  # noqa: F401 - the real `serve`, as a fixture
from tests.hooks.consumer import remote_slugs, task, tasks_py

KEY = {"HUD_API_KEY": HUD_API_KEY}
# Line 3 holds the missing comma; task.py is in the same discovery group as tasks.py, so without
# it the plan would silently hold only tasks.py's tasks.
BROKEN = "import os\ntasks = [\n    {'slug': 'lost' 'scenario': 'checkout'},\n]\n"


def _syntax_message(source: str) -> str:
    """What this Python says about `source`'s syntax error (the wording differs between versions)."""
    try:
        compile(source, "task.py", "exec")
    except SyntaxError as err:
        return err.msg
    raise AssertionError("the source compiles")


SYNTAX = _syntax_message(BROKEN)
FIX = "(fix the file, or list it in --allow-import-errors or allowImportErrors in .hud/config.json to plan without its tasks)"


def _writes(serve) -> list[str]:
    return [line for line in serve.stderr_text().splitlines() if line.startswith(("POST ", "PUT ", "PATCH ", "DELETE "))]


def _project(root: Path, extra: dict | None = None) -> Path:
    make_repo(root, {"tasks.py": tasks_py(task("alpha"), task("beta")), "task.py": BROKEN, **(extra or {})})
    return root


def test_apply_uploads_nothing_when_a_task_file_fails_and_everything_once_it_is_allowed(tmp_path: Path, serve):
    project = _project(tmp_path / "project")
    applied = run_cli("apply", "shop", ".", "--api-url", serve.url, "--yes", cwd=project, env=KEY)
    assert applied.returncode == 1, applied.stderr
    lines = applied.stderr.splitlines()
    assert lines[0] == f"task.py:3: SyntaxError: {SYNTAX} {FIX}"
    assert "nothing was sent to the platform" in lines[-1]
    assert "Traceback" not in applied.stderr and applied.stdout == ""
    assert _writes(serve) == [] and remote_slugs(serve.url, "shop") == {}

    allowed = run_cli("apply", "shop", ".", "--api-url", serve.url, "--yes", "--allow-import-errors", "task.py",
                      cwd=project, env=KEY)
    assert allowed.returncode == 0, allowed.stderr
    assert f"Skipped: task.py: SyntaxError: {SYNTAX} (line 3)" in allowed.stdout
    assert sorted(remote_slugs(serve.url, "shop")) == ["alpha", "beta"]


def test_plan_fails_and_json_lists_the_failure_as_a_problem(tmp_path: Path, serve):
    project = _project(tmp_path / "project")
    planned = run_cli("plan", "shop", ".", "--api-url", serve.url, "--format", "json", cwd=project, env=KEY)
    assert planned.returncode == 1 and planned.stdout == ""
    assert planned.stderr.startswith("task.py:3: SyntaxError:")
    assert _writes(serve) == []
    # Allowed by the repository's own config: the plan goes on, and `skipped` names the file.
    (project / ".hud").mkdir()
    (project / ".hud" / "config.json").write_text('{"allowImportErrors": ["task.py"]}')
    planned = run_cli("plan", "shop", ".", "--api-url", serve.url, "--format", "json", cwd=project, env=KEY)
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["problems"] == [] and [c["slug"] for c in plan["create"]] == ["alpha", "beta"]
    assert plan["skipped"] == [{"path": "task.py", "error": f"SyntaxError: {SYNTAX} (line 3)"}]


def test_validate_json_puts_failures_in_problems_and_allowed_files_in_skipped(tmp_path: Path):
    project = _project(tmp_path / "project", {"other/task.py": "raise RuntimeError('boom')\n"})
    result = run_cli("validate", "--format", "json", cwd=project)
    assert result.returncode == 1
    found = json.loads(result.stdout)
    assert [(p["file"], p["line"]) for p in found["problems"]] == [("task.py", 3)]
    assert found["problems"][0]["message"] == f"SyntaxError: {SYNTAX}"
    assert "--allow-import-errors" in found["problems"][0]["fix"] and found["skipped"] == []
    result = run_cli("validate", "--format", "json", "--allow-import-errors", "task.py", cwd=project)
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["skipped"][0]["path"] == "task.py"


@pytest.mark.parametrize(
    "content, extra_args, expected",
    [
        ("x = 1\nraise KeyError('level')\n", [], "task.py:2: KeyError: 'level' " + FIX),
        ("import os\n\nos._exit(3)\n", [], "task.py: the import ended the process (exit status 3) " + FIX),
        ("import sys\nsys.exit(4)\n", [],
         "task.py:2: SystemExit: the file called sys.exit(4) while being imported; do not exit at import time " + FIX),
        ("import time\ntime.sleep(120)\n", ["--import-timeout", "1"],
         "task.py: TimeoutError: the import did not finish within 1 s (raise --import-timeout, or remove what "
         "blocks at import time) " + FIX),
    ],
    ids=["exception", "os-exit", "sys-exit", "timeout"],
)
def test_every_kind_of_import_failure_is_one_line_and_exit_1(tmp_path: Path, content, extra_args, expected):
    project = _project(tmp_path / "project", {"task.py": content})
    result = run_cli("validate", *extra_args, cwd=project)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == expected, result.stderr
    assert "Traceback" not in result.stderr
    allowed = run_cli("validate", *extra_args, "--allow-import-errors", "task.py", cwd=project)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.startswith("2 task(s) valid in 2 file(s)")


def test_a_syntax_error_in_an_imported_module_is_at_the_import_line(tmp_path: Path):
    project = _project(tmp_path / "project", {"task.py": "import os\nimport helper_mod\n", "helper_mod.py": "\n\ndef f(:\n"})
    result = run_cli("validate", cwd=project)
    assert result.returncode == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("task.py:2: SyntaxError: ") and "helper_mod.py, line 3" in first, result.stderr


def test_config_patterns_are_relative_to_the_folder_holding_hud_and_flags_to_the_working_directory(tmp_path: Path):
    repo = tmp_path / "repo"
    make_repo(repo, {
        "evals/tasks.py": tasks_py(task("alpha")), "evals/task.py": BROKEN,
        "evals/.hud/config.json": {"allowImportErrors": ["evals/task.py"]},  # anchored one folder too high
    })
    wrong = run_cli("validate", "evals", cwd=repo)
    assert wrong.returncode == 1 and wrong.stderr.startswith("evals/task.py:3: SyntaxError:")
    assert "allowImportErrors in evals/.hud/config.json" in wrong.stderr
    (repo / "evals" / ".hud" / "config.json").write_text('{"allowImportErrors": "task.py"}')  # a single pattern
    right = run_cli("validate", "evals", cwd=repo)
    assert right.returncode == 0, right.stderr
    assert "Skipped: evals/task.py:" in right.stderr
    (repo / "evals" / ".hud" / "config.json").write_text("{}")
    assert run_cli("validate", "evals", "--allow-import-errors", "task.py", cwd=repo).returncode == 1
    assert run_cli("validate", "evals", "--allow-import-errors", "evals/*.py", cwd=repo).returncode == 0
    assert run_cli("validate", "--allow-import-errors", "task.py", cwd=repo / "evals").returncode == 0


@pytest.mark.parametrize("value", ['3', '[1]', '{"a": 1}', '["ok", null]'])
def test_an_unusable_allow_import_errors_setting_is_one_line(tmp_path: Path, value: str):
    project = _project(tmp_path / "project", {".hud/config.json": f'{{"allowImportErrors": {value}}}'})
    result = run_cli("validate", cwd=project)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "hud-sync-hook: error: .hud/config.json: allowImportErrors must be a path or glob, or a list of them "
        '(e.g. ["tasks/broken.py"]); fix it or remove the key'
    )
