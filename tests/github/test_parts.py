"""The action's parts on their own: marker, escaping, size budget, runner file formats, API retries."""

from __future__ import annotations

import time

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hud_sync_hook.github import summary
from hud_sync_hook.github.api import BOT_LOGIN, GitHubClient, GitHubError, rate_limit_wait
from hud_sync_hook.github.comments import MAX_BODY, Header, compose, find_plan_comment, marker, parse_marker
from hud_sync_hook.github.api import Comment
from hud_sync_hook.model import Location, Problem, TaskSpec
from hud_sync_hook.plan import build_plan
from hud_sync_hook.render.markdown import escape, render_markdown
from tests.github.harness import parse_commands, parse_outputs
from tests.helpers.fake_github import FakeGitHub

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


@settings(max_examples=200, deadline=None)
@given(source=text, taskset=text, summary_text=text)
def test_marker_round_trips_and_cannot_be_closed_early(source, taskset, summary_text):
    header = Header(source=source, taskset=taskset, plan_hash="ab" * 32, head_sha="c" * 40, summary=summary_text)
    line = marker(header)
    assert line.startswith("<!-- hud-sync-hook {") and line.endswith(" -->")
    inner = line[len("<!--") : -len("-->")]
    assert "--" not in inner and ">" not in inner and "<" not in inner and "@" not in inner and "\n" not in inner
    assert parse_marker(line + "\nbody") == header


@settings(max_examples=200, deadline=None)
@given(value=text)
def test_escape_leaves_no_html_no_mentions_no_line_breaks(value):
    shown = escape(value)
    assert "<" not in shown and ">" not in shown and "\n" not in shown and "\r" not in shown
    assert all(shown[i + 1] == "\u200b" for i, ch in enumerate(shown) if ch == "@")
    assert "://" not in shown


@settings(max_examples=30, deadline=None)
@given(
    slugs=st.lists(text.filter(lambda s: s.strip()), min_size=0, max_size=40, unique=True),
    copies=st.integers(1, 300),
    limit=st.integers(2_000, 70_000),
)
def test_markdown_stays_within_its_limit_and_balanced(slugs, copies, limit):
    tasks = [
        TaskSpec(slug=f"{slug}-{i}", scenario="s|`<x>", env="e", location=Location("tasks.json", i))
        for i in range(copies)
        for slug in slugs[:3] or ["t"]
    ]
    plan = build_plan(tasks, [{"slug": s, "scenario": "e:s", "args": {}} for s in slugs], taskset_name="ts", taskset_id=None, taskset_exists=True)
    plan.problems = [Problem(Location("x.json", 1), s) for s in slugs]
    body = render_markdown(plan, limit=limit, footer=["<sub>footer</sub>"])
    assert len(body) <= limit
    assert body.count("<details") == body.count("</details>")
    assert body.rstrip().endswith("<sub>footer</sub>")


def test_compose_never_exceeds_github_limit():
    header = Header(source=".", taskset="t", summary="1 to create")
    body = compose(header, "x" * (MAX_BODY + 10))
    assert len(body) <= MAX_BODY and parse_marker(body) == header


def test_find_keeps_the_oldest_of_ours_and_ignores_others():
    head = marker(Header(source=".", taskset="t"))
    other_key = marker(Header(source="sub", taskset="t"))
    comments = [
        Comment(5, head + "\nnew", BOT_LOGIN, "2026-01-02T00:00:00Z", None),
        Comment(9, head + "\nforged", "mallory", "2025-01-01T00:00:00Z", None),
        Comment(7, head + "\nold", BOT_LOGIN, "2026-01-01T00:00:00Z", None),
        Comment(3, other_key, BOT_LOGIN, "2024-01-01T00:00:00Z", None),
        Comment(2, "quoting it: " + head, BOT_LOGIN, "2024-01-01T00:00:00Z", None),
    ]
    found = find_plan_comment(comments, BOT_LOGIN, (".", "t"))
    assert found.comment.id == 7 and [c.id for c in found.duplicates] == [5]
    assert find_plan_comment(comments, "someone", (".", "t")) is None


