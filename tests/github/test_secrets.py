"""No process that runs the repository's code can reach a secret: not in its environment, not in
any /proc/<pid>/environ or cmdline it can read, not by ptrace or /proc/<pid>/mem of the action."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.github.harness import HUD_KEY, pr_payload, run_action, with_key
from tests.helpers.probe import assert_nothing_reachable, probe_source, read_report, writable_folder
from tests.helpers.repo import make_repo

RUNNER_TOKENS = {
    "ACTIONS_RUNTIME_TOKEN": "runner-runtime-token-value",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-id-token-value",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/request",
}
AS_ROOT = os.geteuid() == 0


def test_task_files_reach_no_secret(tmp_path, github, platform):
    report = writable_folder(tmp_path) / "task-file.json"
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.py": probe_source(str(report))})
    result = run_action(
        ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github, env=RUNNER_TOKENS,
    )
    assert result.returncode == 0, result
    assert result.outputs["to-create"] == "1", "the probe's task was planned: the import ran"
    found = read_report(report)
    assert_nothing_reachable(found, expect_other_uid=AS_ROOT)
    if AS_ROOT:
        assert found["uid"] == 65534


def test_setup_py_run_by_the_install_input_reaches_no_secret(tmp_path, github, platform):
    report = writable_folder(tmp_path) / "setup-py.json"
    ws = tmp_path / "ws"
    setup_py = probe_source(str(report), task=False) + "from setuptools import setup\nsetup(name='probe-pkg', version='1.0')\n"
    make_repo(ws, {"tasks.json": [{"slug": "a", "scenario": "s", "env": {"name": "e"}}], "probe-pkg/setup.py": setup_py})
    inputs = with_key(platform.url, install="--no-index --no-build-isolation ./probe-pkg")
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=inputs, github=github, env=RUNNER_TOKENS)
    assert report.exists(), result  # pip ran setup.py (whether the build then succeeds does not matter here)
    assert_nothing_reachable(read_report(report), expect_other_uid=AS_ROOT)


def test_the_entrypoint_starts_again_without_the_secrets_in_its_environment(tmp_path, github, platform):
    """/proc/<pid>/environ shows a process's initial environment: the entrypoint re-executes itself
    with one that holds neither secret nor the runner's tokens (read here by the test, as root or owner)."""
    gate = writable_folder(tmp_path, "gate")
    ws = tmp_path / "ws"
    # The task file says it has started (so the entrypoint has started again: repository code runs
    # only after that), then waits, a bounded number of steps, until the test has looked.
    waiting = (
        "import os, time, pathlib\n"
        f"pathlib.Path({str(gate / 'started')!r}).write_text('')\n"
        f"for _ in range(2400):\n    if os.path.exists({str(gate / 'go')!r}): break\n    time.sleep(0.05)\n"
        "tasks = [{'slug': 'waited', 'scenario': 'checkout', 'env': {'name': 'shop'}, 'args': {}}]\n"
    )
    make_repo(ws, {"tasks.py": waiting})
    seen: dict[str, bytes] = {}

    def look(proc) -> None:
        for _ in range(2400):  # a bound, not an expectation: until the task file runs
            if (gate / "started").exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert (gate / "started").exists(), "the task file never ran"
        seen["environ"] = Path(f"/proc/{proc.pid}/environ").read_bytes()
        seen["cmdline"] = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        (gate / "go").write_text("")

    result = run_action(
        ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github,
        env=RUNNER_TOKENS, while_running=look,
    )
    assert result.returncode == 0, result
    environ = seen["environ"]
    assert b"GITHUB_EVENT_NAME=pull_request" in environ, "not the entrypoint's environment"
    for needle in (HUD_KEY.encode(), github.token.encode(), b"INPUT_HUD-API-KEY=", b"INPUT_GITHUB-TOKEN=", b"ACTIONS_"):
        assert needle not in environ, f"{needle[:12]!r}... is in the entrypoint's initial environment"
        assert needle not in seen["cmdline"]
    assert b"HUD_SYNC_HOOK_SECRETS_FD=" in environ, "the secrets came over the pipe"
