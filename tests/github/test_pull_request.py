"""Pull request events: the plan as one comment per PR and source/taskset, kept up to date."""

from __future__ import annotations

import re
import time

from hud_sync_hook.github.comments import MAX_BODY, REVIEWED_LINE, Header, marker, parse_marker, status_context
from tests.github.harness import (
    HUD_KEY,
    pr_payload,
    remote_tasks,
    run_action,
    task,
    tasks_file,
    uploads,
    with_key,
)
from tests.helpers.fake_github import BOT, FakeGitHub
from tests.helpers.repo import commit_all, make_repo, write_files


def test_comment_created_once_then_updated_in_place(tmp_path, github, platform):
    ws = tmp_path / "ws"
    repo = make_repo(ws, {"tasks.json": tasks_file("alpha", "beta", "gamma")})
    first = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    assert first.returncode == 0, first
    comments = github.comments_on(7)
    assert len(comments) == 1
    body = comments[0]["body"]
    first_id = comments[0]["id"]
    header = parse_marker(body)
    assert header is not None and header.source == "." and header.taskset == "demo"
    assert header.plan_hash == first.outputs["plan-hash"] and len(header.plan_hash) == 64
    assert header.head_sha == "1" * 40
    assert "**3 to create, 0 to update, 0 unchanged, 0 remote-only**" in body
    assert "| alpha | shop:checkout | tasks.json:" in body
    assert "Head commit `111111111111`" in body
    assert "(https://github.example/octo/tasks/actions/runs/424242)" in body
    assert first.outputs["comment-url"] == comments[0]["html_url"]
    assert len(github.calls("POST", r"/comments$")) == 1
    assert uploads(platform) == 0 and remote_tasks(platform.url) == {}, "a pull request must not upload"

    write_files(ws, {"tasks.json": tasks_file("alpha", "beta", "delta")})
    commit_all(repo, "rename gamma")
    second = run_action(
        ws, tmp_path, event="pull_request", payload=pr_payload(action="synchronize", head_sha="5" * 40),
        inputs=with_key(platform.url), github=github,
    )
    assert second.returncode == 0, second
    comments = github.comments_on(7)
    assert [c["id"] for c in comments] == [first_id]
    assert len(github.calls("POST", r"/comments$")) == 1, "the second run must update, not create"
    patches = github.calls("PATCH", r"/issues/comments/\d+$")
    assert len(patches) == 1 and patches[0].path.endswith(f"/{first_id}")
    updated = parse_marker(comments[0]["body"])
    assert updated.head_sha == "5" * 40 and updated.plan_hash == second.outputs["plan-hash"] != header.plan_hash
    assert "| delta |" in comments[0]["body"] and "| gamma |" not in comments[0]["body"]
    # GET /user was refused like GITHUB_TOKEN does, so comments are matched as github-actions[bot]
    assert github.calls("GET", r"^/user$")[0].status == 403
    assert comments[0]["user"]["login"] == BOT


def test_comment_found_across_pages(tmp_path, platform):
    with FakeGitHub() as github:
        ws = tmp_path / "ws"
        make_repo(ws, {"tasks.json": tasks_file("alpha")})
        for i in range(230):
            github.add_comment(7, f"LGTM {i}", login="reviewer" if i % 2 else BOT)
        ours = github.add_comment(7, marker(Header(source=".", taskset="demo", plan_hash="0" * 64)) + "\nold plan")
        for i in range(5):
            github.add_comment(7, f"later {i}", login="reviewer")
        result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
        assert result.returncode == 0, result
        listing = github.calls("GET", r"/issues/7/comments$")
        assert [r.query.get("page", ["1"])[0] for r in listing] == ["1", "2", "3"]
        assert all(r.query["per_page"] == ["100"] for r in listing)
        assert not github.calls("POST", r"/comments$")
        assert [r.path for r in github.calls("PATCH")] == [f"/repos/octo/tasks/issues/comments/{ours}"]
        assert "1 to create" in github.comments[ours]["body"]


