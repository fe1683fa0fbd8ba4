"""Faults never lose or duplicate tasks: apply through an unreliable platform, then converge.

Each scenario uploads 10,000 tasks through the real CLI to the real `serve` on 127.0.0.1 while
something goes wrong (injected 429/5xx answers, connections dropped mid-answer, the server killed
between batches), re-runs apply until it succeeds, and then checks the store itself: exactly the
local tasks, each once, each in its latest version, and a final plan with nothing to do. Every
failed run must say how many tasks landed, and that count is checked against the store.

The client's retries are tuned through HUD_SYNC_HOOK_MAX_ATTEMPTS / HUD_SYNC_HOOK_BACKOFF_SECONDS
so that runs do fail part-way (the path under test) and the file stays fast.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hud_sync_hook.discovery import discover
from hud_sync_hook.model import remote_signature
from hud_sync_hook.platform.local import LocalStore
from tests.helpers.repo import REPO_ROOT, make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

TASKS = 10_000
TASKSET = "faults"
FAST_RETRIES = {"HUD_SYNC_HOOK_MAX_ATTEMPTS": "2", "HUD_SYNC_HOOK_BACKOFF_SECONDS": "0.05"}
LANDED = re.compile(r"upload stopped after (\d+) of (\d+) batch\(es\): (\d+) of (\d+) task\(s\) landed")


def task_rows(count: int, version: int, changed_every: int = 1) -> str:
    """`count` tasks; every `changed_every`-th one carries `version` in its args, the rest version 0."""
    lines = []
    for i in range(count):
        v = version if i % changed_every == 0 else 0
        lines.append(json.dumps({
            "slug": f"task-{i:05d}", "env": {"name": "shop"}, "scenario": "checkout",
            "args": {"user": f"user-{i}", "version": v}, "columns": {"tier": ["a", "b", "c"][i % 3]},
        }))
    return "\n".join(lines) + "\n"


def local_signatures(project: Path) -> dict[str, str]:
    found = discover(project, base=project)
    assert not found.problems
    return {t.slug: t.signature for t in found.tasks}


def remote_state(db: Path) -> dict[str, str]:
    """slug -> signature of what the store holds for the taskset; asserts one taskset, no duplicates."""
    with sqlite3.connect(db) as conn:
        tasksets = conn.execute("SELECT id FROM evalsets WHERE name = ?", (TASKSET,)).fetchall()
        rows = conn.execute("SELECT COUNT(*), COUNT(DISTINCT slug) FROM tasks").fetchone()
    if not tasksets:
        return {}
    assert len(tasksets) == 1
    assert rows[0] == rows[1], "a slug is stored twice"
    records = LocalStore(db).tasks(tasksets[0][0])
    state = {r["slug"]: remote_signature(r) for r in records}
    assert len(state) == len(records) == rows[0]
    return state


def matching(local: dict[str, str], remote: dict[str, str]) -> int:
    return sum(1 for slug, sig in local.items() if remote.get(slug) == sig)


def post_count(log: str) -> int:
    return sum(1 for line in log.splitlines() if line.startswith("POST /tasks/upload"))


def apply_until_converged(project: Path, server, *, batch: int, env: dict, max_runs: int = 30) -> dict:
    """Run apply until it exits 0; check each failed run's message against the store. Returns figures."""
    local = local_signatures(project)
    runs = failed = partial = 0
    started = time.monotonic()
    while runs < max_runs:
        runs += 1
        before = matching(local, remote_state(server.db))
        log_start = len(server.stderr_text())
        result = run_cli("apply", TASKSET, ".", "--api-url", server.url, "--yes", "--batch-size", str(batch),
                         cwd=project, env={"HUD_API_KEY": HUD_API_KEY, **env}, timeout=300)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
        if result.returncode == 0:
            break
        assert result.returncode == 1, result.stderr
        failed += 1
        after = matching(local, remote_state(server.db))
        match = LANDED.search(result.stderr)
        if match is None:
            # The run failed before its first upload (while reading the taskset): nothing was sent.
            assert "answered HTTP" in result.stderr or "cannot reach" in result.stderr, result.stderr
            assert post_count(server.stderr_text()[log_start:]) == 0
            assert after == before
            continue
        partial += 1
        done, total, landed, to_upload = map(int, match.groups())
        assert to_upload == len(local) - before and done < total
        assert landed == done * batch
        # What the message says landed did land; at most the failed batch more may have.
        assert before + landed <= after <= before + landed + batch, (before, landed, after)
    else:
        pytest.fail(f"apply did not converge in {max_runs} runs")
    return {"runs": runs, "failed": failed, "partial": partial, "seconds": round(time.monotonic() - started, 1)}


