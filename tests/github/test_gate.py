"""The merge gate through the real entrypoint: with on-plan-change: fail, only a plan that was shown
on the pull request is uploaded; every other case uploads nothing, exits 1 and names the case."""

from __future__ import annotations

import pytest

from hud_sync_hook.github.comments import parse_marker, status_context, status_description
from tests.github.harness import pr_payload, push_payload, remote_tasks, run_action, tasks_file, uploads, with_key
from tests.helpers.fake_github import FakeGitHub
from tests.helpers.repo import make_repo

MERGE_SHA = "abcdef0123456789abcdef0123456789abcdef01"
FAIL = {"on-plan-change": "fail"}
FAST = {"HUD_SYNC_HOOK_MAX_ATTEMPTS": "2", "HUD_SYNC_HOOK_BACKOFF_SECONDS": "0.01"}


def merged():
    return pr_payload(action="closed", merged=True, merge_commit_sha=MERGE_SHA)


def workspace(tmp_path):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha", "beta")})
    return ws


def blocked(result, platform, case: str) -> None:
    assert result.returncode == 1, result
    errors = [a for a in result.annotations("error") if a.properties.get("title") == f"Not applied: {case}"]
    assert len(errors) == 1, result.commands
    assert "nothing uploaded" in errors[0].message and "To proceed:" in errors[0].message
    assert uploads(platform) == 0 and remote_tasks(platform.url) == {}
    assert result.outputs["created"] == "0" and result.outputs["updated"] == "0"
    assert f"Not applied in run #17: {case}" in result.summary


def test_a_comment_whose_run_had_no_key_is_no_review(tmp_path, github, platform):
    ws = workspace(tmp_path)
    keyless = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs={"taskset": "demo"}, github=github)
    assert keyless.returncode == 0, keyless
    assert parse_marker(github.comments_on(7)[0]["body"]).plan_hash == ""
    result = run_action(ws, tmp_path, event="pull_request", payload=merged(), inputs=with_key(platform.url, **FAIL), github=github)
    blocked(result, platform, "no plan was shown")
    body = github.comments_on(7)[0]["body"]
    assert "Not applied in run #17: no plan was shown." in body and "re-run the pull request" in body
    # With warn the same case uploads, with a warning that names it.
    warned = run_action(ws, tmp_path, event="pull_request", payload=merged(), inputs=with_key(platform.url), github=github)
    assert warned.returncode == 0, warned
    assert any(a.properties.get("title") == "Uploading without a matching review: no plan was shown" for a in warned.annotations("warning"))
    assert sorted(remote_tasks(platform.url)) == ["alpha", "beta"]


def test_no_plan_comment_is_no_review(tmp_path, github, platform):
    ws = workspace(tmp_path)
    result = run_action(ws, tmp_path, event="pull_request", payload=merged(), inputs=with_key(platform.url, **FAIL), github=github)
    blocked(result, platform, "no reviewed plan")


def test_comments_that_cannot_be_listed_are_no_review(tmp_path, github, platform):
    ws = workspace(tmp_path)
    github.inject(502, method="GET", path=r"/issues/7/comments$", times=50)
    result = run_action(
        ws, tmp_path, event="pull_request", payload=merged(), inputs=with_key(platform.url, **FAIL), github=github, env=FAST,
    )
    blocked(result, platform, "review unreadable")
    # HUD_SYNC_HOOK_MAX_ATTEMPTS applies to GitHub calls: each listing is tried twice, not five times.
    listings = github.calls("GET", r"/issues/7/comments$")
    assert len(listings) in (2, 4), len(listings)  # the look-up, and the outcome comment's own look-up


def test_a_push_without_a_pull_request_is_no_review(tmp_path, github, platform):
    ws = workspace(tmp_path)
    result = run_action(ws, tmp_path, event="push", payload=push_payload(MERGE_SHA), inputs=with_key(platform.url, **FAIL), github=github)
    blocked(result, platform, "no pull request")


def test_the_reviewed_plan_is_uploaded_under_fail(tmp_path, github, platform):
    ws = workspace(tmp_path)
    review = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    assert review.returncode == 0, review
    github.add_pull(MERGE_SHA, 7)
    result = run_action(ws, tmp_path, event="push", payload=push_payload(MERGE_SHA), inputs=with_key(platform.url, **FAIL), github=github)
    assert result.returncode == 0, result
    assert sorted(remote_tasks(platform.url)) == ["alpha", "beta"]
    assert not result.annotations("warning")