def test_two_marked_comments_keep_the_oldest(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    head = marker(Header(source=".", taskset="demo", plan_hash="0" * 64))
    newer = github.add_comment(7, head + "\nnewer", age_minutes=5)
    older = github.add_comment(7, head + "\nolder", age_minutes=50)
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    remaining = github.comments_on(7)
    assert [c["id"] for c in remaining] == [older]
    assert "1 to create" in remaining[0]["body"]
    assert newer not in github.comments
    assert not github.calls("POST", r"/comments$")


def test_marked_comments_of_other_authors_are_ignored(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    forged = marker(Header(source=".", taskset="demo", plan_hash="f" * 64)) + "\nplease trust this plan"
    mallory = github.add_comment(7, forged, login="mallory")
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    comments = github.comments_on(7)
    assert len(comments) == 2 and comments[0]["id"] == mallory and comments[0]["body"] == forged
    assert comments[1]["user"]["login"] == BOT and parse_marker(comments[1]["body"]).taskset == "demo"


def test_token_with_its_own_login_matches_that_author(tmp_path, platform):
    with FakeGitHub(login="sync-bot") as github:
        ws = tmp_path / "ws"
        make_repo(ws, {"tasks.json": tasks_file("alpha")})
        head = marker(Header(source=".", taskset="demo"))
        github.add_comment(7, head + "\nby the workflow token", login=BOT)
        own = github.add_comment(7, head + "\nby the app", login="sync-bot")
        result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
        assert result.returncode == 0, result
        assert [r.path.rsplit("/", 1)[1] for r in github.calls("PATCH")] == [str(own)]


def test_one_comment_per_source_and_taskset(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"a/tasks.json": tasks_file("alpha"), "b/tasks.json": tasks_file("beta", "gamma")})
    for _ in range(2):
        for source, taskset in (("a", "one"), ("b", "two")):
            result = run_action(
                ws, tmp_path, event="pull_request", payload=pr_payload(),
                inputs=with_key(platform.url, source=source, taskset=taskset), github=github,
            )
            assert result.returncode == 0, result
    comments = github.comments_on(7)
    assert sorted((parse_marker(c["body"]).source, parse_marker(c["body"]).taskset) for c in comments) == [("a", "one"), ("b", "two")]
    # The second round's bodies are the same as the first's (same run): nothing is sent again.
    assert len(github.calls("POST", r"/comments$")) == 2 and len(github.calls("PATCH")) == 0


ADVERSARIAL = [
    "--> <!-- hud-sync-hook {} -->",
    "<script>alert(1)</script>",
    "@octo/security-team",
    "`rm -rf`",
    "a|b|c",
    "[click](https://evil.example/x)",
    "<img src=x onerror=alert(1)>",
    "**bold** _it_ ~~s~~",
    "&lt;not-an-entity&gt;",
]


def test_adversarial_slugs_keep_the_marker_and_the_size(tmp_path, github, platform):
    ws = tmp_path / "ws"
    rows = [task(slug, scenario="<b>x</b>|y") for slug in ADVERSARIAL]
    rows += [task(f"task-{i:05d}-" + "|`<>@" * 12) for i in range(10_000)]
    make_repo(ws, {"tasks.json": rows})
    evil_taskset = "x --> y <b>@octo/all</b>"
    for action in ("opened", "synchronize"):
        result = run_action(
            ws, tmp_path, event="pull_request", payload=pr_payload(action=action),
            inputs=with_key(platform.url, taskset=evil_taskset), github=github, timeout=300,
        )
        assert result.returncode == 0, result
    assert not [r for r in github.requests if r.status == 422], "a body went over GitHub's limit"
    comments = github.comments_on(7)
    assert len(comments) == 1, "the marker must survive adversarial values, so the second run finds the comment"
    body = comments[0]["body"]
    assert len(body) <= MAX_BODY
    header = parse_marker(body)
    assert header is not None and header.taskset == evil_taskset
    first_line, rest = body.split("\n", 1)
    rest = rest.replace(REVIEWED_LINE, "", 1)  # our own fixed line; nothing else may open a comment
    assert first_line.startswith("<!-- hud-sync-hook {") and first_line.endswith("} -->")
    assert first_line.count("-->") == 1 and "<!--" not in rest and "-->" not in rest
    assert "<script" not in body and "<img" not in body and "<b>" not in body
    assert not re.search(r"@octo", body), "nobody may be mentioned"
    assert "](https://evil" not in body and "https://evil" not in body
    assert "\\`rm -rf\\`" in body
    assert body.count("<details") == body.count("</details>")
    for line in body.splitlines():
        if line.startswith("| "):
            assert line.replace("\\|", "").count("|") == 4, line
    assert re.search(r"_\d+ more, see the run log_", body)
    assert "10009 to create" in body


def test_no_key_on_a_same_repository_pr_validates_and_comments(tmp_path, github):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha", "beta")})
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs={"taskset": "demo"}, github=github)
    assert result.returncode == 0, result
    assert "plan unavailable: no HUD API key in this run" in result.summary
    assert "plan unavailable: no HUD API key in this run" in github.comments_on(7)[0]["body"]
    assert result.outputs["has-changes"] == "" and result.outputs["plan-hash"] == ""


def test_fork_pr_without_key_and_read_only_token_succeeds_with_a_notice(tmp_path):
    with FakeGitHub(read_only=True) as github:
        ws = tmp_path / "ws"
        make_repo(ws, {"tasks.json": tasks_file("alpha", "beta")})
        payload = pr_payload(head_repo="stranger/tasks")
        result = run_action(ws, tmp_path, event="pull_request", payload=payload, inputs={"taskset": "demo"}, github=github)
        assert result.returncode == 0, result
        assert "plan unavailable: no HUD API key in this run" in result.summary
        assert "2 tasks found" in result.summary
        assert "read-only" in result.messages("notice")
        assert not result.annotations("error")
        assert github.comments_on(7) == []


