"""The real `serve` subprocess: every endpoint's shape, auth, limits, durability and its log."""

from __future__ import annotations

import json
import signal
import socket
import threading
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from hud_sync_hook.platform.base import is_uuid
from hud_sync_hook.platform.http import HttpPlatform
from tests.helpers.serve import start_serve

from tests.helpers.records import REGISTRY, task  # noqa: E402


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve-registry")
    (tmp / "registry.json").write_text(json.dumps(REGISTRY))
    with start_serve(tmp, "--registry", str(tmp / "registry.json")) as server:
        yield server


@pytest.fixture
def client(registry_server):
    with httpx.Client(base_url=registry_server.url, timeout=10) as c:
        yield c


def upload(client: httpx.Client, name: str, tasks: list[dict], **extra) -> httpx.Response:
    return client.post("/tasks/upload", json={"name": name, "tasks": tasks, **extra})


def test_ready_line_health_and_unknown_paths(registry_server, client):
    assert registry_server.url.startswith("http://127.0.0.1:")
    assert registry_server.db.name == "platform.sqlite" and registry_server.db.exists()
    assert client.get("/health").json() == {"ok": True}
    missing = client.get("/no/such/path")
    assert missing.status_code == 404 and "detail" in missing.json()
    wrong_method = client.delete("/tasks/upload")
    assert wrong_method.status_code == 405 and "detail" in wrong_method.json()


def test_upload_evalset_and_tasks_by_id_shapes(client):
    name = "shapes / with spaces"
    assert client.get(f"/tasks/evalset/{quote(name, safe='')}").status_code == 404
    first = upload(client, name, [task("a"), task("b")], columns={"level": {"type": "text"}})
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"tasks_created", "tasks_updated", "evalset_id"}
    assert (body["tasks_created"], body["tasks_updated"]) == (2, 0) and is_uuid(body["evalset_id"])
    second = upload(client, name, [task("b", args={"n": 2}), task("c")]).json()
    assert (second["tasks_created"], second["tasks_updated"]) == (1, 1)
    assert second["evalset_id"] == body["evalset_id"]

    found = client.get(f"/tasks/evalset/{quote(name, safe='')}").json()
    assert found == {"evalset_id": body["evalset_id"], "evalset_name": name}
    assert client.get(f"/tasks/evalset/{body['evalset_id']}").json() == found  # a UUID is an id

    listing = client.get(f"/tasks/evalsets/{body['evalset_id']}/tasks-by-id").json()
    assert listing["evalset_id"] == body["evalset_id"] and listing["evalset_name"] == name
    tasks = listing["tasks"]
    assert isinstance(tasks, dict) and len(tasks) == 3  # never deletes: "a" is still there
    assert all(record["id"] == task_id and is_uuid(task_id) for task_id, record in tasks.items())
    slugs = {record["slug"]: record for record in tasks.values()}
    assert slugs["b"]["args"] == {"n": 2} and slugs["a"]["env"] == {"name": "my-env"}

    with_all = client.get(f"/tasks/evalset/{quote(name, safe='')}", params={"all": "true"}).json()
    assert with_all["tasks"] == tasks


def test_tasks_by_id_404_for_missing_or_empty_taskset(client):
    assert client.get("/tasks/evalsets/00000000-0000-4000-8000-000000000000/tasks-by-id").status_code == 404
    resolved = client.post("/tasks/resolve-evalset", json={"name": "empty-one"}).json()
    assert set(resolved) == {"evalset_id", "name", "created"} and resolved["created"] is True
    again = client.post("/tasks/resolve-evalset", json={"name": "empty-one"}).json()
    assert again == {**resolved, "created": False}
    empty = client.get(f"/tasks/evalsets/{resolved['evalset_id']}/tasks-by-id")
    assert empty.status_code == 404 and "detail" in empty.json()