@pytest.mark.parametrize("app", [True, False], ids=["app-installation-token", "workflow-token"])
def test_the_action_knows_its_own_comments_for_each_kind_of_token(tmp_path, platform, app):
    with FakeGitHub(app_login="hud-tasks[bot]" if app else None) as github:
        ws = workspace(tmp_path)
        for action in ("opened", "synchronize"):
            result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(action=action), inputs=with_key(platform.url), github=github)
            assert result.returncode == 0, result
        comments = github.comments_on(7)
        assert len(comments) == 1, "the second run must find the first run's comment"
        assert comments[0]["user"]["login"] == ("hud-tasks[bot]" if app else "github-actions[bot]")
        assert github.calls("GET", r"^/user$")[0].status == 403 and github.calls("POST", r"^/graphql$")
        # A marked comment by someone else with the same plan hash is not a review.
        github.add_comment(7, comments[0]["body"], login="mallory")
        result = run_action(ws, tmp_path, event="pull_request", payload=merged(), inputs=with_key(platform.url, **FAIL), github=github)
        assert result.returncode == 0, result
        assert sorted(remote_tasks(platform.url)) == ["alpha", "beta"]
        assert "Applied in run #17: 2 created, 0 updated" in github.comments_on(7)[0]["body"]


def test_comment_author_input_is_the_last_resort(tmp_path, platform):
    with FakeGitHub(app_login="hud-tasks[bot]") as github:
        ws = workspace(tmp_path)
        github.add_comment(7, "<!-- hud-sync-hook {} -->\nnot ours", login="someone-else")
        inputs = with_key(platform.url, **{"comment-author": "hud-tasks[bot]"})
        result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=inputs, github=github)
        assert result.returncode == 0, result
        assert not github.calls(path=r"^/user$") and not github.calls(path=r"^/graphql$")
        assert [c["user"]["login"] for c in github.comments_on(7)] == ["someone-else", "hud-tasks[bot]"]


def test_comment_false_checks_the_commit_status_of_the_pull_requests_head(tmp_path, github, platform):
    ws = workspace(tmp_path)
    off = {"comment": "false"}
    # Nothing recorded: no review.
    result = run_action(ws, tmp_path, event="pull_request", payload=merged(), inputs=with_key(platform.url, **off, **FAIL), github=github)
    blocked(result, platform, "no reviewed plan")
    # A status with the right hash by someone else: no review either.
    review = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url, **off), github=github)
    assert review.returncode == 0, review
    recorded = github.statuses["1" * 40][0]
    github.statuses["1" * 40].clear()
    github.add_status("1" * 40, context=recorded["context"], description=recorded["description"], login="mallory")
    result = run_action(ws, tmp_path, event="pull_request", payload=merged(), inputs=with_key(platform.url, **off, **FAIL), github=github)
    blocked(result, platform, "no reviewed plan")
    # Ours: the merge uploads it, and writes no comment.
    github.add_status("1" * 40, context=recorded["context"], description=recorded["description"])
    result = run_action(ws, tmp_path, event="pull_request", payload=merged(), inputs=with_key(platform.url, **off, **FAIL), github=github)
    assert result.returncode == 0, result
    assert sorted(remote_tasks(platform.url)) == ["alpha", "beta"]
    assert github.comments == {}


def test_a_push_with_comment_false_finds_the_head_through_the_pull_request(tmp_path, github, platform):
    ws = workspace(tmp_path)
    review = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(head_sha="4" * 40),
                        inputs=with_key(platform.url, comment="false"), github=github)
    assert review.returncode == 0, review
    github.add_pull(MERGE_SHA, 7, head_sha="4" * 40)
    result = run_action(ws, tmp_path, event="push", payload=push_payload(MERGE_SHA),
                        inputs=with_key(platform.url, comment="false", **FAIL), github=github)
    assert result.returncode == 0, result
    assert [r.path for r in github.calls("GET", r"/statuses$")] == [f"/repos/octo/tasks/commits/{'4' * 40}/statuses"]


def test_status_description_keeps_the_whole_hash():
    long_summary = "999999 to create, 999999 to update, 999999 unchanged, 999999 remote-only, 999999 renames"
    text = status_description(long_summary, "c" * 64)
    assert len(text) <= 140 and text.endswith("plan " + "c" * 64)
    assert status_context(("a" * 500, "t")) != status_context(("a" * 499 + "b", "t"))
    assert len(status_context(("a" * 500, "t"))) < 255
