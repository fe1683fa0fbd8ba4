"""On a real terminal (a pty) apply asks before uploading, shows progress, and offers env rewrites."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from hud_sync_hook.reconcile import rewrite_source
from tests.helpers.repo import REPO_ROOT, make_repo
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve


def run_in_pty(args: list[str], cwd: Path, answers: list[tuple[str, str]], env: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, str]:
    """Run the CLI with a pty as its terminal; type each answer once its prompt shows."""
    master, slave = pty.openpty()
    full_env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **(env or {}))
    proc = subprocess.Popen([sys.executable, "-m", "hud_sync_hook", *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=full_env, close_fds=True)
    os.close(slave)
    seen = b""
    pending = list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            if pending and pending[0][0].encode() in seen:
                os.write(master, (pending.pop(0)[1] + "\n").encode())
            if proc.poll() is not None and not ready:
                break
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    return proc.returncode, seen.decode("utf-8", "replace")


def make_project(tmp_path: Path, count: int = 3) -> Path:
    root = tmp_path / "proj"
    rows = [{"slug": f"t{i}", "env": {"name": "shop"}, "scenario": "checkout", "args": {"i": i}} for i in range(count)]
    make_repo(root, {"tasks.json": rows})
    return root


def test_declining_the_confirmation_uploads_nothing(tmp_path):
    project = make_project(tmp_path)
    url = f"local:{tmp_path / 'p.sqlite'}"
    status, screen = run_in_pty(["apply", "demo", ".", "--api-url", url], project, [("[y/N]", "n")])
    assert status == 1
    assert "Upload 3 task(s) to 'demo'?" in screen and "Nothing uploaded." in screen
    status, screen = run_in_pty(["plan", "demo", ".", "--api-url", url], project, [])
    assert "3 to create" in screen


def test_confirming_uploads_with_a_progress_bar(tmp_path):
    project = make_project(tmp_path, count=30)
    url = f"local:{tmp_path / 'p.sqlite'}"
    status, screen = run_in_pty(["apply", "demo", ".", "--api-url", url, "--batch-size", "10"], project, [("[y/N]", "y")])
    assert status == 0, screen
    assert "Uploading [" in screen and "3/3 batches" in screen
    assert "30 created" in screen


def test_env_rename_is_offered_and_rewrites_the_file(tmp_path):
    project = tmp_path / "proj"
    make_repo(project, {"tasks.py": 'class Environment:\n    def __init__(self, name):\n        self.name = name\n\n\nENV = Environment("shop")\ntasks = [{"slug": "a", "env": {"name": ENV.name}, "scenario": "checkout", "args": {}}]\n'})
    registry = tmp_path / "registry.json"
    env_id = "00000000-0000-0000-0000-0000000000dd"
    registry.write_text(json.dumps([{"id": env_id, "name": "shop-v2", "scenarios": ["checkout"]}]))
    (project / ".hud").mkdir()
    (project / ".hud" / "config.json").write_text(json.dumps({"registryId": env_id}))
    with start_serve(tmp_path, "--registry", str(registry)) as server:
        status, screen = run_in_pty(
            ["plan", "demo", ".", "--api-url", server.url], project, [("[y/N]", "y")], env={"HUD_API_KEY": HUD_API_KEY}
        )
    assert status == 0, screen
    assert "Rewrote 1 file(s)" in screen
    assert 'Environment("shop-v2")' in (project / "tasks.py").read_text()


def test_rewrite_source_only_touches_environment_calls():
    text = "a = Environment('old')\nb = Environment( \"old\", x=1)\nc = 'old'\nd = Environment('older')\n"
    assert rewrite_source(text, ["old"], "new") == "a = Environment('new')\nb = Environment( \"new\", x=1)\nc = 'old'\nd = Environment('older')\n"


ENV_ID = "00000000-0000-0000-0000-0000000000dd"
OTHER_ID = "00000000-0000-0000-0000-0000000000ee"
ENV_TASKS = (
    "class Environment:\n"
    "    def __init__(self, name):\n"
    "        self.name = name\n\n\n"
    'ENV = Environment("shop")\n'
    'tasks = [{"slug": "a", "env": {"name": ENV.name}, "scenario": "checkout", "args": {}}]\n'
)


def write_registry(tmp_path: Path) -> Path:
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps([
        {"id": ENV_ID, "name": "shop-v2", "scenarios": ["checkout", "refund"], "latest_version": "3"},
        {"id": OTHER_ID, "name": "other", "scenarios": []},
    ]))
    return registry


def test_apply_plans_again_after_the_rewrite_and_uploads_the_new_plan(tmp_path):
    project = tmp_path / "proj"
    make_repo(project, {"tasks.py": ENV_TASKS, ".hud/config.json": {"registryId": ENV_ID}})
    with start_serve(tmp_path, "--registry", str(write_registry(tmp_path))) as server:
        status, screen = run_in_pty(
            ["apply", "demo", "--api-url", server.url], project, [("Environment('shop-v2')", "y"), ("Upload 1", "y")],
            env={"HUD_API_KEY": HUD_API_KEY},
        )
        exported = subprocess.run(
            [sys.executable, "-m", "hud_sync_hook", "export", "demo", "--out", "out.json", "--api-url", server.url],
            cwd=project, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT), HUD_API_KEY=HUD_API_KEY), capture_output=True, text=True,
        )
    assert status == 0, screen
    assert "Rewrote 1 file(s)" in screen and "Collecting the tasks again after the rewrite" in screen
    # The second plan, shown before the upload, no longer has the old name; the upload is the new plan.
    second = screen.split("Collecting the tasks again after the rewrite")[1]
    assert "Sync plan for 'demo'" in second and "uses 'shop'" not in second
    assert "1 created" in screen
    assert exported.returncode == 0, exported.stderr
    assert [t["env"]["name"] for t in json.loads((project / "out.json").read_text())] == ["shop-v2"]


def test_link_env_picker_switch_prompt_scenarios_and_reference_fix(tmp_path):
    project = tmp_path / "proj"
    make_repo(project, {"tasks.py": ENV_TASKS, ".hud/config.json": {"registryId": OTHER_ID, "registryName": "other"}})
    with start_serve(tmp_path, "--registry", str(write_registry(tmp_path))) as server:
        status, screen = run_in_pty(
            ["link-env", "--api-url", server.url],
            project,
            [("Select environment number", "1"), ("Switch to the new environment? [y/N]", "y"),
             ("Update these references? [y/N]", "y")],
            env={"HUD_API_KEY": HUD_API_KEY},
        )
    assert status == 0, screen
    assert f"1. shop-v2 v3 ({ENV_ID[:8]}...)" in screen and f"2. other ({OTHER_ID[:8]}...) (currently linked)" in screen
    assert f"Currently linked to: other ({OTHER_ID})" in screen
    assert "Registered scenarios (2):" in screen and "  refund" in screen
    assert "tasks.py:6: Environment('shop') -> Environment('shop-v2')" in screen
    assert 'Environment("shop-v2")' in (project / "tasks.py").read_text()
    assert json.loads((project / ".hud" / "config.json").read_text())["registryId"] == ENV_ID


def test_changes_are_coloured_on_a_terminal_and_plain_in_a_pipe(tmp_path):
    project = make_project(tmp_path)
    with start_serve(tmp_path) as server:
        env = {"HUD_API_KEY": HUD_API_KEY}
        applied = subprocess.run([sys.executable, "-m", "hud_sync_hook", "apply", "demo", ".", "--api-url", server.url, "--yes"],
                                 cwd=project, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT), **env), capture_output=True, text=True)
        assert applied.returncode == 0, applied.stderr
        rows = [{"slug": f"t{i}", "env": {"name": "shop"}, "scenario": "checkout", "args": {"i": i * 10}} for i in range(3)]
        (project / "tasks.json").write_text(json.dumps(rows))
        status, screen = run_in_pty(["plan", "demo", ".", "--api-url", server.url], project, [], env={**env, "TERM": "xterm"})
        assert status == 0, screen
        assert "\x1b[33m~\x1b[0m args.i: \x1b[31m1\x1b[0m → \x1b[32m10\x1b[0m" in screen
        status, plain = run_in_pty(["plan", "demo", ".", "--api-url", server.url], project, [], env={**env, "NO_COLOR": "1"})
        assert status == 0 and "~ args.i: 1 → 10" in plain and "\x1b[" not in plain
        piped = subprocess.run([sys.executable, "-m", "hud_sync_hook", "plan", "demo", ".", "--api-url", server.url],
                               cwd=project, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT), **env), capture_output=True, text=True)
    assert "    ~ t1\n        ~ args.i: 1 → 10\n" in piped.stdout and "\x1b" not in piped.stdout
