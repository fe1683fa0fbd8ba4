"""The one plan comment per pull request and source/taskset: its hidden marker, finding it, updating it.

The marker is an HTML comment on the body's first line holding a small JSON header. JSON strings
are written with `<`, `>`, `&`, `-` and `@` as `\\u` escapes, so nothing in a header value can
close the HTML comment or mention anyone. A comment counts as ours only when its author is the
token's login too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from hud_sync_hook.github.api import Comment, GitHubClient, GitHubError

TOOL = "hud-sync-hook"
MAX_BODY = 65_536
_MARKER = re.compile(r"\A<!-- hud-sync-hook (\{[^\n]*?\}) -->")
_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "-": "\\u002d", "@": "\\u0040"}


@dataclass
class Header:
    """What the marker carries: which plan this comment is for, and what was reviewed."""

    source: str
    taskset: str
    plan_hash: str = ""
    head_sha: str = ""
    summary: str = ""
    status: str = "planned"

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.taskset)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": TOOL,
            "source": self.source,
            "taskset": self.taskset,
            "plan_hash": self.plan_hash,
            "head_sha": self.head_sha,
            "summary": self.summary,
            "status": self.status,
        }


def marker(header: Header) -> str:
    text = json.dumps(header.as_dict(), ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    # Every value is a string, so each unsafe character sits inside a JSON string: escape it there.
    text = re.sub(r"[<>&@-]", lambda m: _UNSAFE[m.group(0)], text)
    return f"<!-- {TOOL} {text} -->"


def parse_marker(body: str) -> Header | None:
    match = _MARKER.match(body or "")
    if not match:
        return None
    try:
        data = json.loads(match.group(1))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("tool") != TOOL:
        return None
    fields = {}
    for name in ("source", "taskset", "plan_hash", "head_sha", "summary", "status"):
        value = data.get(name, "")
        if not isinstance(value, str):
            return None
        fields[name] = value
    return Header(**fields)


def compose(header: Header, markdown: str) -> str:
    body = f"{marker(header)}\n{markdown}"
    if len(body) > MAX_BODY:  # the renderer keeps to its budget; this is the last line of defence
        body = f"{marker(header)}\n**Plan too large for a comment: {header.summary}.** See the run log.\n"
    return body


@dataclass
class Found:
    comment: Comment
    header: Header
    duplicates: list[Comment]


def find_plan_comment(comments: list[Comment], login: str, key: tuple[str, str]) -> Found | None:
    """Our marked comment for `key`, by marker and author; the oldest when there are several."""
    ours: list[tuple[Comment, Header]] = []
    for comment in comments:
        if comment.author != login:
            continue
        header = parse_marker(comment.body)
        if header is not None and header.key == key:
            ours.append((comment, header))
    if not ours:
        return None
    ours.sort(key=lambda pair: (pair[0].created_at, pair[0].id))
    oldest, header = ours[0]
    return Found(comment=oldest, header=header, duplicates=[c for c, _h in ours[1:]])


def lookup(client: GitHubClient, number: int, key: tuple[str, str], login: str | None = None) -> tuple[str, Found | None]:
    """The author to match and our plan comment on PR `number`, if it has one."""
    login = login or client.login()
    return login, find_plan_comment(client.list_comments(number), login, key)


def upsert(client: GitHubClient, number: int, body: str, found: Found | None, log=print) -> Comment:
    """Update our comment in place, or create it when there is none; drop newer duplicates."""
    if found is None:
        return client.create_comment(number, body)
    updated = client.update_comment(found.comment.id, body)
    for duplicate in found.duplicates:
        try:
            client.delete_comment(duplicate.id)
            log(f"Removed duplicate plan comment {duplicate.id} (kept the oldest, {found.comment.id})")
        except GitHubError as err:  # a leftover duplicate is untidy, not a failure
            log(f"Could not remove duplicate plan comment {duplicate.id}: {err}")
    return updated