def test_registry_endpoints(client):
    assert client.get("/registry/envs/reg-1").json() == {
        "id": "reg-1", "name": "my-env", "name_display": "My Env", "latest_version": 3,
    }
    assert client.get("/registry/envs/nope").status_code == 404
    found = client.get("/registry/envs", params={"search": "my-env", "limit": 5}).json()
    assert [env["id"] for env in found] == ["reg-1"]
    picker = client.get("/registry/envs", params={"limit": 20, "sort_by": "updated_at"}).json()
    assert [env["name"] for env in picker] == ["my-env", "other-env"]
    assert client.get("/tasks/environments/my-env/scenarios").json() == {
        "scenarios": [{"name": "checkout"}, {"name": "refund"}]
    }
    assert client.get("/tasks/environments/ghost/scenarios").status_code == 404


@pytest.mark.parametrize(
    "tasks, detail",
    [
        ([task("a", env="ghost-env")], "Environments not found or not accessible: ghost-env"),
        ([task("a", scenario="nope"), task("b", scenario="gone")],
         "Scenario resolution failed:\nScenarios not found: my-env/nope, my-env/gone"),
        ([task("dupe"), task("dupe")], "Duplicate task slugs in upload request: dupe"),
    ],
)
def test_registry_validation_rejects_the_whole_request(client, tasks, detail):
    name = f"rejected-{abs(hash(detail))}"
    answer = upload(client, name, [task("fine"), *tasks])
    assert answer.status_code == 400 and answer.json() == {"detail": detail}
    assert client.get(f"/tasks/evalset/{name}").status_code == 404  # nothing written


def test_malformed_requests_get_400_and_the_server_stays_up(client):
    bad_json = client.post("/tasks/upload", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "Malformed JSON" in bad_json.json()["detail"]
    no_slug = upload(client, "x", [{"scenario": "my-env:checkout"}])
    assert no_slug.status_code == 400 and "slug" in no_slug.json()["detail"]
    no_name = client.post("/tasks/upload", json={"tasks": []})
    assert no_name.status_code == 400 and "'name'" in no_name.json()["detail"]
    with socket.create_connection(("127.0.0.1", int(client.base_url.port))) as raw:
        raw.sendall(b"NONSENSE\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/")
    assert client.get("/health").status_code == 200


def test_oversized_body_gets_413_without_reading_it(tmp_path):
    with start_serve(tmp_path, "--max-body-bytes", "1000") as server:
        big = {"name": "ts", "tasks": [task(f"t{i}") for i in range(50)]}
        with httpx.Client(base_url=server.url) as c:
            answer = c.post("/tasks/upload", json=big)
            assert answer.status_code == 413 and "too large" in answer.json()["detail"]
            assert c.get("/health").json() == {"ok": True}
            assert c.post("/tasks/upload", json={"name": "ts", "tasks": [task("a")]}).status_code == 200
        # a client that announces 10 GB and sends nothing gets its answer at once
        with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=5) as raw:
            raw.sendall(b"POST /tasks/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n")
            assert b" 413 " in raw.recv(200)
        assert server.proc.poll() is None


def test_api_keys_both_headers_and_no_key_in_the_log(tmp_path):
    key_one, key_two = "sk-test-ALPHA-1234567890", "sk-test-BRAVO-0987654321"
    with start_serve(tmp_path, "--api-key", key_one, "--api-key", key_two) as server:
        with httpx.Client(base_url=server.url) as c:
            path = "/registry/envs"
            refused = c.get(path)
            assert refused.status_code == 401 and refused.json() == {"detail": "Invalid or missing API key"}
            assert c.get(path, headers={"Authorization": "Bearer wrong-key"}).status_code == 401
            assert c.get(path, headers={"Authorization": f"Bearer {key_one}"}).status_code == 200
            assert c.get(path, headers={"X-API-Key": key_two}).status_code == 200
            assert c.get("/health").status_code == 200  # readiness needs no key
            assert c.post("/tasks/upload", json={"name": "t", "tasks": []}).status_code == 401
        with HttpPlatform(server.url, key_one) as platform:
            assert platform.upload("ts", [task("a")], None).created == 1
            assert platform.find_taskset("ts") is not None
        server.stop()
        log = server.stderr_text()
    assert "POST /tasks/upload 200" in log and "GET /registry/envs 401" in log
    assert key_one not in log and key_two not in log and "Bearer" not in log


