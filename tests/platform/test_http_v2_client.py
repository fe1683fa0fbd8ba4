"""`HttpPlatformV2` (the v6 SDK's `/v2` API) against the real `serve` process: the conversation,
ids that are never created, retries through faults, refusals and the key rules of the v5 client."""

from __future__ import annotations

import http.server
import threading

import pytest

from hud_sync_hook.errors import HudSyncError, PlatformError
from hud_sync_hook.platform.http_v2 import HttpPlatformV2
from hud_sync_hook.platform.local_v2 import LOCAL_TEAM_ID, LOCAL_USER_ID
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

KEY = HUD_API_KEY
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def item(slug: str, **extra) -> dict:
    return {"name": slug, "env": {"name": "letters"}, "task_id": "count", "args": {"n": slug}, **extra}


def quick(url: str, key: str | None = KEY, **options) -> HttpPlatformV2:
    return HttpPlatformV2(url, key, **{"backoff_base": 0.01, "max_attempts": 12, "max_retry_seconds": 20.0, **options})


def test_the_whole_v2_conversation(tmp_path):
    with start_serve(tmp_path, "--api-key", KEY) as server, quick(server.url) as platform:
        assert platform.auth_me() == {"user_id": LOCAL_USER_ID, "team_id": LOCAL_TEAM_ID}
        assert platform.find_taskset("new set/with slash") is None
        result = platform.upload("new set/with slash", [item("a"), item("b", columns={"d": 1})], None)
        assert (result.created, result.updated) == (2, 0)
        found = platform.find_taskset("new set/with slash")
        assert found is not None and found.id == result.taskset_id
        name, records = platform.fetch_tasks(found.id)
        assert name == "new set/with slash"
        assert records == [
            {"name": "a", "env": "letters", "scenario": "count", "args": {"n": "a"}},
            {"name": "b", "env": "letters", "scenario": "count", "args": {"n": "b"}, "columns": {"d": 1}},
        ]
        # a second upload names the taskset by id and updates in place
        again = platform.upload("new set/with slash", [item("a", args={"n": 2})], None)
        assert (again.created, again.updated, again.taskset_id) == (0, 1, found.id)
        kept = platform.fetch_tasks(found.id, keep=lambda r: r["name"] if r["name"] == "a" else None)
        assert kept == ("new set/with slash", ["a"])
        log = server.stderr_text()
        assert "GET /v2/tasksets/by-name/new%20set%2Fwith%20slash 404" in log
        assert f"GET /v2/tasksets/{found.id}/export 200" in log


def test_an_unknown_id_is_not_found_and_never_created(tmp_path):
    with start_serve(tmp_path, "--api-key", KEY) as server, quick(server.url) as platform:
        assert platform.get_taskset(UNKNOWN_ID) is None
        assert platform.fetch_tasks(UNKNOWN_ID) == (None, [])
        platform._known_ids["ghost"] = UNKNOWN_ID
        with pytest.raises(PlatformError) as err:
            platform.upload("ghost", [item("a")], None)
        assert err.value.status == 404 and platform.find_taskset("ghost") is None


def test_refusals_and_a_wrong_key(tmp_path):
    with start_serve(tmp_path, "--api-key", KEY) as server:
        with quick(server.url) as platform, pytest.raises(PlatformError, match="upload rejected by the platform: Task 'a': 'task_id'"):
            platform.upload("s", [{"name": "a", "env": {"name": "e"}}], None)
        with quick(server.url, key="wrong-key-123") as platform, pytest.raises(PlatformError, match="refused the API key"):
            platform.auth_me()


def test_retries_through_injected_failures(tmp_path):
    args = ("--api-key", KEY, "--fail-rate", "0.5", "--fail-status", "429,502,503", "--seed", "7")
    with start_serve(tmp_path, *args) as server, quick(server.url) as platform:
        platform.upload("flaky", [item(f"t{i}") for i in range(20)], None)
        found = platform.find_taskset("flaky")
        assert found is not None
        assert sorted(r["name"] for r in platform.fetch_tasks(found.id)[1]) == sorted(f"t{i}" for i in range(20))
        assert "(injected" in server.stderr_text()


def test_the_key_rules_of_the_v5_client_hold():
    with pytest.raises(HudSyncError, match="refusing to send the API key over plain http"):
        HttpPlatformV2("http://example.com", KEY)
    with pytest.raises(HudSyncError, match="must not contain credentials"):
        HttpPlatformV2("https://user:pw@example.com", KEY)


def test_only_a_bearer_header_is_sent_under_v2():
    seen: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            body = b'{"user_id": "%s", "team_id": "%s"}' % (LOCAL_USER_ID.encode(), LOCAL_TEAM_ID.encode())
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with quick(f"http://127.0.0.1:{server.server_address[1]}") as platform:
            platform.auth_me()
    finally:
        server.shutdown()
        server.server_close()
    assert seen[0]["path"] == "/v2/auth/me"
    assert seen[0]["authorization"] == f"Bearer {KEY}" and "x-api-key" not in seen[0]


def answering(body: bytes):
    """A loopback server answering every request with `body` (200), and its URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'{"evalset_id": "%s", "tasks_created": 1, "tasks_updated": 0}' % UNKNOWN_ID.encode(), "expected an object with 'taskset_id'"),
        (b'{"taskset_id": "%s", "tasks_created": 5, "tasks_updated": 0}' % UNKNOWN_ID.encode(), "does not add up"),
        (b'{"taskset_id": "not-a-uuid", "tasks_created": 1, "tasks_updated": 0}', "not a taskset id"),
    ],
)
def test_upload_answers_are_checked_before_they_are_believed(body, expected):
    server = answering(body)
    try:
        with quick(f"http://127.0.0.1:{server.server_address[1]}") as platform, pytest.raises(PlatformError, match=expected):
            platform.upload("s", [item("a")], None)
    finally:
        server.shutdown()
        server.server_close()
