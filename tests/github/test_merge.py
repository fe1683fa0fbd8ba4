"""Merges: upload what was reviewed, check the plan hash, and report on the pull request."""

from __future__ import annotations

import json

from hud_sync_hook.github.comments import parse_marker
from tests.github.harness import (
    HUD_KEY,
    pr_payload,
    push_payload,
    remote_tasks,
    run_action,
    tasks_file,
    uploads,
    with_key,
)
from tests.helpers.repo import commit_all, make_repo, write_files
from tests.helpers.serve import start_serve

MERGE_SHA = "abcdef0123456789abcdef0123456789abcdef01"


def merged_pr(**overrides):
    return pr_payload(action="closed", merged=True, merge_commit_sha=MERGE_SHA, **overrides)


def review(ws, tmp_path, github, platform, **inputs):
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url, **inputs), github=github)
    assert result.returncode == 0, result
    return result


def test_merged_pr_uploads_and_updates_the_comment(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha", "beta", "gamma")})
    reviewed = review(ws, tmp_path, github, platform)
    comment_id = github.comments_on(7)[0]["id"]

    result = run_action(ws, tmp_path, event="pull_request", payload=merged_pr(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    assert sorted(remote_tasks(platform.url)) == ["alpha", "beta", "gamma"]
    assert uploads(platform) == 1
    comments = github.comments_on(7)
    assert [c["id"] for c in comments] == [comment_id]
    body = comments[0]["body"]
    assert "**Applied in run #17: 3 created, 0 updated**" in body
    assert parse_marker(body).status == "applied"
    assert parse_marker(body).plan_hash == reviewed.outputs["plan-hash"]
    assert result.outputs["created"] == "3" and result.outputs["updated"] == "0"
    assert len(result.outputs["taskset-id"]) == 36
    assert "Applied in run #17: 3 created, 0 updated" in result.messages("notice")
    assert "Applied in run #17" in result.summary
    # The pull request was known from the event: no commit look-up needed.
    assert not github.calls("GET", r"/commits/")


def test_push_to_default_branch_finds_the_pr_of_the_commit(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha", "beta")})
    review(ws, tmp_path, github, platform)
    github.add_pull(MERGE_SHA, 7)
    result = run_action(ws, tmp_path, event="push", payload=push_payload(MERGE_SHA), inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    assert [r.path for r in github.calls("GET", r"/commits/")] == [f"/repos/octo/tasks/commits/{MERGE_SHA}/pulls"]
    assert sorted(remote_tasks(platform.url)) == ["alpha", "beta"]
    assert "Applied in run #17: 2 created, 0 updated" in github.comments_on(7)[0]["body"]
    assert result.outputs["comment-url"].endswith(f"#issuecomment-{github.comments_on(7)[0]['id']}")


def test_plan_changed_with_warn_shows_both_and_uploads(tmp_path, github, platform):
    ws = tmp_path / "ws"
    repo = make_repo(ws, {"tasks.json": tasks_file("alpha", "beta")})
    review(ws, tmp_path, github, platform)
    write_files(ws, {"tasks.json": tasks_file("alpha", "beta", "late-addition")})
    commit_all(repo, "one more task after the review")
    result = run_action(ws, tmp_path, event="pull_request", payload=merged_pr(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    warning = result.messages("warning")
    assert "reviewed: 2 to create" in warning and "now: 3 to create" in warning
    assert sorted(remote_tasks(platform.url)) == ["alpha", "beta", "late-addition"]
    body = github.comments_on(7)[0]["body"]
    assert "Applied in run #17: 3 created, 0 updated" in body
    assert "Uploaded without a matching review (plan changed)" in body
    assert "reviewed: 2 to create" in body and "now: 3 to create" in body


def test_plan_changed_with_fail_uploads_nothing(tmp_path, github, platform):
    ws = tmp_path / "ws"
    repo = make_repo(ws, {"tasks.json": tasks_file("alpha", "beta")})
    reviewed = review(ws, tmp_path, github, platform)
    write_files(ws, {"tasks.json": tasks_file("alpha", "beta", "late-addition")})
    commit_all(repo, "one more task after the review")
    inputs = with_key(platform.url, **{"on-plan-change": "fail"})
    for _ in range(2):  # a re-run must not wave the changed plan through either
        result = run_action(ws, tmp_path, event="pull_request", payload=merged_pr(), inputs=inputs, github=github)
        assert result.returncode == 1, result
        assert "plan changed" in result.messages("error").lower()
        assert uploads(platform) == 0 and remote_tasks(platform.url) == {}
        body = github.comments_on(7)[0]["body"]
        assert "**Not applied in run #17: plan changed.**" in body
        assert parse_marker(body).plan_hash == reviewed.outputs["plan-hash"]
        assert result.outputs["created"] == "0"


def test_push_without_a_pr_applies_with_a_warning_under_warn(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    result = run_action(ws, tmp_path, event="push", payload=push_payload(MERGE_SHA), inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    assert "no pull request found" in result.messages("warning")
    assert sorted(remote_tasks(platform.url)) == ["alpha"]
    assert github.comments == {}


def test_merge_with_nothing_to_change_says_so(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha", "beta")})
    first = run_action(ws, tmp_path, event="push", payload=push_payload(MERGE_SHA), inputs=with_key(platform.url), github=github)
    assert first.returncode == 0, first
    again = run_action(ws, tmp_path, event="push", payload=push_payload(MERGE_SHA), inputs=with_key(platform.url), github=github)
    assert again.returncode == 0, again
    assert "Nothing to change" in again.messages("notice")
    assert "Nothing to apply" in again.summary
    assert again.outputs["has-changes"] == "false" and again.outputs["created"] == "0"
    assert uploads(platform) == 1


def test_push_to_another_branch_only_plans(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    payload = push_payload(MERGE_SHA, ref="refs/heads/feature")
    result = run_action(ws, tmp_path, event="push", payload=payload, inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    assert uploads(platform) == 0 and result.outputs["to-create"] == "1"


def test_merge_without_a_key_does_not_fail_but_warns(tmp_path, github):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    result = run_action(ws, tmp_path, event="push", payload=push_payload(MERGE_SHA), inputs={"taskset": "demo"}, github=github)
    assert result.returncode == 0, result
    assert "plan unavailable: no HUD API key in this run" in result.messages("warning")


def test_validation_problems_block_the_upload(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha") + [{"slug": "no-scenario", "env": {"name": "shop"}}]})
    result = run_action(ws, tmp_path, event="pull_request", payload=merged_pr(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 1, result
    assert uploads(platform) == 0
    assert "no scenario" in result.messages("error")
    assert "Not applied in run #17" in result.summary


def test_upload_rejected_by_the_platform_fails_and_says_so(tmp_path, github):
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps([{"id": "env-1", "name": "shop", "scenarios": ["checkout"]}]))
    (tmp_path / "strict").mkdir()
    with start_serve(tmp_path / "strict", "--api-key", HUD_KEY, "--registry", str(registry)) as strict:
        ws = tmp_path / "ws"
        make_repo(ws, {"tasks.json": tasks_file("alpha") + tasks_file("ghostly", env="ghost-env")})
        review(ws, tmp_path, github, strict)
        result = run_action(ws, tmp_path, event="pull_request", payload=merged_pr(), inputs=with_key(strict.url), github=github)
        assert result.returncode == 1, result
        assert "ghost-env" in result.messages("error")
        body = github.comments_on(7)[0]["body"]
        assert "Not applied in run #17" in body and parse_marker(body).status == "failed"


def test_env_name_mismatch_is_annotated_and_listed(tmp_path, github):
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps([{"id": "env-1", "name": "shop-v2", "scenarios": ["checkout"]}]))
    (tmp_path / "strict").mkdir()
    with start_serve(tmp_path / "strict", "--api-key", HUD_KEY, "--registry", str(registry)) as strict:
        ws = tmp_path / "ws"
        make_repo(ws, {"tasks.json": tasks_file("alpha"), ".hud/config.json": {"registryId": "env-1"}})
        result = review(ws, tmp_path, github, strict)
        warnings = [a for a in result.annotations("warning") if a.properties.get("title") == "Environment name differs"]
        assert len(warnings) == 1 and warnings[0].properties["file"] == "tasks.json"
        assert "shop-v2" in warnings[0].message
        assert "Environment name differs from the linked environment (1)" in github.comments_on(7)[0]["body"]