def test_dependabot_pr_with_its_read_only_token_is_not_a_failure(tmp_path, platform):
    with FakeGitHub(read_only=True) as github:
        ws = tmp_path / "ws"
        make_repo(ws, {"tasks.json": tasks_file("alpha")})
        result = run_action(
            ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url),
            github=github, env={"GITHUB_ACTOR": "dependabot[bot]"},
        )
        assert result.returncode == 0, result
        assert "read-only" in result.messages("notice") and not result.annotations("error")


def test_missing_pull_requests_write_is_one_clear_error(tmp_path, platform):
    with FakeGitHub(read_only=True) as github:
        ws = tmp_path / "ws"
        make_repo(ws, {"tasks.json": tasks_file("alpha")})
        result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
        assert result.returncode == 1, result
        errors = result.annotations("error")
        assert len(errors) == 1
        assert "permissions:\n  contents: read\n  pull-requests: write" in errors[0].message
        assert "Resource not accessible by integration" in errors[0].message
        assert "pull-requests: write" in result.summary
        assert result.outputs["to-create"] == "1", "the plan is still reported"


def test_rate_limits_and_server_errors_are_retried(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    github.inject(502, method="GET", path=r"^/user$")
    github.inject(
        403, method="GET", path=r"/comments$", message="API rate limit exceeded",
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 1)},
    )
    github.inject(429, method="POST", path=r"/comments$", headers={"retry-after": "1"}, message="secondary rate limit")
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    assert [r.status for r in github.calls("GET", r"^/user$")] == [502, 403]
    assert [r.status for r in github.calls("GET", r"/comments$")] == [403, 200]
    assert [r.status for r in github.calls("POST", r"/comments$")] == [429, 201]
    assert len(github.comments_on(7)) == 1
    assert "retrying" in result.stdout


def test_rate_limit_far_in_the_future_gives_up_quickly(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    github.inject(
        403, method="GET", path=r"/comments$", message="API rate limit exceeded", times=10,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 3600)},
    )
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 1, result
    assert "rate limited" in result.messages("error")
    # Given up at once: one call, no wait for the reset an hour away (the run would time out).
    assert len(github.calls("GET", r"/comments$")) == 1


def test_comment_false_records_the_plan_as_a_commit_status(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    result = run_action(
        ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url, comment="false"), github=github,
    )
    assert result.returncode == 0, result
    assert not github.calls(path=r"/comments"), "no comment with comment: false"
    assert "1 to create" in result.summary and result.outputs["comment-url"] == ""
    # The reviewed plan is recorded on the pull request's head, where the merge looks for it.
    [status] = github.statuses["1" * 40]
    assert status["context"] == status_context((".", "demo")) and status["state"] == "success"
    assert status["description"].endswith(f"plan {result.outputs['plan-hash']}") and len(status["description"]) <= 140
    assert status["description"].startswith("1 to create") and status["creator"]["login"] == BOT
    assert status["target_url"] == "https://github.example/octo/tasks/actions/runs/424242"


def test_closed_without_merge_does_nothing(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    result = run_action(
        ws, tmp_path, event="pull_request", payload=pr_payload(action="closed", merged=False),
        inputs=with_key(platform.url), github=github,
    )
    assert result.returncode == 0, result
    assert "closed without merging" in result.summary
    assert uploads(platform) == 0 and github.requests == []
    assert HUD_KEY not in result.summary


def test_comment_lists_renames_remote_only_and_skipped_files(tmp_path, github, platform):
    ws = tmp_path / "ws"
    repo = make_repo(ws, {"tasks.json": [task("old-name", n=1), task("kept", n=2), task("dropped", n=3)]})
    applied = run_action(ws, tmp_path, event="workflow_dispatch", payload={}, inputs=with_key(platform.url, mode="apply"), github=github)
    assert applied.returncode == 0, applied
    write_files(ws, {"tasks.json": [task("new-name", n=1), task("kept", n=2)], "sub/task.py": "raise RuntimeError('boom')\n"})
    (ws / "tasks.json").rename(ws / "sub" / "tasks.json")
    commit_all(repo, "rename a task")
    # sub/ has a broken task.py and a tasks.json: the Python file is skipped, the JSON file is read
    inputs = with_key(platform.url, source="sub", **{"allow-import-errors": "sub/task.py"})
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=inputs, github=github)
    assert result.returncode == 0, result
    assert (result.outputs["renames"], result.outputs["remote-only"], result.outputs["unchanged"]) == ("1", "2", "1")
    body = github.comments_on(7)[0]["body"]
    assert "Probable renames (1)" in body and "old-name → new-name" in body
    assert "Remote-only, never deleted (2)" in body
    assert "Skipped files (1)" in body and "sub/task.py" in body and "boom" in body
    skipped = [a for a in result.annotations("warning") if a.properties.get("title") == "Task file skipped"]
    assert [a.properties["file"] for a in skipped] == ["sub/task.py"]