def assert_converged(project: Path, server) -> None:
    """The store holds exactly the local tasks, and a fresh plan has nothing to do."""
    assert remote_state(server.db) == local_signatures(project)
    for _ in range(5):  # the plan itself may meet an injected fault; default retries make that rare
        plan = run_cli("plan", "--api-url", server.url, "--detailed-exitcode", "--format", "json",
                       cwd=project, env={"HUD_API_KEY": HUD_API_KEY})
        if plan.returncode != 1:
            break
    assert plan.returncode == 0, plan.stdout[-500:] + plan.stderr
    data = json.loads(plan.stdout)
    assert data["counts"] == {"create": 0, "update": 0, "unchanged": TASKS, "remote_only": 0, "renames": 0}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    make_repo(root, {"tasks.jsonl": task_rows(TASKS, version=1)})
    return root


def seed_stale_versions(db: Path) -> None:
    """3,400 of the tasks already on the platform in an older version: apply must update them all."""
    store = LocalStore(db)
    stale = [json.loads(line) for line in task_rows(TASKS, version=0).splitlines()][::3]
    for start in range(0, len(stale), 1000):
        chunk = [{**t, "scenario": "shop:checkout", "column_values": t.pop("columns")} for t in stale[start : start + 1000]]
        store.upload({"name": TASKSET, "tasks": chunk})


def test_injected_errors_and_latency_converge(project: Path, tmp_path: Path):
    seed_stale_versions(tmp_path / "platform.sqlite")
    with start_serve(tmp_path, "--fail-rate", "0.3", "--fail-status", "429,500,502,503", "--latency-ms", "50",
                     "--seed", "11", "--api-key", HUD_API_KEY) as server:
        figures = apply_until_converged(project, server, batch=500, env=FAST_RETRIES)
        assert figures["failed"] >= 1  # with 2 attempts per call, some runs stop part-way
        assert_converged(project, server)
        # A second round: change every other task, converge again; no stale version may survive.
        (project / "tasks.jsonl").write_text(task_rows(TASKS, version=2, changed_every=2))
        again = apply_until_converged(project, server, batch=500, env=FAST_RETRIES)
        assert_converged(project, server)
        log = server.stderr_text()
    print("figures:", {"first": figures, "second": again})
    assert "(injected" in log and "(injected after commit" in log


def test_connections_dropped_mid_answer_converge(project: Path, tmp_path: Path):
    with start_serve(tmp_path, "--drop-rate", "0.25", "--seed", "5", "--api-key", HUD_API_KEY) as server:
        figures = apply_until_converged(project, server, batch=500, env=FAST_RETRIES)
        assert_converged(project, server)
        log = server.stderr_text()
    print("figures:", figures)
    assert "(dropped mid-response)" in log


