"""The plan comment's marker, its size budget, and finding and updating the comment on a real HTTP fake."""

from __future__ import annotations

import json

import pytest

from hud_sync_hook.github.api import BOT_LOGIN, Comment, GitHubClient
from hud_sync_hook.github.comments import (
    REVIEWED_LINE,
    Header,
    compose,
    find_plan_comment,
    lookup,
    marker,
    parse_marker,
    split_body,
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
