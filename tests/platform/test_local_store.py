"""The SQLite store and `LocalPlatform`: upsert semantics, validation, and two writers at once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hud_sync_hook.errors import HudSyncError, PlatformError
from hud_sync_hook.platform.local import LocalPlatform, LocalStore, load_registry

REPO_ROOT = Path(__file__).resolve().parents[2]

from tests.helpers.records import REGISTRY, task  # noqa: E402


def by_slug(records: list[dict]) -> dict[str, dict]:
    return {r["slug"]: r for r in records}


def test_first_upload_creates_the_taskset_and_counts(tmp_path):
    platform = LocalPlatform(tmp_path / "p.sqlite")
    assert platform.find_taskset("ts") is None
    result = platform.upload("ts", [task("a"), task("b")], {"level": {"type": "text"}})
    assert (result.created, result.updated) == (2, 0)
    found = platform.find_taskset("ts")
    assert found is not None and found.id == result.taskset_id and found.name == "ts"
    name, records = platform.fetch_tasks(found.id)
    assert name == "ts"
    assert sorted(by_slug(records)) == ["a", "b"]
    assert all(r["id"] and r["scenario"] == "my-env:checkout" for r in records)
    assert platform.store.taskset_columns(found.id) == {"level": {"type": "text"}}


def test_fetch_with_keep_hands_over_each_record_and_drops_none(tmp_path):
    platform = LocalPlatform(tmp_path / "p.sqlite")
    result = platform.upload("ts", [task("a"), task("b"), task("c")], None)
    name, kept = platform.fetch_tasks(result.taskset_id, keep=lambda r: None if r["slug"] == "b" else (r["slug"], r["id"]))
    assert name == "ts" and [slug for slug, _ in kept] == ["a", "c"] and all(task_id for _, task_id in kept)
    assert platform.fetch_tasks(result.taskset_id, keep=lambda r: None) == ("ts", [])
    assert platform.fetch_tasks("00000000-0000-4000-8000-000000000000", keep=lambda r: r) == (None, [])


def test_upsert_updates_by_slug_keeps_ids_and_never_deletes(tmp_path):
    platform = LocalPlatform(tmp_path / "p.sqlite")
    first = platform.upload("ts", [task("a"), task("b")], None)
    ids = {r["slug"]: r["id"] for r in platform.fetch_tasks(first.taskset_id)[1]}
    # identical re-upload counts as updated, like the platform
    again = platform.upload("ts", [task("a")], None)
    assert (again.created, again.updated) == (0, 1)
    changed = platform.upload("ts", [task("b", args={"n": 2}), task("c")], None)
    assert (changed.created, changed.updated) == (1, 1)
    assert changed.taskset_id == first.taskset_id
    records = by_slug(platform.fetch_tasks(first.taskset_id)[1])
    assert sorted(records) == ["a", "b", "c"]  # "a" was not in the last upload and is still there
    assert records["b"]["args"] == {"n": 2}
    assert records["a"]["id"] == ids["a"] and records["b"]["id"] == ids["b"]


def test_stored_record_is_the_uploaded_task_plus_id(tmp_path):
    platform = LocalPlatform(tmp_path / "p.sqlite")
    uploaded = task(
        "a",
        validation=[{"name": "check", "arguments": {"x": 1}}],
        agent_config={"system_prompt": "hi"},
        column_values={"level": "easy"},
    )
    result = platform.upload("ts", [uploaded], None)
    (record,) = platform.fetch_tasks(result.taskset_id)[1]
    assert record == {**uploaded, "id": record["id"]}


def test_tasksets_are_separate_and_looked_up_by_uuid(tmp_path):
    platform = LocalPlatform(tmp_path / "p.sqlite")
    one = platform.upload("one", [task("a")], None)
    two = platform.upload("two", [task("a")], None)
    assert one.taskset_id != two.taskset_id
    assert platform.find_taskset(one.taskset_id).name == "one"
    assert platform.fetch_tasks("00000000-0000-4000-8000-000000000000") == (None, [])


def test_empty_taskset_fetches_as_not_found(tmp_path):
    store = LocalStore(tmp_path / "p.sqlite")
    taskset, created = store.resolve_taskset("empty")
    assert created and store.resolve_taskset("empty") == (taskset, False)
    platform = LocalPlatform(tmp_path / "p.sqlite")
    assert platform.fetch_tasks(taskset.id) == (None, [])


@pytest.mark.parametrize(
    "tasks, detail",
    [
        ([task("dupe"), task("x"), task("dupe")], "Duplicate task slugs in upload request: dupe"),
        ([task("a", env="ghost-env")], "Environments not found or not accessible: ghost-env"),
        (
            [task("a", scenario="nope"), task("b", scenario="gone", env="other-env"), task("c")],
            "Scenario resolution failed:\nScenarios not found: my-env/nope, other-env/gone",
        ),
    ],
)
def test_registry_rejections_use_the_platform_details_and_write_nothing(tmp_path, tasks, detail):
    platform = LocalPlatform(tmp_path / "p.sqlite", registry=REGISTRY)
    with pytest.raises(PlatformError) as caught:
        platform.upload("ts", tasks, None)
    assert caught.value.status == 400
    assert caught.value.detail == detail
    assert str(caught.value) == f"upload rejected by the platform: {detail}"
    assert platform.find_taskset("ts") is None


def test_without_registry_any_env_is_accepted_but_duplicates_are_not(tmp_path):
    platform = LocalPlatform(tmp_path / "p.sqlite")
    assert platform.upload("ts", [task("a", env="ghost-env")], None).created == 1
    with pytest.raises(PlatformError, match="Duplicate task slugs in upload request: a, b"):
        platform.upload("ts", [task("a"), task("b"), task("a"), task("b")], None)
    assert platform.get_env("reg-1") is None
    assert platform.search_envs("my") == []
    assert platform.env_scenarios("my-env") == []


def test_registry_lookups(tmp_path):
    registry_file = tmp_path / "registry.json"
    registry_file.write_text(json.dumps(REGISTRY))
    platform = LocalPlatform(tmp_path / "p.sqlite", registry=registry_file)
    assert platform.get_env("reg-1") == {
        "id": "reg-1", "name": "my-env", "name_display": "My Env", "latest_version": 3,
    }
    assert platform.get_env("reg-9") is None
    assert [e["name"] for e in platform.search_envs("ENV")] == ["my-env", "other-env"]
    assert [e["name"] for e in platform.search_envs("env", limit=1)] == ["my-env"]
    assert platform.env_scenarios("my-env") == ["checkout", "refund"]
    assert platform.upload("ts", [task("a"), task("b", "browse", "other-env")], None).created == 2


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({"tasks": []}, "'name'"),
        ({"name": "  ", "tasks": []}, "'name'"),
        ({"name": "ts", "tasks": {"a": 1}}, "'tasks' must be a list"),
        ({"name": "ts", "tasks": [{"scenario": "e:s"}]}, "Task 0 has no slug"),
        ({"name": "ts", "tasks": [{"slug": 5, "scenario": "e:s"}]}, "Task 0 has no slug"),
        ({"name": "ts", "tasks": [{"slug": "a", "scenario": "e:s", "args": [1]}]}, "'args' must be an object"),
        ({"name": "ts", "tasks": ["a"]}, "Task 0 must be an object"),
        ("not an object", "must be a JSON object"),
    ],
)
def test_malformed_payloads_are_rejected(tmp_path, payload, fragment):
    store = LocalStore(tmp_path / "p.sqlite")
    with pytest.raises(PlatformError) as caught:
        store.upload(payload)
    assert caught.value.status == 400 and fragment in caught.value.detail


def test_request_count_counts_calls(tmp_path):
    platform = LocalPlatform(tmp_path / "p.sqlite")
    platform.find_taskset("ts")
    platform.upload("ts", [task("a")], None)
    platform.fetch_tasks("ts")
    assert platform.request_count == 3


def test_bad_files_give_one_line_errors(tmp_path):
    not_db = tmp_path / "not.sqlite"
    not_db.write_text("hello, I am not a database" * 100)
    with pytest.raises(HudSyncError, match="is not a hud-sync-hook local platform; refusing to write to it"):
        LocalStore(not_db)
    assert not_db.read_text() == "hello, I am not a database" * 100
    bad_registry = tmp_path / "registry.json"
    bad_registry.write_text('[{"id": 1}]')
    with pytest.raises(HudSyncError, match="registry entry 0"):
        load_registry(bad_registry)


WRITER = textwrap.dedent(
    """
    import sys
    from hud_sync_hook.platform.local import LocalPlatform
    platform = LocalPlatform(sys.argv[1])
    tasks = [{"slug": f"t{i:03d}", "env": {"name": "e"}, "scenario": "e:s", "args": {"i": i}}
             for i in range(300)]
    order = range(0, 300, 25) if sys.argv[2] == "up" else reversed(range(0, 300, 25))
    created = sum(platform.upload("shared", tasks[s:s + 25], None).created for s in order)
    print(created)
    """
)


def test_two_processes_uploading_at_once_end_like_one(tmp_path):
    db = tmp_path / "p.sqlite"
    LocalStore(db)  # create the schema first, as any earlier command would have
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), direction],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
        )
        for direction in ("up", "down")
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum(int(out) for out, _ in outputs) == 300  # every slug created exactly once

    alone = LocalPlatform(tmp_path / "alone.sqlite")
    alone.upload("shared", [
        {"slug": f"t{i:03d}", "env": {"name": "e"}, "scenario": "e:s", "args": {"i": i}} for i in range(300)
    ], None)

    def state(platform: LocalPlatform) -> dict:
        _, records = platform.fetch_tasks(platform.find_taskset("shared").id)
        return {r["slug"]: {k: v for k, v in r.items() if k != "id"} for r in records}

    shared = LocalPlatform(db)
    assert state(shared) == state(alone)
    assert shared.store.count_tasks(shared.find_taskset("shared").id) == 300


def test_only_hud_sync_hook_stores_are_ever_opened_for_writing(tmp_path):
    """Another application's database, an empty file and a FIFO are refused, byte for byte untouched;
    a store is marked with its own application id, and an unmarked store of ours is adopted."""
    import os
    import sqlite3

    app = tmp_path / "app.sqlite"
    with sqlite3.connect(app) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
        conn.execute("INSERT INTO users VALUES ('ada')")
    conn.close()
    empty = tmp_path / "empty.conf"
    empty.write_bytes(b"")
    fifo = tmp_path / "pipe.sqlite"
    os.mkfifo(fifo)
    for path in (app, empty):
        before = path.read_bytes()
        with pytest.raises(HudSyncError, match="is not a hud-sync-hook local platform"):
            LocalStore(path)
        assert path.read_bytes() == before
        assert not path.with_name(path.name + "-wal").exists()
    with pytest.raises(HudSyncError, match="is a FIFO"):
        LocalStore(fifo)

    fresh = tmp_path / "fresh.sqlite"
    LocalPlatform(fresh).upload("ts", [task("a")], None)
    with sqlite3.connect(fresh) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x48554453
    conn.close()
    # A store made before stores were marked: same tables, application id 0.
    with sqlite3.connect(fresh) as conn:
        conn.execute("PRAGMA application_id=0")
    conn.close()
    assert LocalPlatform(fresh).fetch_tasks(LocalPlatform(fresh).find_taskset("ts").id)[1]
    with sqlite3.connect(fresh) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x48554453
    conn.close()
