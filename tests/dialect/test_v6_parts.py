"""The v6 generation's parts one by one: discovery without importing Python, the platform it
opens, the scoped `.hud/config.json` (read, checked, written) and the export formats.

Importing task files runs the v6 SDK in a child process; that, and whole runs of the CLI, are
tested in `test_v6_cli.py` and `test_v6_official_cli.py`.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from hud_sync_hook.config import load_project_config
from hud_sync_hook.dialect import get
from hud_sync_hook.dialect.v6 import (
    V6ProjectConfig,
    _child_task,
    as_v6_config,
    check_scope,
    discover,
    origin_of,
    python_groups,
    remember_taskset,
    write_config,
    write_export,
)
from hud_sync_hook.errors import ConfigError, HudSyncError
from hud_sync_hook.model import Location
from hud_sync_hook.platform.local_v2 import LOCAL_TEAM_ID, LOCAL_USER_ID
from tests.helpers.repo import make_repo, write_files
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

V6 = get("v6")
ROW = {"env": "letters", "id": "count", "args": {"letter": "r"}, "slug": "count-r"}
TASKSET = "6f1c0e3a-2b4d-4e8f-9a1b-3c5d7e9f1a2b"
REGISTRY = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
PROJECT = "11111111-2222-4333-8444-555555555555"
LOCAL_SCOPE = {"origin": "local", "user_id": LOCAL_USER_ID, "team_id": LOCAL_TEAM_ID}


def jsonl(*rows: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


# -- discovery --------------------------------------------------------------------------------------


def test_a_folder_is_its_own_py_files_sorted_without_the_ones_the_sdk_skips(tmp_path: Path):
    names = ["b.py", "a.py", "env.py", "conftest.py", "setup.py", "__init__.py", "__main__.py", "sub/c.py", "tasks.jsonl"]
    write_files(tmp_path, {name: "" for name in names})
    (tmp_path / "folder.py").mkdir()
    assert python_groups(tmp_path) == [[tmp_path / "a.py", tmp_path / "b.py", tmp_path / "env.py"]]


def test_python_is_listed_not_imported_when_it_may_not_run(tmp_path: Path):
    make_repo(tmp_path, {"b.py": "raise SystemExit(1)\n", "a.py": "", "tasks.jsonl": jsonl(ROW)})
    found = discover(tmp_path, base=tmp_path, allow_python=False)
    assert found.untrusted_python == ["a.py", "b.py"] and found.tasks == [] and found.problems == []
    found = discover(tmp_path / "b.py", base=tmp_path, allow_python=False)
    assert found.untrusted_python == ["b.py"] and found.files == []
    make_repo(tmp_path / "empty")
    assert discover(tmp_path / "empty", base=tmp_path) == discover(tmp_path / "empty", base=tmp_path / "empty")
    assert discover(tmp_path / "empty", base=tmp_path).untrusted_python == []


TASKS_PY = """
class Task:
    \"\"\"Shaped like hud.eval.Task of hud 0.6 (or like a v5 task), without the SDK.\"\"\"

    def __init__(self, **fields):
        self.__dict__.update(fields)


