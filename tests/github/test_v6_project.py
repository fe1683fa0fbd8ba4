"""The action on a v6 project: the comment says the generation, the reviewed hash covers what v6
uploads, and the merge uploads through the /v2 API."""

from __future__ import annotations

import json

from tests.github.harness import pr_payload, run_action, with_key
from tests.helpers.repo import commit_all, make_repo, write_files

MERGE_SHA = "abcdef0123456789abcdef0123456789abcdef01"
ROWS = [
    {"env": "letters", "id": "count", "args": {"sentence": "banana", "letter": "a"}},
    {"env": "letters", "id": "count", "slug": "strawberry", "args": {"sentence": "Strawberry", "letter": "r"}},
]


def jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_a_v6_project_is_planned_on_the_pr_and_uploaded_on_merge(tmp_path, github, platform):
    ws = tmp_path / "ws"
    repo = make_repo(ws, {"tasks.jsonl": jsonl(ROWS)})
    inputs = with_key(platform.url, source="tasks.jsonl", taskset="letters-v6")
    reviewed = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=inputs, github=github)
    assert reviewed.returncode == 0, reviewed
    body = github.comments_on(7)[0]["body"]
    assert "Tasks read as HUD SDK v6 (hud 0.6)." in body and "2 to create" in body

    # an env rename changes what v6 uploads, so the reviewed plan no longer matches
    write_files(ws, {"tasks.jsonl": jsonl([{**ROWS[0], "env": "letters-2"}, ROWS[1]])})
    commit_all(repo, "rename the env")
    blocked = run_action(
        ws, tmp_path, event="pull_request",
        payload=pr_payload(action="closed", merged=True, merge_commit_sha=MERGE_SHA),
        inputs={**inputs, "on-plan-change": "fail"}, github=github,
    )
    assert blocked.returncode == 1, blocked
    assert "POST /v2/tasks/upload" not in platform.stderr_text()

    write_files(ws, {"tasks.jsonl": jsonl(ROWS)})
    commit_all(repo, "back")
    merged = run_action(
        ws, tmp_path, event="pull_request",
        payload=pr_payload(action="closed", merged=True, merge_commit_sha=MERGE_SHA),
        inputs=inputs, github=github,
    )
    assert merged.returncode == 0, merged
    assert merged.outputs["plan-hash"] == reviewed.outputs["plan-hash"]
    assert merged.outputs["created"] == "2"
    assert "POST /v2/tasks/upload 200" in platform.stderr_text()
