"""A platform that trickles, never ends, or answers nonsense: the CLI and the hook stay bounded.

Real servers on loopback (tests/helpers/attackers.py), the real CLI in a subprocess. Bounds are
checked as bounds: the attackers would go on for minutes (or gigabytes) without them, and each
command is given a generous limit it must finish within.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hud_sync_hook.errors import PlatformError
from hud_sync_hook.platform import http as http_module
from hud_sync_hook.platform.http import HttpPlatform
from tests.helpers.attackers import endless_server, logging_server, trickle_server
from tests.helpers.repo import REPO_ROOT, make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.hooks.consumer import child_env, make_consumer, task, tasks_py

TASKSET_ID = "3f2b8c1e-9d4a-4f6b-8c2d-1a2b3c4d5e6f"
KEY = {"HUD_API_KEY": HUD_API_KEY}


def project(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    make_repo(folder, {"tasks.json": [task("one"), task("two")]})
    return folder


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_timeout_bounds_a_whole_request_against_a_trickle(tmp_path: Path, in_headers: bool):
    """One byte every 0.2 s for up to 120 s: `plan --timeout 2` gives up after about 2 s, one line."""
    with trickle_server(interval=0.2, limit=600, in_headers=in_headers) as attacker:
        ran = run_cli("plan", TASKSET_ID, ".", "--api-url", attacker.url, "--timeout", "2",
                      cwd=project(tmp_path), env={**KEY, "HUD_SYNC_HOOK_MAX_ATTEMPTS": "1"}, timeout=60)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and "no complete answer within 2 s" in lines[0], ran.stderr
    assert "Traceback" not in ran.stderr


def test_the_push_hook_is_bounded_by_its_timeout_against_a_trickle(tmp_path: Path):
    consumer = make_consumer(tmp_path, {"tasks.py": tasks_py(task("alpha"))})
    with trickle_server(interval=0.2, limit=600) as attacker:
        hook = run_cli("install-hook", "--", "--taskset", "shop", "--api-url", attacker.url, "--timeout", "1",
                       cwd=consumer.work, env=child_env())
        assert hook.returncode == 0, hook.stderr
        tip = consumer.commit({"tasks.py": tasks_py(task("alpha"), task("beta"))})
        pushed = subprocess.run(["git", "push", "origin", "main"], cwd=consumer.work, env=child_env(KEY),
                                capture_output=True, text=True, timeout=60)
    output = pushed.stdout + pushed.stderr
    assert pushed.returncode == 0, output
    assert f"plan skipped for {tip[:12]}: cannot reach the HUD platform at {attacker.url}" in output
    assert "no complete answer within 1 s" in output


def _peak_rss_mb(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the CLI as a child of a small Python that reports the child's peak memory (MB)."""
    probe = (
        "import resource, subprocess, sys\n"
        "ran = subprocess.run([sys.executable, '-m', 'hud_sync_hook', *sys.argv[1:]], capture_output=True, text=True)\n"
        "sys.stdout.write(ran.stdout); sys.stderr.write(ran.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
        "sys.exit(ran.returncode)\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                         env=child_env({**KEY, "PYTHONPATH": str(REPO_ROOT)}))
    *out, peak = ran.stdout.strip().splitlines()
    ran.stdout = "\n".join(out)
    return ran, float(peak)


@pytest.mark.parametrize("kind, argument, message", [
    ("string", TASKSET_ID, "larger than 16,777,216 characters in one value"),
    ("plain", "shop", "larger than 16,777,216 bytes"),
])
def test_an_endless_answer_is_refused_with_one_line_and_bounded_memory(tmp_path: Path, kind: str, argument: str, message: str):
    with endless_server(kind) as attacker:
        ran, peak = _peak_rss_mb(["plan", argument, ".", "--api-url", attacker.url], project(tmp_path))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    (line,) = ran.stderr.strip().splitlines()
    assert message in line and "refusing it" in line, line
    assert peak < 400, f"peak memory {peak:.0f} MB"


def test_endless_records_stop_at_the_task_cap(monkeypatch: pytest.MonkeyPatch):
    """The cap on tasks in one answer (2,000,000 by default), here lowered to keep the test short."""
    monkeypatch.setattr(http_module, "MAX_TASKS", 20_000)
    with endless_server("records") as attacker, HttpPlatform(attacker.url, HUD_API_KEY, max_attempts=1) as platform:
        with pytest.raises(PlatformError, match="larger than 20,000 tasks"):
            platform.fetch_tasks(TASKSET_ID, keep=lambda record: record["slug"])


def test_a_total_byte_cap_refuses_a_long_answer_before_it_is_whole(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(http_module, "MAX_TASKS_ANSWER_BYTES", 5_000_000)
    with endless_server("records") as attacker, HttpPlatform(attacker.url, HUD_API_KEY, max_attempts=1) as platform:
        with pytest.raises(PlatformError, match="larger than 5,000,000 bytes"):
            platform.fetch_tasks(TASKSET_ID, keep=lambda record: None)


def test_a_declared_oversized_answer_is_refused_unread():
    body = {"detail": "x" * (17 * 1024 * 1024)}
    with logging_server("127.0.0.1", status=200, body=body) as attacker, \
            HttpPlatform(attacker.url, HUD_API_KEY, max_attempts=1) as platform:
        with pytest.raises(PlatformError, match="larger than 16,777,216 bytes"):
            platform.find_taskset("shop")


@pytest.mark.parametrize("answer, message", [
    ({"error": "quota exceeded", "evalset_id": TASKSET_ID},
     "the platform answered the upload with an error: quota exceeded"),
    ({"tasks_created": 0, "tasks_updated": 0, "evalset_id": TASKSET_ID},
     "the platform's upload answer does not add up: 0 created and 0 updated for 2 task(s) sent"),
    ({"tasks_created": 2, "tasks_updated": 0, "evalset_id": "\x1b[31m../../evil"},
     "names the taskset '\\x1b[31m../../evil', which is not a taskset id (a UUID); not storing it"),
    ({"tasks_created": "2", "tasks_updated": 0, "evalset_id": TASKSET_ID},
     "expected an object with 'tasks_created', 'tasks_updated' (counts) and 'evalset_id'"),
])
def test_an_upload_answer_is_checked_before_it_is_believed_or_stored(tmp_path: Path, answer: dict, message: str):
    folder = project(tmp_path)
    with logging_server("127.0.0.1", routes={"POST /tasks/upload": (200, answer)}) as attacker:
        ran = run_cli("apply", "shop", ".", "--api-url", attacker.url, "--yes", cwd=folder,
                      env={**KEY, "HUD_SYNC_HOOK_MAX_ATTEMPTS": "1"})
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert message in ran.stderr and "Uploaded" not in ran.stdout
    (line,) = [line for line in ran.stderr.splitlines() if line.startswith("hud-sync-hook: error:")]
    assert "0 of 2 task(s) landed" in line
    assert not (folder / ".hud" / "config.json").exists()


def test_a_bad_stored_id_never_blocks_offline_commands(tmp_path: Path):
    folder = project(tmp_path)
    (folder / ".hud").mkdir()
    (folder / ".hud" / "config.json").write_text(json.dumps({"tasksetId": "\x1b[2Jnot-an-id"}))
    ran = run_cli("validate", ".", cwd=folder)
    assert ran.returncode == 0 and "2 task(s) valid" in ran.stdout, ran.stderr
    ran = run_cli("plan", "--api-url", "local", cwd=folder)
    assert ran.returncode == 1
    assert ran.stderr.strip() == (
        "hud-sync-hook: error: .hud/config.json: tasksetId '\\x1b[2Jnot-an-id' is not a taskset id (a UUID); "
        "remove the key or pass a taskset name"
    )
    ran = run_cli("apply", "shop", ".", "--api-url", "local", "--yes", cwd=folder)  # a name given: the id is replaced
    assert ran.returncode == 0, ran.stderr
    assert json.loads((folder / ".hud" / "config.json").read_text())["tasksetName"] == "shop"


@pytest.mark.parametrize("host", ["localhost.", "LOCALHOST.", "127.0.0.1."])
def test_a_trailing_dot_is_not_loopback_and_gets_no_key(tmp_path: Path, host: str):
    """`localhost.` is resolved through DNS: no key goes to it over plain http, nothing is sent at all."""
    with logging_server("127.0.0.1") as attacker:
        port = attacker.server.server_address[1]
        ran = run_cli("plan", "shop", ".", "--api-url", f"http://{host}:{port}", cwd=project(tmp_path), env=KEY)
        assert attacker.seen == []
    assert ran.returncode == 1
    assert ran.stderr.strip() == (
        f"hud-sync-hook: error: refusing to send the API key over plain http:// to {host.lower()}; "
        "use https:// or a loopback address (127.0.0.1, ::1, localhost)"
    )


def test_a_total_limit_stops_retries_that_each_attempt_alone_would_allow():
    """What bounds the push hook's whole plan (3 x --timeout): here 1.5 s for attempts of 1 s each,
    so five allowed attempts become at most two."""
    with trickle_server(interval=0.2, limit=600) as attacker, \
            HttpPlatform(attacker.url, HUD_API_KEY, timeout=1, max_attempts=5, max_retry_seconds=100,
                         backoff_base=0.0) as platform:
        platform.limit_total(1.5)
        with pytest.raises(PlatformError, match="no complete answer within 1 s|did not answer within the time allowed"):
            platform.find_taskset("shop")
        assert 1 <= len(attacker.seen) <= 2
