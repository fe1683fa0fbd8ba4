"""The plan comment's marker, its size budget, and finding and updating the comment on a real HTTP fake."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from hud_sync_hook.github.api import BOT_LOGIN, Comment, GitHubClient, GitHubError
from hud_sync_hook.github.comments import (
    REVIEWED_LINE,
    Header,
    StatusRecord,
    compose,
    create_checked,
    find_plan_comment,
    find_status_record,
    lookup,
    marker,
    parse_marker,
    split_body,
    status_context,
    status_description,
    upsert,
)
from tests.helpers.fake_github import FakeGitHub

GITHUB_LIMIT = 65_536  # characters GitHub accepts in a comment body


def test_marker_format_is_fixed_because_posted_comments_carry_it():
    # Comments posted by earlier versions must still be found and read: this exact line is the format.
    header = Header(source="tâches", taskset="t<>&-@", plan_hash="ab", head_sha="c", summary="1 to create")
    assert marker(header) == (
        '<!-- hud-sync-hook {"head_sha":"c","plan_hash":"ab","source":"t\\u00e2ches","status":"planned",'
        '"summary":"1 to create","taskset":"t\\u003c\\u003e\\u0026\\u002d\\u0040","tool":"hud\\u002dsync\\u002dhook"} -->'
    )
    assert parse_marker(marker(header)) == header


def test_a_marker_from_another_tool_or_without_the_tool_is_not_ours():
    def line(data: object) -> str:
        return f"<!-- hud-sync-hook {json.dumps(data)} -->\nbody"

    ours = {"tool": "hud-sync-hook", "source": ".", "taskset": "t"}
    assert parse_marker(line(ours)) == Header(source=".", taskset="t", status="")
    assert parse_marker(line({**ours, "tool": "other"})) is None
    assert parse_marker(line({k: v for k, v in ours.items() if k != "tool"})) is None


@pytest.mark.parametrize("name", ["source", "taskset", "plan_hash", "head_sha", "summary", "status"])
@pytest.mark.parametrize("value", [1, None, ["x"], {"a": "b"}, True])
def test_a_marker_with_a_value_that_is_not_a_string_is_rejected(name, value):
    data = {"tool": "hud-sync-hook", "source": ".", "taskset": "t", name: value}
    assert parse_marker(f"<!-- hud-sync-hook {json.dumps(data)} -->") is None


def test_missing_header_values_read_as_empty_and_status_as_given():
    header = parse_marker('<!-- hud-sync-hook {"tool":"hud-sync-hook","status":"uploaded"} -->')
    assert header == Header(source="", taskset="", plan_hash="", head_sha="", summary="", status="uploaded")


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "no marker here",
        "text first\n<!-- hud-sync-hook {} -->",
        " <!-- hud-sync-hook {\"tool\":\"hud-sync-hook\"} -->",
        "<!-- hud-sync-hook {not json} -->",
        '<!-- hud-sync-hook {"tool":"hud-sync-hook"}, {"x":1} -->',
        '<!-- hud-sync-hook {"tool":"hud-sync-hook"} --',
        '<!-- hud-sync-hook {"tool":\n"hud-sync-hook"} -->',
        '<!-- other-tool {"tool":"hud-sync-hook"} -->',
    ],
)
def test_only_a_marker_on_the_first_line_counts(body):
    assert parse_marker(body) is None


def test_compose_keeps_a_body_that_fits_exactly_and_replaces_one_that_does_not():
    header = Header(source=".", taskset="t", summary="3 to create")
    room = GITHUB_LIMIT - len(marker(header)) - len(REVIEWED_LINE) - 2
    fits = compose(header, "x" * room)
    assert len(fits) == GITHUB_LIMIT and fits == f"{marker(header)}\n{REVIEWED_LINE}\n{'x' * room}"
    too_big = compose(header, "x" * (room + 1))
    assert too_big == f"{marker(header)}\n{REVIEWED_LINE}\n**Plan too large for a comment: 3 to create.** See the run log.\n"
    assert parse_marker(too_big) == header
    # Outcomes go above the reviewed plan and survive a round trip; the newest 20 are kept.
    with_outcomes = compose(header, "plan", [f"**run {i}**" for i in range(25)])
    outcomes, reviewed = split_body(with_outcomes)
    assert outcomes == [f"**run {i}**" for i in range(5, 25)] and reviewed == "plan"


def test_the_oldest_wins_and_the_id_breaks_a_tie_in_time():
    head = marker(Header(source=".", taskset="t"))
    same_time = "2026-01-01T00:00:00Z"
    comments = [
        Comment(12, head, BOT_LOGIN, same_time, None),
        Comment(11, head, BOT_LOGIN, same_time, None),
        Comment(13, head, BOT_LOGIN, same_time, None),
    ]
    found = find_plan_comment(comments, BOT_LOGIN, (".", "t"))
    assert found.comment.id == 11 and [c.id for c in found.duplicates] == [12, 13]
    assert found.header == Header(source=".", taskset="t")


def test_lookup_matches_the_login_it_is_given():
    with FakeGitHub(login="hud-bot") as github:
        github.add_comment(1, marker(Header(source=".", taskset="t")))
        github.add_comment(1, marker(Header(source=".", taskset="t")), login="someone")
        with GitHubClient(github.url, github.token, github.repository) as client:
            login = client.login()
            found = lookup(client, 1, (".", "t"), login)
            assert login == "hud-bot" and found.comment.author == "hud-bot" and found.duplicates == []
            found = lookup(client, 1, (".", "t"), "someone")
            assert found.comment.author == "someone"
            assert lookup(client, 2, (".", "t"), login) is None


@pytest.mark.parametrize(("kind", "expected"), [
    ({"login": "octocat"}, "octocat"),  # a personal token: GET /user
    ({"app_login": "my-app[bot]"}, "my-app[bot]"),  # an App installation token: GraphQL viewer
    ({}, "github-actions[bot]"),  # the workflow's token: GraphQL viewer
])
def test_the_token_says_who_it_is_for_each_kind(kind, expected):
    with FakeGitHub(**kind) as github:
        with GitHubClient(github.url, github.token, github.repository) as client:
            assert client.login() == expected
        assert github.calls("GET", r"^/user$")[0].status == (200 if "login" in kind else 403)


def test_upsert_creates_updates_in_place_and_removes_newer_duplicates():
    key = (".", "t")
    logged: list[str] = []
    with FakeGitHub() as github:
        with GitHubClient(github.url, github.token, github.repository) as client:
            created = upsert(client, 1, compose(Header(*key, summary="first"), "a"), None, login=BOT_LOGIN, key=key, log=logged.append)
            assert [c["id"] for c in github.comments_on(1)] == [created.id]
            duplicate = github.add_comment(1, compose(Header(*key), "dup"))
            other = github.add_comment(1, compose(Header("sub", "t"), "other"))
            found = lookup(client, 1, key, BOT_LOGIN)
            updated = upsert(client, 1, compose(Header(*key, summary="second"), "b"), found, login=BOT_LOGIN, key=key, log=logged.append)
            assert updated.id == created.id
            remaining = {c["id"]: c["body"] for c in github.comments_on(1)}
            assert sorted(remaining) == [created.id, other]
            assert parse_marker(remaining[created.id]).summary == "second" and remaining[created.id].endswith("\nb")
            assert logged == [f"Removed duplicate plan comment {duplicate} (kept the oldest, {created.id})"]


def test_a_duplicate_that_cannot_be_removed_is_logged_not_fatal():
    key = (".", "t")
    logged: list[str] = []
    with FakeGitHub() as github:
        first = github.add_comment(1, compose(Header(*key), "a"))
        second = github.add_comment(1, compose(Header(*key), "b"))
        third = github.add_comment(1, compose(Header(*key), "c"))
        github.inject(403, method="DELETE", message="Resource not accessible by integration")
        with GitHubClient(github.url, github.token, github.repository) as client:
            found = lookup(client, 1, key, BOT_LOGIN)
            upsert(client, 1, compose(Header(*key, summary="new"), "d"), found, login=BOT_LOGIN, key=key, log=logged.append)
        assert [c["id"] for c in github.comments_on(1)] == [first, second]
        assert parse_marker(github.comments_on(1)[0]["body"]).summary == "new"
    assert len(logged) == 2
    assert logged[0].startswith(f"Could not remove duplicate plan comment {second}: ")
    assert "Resource not accessible by integration" in logged[0]
    assert logged[1] == f"Removed duplicate plan comment {third} (kept the oldest, {first})"


def test_a_body_too_large_keeps_the_outcomes_and_then_drops_them_too():
    header = Header(source=".", taskset="t", summary="9 to create")
    note = "**Plan too large for a comment: 9 to create.** See the run log.\n"
    big = compose(header, "x" * 70_000, ["merged: uploaded"])
    assert big == f"{marker(header)}\nmerged: uploaded\n\n<!-- hud-sync-hook: the plan as reviewed -->\n{note}"
    huge = compose(header, "x" * 70_000, ["y" * 4_000] * 20)
    assert huge == f"{marker(header)}\n<!-- hud-sync-hook: the plan as reviewed -->\n{note}"
    assert len(big) <= 65_536 and len(huge) <= 65_536


def test_a_body_without_a_reviewed_plan_has_no_outcomes_and_no_plan():
    assert split_body(None) == ([], None)
    assert split_body(marker(Header(source=".", taskset="t")) + "\nsomething else") == ([], None)
    body = compose(Header(source=".", taskset="t"), "the plan", ["first", "second"])
    assert split_body(body) == (["first", "second"], "the plan")


def test_an_unchanged_comment_is_left_alone_and_said_so():
    key = (".", "t")
    logged: list[str] = []
    with FakeGitHub() as github:
        body = compose(Header(*key, summary="same"), "a")
        github.add_comment(1, body)
        with GitHubClient(github.url, github.token, github.repository) as client:
            found = lookup(client, 1, key, BOT_LOGIN)
            kept = upsert(client, 1, body, found, login=BOT_LOGIN, key=key, log=logged.append)
        assert kept == found.comment and github.calls("PATCH") == [] and github.calls("POST") == []
    assert logged == ["The plan comment is up to date"]


# -- creating the comment when GitHub's answer leaves it unsure whether it was stored --------------

COMMENTS = r"/issues/1/comments$"


def checked(github: FakeGitHub, body: str, *, attempts: int = 3, backoff: float = 0.5, seed: int = 0):
    """create_checked against the fake: (the comment or the GitHubError, the log, the sleeps);
    `random` is seeded just before, so the waits are the draws `random.Random(seed)` makes."""
    logged: list[str] = []
    slept: list[float] = []
    with GitHubClient(github.url, github.token, github.repository, max_attempts=attempts, backoff_base=backoff, sleep=slept.append) as client:
        random.seed(seed)
        try:
            result = create_checked(client, 1, body, BOT_LOGIN, (".", "t"), log=logged.append, sleep=slept.append)
        except GitHubError as err:
            result = err
    return result, logged, slept


def test_a_comment_stored_before_a_5xx_is_found_and_not_posted_again():
    body = compose(Header(".", "t", summary="1 to create"), "plan")
    with FakeGitHub() as github:
        github.inject(502, method="POST", path=COMMENTS, after=True)
        created, logged, slept = checked(github, body)
        stored = github.comments_on(1)
        assert [c["body"] for c in stored] == [body] and created.id == stored[0]["id"] and created.body == body
        assert len(github.calls("POST", COMMENTS)) == 1
    assert logged == ["The plan comment was stored although GitHub answered 502; not posting it again"]
    assert slept == []


def test_a_comment_stored_before_the_connection_was_lost_is_found_too():
    body = compose(Header(".", "t", summary="1 to create"), "plan")
    with FakeGitHub() as github:
        github.inject(0, method="POST", path=COMMENTS, after=True)
        created, logged, slept = checked(github, body)
        assert [c["body"] for c in github.comments_on(1)] == [body] and created.body == body
    assert logged == ["The plan comment was stored although GitHub answered with an error; not posting it again"]
    assert slept == []


def test_a_comment_not_stored_is_posted_again_after_a_growing_wait():
    body = compose(Header(".", "t"), "plan")
    with FakeGitHub() as github:
        # an older comment of ours with another body is not the one just posted
        github.add_comment(1, compose(Header(".", "t"), "an older plan"))
        github.inject(503, method="POST", path=COMMENTS, times=7)
        created, logged, slept = checked(github, body, attempts=8, backoff=5.0, seed=1)
        assert created.body == body and [c["body"] for c in github.comments_on(1)][-1] == body
        assert len(github.calls("POST", COMMENTS)) == 8 and len(github.comments_on(1)) == 2
    ceilings = [5.0] + [8.0] * 6  # backoff 5 s, doubling, at most 8 s; each wait is half to all of it
    assert len(slept) == 7 and all(c / 2 <= s <= c for s, c in zip(slept, ceilings))
    assert max(slept[1:]) > 7.0  # the cap is 8 s, not lower (the seed makes this certain)
    assert logged == [
        f"GitHub API POST /repos/{github.repository}/issues/1/comments answered HTTP 503; retrying in {s:.1f}s" for s in slept
    ]


def test_the_wait_doubles_from_the_backoff_base():
    with FakeGitHub() as github:
        github.inject(500, method="POST", path=COMMENTS, times=5)
        _created, _logged, slept = checked(github, compose(Header(".", "t"), "plan"), attempts=6, backoff=0.25, seed=2)
    ceilings = [0.25, 0.5, 1.0, 2.0, 4.0]
    assert len(slept) == 5 and all(c / 2 <= s <= c for s, c in zip(slept, ceilings))


def test_unsure_failures_stop_after_the_clients_attempts():
    with FakeGitHub() as github:
        github.inject(502, method="POST", path=COMMENTS, times=10)
        error, _logged, slept = checked(github, compose(Header(".", "t"), "plan"), attempts=3)
        assert isinstance(error, GitHubError) and error.status == 502 and error.unsure
        assert len(github.calls("POST", COMMENTS)) == 3 and len(slept) == 2
        assert len(github.calls("GET", COMMENTS)) == 2 and github.comments_on(1) == []


def test_one_attempt_means_no_retry_and_no_lookup():
    with FakeGitHub() as github:
        github.inject(502, method="POST", path=COMMENTS, times=10)
        error, logged, slept = checked(github, compose(Header(".", "t"), "plan"), attempts=1)
        assert isinstance(error, GitHubError) and error.status == 502
        assert len(github.calls("POST", COMMENTS)) == 1 and github.calls("GET", COMMENTS) == []
    assert logged == [] and slept == []


def test_a_refusal_is_not_retried():
    with FakeGitHub() as github:
        github.inject(422, method="POST", path=COMMENTS, message="Validation Failed")
        error, logged, slept = checked(github, compose(Header(".", "t"), "plan"))
        assert isinstance(error, GitHubError) and error.status == 422 and not error.unsure
        assert len(github.calls("POST", COMMENTS)) == 1 and github.calls("GET", COMMENTS) == []
    assert logged == [] and slept == []


# -- the reviewed plan as a commit status ------------------------------------------------------------

PLAN = "0123456789abcdef" * 4


def test_status_context_is_readable_short_and_unique_per_source_and_taskset():
    digest = hashlib.sha256(b"tasks\0prod").hexdigest()[:10]
    assert status_context(("tasks", "prod")) == f"hud-sync-hook plan (tasks -> prod) {digest}"
    default = hashlib.sha256(b"tasks\0").hexdigest()[:10]
    assert status_context(("tasks", "")) == f"hud-sync-hook plan (tasks -> default taskset) {default}"
    assert status_context(("a\n  b", "c")).startswith("hud-sync-hook plan (a b -> c) ")
    long = status_context(("s" * 300, "t"))
    assert long == f"hud-sync-hook plan ({'s' * 120}) {hashlib.sha256(('s' * 300 + chr(0) + 't').encode()).hexdigest()[:10]}"
    assert status_context(("s" * 300, "t")) != status_context(("s" * 300, "u"))


def test_status_description_ends_with_the_plan_and_keeps_to_140_characters():
    tail = f"plan {PLAN}"
    assert status_description("1 to create", PLAN) == f"1 to create · {tail}"
    assert status_description("", PLAN) == tail
    assert status_description("x" * 200, "") == "x" * 140
    assert status_description("x" * 140, "") == "x" * 140
    room = 140 - len(tail) - 3
    fits = status_description("y" * room, PLAN)
    assert fits == f"{'y' * room} · {tail}" and len(fits) == 140
    cut = status_description("y" * (room + 1), PLAN)
    assert cut == f"{'y' * (room - 1)}… · {tail}" and len(cut) == 140


def test_the_newest_status_of_ours_for_the_context_is_read_back_through_the_api():
    sha = "a" * 40
    context = status_context((".", "t"))
    with FakeGitHub() as github:
        github.add_status(sha, context=context, description=status_description("old", PLAN), state="success")
        github.add_status(sha, context=context, description=status_description("2 to update", PLAN), state="pending")
        github.add_status(sha, context=context, description="someone else's", login="someone")
        github.add_status(sha, context="other", description="another context")
        with GitHubClient(github.url, github.token, github.repository) as client:
            statuses = client.list_statuses(sha)
    assert find_status_record(statuses, BOT_LOGIN, context) == StatusRecord(plan_hash=PLAN, summary="2 to update", state="pending")
    assert find_status_record(statuses, "someone", context) == StatusRecord(plan_hash="", summary="someone else's", state="success")
    assert find_status_record(statuses, BOT_LOGIN, status_context(("x", "t"))) is None


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"description": f"plan {PLAN}", "state": "success"}, StatusRecord(PLAN, "", "success")),
        ({"description": f"a · b · plan {PLAN}"}, StatusRecord(PLAN, "a · b", "")),
        ({"description": f"fix X · plan {PLAN}"}, StatusRecord(PLAN, "fix X", "")),
        ({"description": f"plan {PLAN} and more", "state": None}, StatusRecord("", f"plan {PLAN} and more", "")),
        ({"description": f"plan {PLAN[:-1]}"}, StatusRecord("", f"plan {PLAN[:-1]}", "")),
        ({"description": 7, "state": "error"}, StatusRecord("", "", "error")),
        ({"description": None}, StatusRecord("", "", "")),
    ],
)
def test_a_status_description_is_read_whatever_it_holds(item, expected):
    statuses = [{"creator": {"login": BOT_LOGIN}, "context": "c", **item}]
    assert find_status_record(statuses, BOT_LOGIN, "c") == expected


def test_a_status_without_a_usable_creator_is_not_ours():
    statuses = [
        {"creator": None, "context": "c", "description": "x"},
        {"creator": "github-actions[bot]", "context": "c", "description": "x"},
        {"context": "c", "description": "x"},
        {"creator": {"login": BOT_LOGIN}, "context": "c", "description": "mine"},
    ]
    assert find_status_record(statuses, BOT_LOGIN, "c") == StatusRecord("", "mine", "")
