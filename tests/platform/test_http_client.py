"""`HttpPlatform` against the real `serve` process: retries through faults, refusals, clear errors."""

from __future__ import annotations

import re
import socket
import threading
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hud_sync_hook.errors import HudSyncError, PlatformError
from hud_sync_hook.platform.http import HttpPlatform, is_loopback_host, parse_retry_after
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

KEY = HUD_API_KEY


def task(slug: str, **extra) -> dict:
    record = {"slug": slug, "env": {"name": "my-env"}, "scenario": "my-env:checkout", "args": {"n": slug}}
    record.update(extra)
    return record


class FakeTime:
    """The client's clock and sleep: sleeping only moves the clock on, and is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def quick(url: str, key: str | None = None, **options) -> HttpPlatform:
    options = {"backoff_base": 0.01, "max_attempts": 12, "max_retry_seconds": 20.0, **options}
    return HttpPlatform(url, key, **options)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_whole_sync_conversation(tmp_path):
    with start_serve(tmp_path, "--api-key", KEY) as server, quick(server.url, KEY) as platform:
        assert platform.find_taskset("my / set") is None
        first = platform.upload("my / set", [task("a"), task("b")], {"level": {"type": "text"}})
        assert (first.created, first.updated) == (2, 0)
        found = platform.find_taskset("my / set")
        assert found is not None and found.id == first.taskset_id and found.name == "my / set"
        name, records = platform.fetch_tasks(found.id)
        assert name == "my / set" and sorted(r["slug"] for r in records) == ["a", "b"]
        assert all(r["id"] for r in records)
        assert platform.fetch_tasks("00000000-0000-4000-8000-000000000000") == (None, [])
        assert platform.get_env("reg-1") is None
        assert platform.search_envs("my-env") == []
        assert platform.env_scenarios("my-env") == []
        assert platform.request_count == 8  # one request per call when nothing fails


def test_upload_rejection_keeps_the_raw_detail(tmp_path):
    registry = tmp_path / "registry.json"
    registry.write_text('[{"id": "reg-1", "name": "my-env", "scenarios": ["checkout"]}]')
    with start_serve(tmp_path, "--registry", str(registry)) as server, quick(server.url) as platform:
        with pytest.raises(PlatformError) as caught:
            platform.upload("ts", [task("a", scenario="my-env:gone")], None)
        detail = "Scenario resolution failed:\nScenarios not found: my-env/gone"
        assert caught.value.status == 400 and caught.value.detail == detail
        assert str(caught.value) == f"upload rejected by the platform: {detail}"
        assert platform.request_count == 1  # a 400 is not retried
        assert platform.get_env("reg-1")["name"] == "my-env"
        assert platform.env_scenarios("my-env") == ["checkout"]


def test_retries_through_injected_failures_and_ends_in_the_right_state(tmp_path):
    args = ("--fail-rate", "0.5", "--fail-status", "429,502,503", "--seed", "3")
    tasks = [task(f"t{i:02d}") for i in range(60)]
    with start_serve(tmp_path, *args) as server, quick(server.url) as platform:
        for start in range(0, 60, 20):
            platform.upload("flaky", tasks[start : start + 20], None)
        platform.upload("flaky", [task("t00", args={"n": "changed"})], None)  # idempotent re-upload
        taskset = platform.find_taskset("flaky")
        name, records = platform.fetch_tasks(taskset.id)
        log = server.stderr_text()
    assert platform.request_count > 6  # some calls needed retries
    assert "(injected" in log and "(injected after commit" in log
    assert name == "flaky" and len(records) == 60
    by_slug = {r["slug"]: r for r in records}
    assert by_slug["t00"]["args"] == {"n": "changed"} and by_slug["t59"]["args"] == {"n": "t59"}


def test_connections_dropped_mid_response_are_retried(tmp_path):
    with start_serve(tmp_path, "--drop-rate", "0.5", "--seed", "3") as server, quick(server.url) as platform:
        result = platform.upload("dropped", [task(f"t{i}") for i in range(30)], None)
        for _ in range(5):
            name, records = platform.fetch_tasks(result.taskset_id)
            assert name == "dropped" and len(records) == 30
        log = server.stderr_text()
    assert "(dropped mid-response)" in log
    assert platform.request_count > 6


def test_a_streamed_fetch_keeps_only_what_keep_returns_and_restarts_after_a_drop(tmp_path):
    # 3,000 records make an answer of several chunks, so a drop half-way comes after some records
    # were already handed to `keep`: the retry must start over, not append to them.
    tasks = [task(f"t{i:04d}", args={"text": "x" * 150, "i": i}) for i in range(3000)]
    with start_serve(tmp_path) as server, quick(server.url) as platform:
        for start in range(0, len(tasks), 1000):
            taskset_id = platform.upload("big", tasks[start : start + 1000], None).taskset_id
    handed: list[str] = []

    def keep(record: dict) -> tuple[str, str] | None:
        handed.append(record["slug"])
        return None if record["slug"].endswith("7") else (record["slug"], record["id"])

    # Seed 9: the first answer is dropped half-way, the second arrives whole.
    with start_serve(tmp_path, "--drop-rate", "0.5", "--seed", "9") as server, quick(server.url) as platform:
        name, kept = platform.fetch_tasks(taskset_id, keep=keep)
        log = server.stderr_text()
    assert "(dropped mid-response)" in log
    assert name == "big"
    assert [slug for slug, _ in kept] == [t["slug"] for t in tasks if not t["slug"].endswith("7")]
    assert all(task_id for _, task_id in kept)  # the id (the record's key) is added before `keep`
    assert len(handed) > len(tasks)  # records of the dropped attempt were handed over, then dropped


def test_retry_after_is_honoured(tmp_path):
    # Every answer is a 429; the log says which Retry-After each one carried.
    fake = FakeTime()
    with start_serve(tmp_path, "--fail-rate", "1", "--fail-status", "429", "--seed", "11") as server:
        with quick(server.url, max_attempts=4, backoff_base=0.0, sleep=fake.sleep, clock=fake.clock) as platform:
            with pytest.raises(PlatformError) as caught:
                platform.find_taskset("ts")
        log = server.stderr_text()
    assert caught.value.status == 429 and "answered HTTP 429" in str(caught.value)
    assert "4 times" in str(caught.value) and "\n" not in str(caught.value)
    assert log.count("429") == 4
    # the client waits out each Retry-After between the 4 attempts (backoff alone would be 0 s)
    waits = [float(v) for v in re.findall(r"Retry-After: (\d+)", log)]
    assert len(waits) == 4 and sum(waits[:3]) >= 1, "pick a seed whose first answers ask for a wait"
    assert fake.slept == waits[:3]


def test_gives_up_on_a_closed_port_with_a_clear_message():
    url = f"http://127.0.0.1:{free_port()}"
    fake = FakeTime()
    platform = quick(url, KEY, max_attempts=3, sleep=fake.sleep, clock=fake.clock)
    with pytest.raises(PlatformError) as caught:
        platform.find_taskset("ts")
    message = str(caught.value)
    assert message.startswith(f"cannot reach the HUD platform at {url} after 3 attempts (")
    assert message.endswith("check --api-url or your network") and "\n" not in message
    assert KEY not in message and platform.request_count == 3
    # Jittered exponential backoff between the attempts: at most 0.01 s, then 0.02 s.
    assert len(fake.slept) == 2 and 0 <= fake.slept[0] <= 0.01 and 0 <= fake.slept[1] <= 0.02
    platform.close()


def test_retry_budget_bounds_the_total_time():
    fake = FakeTime()
    platform = quick(f"http://127.0.0.1:{free_port()}", max_attempts=100, backoff_base=0.2, max_retry_seconds=0.5,
                     sleep=fake.sleep, clock=fake.clock)
    with pytest.raises(PlatformError, match="cannot reach"):
        platform.search_envs("x")
    # It stops before a wait would take it past the budget, long before 100 attempts.
    assert sum(fake.slept) <= 0.5 and platform.request_count == len(fake.slept) + 1 < 100


def test_refuses_a_key_over_plain_http_to_another_host_before_connecting():
    # example.invalid can never resolve; raising in the constructor proves nothing was sent.
    with pytest.raises(HudSyncError) as caught:
        HttpPlatform("http://example.invalid", KEY)
    assert "https://" in str(caught.value) and "loopback" in str(caught.value)
    assert KEY not in str(caught.value)
    for url in ("http://127.0.0.1:1", "http://127.3.4.5:1", "http://localhost:1", "http://[::1]:1"):
        HttpPlatform(url, KEY).close()
    HttpPlatform("http://example.invalid", None).close()  # no key, nothing to leak
    with pytest.raises(HudSyncError, match="http:// or https://"):
        HttpPlatform("ftp://example.invalid", KEY)


def test_a_refused_key_is_reported_without_showing_it(tmp_path):
    with start_serve(tmp_path, "--api-key", "the-right-key") as server:
        with quick(server.url, KEY) as platform:
            with pytest.raises(PlatformError) as caught:
                platform.upload("ts", [task("a")], None)
            assert repr(platform) == f"HttpPlatform({server.url!r}, api_key=set)"
        with quick(server.url, None) as anonymous:
            with pytest.raises(PlatformError, match="no HUD API key, and the HUD platform at .* needs one"):
                anonymous.find_taskset("ts")
        log = server.stderr_text()
    assert str(caught.value) == "the HUD platform refused the API key (401); check HUD_API_KEY"
    assert caught.value.status == 401
    assert KEY not in log and "the-right-key" not in log


class _OddAnswers(BaseHTTPRequestHandler):
    """A server that is not the HUD platform (say, a web page at the wrong --api-url)."""

    def do_GET(self) -> None:
        records = ",".join(f'"id-{i}": {{"slug": "t{i}", "args": {{}}}}' for i in range(20000))
        bodies = {
            "/tasks/evalsets/cut/tasks-by-id": f'{{"tasks": {{{records}'.encode(),
            "/tasks/evalsets/odd/tasks-by-id": f'{{"tasks": {{{records}, "id-x": [1]}}}}'.encode(),
        }
        body = bodies.get(self.path) or (b"<html>hello</html>" if "evalset/" in self.path else b'{"unexpected": true}')
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_answers_that_are_not_the_platform_give_clear_errors():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OddAnswers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with quick(f"http://127.0.0.1:{server.server_address[1]}") as platform:
            with pytest.raises(PlatformError, match="not JSON to GET /tasks/evalset/ts"):
                platform.find_taskset("ts")
            with pytest.raises(PlatformError, match="unexpected answer .* expected an object with 'tasks'"):
                platform.fetch_tasks("x")
            # Found wrong only after many records were read: still one clear error, not a partial list.
            with pytest.raises(PlatformError, match=r"not JSON to GET /tasks/evalsets/cut/tasks-by-id \(HTTP 200: \{\"tasks\""):
                platform.fetch_tasks("cut", keep=lambda record: record["slug"])
            with pytest.raises(PlatformError, match="expected task records \\(objects\\) in 'tasks'"):
                platform.fetch_tasks("odd", keep=lambda record: record["slug"])
            with pytest.raises(PlatformError, match="expected a list of environments"):
                platform.search_envs("x")
    finally:
        server.shutdown()
        server.server_close()


def test_parse_retry_after_and_loopback_hosts():
    assert parse_retry_after("3", 120) == 3.0
    assert parse_retry_after("500", 120) == 120.0
    assert parse_retry_after("-4", 120) == 0.0
    assert parse_retry_after(None, 120) is None and parse_retry_after("soon", 120) is None
    now = datetime(2030, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, 120, now=now) == 30.0
    assert parse_retry_after(later, 20, now=now) == 20.0 and parse_retry_after(later, 120, now=now + timedelta(hours=1)) == 0.0
    assert all(map(is_loopback_host, ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]))
    assert not any(map(is_loopback_host, ["10.0.0.1", "example.invalid", "128.0.0.1", "localhost.example", "api.localhost", "localhost.", "127.0.0.1."]))