@settings(max_examples=100, deadline=None)
@given(values=st.dictionaries(st.from_regex(r"[a-z][a-z-]{0,10}", fullmatch=True), text, max_size=6))
def test_outputs_round_trip_through_the_delimiter_syntax(values):
    assert parse_outputs(summary.format_outputs(values)) == values


@settings(max_examples=100, deadline=None)
@given(file=text, title=text, message=text)
def test_annotation_properties_and_message_are_escaped(file, title, message):
    line = summary.command("error", message, file=file, line=3, title=title)
    assert "\n" not in line and "\r" not in line
    parsed = parse_commands(line)
    assert len(parsed) == 1
    expected = {"line": "3"}
    if file:
        expected["file"] = file
    if title:
        expected["title"] = title
    assert parsed[0].properties == expected
    assert parsed[0].message == message


def _response(status: int, headers: dict[str, str] | None = None, message: str = "") -> httpx.Response:
    return httpx.Response(status, headers=headers or {}, json={"message": message})


def test_rate_limit_waits():
    now = 1_000_000.0
    assert rate_limit_wait(_response(429, {"retry-after": "7"})) == 7
    assert rate_limit_wait(_response(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000010"}), now=now) == pytest.approx(10.5)
    assert rate_limit_wait(_response(403, message="You have exceeded a secondary rate limit")) == 60
    assert rate_limit_wait(_response(403, {"x-ratelimit-remaining": "4999"}, "Resource not accessible by integration")) is None
    assert rate_limit_wait(_response(500)) is None


def test_client_retries_within_bounds_and_gives_up():
    slept: list[float] = []
    with FakeGitHub() as github:
        github.inject(502, times=10)
        with GitHubClient(github.url, github.token, github.repository, max_attempts=3, sleep=slept.append) as client:
            with pytest.raises(GitHubError) as caught:
                client.list_comments(1)
        assert len(github.requests) == 3 and len(slept) == 2
        assert "after 3 attempt(s)" in str(caught.value)
        assert github.token not in str(caught.value)


def test_client_does_not_wait_past_its_budget():
    slept: list[float] = []
    with FakeGitHub() as github:
        github.inject(429, headers={"retry-after": "3600"}, times=5)
        with GitHubClient(github.url, github.token, github.repository, max_wait_seconds=60, sleep=slept.append) as client:
            with pytest.raises(GitHubError):
                client.login()
        assert slept == [] and len(github.requests) == 1


def test_client_paginates_and_reports_missing_permission():
    with FakeGitHub(read_only=True) as github:
        for i in range(250):
            github.add_comment(3, f"c{i}")
        with GitHubClient(github.url, github.token, github.repository) as client:
            assert len(client.list_comments(3)) == 250
            assert client.login() == BOT_LOGIN
            with pytest.raises(GitHubError) as caught:
                client.create_comment(3, "hello")
        assert caught.value.not_permitted
        assert len(github.calls("GET", r"/comments$")) == 3


def test_client_refuses_plain_http_to_other_hosts():
    from hud_sync_hook.errors import HudSyncError

    with pytest.raises(HudSyncError, match="plain http"):
        GitHubClient("http://api.github.example", "t0ken", "octo/tasks")


def test_fake_rejects_bodies_over_the_limit():
    with FakeGitHub() as github:
        with GitHubClient(github.url, github.token, github.repository) as client:
            with pytest.raises(GitHubError) as caught:
                client.create_comment(1, "x" * (MAX_BODY + 1))
            assert caught.value.status == 422
            assert client.create_comment(1, "x" * MAX_BODY).id


def test_reset_time_in_the_past_retries_at_once():
    slept: list[float] = []
    with FakeGitHub() as github:
        github.inject(403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) - 5)})
        with GitHubClient(github.url, github.token, github.repository, sleep=slept.append) as client:
            assert client.list_comments(1) == []
        assert len(slept) == 1 and slept[0] <= 1
