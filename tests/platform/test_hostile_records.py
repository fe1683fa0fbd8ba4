"""Task records of the wrong shape from a platform (a real HTTP server on loopback): the plan
treats such a record as changed, as it does `args` that are not an object, and shows what the
platform holds; never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.attackers import logging_server
from tests.helpers.repo import make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY

TASKSET_ID = "11111111-2222-4333-8444-555555555555"
USER_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
TEAM_ID = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"

# Wrongly typed scenarios a platform could answer with; `":" in value` alone breaks a naive reader.
BAD_SCENARIOS = [5, [":"], {":": 1}, None, True, 1.5]


def plan_json(project: Path, url: str) -> dict:
    proc = run_cli("plan", "ts", "tasks.jsonl", "--api-url", url, "--format", "json", cwd=project,
                   env={"HUD_API_KEY": HUD_API_KEY})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def test_a_v5_record_with_a_scenario_that_is_not_text_is_shown_as_changed(tmp_path: Path):
    rows = [{"slug": f"t{i}", "scenario": "shop:checkout", "env": {"name": "shop"}, "args": {"n": i}}
            for i in range(len(BAD_SCENARIOS) + 1)]
    project = tmp_path / "proj"
    make_repo(project, {"tasks.jsonl": "".join(json.dumps(row) + "\n" for row in rows)})
    records = {f"id{i}": {"slug": f"t{i}", "scenario": bad, "env": {"name": ["not", "text"]}, "args": {"n": i},
                          "agent_config": "not an object", "column_values": 7}
               for i, bad in enumerate(BAD_SCENARIOS)}
    # One good record: what is right stays unchanged next to what is not.
    last = len(BAD_SCENARIOS)
    records["good"] = {"slug": f"t{last}", "scenario": "shop:checkout", "env": {"name": "shop"}, "args": {"n": last}}
    routes = {
        "GET /tasks/evalset/ts": (200, {"evalset_id": TASKSET_ID, "evalset_name": "ts"}),
        f"GET /tasks/evalsets/{TASKSET_ID}/tasks-by-id": (200, {"evalset_name": "ts", "tasks": records}),
    }
    with logging_server("127.0.0.1", routes=routes) as server:
        plan = plan_json(project, server.url)
    assert plan["sdk"] == "v5"
    assert plan["unchanged"] == [f"t{last}"]
    assert [task["slug"] for task in plan["update"]] == [f"t{i}" for i in range(len(BAD_SCENARIOS))]
    for task in plan["update"]:
        assert {"field": "scenario", "change": "changed", "old": "", "new": "checkout"} in task["changes"]
        # What the upload replaces is shown as the platform holds it.
        assert {"field": "agent_config", "change": "removed", "old": "not an object"} in task["changes"]
        assert {"field": "columns", "change": "removed", "old": 7} in task["changes"]


@pytest.mark.parametrize("bad", [
    {"scenario": 5},
    {"scenario": [":"]},
    {"env": {"name": "letters"}},
    {"args": "not an object"},
    {"verifier": "not a task", "runtime_config": 3},
    {"verifier": {"scenario": {"x": 1}, "args": [1], "verifier": 5}},
])
def test_a_v6_record_of_the_wrong_shape_is_shown_as_changed(tmp_path: Path, bad: dict):
    rows = [{"env": "letters", "id": "count", "slug": slug, "args": {"n": 1}} for slug in ("bad", "good")]
    project = tmp_path / "proj"
    make_repo(project, {"tasks.jsonl": "".join(json.dumps(row) + "\n" for row in rows)})
    good = {"name": "good", "env": "letters", "scenario": "count", "args": {"n": 1}}
    export = {"tasks": [{**good, "name": "bad", **bad}, good]}
    routes = {
        "GET /v2/auth/me": (200, {"user_id": USER_ID, "team_id": TEAM_ID}),
        "GET /v2/tasksets/by-name/ts": (200, {"taskset_id": TASKSET_ID, "name": "ts"}),
        f"GET /v2/tasksets/{TASKSET_ID}": (200, {"id": TASKSET_ID, "name": "ts"}),
        f"GET /v2/tasksets/{TASKSET_ID}/export": (200, export),
    }
    with logging_server("127.0.0.1", routes=routes) as server:
        plan = plan_json(project, server.url)
    assert plan["sdk"] == "v6"
    assert plan["unchanged"] == ["good"]
    [update] = plan["update"]
    assert update["slug"] == "bad" and update["changes"]
    fields = {change["field"] for change in update["changes"]}
    assert fields <= {"id", "env", "args", "validation", "agent_config", "columns", "runtime_config", "verifier"}
    assert fields & {key if key != "scenario" else "id" for key in bad}