def test_a_platform_killed_between_batches_and_restarted_converges(project: Path, tmp_path: Path):
    batch = 250
    env = {"HUD_API_KEY": HUD_API_KEY, "HUD_SYNC_HOOK_MAX_ATTEMPTS": "3", "HUD_SYNC_HOOK_BACKOFF_SECONDS": "0.05"}
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **env}
    # The server answers 5 uploads and holds the 6th: it is killed there, however fast the machine.
    with start_serve(tmp_path, "--hold-after-writes", "5", "--api-key", HUD_API_KEY) as server:
        port = server.url.rsplit(":", 1)[1]
        apply = subprocess.Popen(
            [sys.executable, "-m", "hud_sync_hook", "apply", TASKSET, ".", "--api-url", server.url, "--yes",
             "--batch-size", str(batch)],
            cwd=project, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 120  # a guard only: the 6th upload waits for the kill
        while "held: POST /tasks/upload" not in server.stderr_text() and time.monotonic() < deadline and apply.poll() is None:
            time.sleep(0.02)
        assert post_count(server.stderr_text()) == 5
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
        out, err = apply.communicate(timeout=120)
    assert apply.returncode == 1, out + err
    assert "Traceback" not in err
    match = LANDED.search(err)
    assert match and f"cannot reach the HUD platform at {server.url}" in err, err
    done, total, landed, to_upload = map(int, match.groups())
    assert (to_upload, total, done) == (TASKS, TASKS // batch, 5)
    # Batches are transactions: the store holds the 5 acknowledged ones, nothing of the held one.
    stored = len(remote_state(server.db))
    assert stored == landed == 5 * batch, (stored, landed)

    with start_serve(tmp_path, "--port", port, "--db", str(server.db), "--api-key", HUD_API_KEY) as restarted:
        assert restarted.url == server.url
        figures = apply_until_converged(project, restarted, batch=batch, env=FAST_RETRIES)
        assert figures["runs"] == 1
        assert_converged(project, restarted)
    print("figures:", {"acknowledged": landed, "stored_at_kill": stored, "batches_before_kill": done})


def test_two_applies_at_once_end_like_one(project: Path, tmp_path: Path):
    (project / "tasks.jsonl").write_text(task_rows(3000, version=1))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HUD_API_KEY": HUD_API_KEY}
    with start_serve(tmp_path, "--latency-ms", "20", "--api-key", HUD_API_KEY) as server:
        command = [sys.executable, "-m", "hud_sync_hook", "apply", TASKSET, ".", "--api-url", server.url, "--yes",
                   "--batch-size", "200"]
        runs = [subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        results = [(run.communicate(timeout=120), run.returncode) for run in runs]
        created = 0
        for (out, err), code in results:
            assert code == 0, err
            counts = re.search(r"Uploaded (\d+) task\(s\) to 'faults' in \d+ batch\(es\): (\d+) created, (\d+) updated", out)
            assert counts, out
            created += int(counts.group(2))
        assert created == 3000  # every task was created exactly once, whichever run got there first
        assert remote_state(server.db) == local_signatures(project)
        config = json.loads((project / ".hud" / "config.json").read_text())
        assert config["tasksetName"] == TASKSET and config["tasksetId"] == LocalStore(server.db).find_taskset(TASKSET).id
        plan = run_cli("plan", "--api-url", server.url, "--detailed-exitcode", cwd=project, env={"HUD_API_KEY": HUD_API_KEY})
        assert plan.returncode == 0 and "All tasks up to date" in plan.stdout, plan.stdout + plan.stderr


# -- .hud/config.json under SIGKILL ---------------------------------------------------------------

# One write of the config, killed with SIGKILL at its Nth step: the Nth line run in the function
# that writes (`save_config`, or for comparison `Path.write_text`, which truncates and rewrites in
# place). Run with N = 1, 2, ... until a writer finishes, every point between two steps is a kill.
WRITER = textwrap.dedent('''
    import os, signal, sys
    from pathlib import Path
    from hud_sync_hook.config import ProjectConfig, save_config

    path, mode, kill_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    updates = {"tasksetId": "22222222-2222-4222-8222-222222222222", "n": kill_at, "pad": "x" * 100_000}
    target = save_config.__code__ if mode == "atomic" else Path.write_text.__code__
    steps = 0

    def step(frame, event, arg):
        global steps
        if event == "line":
            steps += 1
            if steps == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return step

    sys.settrace(lambda frame, event, arg: step if frame.f_code is target else None)
    if mode == "atomic":
        save_config(ProjectConfig(path=path), updates)
    else:
        import json
        path.write_text(json.dumps({**updates, "keep": "me"}, indent=2) + "\\n")
    sys.settrace(None)
    print("finished", flush=True)
''')


def kill_writer_at_every_step(folder: Path, mode: str) -> tuple[int, list[int]]:
    """Kill a writer at step 1, 2, ... until one finishes; returns (kills, steps that left the file
    corrupt). After each kill the file must be the old one or the new one, whole."""
    from hud_sync_hook.config import read_config_file
    from hud_sync_hook.errors import ConfigError

    path = folder / ".hud" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    corrupt: list[int] = []
    for kill_at in range(1, 200):
        path.write_text(json.dumps({"keep": "me"}))
        proc = subprocess.run([sys.executable, "-c", WRITER, str(path), mode, str(kill_at)], env=env,
                              capture_output=True, text=True, timeout=120)
        try:
            data = read_config_file(path)
            ok = data.get("keep") == "me" and (
                "n" not in data or (data["n"] == kill_at and data.get("pad") == "x" * 100_000))
        except ConfigError:
            ok = False
        if not ok:
            corrupt.append(kill_at)
        if proc.returncode == 0:
            assert proc.stdout == "finished\n" and ok, proc.stderr
            return kill_at - 1, corrupt
        assert proc.returncode == -signal.SIGKILL, proc.stderr
    pytest.fail("the writer never finished")


def test_config_writes_survive_sigkill(tmp_path: Path):
    kills, corrupt = kill_writer_at_every_step(tmp_path / "atomic", "atomic")
    assert kills >= 5 and corrupt == []
    leftovers = list((tmp_path / "atomic" / ".hud").glob(".config.*.tmp"))
    print("figures:", {"kills": kills, "corrupt": len(corrupt), "temp files left by kills": len(leftovers)})
    # The same check does catch a writer that truncates and rewrites in place.
    naive_kills, naive_corrupt = kill_writer_at_every_step(tmp_path / "naive", "naive")
    assert naive_corrupt, f"a non-atomic writer survived {naive_kills} kills: the check is too weak"
    print("figures: a non-atomic writer was caught at step(s)", naive_corrupt, "of", naive_kills + 1)