count = Task(env="letters", id="count", args={"n": 1}, slug="count-1")
old = Task(scenario="letters:count", args={}, env=None, slug="old")
"""


def test_python_task_files_are_imported_in_a_child_and_a_v5_task_among_them_is_a_problem(tmp_path: Path):
    make_repo(tmp_path, {"tasks.py": TASKS_PY, "broken.py": 'raise RuntimeError("boom")\n'})
    found = discover(tmp_path, base=tmp_path)
    assert [(t.slug, t.location, t.compacted) for t in found.tasks] == [("count-1", Location("tasks.py", 9), True)]
    assert [str(p) for p in found.problems] == [
        "tasks.py:10: task 'old' is a v5 task (hud-python, with a scenario) in a v6 project"
        " (make it with @env.template(...) of the hud 0.6 SDK, or pass --sdk v5)"
    ]
    assert [(s.path, s.error) for s in found.skipped] == [("broken.py", "RuntimeError: boom (line 1)")]
    assert found.files == ["broken.py", "tasks.py"]
    one = discover(tmp_path / "tasks.py", base=tmp_path)
    assert [t.slug for t in one.tasks] == ["count-1"] and one.files == ["tasks.py"] and one.skipped == []


def test_a_source_that_is_neither_a_file_nor_a_folder_is_one_clear_error(tmp_path: Path):
    os.mkfifo(tmp_path / "tasks.jsonl")
    with pytest.raises(HudSyncError) as err:
        discover(tmp_path / "tasks.jsonl", base=tmp_path)
    assert str(err.value) == f"{tmp_path / 'tasks.jsonl'}: source is neither a file nor a folder"


@pytest.mark.parametrize("name", ["tasks.jsonl", "tasks.json", "tasks.yaml", "tasks.yml"])
def test_a_data_file_is_read_by_the_v6_rules_and_valid_tasks_are_kept_compact(tmp_path: Path, name):
    bad = {"env": "letters", "id": 5}
    text = jsonl(ROW, bad) if name.endswith("jsonl") else json.dumps([ROW, bad])
    make_repo(tmp_path, {name: text})
    found = discover(tmp_path / name, base=tmp_path)
    assert found.files == [name] and found.problems == []
    good, wrong = found.tasks
    assert good.compacted and good.slug == "count-r" and good.location == Location(name, 1)
    assert not wrong.compacted and [p.message for p in V6.validate([wrong])] == ["task id must be a string, found a number"]


def test_a_line_of_a_data_file_that_is_not_json_is_a_problem_at_its_line_and_the_rest_is_read(tmp_path: Path):
    make_repo(tmp_path, {"tasks.jsonl": jsonl(ROW) + "{oops\n"})
    found = discover(tmp_path / "tasks.jsonl", base=tmp_path)
    assert [t.slug for t in found.tasks] == ["count-r"]
    assert [str(p) for p in found.problems] == [
        "tasks.jsonl:2:2: invalid JSON: Expecting property name enclosed in double quotes (fix the syntax at that position)"
    ]


def test_paths_are_shown_from_the_working_folder_unless_a_base_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    make_repo(tmp_path / "repo", {"data/tasks.jsonl": jsonl(ROW)})
    monkeypatch.chdir(tmp_path / "repo")
    assert discover("data/tasks.jsonl").files == ["data/tasks.jsonl"]
    assert discover(str(tmp_path / "repo" / "data" / "tasks.jsonl"), base=str(tmp_path / "repo" / "data")).files == ["tasks.jsonl"]


def test_a_link_out_of_the_repository_is_neither_read_nor_imported(tmp_path: Path):
    outside = tmp_path / "outside"
    write_files(outside, {"tasks.jsonl": jsonl(ROW), "t.py": ""})
    repo = tmp_path / "repo"
    make_repo(repo, {"own.py": ""})
    (repo / "tasks.jsonl").symlink_to(outside / "tasks.jsonl")
    (repo / "t.py").symlink_to(outside / "t.py")
    found = discover(repo / "tasks.jsonl", base=repo)
    assert found.tasks == [] and found.files == ["tasks.jsonl"]
    assert [str(p) for p in found.problems] == [
        "tasks.jsonl: is a link to a file outside the repository; refusing to read it"
        " (replace the link with a copy of the file, or pass the file itself as the source)"
    ]
    found = discover(repo, base=repo, allow_python=False)
    assert found.untrusted_python == ["own.py"] and found.files == ["t.py"]
    assert [p.message for p in found.problems] == ["is a link to a file outside the repository; refusing to import it"]
    found = discover(repo / "t.py", base=repo)  # nothing left to import: no child is started
    assert found.untrusted_python == [] and found.tasks == [] and len(found.problems) == 1


@pytest.mark.parametrize(
    "source, message",
    [
        ("missing", "source path does not exist; pass a folder, or a .py, .json or .jsonl file"),
        ("notes.txt", "unsupported task file type '.txt'; use a .py, .json or .jsonl file (or .yaml), or a folder"),
        ("Makefile", "unsupported task file type 'Makefile'; use a .py, .json or .jsonl file (or .yaml), or a folder"),
        # the v6 SDK reads data suffixes case-sensitively
        ("TASKS.JSONL", "unsupported task file type '.JSONL'; use a .py, .json or .jsonl file (or .yaml), or a folder"),
    ],
)
def test_a_source_v6_cannot_read_is_one_clear_error(tmp_path: Path, source, message):
    make_repo(tmp_path, {"notes.txt": "", "Makefile": "", "TASKS.JSONL": jsonl(ROW)})
    with pytest.raises(HudSyncError) as err:
        discover(tmp_path / source, base=tmp_path)
    assert str(err.value) == f"{tmp_path / source}: {message}"


def test_a_v5_task_object_in_a_v6_project_is_a_problem_at_its_line():
    problems: list = []
    make = _child_task(problems)
    assert make({"generation": "v5", "slug": "old"}, Location("tasks.py", 4)) is None
    assert [str(p) for p in problems] == [
        "tasks.py:4: task 'old' is a v5 task (hud-python, with a scenario) in a v6 project"
        " (make it with @env.template(...) of the hud 0.6 SDK, or pass --sdk v5)"
    ]
    task = make({**ROW, "generation": "v6"}, Location("tasks.py", 9))
    assert task.compacted and task.slug == "count-r" and len(problems) == 1


# -- the platform -----------------------------------------------------------------------------------


def test_local_opens_the_projects_own_store_for_v6(tmp_path: Path):
    make_repo(tmp_path)
    platform = V6.open_platform("local", None, project_root=tmp_path)
    assert platform.origin == "local" and platform.store.store.path == tmp_path / ".hud" / "local-platform.sqlite"
    assert platform.auth_me() == {"user_id": LOCAL_USER_ID, "team_id": LOCAL_TEAM_ID}
    other = V6.open_platform(f"local:{tmp_path / 'other.sqlite'}", None)
    assert other.origin == "local" and other.store.store.path == tmp_path / "other.sqlite"


def test_an_http_platform_is_the_v2_api_scoped_by_its_origin():
    platform = V6.open_platform("https://api.hud.example/", HUD_API_KEY, timeout=3.0)
    try:
        assert type(platform).__name__ == "HttpPlatformV2" and platform.origin == "https://api.hud.example"
    finally:
        platform.close()


@pytest.mark.parametrize(
    "url, origin",
    [
        ("https://api.hud.so", "https://api.hud.so"),
        ("https://api.hud.so:443/v2", "https://api.hud.so"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("http://127.0.0.1:8080/api", "http://127.0.0.1:8080"),
        ("http://localhost:443", "http://localhost:443"),
        ("https://localhost:80", "https://localhost:80"),
        ("https://API.Example:8443", "https://api.example:8443"),
    ],
)
def test_the_origin_leaves_out_only_the_schemes_default_port(url, origin):
    assert origin_of(url) == origin


# -- .hud/config.json -------------------------------------------------------------------------------


def config_at(folder: Path, data: dict | None = None):
    """The config of a project folder (marked by its pyproject.toml) holding `data`, or none."""
    write_files(folder, {"pyproject.toml": "", **({".hud/config.json": data} if data is not None else {})})
    return as_v6_config(load_project_config(folder))


def test_the_v6_keys_come_first_and_the_camel_case_ones_are_read_too(tmp_path: Path):
    assert V6.config_ids({"taskset_id": "a", "tasksetId": "b", "registryId": "r"}) == ("a", "r")
    assert V6.config_ids({"taskset_id": "", "tasksetId": "b", "registry_id": 5}) == ("b", None)
    assert V6.config_ids({"tasksetId": "", "registryId": None}) == (None, None)
    config = config_at(tmp_path, {"tasksetId": TASKSET, "registry_id": REGISTRY, "projectId": PROJECT})
    assert (config.taskset_id, config.registry_id, config.project_id) == (TASKSET, REGISTRY, PROJECT)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"version": 2}, "has version 2; this tool reads version 1: delete the file and link again"),
        ({"version": "1"}, "has version '1'; this tool reads version 1: delete the file and link again"),
        ({"taskset_id": "abc"}, "taskset_id 'abc' is not an id (a UUID); fix it or remove the key"),
        ({"registry_id": 5}, "registry_id 5 is not an id (a UUID); fix it or remove the key"),
        ({"project_id": ""}, "project_id '' is not an id (a UUID); fix it or remove the key"),
        ({"scope": "local"}, "scope must be an object with origin, user_id and team_id; delete the file and link again"),
        ({"scope": {"origin": "local", "user_id": "u"}}, "scope must be an object with origin, user_id and team_id; delete the file and link again"),
        ({"scope": {"origin": "local", "team_id": "t"}}, "scope must be an object with origin, user_id and team_id; delete the file and link again"),
        ({"scope": {"user_id": "u", "team_id": "t"}}, "scope must be an object with origin, user_id and team_id; delete the file and link again"),
    ],
)
def test_a_config_of_the_wrong_shape_names_the_file_and_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        config_at(tmp_path, data)
    assert str(err.value) == f".hud/config.json: {message}"


def test_a_config_of_the_right_shape_is_accepted(tmp_path: Path):
    data = {"version": 1, "scope": {"origin": "local", "user_id": "u", "team_id": "t"}, "taskset_id": TASKSET, "registry_id": None}
    assert config_at(tmp_path, data).data == data


def test_the_scope_is_checked_against_the_platform_in_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    platform = V6.open_platform(f"local:{tmp_path / 'store.sqlite'}", None)
    unscoped = config_at(tmp_path / "a")
    check_scope(unscoped, platform)
    assert unscoped.current_scope == LOCAL_SCOPE
    assert check_scope(config_at(tmp_path / "b", {"scope": LOCAL_SCOPE}), platform) is None
    with pytest.raises(ConfigError) as err:
        check_scope(config_at(tmp_path / "c", {"scope": {**LOCAL_SCOPE, "origin": "https://api.hud.so"}}), platform)
    assert str(err.value) == "c/.hud/config.json: was linked against https://api.hud.so, not local: use that platform, or delete the file and link again"
    for changed in ({"user_id": "someone"}, {"team_id": "other-team"}):
        with pytest.raises(ConfigError) as err:
            check_scope(config_at(tmp_path / "d", {"scope": {**LOCAL_SCOPE, **changed}}), platform)
        assert str(err.value) == "d/.hud/config.json: was linked with other HUD credentials than the ones in use: switch keys, or delete the file and link again"


def test_writing_the_config_uses_the_sdks_schema_and_key_order(tmp_path: Path):
    config = config_at(tmp_path, {"tasksetId": TASKSET, "registryId": REGISTRY, "other": 1})
    config.current_scope = LOCAL_SCOPE
    assert write_config(config, {"project_id": PROJECT}) is True
    path = tmp_path / ".hud" / "config.json"
    written = {"version": 1, "scope": LOCAL_SCOPE, "registry_id": REGISTRY, "taskset_id": TASKSET, "project_id": PROJECT}
    assert path.read_text(encoding="utf-8") == json.dumps(written, indent=2) + "\n"
    assert config.data == written and config.exists
    assert sorted(os.listdir(path.parent)) == ["config.json"]  # no temporary file left behind
    # nothing changes: the file is not written again
    path.write_text(json.dumps(written), encoding="utf-8")
    assert write_config(config, {"taskset_id": TASKSET}) is False
    assert path.read_text(encoding="utf-8") == json.dumps(written)


@pytest.mark.parametrize(
    "stored, changes",
    [
        ({"version": 1, "scope": LOCAL_SCOPE, "taskset_id": TASKSET}, {"taskset_id": REGISTRY}),  # an id changes
        ({"scope": LOCAL_SCOPE, "taskset_id": TASKSET}, {}),  # no version yet
        ({"version": 1, "scope": {**LOCAL_SCOPE, "user_id": "u"}, "taskset_id": TASKSET}, {}),  # another scope
        ({"version": 1, "taskset_id": TASKSET}, {}),  # no scope yet
    ],
)
def test_the_config_is_written_when_anything_changes(tmp_path: Path, stored, changes):
    config = config_at(tmp_path, stored)
    config.current_scope = LOCAL_SCOPE
    assert write_config(config, changes) is True
    assert json.loads((tmp_path / ".hud" / "config.json").read_text()) == {
        "version": 1, "scope": LOCAL_SCOPE, "registry_id": None, "taskset_id": changes.get("taskset_id", TASKSET), "project_id": None,
    }


def test_without_a_current_scope_the_stored_one_is_kept(tmp_path: Path):
    config = config_at(tmp_path, {"version": 1, "scope": LOCAL_SCOPE})
    assert write_config(config, {"registry_id": REGISTRY}) is True
    assert config.data["scope"] == LOCAL_SCOPE
    fresh = config_at(tmp_path / "new")
    assert write_config(fresh, {"taskset_id": TASKSET}) is True and fresh.exists
    assert json.loads((tmp_path / "new" / ".hud" / "config.json").read_text())["scope"] is None


def test_a_config_that_cannot_be_written_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "p", {"pyproject.toml": "", ".hud": "a file where the folder should be"})
    config = as_v6_config(load_project_config(tmp_path / "p"))
    with pytest.raises(ConfigError) as err:
        write_config(config, {"taskset_id": TASKSET})
    assert str(err.value).startswith("p/.hud/config.json: cannot be written (") and str(err.value).endswith("); check the folder's permissions")
    assert not config.exists


def test_a_write_that_fails_at_the_last_step_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {".hud/config.json/in-the-way": ""})  # a folder where the file should be
    config = V6ProjectConfig(path=tmp_path / ".hud" / "config.json")
    with pytest.raises(ConfigError) as err:
        write_config(config, {"taskset_id": TASKSET})
    assert str(err.value).startswith(".hud/config.json: cannot be written (")
    assert sorted(os.listdir(tmp_path / ".hud")) == ["config.json"]


def test_the_taskset_id_is_remembered_only_when_none_is_stored_and_no_project_was_given(tmp_path: Path):
    config = config_at(tmp_path)
    local = SimpleNamespace(config=config)
    assert remember_taskset(local, None, "set") is False and not config.exists
    config.project_flag = "Research Team"
    assert remember_taskset(local, TASKSET, "set") is False and not config.exists
    config.project_flag = None
    assert remember_taskset(local, TASKSET, "set") is True
    assert load_project_config(tmp_path).data["taskset_id"] == TASKSET
    assert remember_taskset(SimpleNamespace(config=as_v6_config(load_project_config(tmp_path))), REGISTRY, "set") is False


def test_before_planning_the_scope_is_checked_and_a_missing_project_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUD_DEFAULT_PROJECT", raising=False)
    platform = V6.open_platform(f"local:{tmp_path / 'store.sqlite'}", None)
    config = config_at(tmp_path / "p")
    V6.before_plan(platform, SimpleNamespace(config=config))
    assert config.current_scope == LOCAL_SCOPE and platform.project_id is None and config.project_flag is None
    for flag, stored, default, origin in [
        ("Research Team", None, None, "--project"),
        (None, PROJECT, None, "p/.hud/config.json"),
        (None, None, "Research Team", "HUD_DEFAULT_PROJECT"),
    ]:
        platform.project_ref = flag
        config = config_at(tmp_path / "p", {"project_id": stored} if stored else {})
        if default:
            monkeypatch.setenv("HUD_DEFAULT_PROJECT", default)
        with pytest.raises(HudSyncError) as err:
            V6.before_plan(platform, SimpleNamespace(config=config))
        ref = stored or flag or default
        assert str(err.value) == f"no project {ref!r} on the platform (from {origin}); check the name or id"
        assert config.project_flag == flag


def test_a_project_is_found_by_name_or_id_and_its_rights_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUD_DEFAULT_PROJECT", "Read Only")
    projects = [
        {"id": PROJECT, "name": "research-team", "can_create": True},
        {"id": "66666666-7777-4888-8999-000000000000", "name": "read-only", "can_create": False},
        {"id": "77777777-7777-4888-8999-000000000000", "name": "twice"},
        {"id": "88888888-7777-4888-8999-000000000000", "name": "twice"},
    ]
    write_files(tmp_path, {"projects.json": projects})
    with start_serve(tmp_path, "--api-key", HUD_API_KEY, "--projects", str(tmp_path / "projects.json")) as server:
        platform = V6.open_platform(server.url, HUD_API_KEY, timeout=10.0)
        try:
            config = config_at(tmp_path / "p")
            platform.project_ref = "Research Team"
            V6.before_plan(platform, SimpleNamespace(config=config))
            assert (platform.project_id, platform.project_writable, config.project_flag) == (PROJECT, True, "Research Team")
            platform.project_ref = None
            V6.before_plan(platform, SimpleNamespace(config=config))  # then HUD_DEFAULT_PROJECT
            assert (platform.project_id, platform.project_writable) == (projects[1]["id"], False)
            V6.before_plan(platform, SimpleNamespace(config=config_at(tmp_path / "q", {"project_id": PROJECT})))
            assert (platform.project_id, platform.project_writable) == (PROJECT, True)
            platform.project_ref = "twice"
            with pytest.raises(HudSyncError) as err:
                V6.before_plan(platform, SimpleNamespace(config=config))
            assert str(err.value) == (
                "2 projects are named 'twice' (from --project); pass an id instead: "
                "77777777-7777-4888-8999-000000000000, 88888888-7777-4888-8999-000000000000"
            )
        finally:
            platform.close()


def test_link_env_stores_the_registry_under_the_current_scope(tmp_path: Path):
    platform = V6.open_platform(f"local:{tmp_path / 'store.sqlite'}", None)
    config = config_at(tmp_path / "p", {"tasksetId": TASKSET})
    V6.link_env(config, platform, {"id": REGISTRY, "name": "letters"})
    assert json.loads((tmp_path / "p" / ".hud" / "config.json").read_text()) == {
        "version": 1, "scope": LOCAL_SCOPE, "registry_id": REGISTRY, "taskset_id": TASKSET, "project_id": None,
    }


# -- export -----------------------------------------------------------------------------------------

RECORDS = [
    {"name": "b", "env": "letters", "scenario": "count", "args": {"n": 2, "opts": {"x": [1]}}, "columns": {"level": "hard"}},
    {"name": "=cmd", "env": "letters", "scenario": "spell", "args": {"word": "@sum"}},
]


def test_export_writes_the_v6_rows_as_json_and_jsonl(tmp_path: Path):
    write_export(RECORDS, tmp_path / "out.json")
    rows = [
        {"env": "letters", "id": "count", "args": {"n": 2, "opts": {"x": [1]}}, "slug": "b", "columns": {"level": "hard"}},
        {"env": "letters", "id": "spell", "args": {"word": "@sum"}, "slug": "=cmd"},
    ]
    assert (tmp_path / "out.json").read_text(encoding="utf-8") == json.dumps(rows, indent=2) + "\n"
    write_export(RECORDS, tmp_path / "OUT.JSONL")
    assert (tmp_path / "OUT.JSONL").read_text(encoding="utf-8") == "".join(json.dumps(r) + "\n" for r in rows)


def test_export_as_csv_has_one_column_per_argument_and_no_formulas(tmp_path: Path):
    write_export(RECORDS, tmp_path / "out.csv")
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["slug", "id", "env", "arg:n", "arg:opts", "arg:word"],
        ["b", "count", "letters", "2", '{"x": [1]}', ""],
        ["'=cmd", "spell", "letters", "", "", "'@sum"],
    ]


@pytest.mark.parametrize("name, shown", [("out.txt", "'.txt'"), ("out", "'out'")])
def test_export_to_an_unknown_format_is_one_clear_error(tmp_path: Path, name, shown):
    with pytest.raises(HudSyncError) as err:
        write_export(RECORDS, tmp_path / name)
    assert str(err.value) == f"{tmp_path / name}: unsupported export format {shown}; use .json, .jsonl or .csv"
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("capabilities, writable", [(None, False), ({}, False), (["create"], False), ({"create": 1}, True)])
def test_a_project_answer_without_the_create_right_is_not_writable(tmp_path: Path, capabilities, writable):
    """The platform's answer is untrusted: only a `capabilities` object granting `create` makes the
    project writable (a platform that leaves the field out grants nothing)."""
    import http.server
    import threading

    from hud_sync_hook.dialect.v6 import choose_project

    project = {"id": PROJECT, "name": "legacy", **({} if capabilities is None else {"capabilities": capabilities})}
    body = json.dumps({"items": [project]}).encode()

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        platform = V6.open_platform(f"http://127.0.0.1:{server.server_port}", HUD_API_KEY, timeout=10.0)
        try:
            platform.project_ref = "Legacy"
            choose_project(platform, config_at(tmp_path))
            assert (platform.project_id, platform.project_writable) == (PROJECT, writable)
        finally:
            platform.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