def test_tasks_survive_a_restart_and_sigterm_stops_cleanly(tmp_path):
    with start_serve(tmp_path) as server:
        with HttpPlatform(server.url, None) as platform:
            taskset_id = platform.upload("durable", [task("a"), task("b")], None).taskset_id
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(5) == 0
    with start_serve(tmp_path) as server:
        with HttpPlatform(server.url, None) as platform:
            name, records = platform.fetch_tasks(taskset_id)
    assert name == "durable" and sorted(r["slug"] for r in records) == ["a", "b"]


def test_two_clients_uploading_at_once_end_like_one(tmp_path):
    tasks = [task(f"t{i:03d}") for i in range(200)]
    batches = [tasks[i : i + 20] for i in range(0, 200, 20)]
    created: list[int] = []
    with start_serve(tmp_path) as server:
        def worker(order: list[list[dict]]) -> None:
            with HttpPlatform(server.url, None) as platform:
                created.append(sum(platform.upload("busy", b, None).created for b in order))

        threads = [threading.Thread(target=worker, args=(o,)) for o in (batches, batches[::-1])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        with HttpPlatform(server.url, None) as platform:
            _, records = platform.fetch_tasks(platform.find_taskset("busy").id)
    assert sum(created) == 200
    assert sorted(r["slug"] for r in records) == [t["slug"] for t in tasks]
    assert {r["slug"]: r["args"] for r in records} == {t["slug"]: t["args"] for t in tasks}


def test_bad_arguments_and_busy_port_fail_with_one_line(tmp_path):
    with pytest.raises(RuntimeError, match="must be between 0 and 1"):
        start_serve(tmp_path, "--fail-rate", "2")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match="cannot listen on 127.0.0.1:"):
            start_serve(tmp_path, "--port", str(port))
    log = Path(tmp_path)
    assert not any("Traceback" in p.read_text() for p in log.glob("serve-*.log"))


def test_an_internal_error_is_a_500_answer_not_a_crash(tmp_path):
    with start_serve(tmp_path) as server, httpx.Client(base_url=server.url) as c:
        for suffix in ("", "-wal", "-shm"):  # the store vanishes under the running server
            Path(f"{server.db}{suffix}").unlink(missing_ok=True)
        broken = c.get("/tasks/evalset/anything")
        assert broken.status_code == 500 and broken.json() == {"detail": "Internal server error"}
        assert c.get("/health").json() == {"ok": True}
        assert "internal error: OperationalError" in server.stderr_text()


def test_latency_is_added_before_answering(tmp_path):
    # Ten minutes of latency: an API call does not answer within a 1 s read timeout, while
    # readiness, never delayed, answers well within the 60 s one (however busy the machine).
    with start_serve(tmp_path, "--latency-ms", "600000") as server, httpx.Client(base_url=server.url, timeout=60) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.get("/registry/envs", timeout=1)
        assert c.get("/health").json() == {"ok": True}


def test_writes_past_hold_after_writes_are_held_unanswered(tmp_path):
    body = {"name": "ts", "tasks": [{"slug": "a", "env": {"name": "e"}, "scenario": "e:s", "args": {}}]}
    with start_serve(tmp_path, "--hold-after-writes", "1") as server, httpx.Client(base_url=server.url, timeout=60) as c:
        assert c.post("/tasks/upload", json=body).status_code == 200
        with pytest.raises(httpx.ReadTimeout):  # never answered, so any timeout ends it
            c.post("/tasks/upload", json=body, timeout=1)
        assert c.get("/tasks/evalset/ts").status_code == 200  # reads are answered as before
        log = server.stderr_text()
    assert log.count("POST /tasks/upload 200") == 1 and "held: POST /tasks/upload (--hold-after-writes)" in log
