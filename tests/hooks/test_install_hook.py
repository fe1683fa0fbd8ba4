"""`install-hook` on real repositories: where it writes, chaining a hook that was there, uninstalling."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from tests.helpers.repo import run_cli
from tests.hooks.consumer import Consumer, child_env, git_run, task, tasks_py

FOREIGN = """#!/bin/sh
# a team's own pre-push hook: records what git gave it, refuses when asked to
echo "foreign hook: $1 $2" >&2
cat >> "$FOREIGN_LOG"
[ -z "$FOREIGN_REFUSE" ]
"""


def cli(consumer: Consumer, *args: str, env=None):
    return run_cli("install-hook", *args, cwd=consumer.work, env=child_env(env))


def hook_of(consumer: Consumer) -> Path:
    return consumer.work / ".git" / "hooks" / "pre-push"


def test_install_writes_an_executable_hook_with_this_interpreter_and_is_idempotent(consumer: Consumer):
    first = cli(consumer)
    assert first.returncode == 0, first.stderr
    assert f"pre-push hook installed in {hook_of(consumer)}" in first.stdout
    text = hook_of(consumer).read_text()
    assert text.startswith("#!/bin/sh\n") and f"HUD_SYNC_HOOK_PYTHON={os.path.abspath(sys.executable)}" in text
    assert hook_of(consumer).stat().st_mode & stat.S_IXUSR
    again = cli(consumer)
    assert again.returncode == 0 and "updated" in again.stdout
    assert hook_of(consumer).read_text() == text
    assert sorted(p.name for p in hook_of(consumer).parent.iterdir() if not p.name.endswith(".sample")) == ["pre-push"]


def test_an_existing_hook_is_kept_and_runs_first_with_the_same_input(consumer: Consumer, tmp_path: Path):
    hook_of(consumer).write_text(FOREIGN)
    hook_of(consumer).chmod(0o755)
    result = cli(consumer)
    assert result.returncode == 0
    assert "kept the existing pre-push hook as pre-push.hud-sync-hook-previous; the new hook runs it first" in result.stdout
    log = tmp_path / "foreign.log"
    tip = consumer.commit({"tasks.py": tasks_py(task("alpha"), task("beta"), task("gamma"))})
    pushed = consumer.push("main", "HEAD:refs/heads/copy", env={"FOREIGN_LOG": str(log)})
    assert pushed.returncode == 0, pushed.output
    assert f"foreign hook: origin {consumer.remote}" in pushed.output
    assert "3 task(s) valid" in pushed.output
    lines = log.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["refs/heads/main", "HEAD"] and all(tip in line for line in lines)

    consumer.commit({"README.md": "again\n"})
    pushed = consumer.push("main", env={"FOREIGN_LOG": str(log), "FOREIGN_REFUSE": "1"})
    assert pushed.returncode != 0 and "hud-sync-hook" not in pushed.output  # the chained hook's "no" wins

    removed = cli(consumer, "--uninstall")
    assert "restored the pre-push hook that was there before" in removed.stdout
    assert hook_of(consumer).read_text() == FOREIGN


def test_force_sets_the_existing_hook_aside_and_uninstall_restores_it(consumer: Consumer, tmp_path: Path):
    hook_of(consumer).write_text(FOREIGN)
    hook_of(consumer).chmod(0o755)
    result = cli(consumer, "--force")
    assert "the new hook does not run it (--force)" in result.stdout
    consumer.commit({"README.md": "again\n"})
    pushed = consumer.push("main", env={"FOREIGN_LOG": str(tmp_path / "log"), "FOREIGN_REFUSE": "1"})
    assert pushed.returncode == 0 and "foreign hook" not in pushed.output
    assert cli(consumer, "--uninstall").returncode == 0
    assert hook_of(consumer).read_text() == FOREIGN and hook_of(consumer).stat().st_mode & stat.S_IXUSR
    nothing = cli(consumer, "--uninstall")
    assert nothing.returncode == 0 and "no hud-sync-hook pre-push hook" in nothing.stdout
    assert hook_of(consumer).read_text() == FOREIGN


def test_a_taken_backup_name_is_refused_with_what_to_do(consumer: Consumer):
    hook_of(consumer).write_text(FOREIGN)
    (hook_of(consumer).parent / "pre-push.hud-sync-hook-previous").write_text("#!/bin/sh\n")
    result = cli(consumer)
    assert result.returncode == 1
    assert "pre-push.hud-sync-hook-previous already holds a set-aside hook; move it away" in result.stderr
    assert hook_of(consumer).read_text() == FOREIGN


def test_core_hooks_path_is_respected(consumer: Consumer):
    git_run(consumer.work, "config", "core.hooksPath", ".githooks")
    result = cli(consumer, "--", "--taskset", "shop")
    assert result.returncode == 0
    installed = consumer.work / ".githooks" / "pre-push"
    assert "pre-push --taskset shop \"$@\"" in installed.read_text()
    assert not hook_of(consumer).exists()
    consumer.commit({"tasks.py": tasks_py(task("alpha"), task(None))})
    pushed = consumer.push("main")
    assert pushed.returncode != 0 and "tasks.py:7: task has no slug" in pushed.output
    assert cli(consumer, "--uninstall").returncode == 0 and not installed.exists()


def test_when_the_interpreter_is_gone_the_hook_falls_back_or_says_what_to_do(consumer: Consumer, tmp_path: Path):
    assert cli(consumer).returncode == 0
    hook = hook_of(consumer)
    hook.write_text(hook.read_text().replace(f"HUD_SYNC_HOOK_PYTHON={os.path.abspath(sys.executable)}",
                                             f"HUD_SYNC_HOOK_PYTHON={tmp_path / 'gone' / 'python'}"))
    consumer.commit({"README.md": "again\n"})
    bare_path = {"PATH": os.pathsep.join(p for p in ("/usr/bin", "/bin") if Path(p).is_dir())}
    pushed = git_run(consumer.work, "push", "origin", "main", env=bare_path, check=False)
    if (Path("/usr/bin") / "hud-sync-hook").exists():  # pragma: no cover - a system-wide install
        return
    assert pushed.returncode != 0
    assert "hud-sync-hook: not found" in pushed.stderr and "--no-verify" in pushed.stderr

    script = Path(sys.executable).parent / "hud-sync-hook"
    if script.exists():  # the console script next to the interpreter, found on PATH
        pushed = consumer.push("main")
        assert pushed.returncode == 0, pushed.output
        assert "no task files changed" in pushed.output
