"""The one plan comment per pull request and source/taskset: its hidden marker, finding it, updating it.

The marker is an HTML comment on the body's first line holding a small JSON header. JSON strings
are written with `<`, `>`, `&`, `-` and `@` as `\\u` escapes, so nothing in a header value can
close the HTML comment or mention anyone. A comment counts as ours only when its author is the
token's login too.

The body keeps the plan as it was reviewed below a fixed line; merges add their outcome above it,
so after any re-run the comment still shows what was reviewed and what each merge did. With
`comment: false` the reviewed plan hash is recorded as a commit status on the pull request's head
instead (context `hud-sync-hook plan (<source> -> <taskset>)`, description ending `plan <sha256>`).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from hud_sync_hook.github.api import Comment, GitHubClient, GitHubError

TOOL = "hud-sync-hook"
MAX_BODY = 65_536
REVIEWED_LINE = "<!-- hud-sync-hook: the plan as reviewed -->"
MAX_OUTCOMES = 20
_STATUS_HASH = re.compile(r"plan ([0-9a-f]{64})\Z")
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


def compose(header: Header, markdown: str, outcomes: list[str] | tuple[str, ...] = ()) -> str:
    """The body: the marker, each merge outcome (one line each, oldest first), then the reviewed plan."""
    kept = [" ".join(line.split()) for line in outcomes][-MAX_OUTCOMES:]
    above = "".join(f"{line}\n\n" for line in kept)
    body = f"{marker(header)}\n{above}{REVIEWED_LINE}\n{markdown}"
    if len(body) > MAX_BODY:  # the renderer keeps to its budget; this is the last line of defence
        body = f"{marker(header)}\n{above}{REVIEWED_LINE}\n**Plan too large for a comment: {header.summary}.** See the run log.\n"
    if len(body) > MAX_BODY:
        body = f"{marker(header)}\n{REVIEWED_LINE}\n**Plan too large for a comment: {header.summary}.** See the run log.\n"
    return body


def split_body(body: str) -> tuple[list[str], str | None]:
    """(the outcome lines, the reviewed plan's Markdown) of one of our bodies; None when it has none."""
    first, _, rest = (body or "").partition("\n")
    above, found, reviewed = rest.partition(REVIEWED_LINE + "\n")
    if not found:
        return [], None
    return [line for line in above.split("\n") if line.strip()], reviewed


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


def lookup(client: GitHubClient, number: int, key: tuple[str, str], login: str) -> Found | None:
    """Our plan comment on PR `number`, if it has one."""
    return find_plan_comment(client.list_comments(number), login, key)


def create_checked(
    client: GitHubClient, number: int, body: str, login: str, key: tuple[str, str],
    log: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep,
) -> Comment:
    """Create the comment; after a 5xx or a lost connection, look for it before posting again
    (GitHub may have stored it before failing), so a retry never makes a duplicate."""
    attempts = max(1, client.max_attempts)
    for attempt in range(1, attempts + 1):
        try:
            return client.create_comment(number, body, retry_unsure=False)
        except GitHubError as err:
            if not err.unsure or attempt >= attempts:
                raise
            found = lookup(client, number, key, login)
            if found is not None and found.comment.body == body:
                log(f"The plan comment was stored although GitHub answered {err.status or 'with an error'}; not posting it again")
                return found.comment
            delay = random.uniform(0.5, 1.0) * min(8.0, client.backoff_base * 2 ** (attempt - 1))
            log(f"{err}; retrying in {delay:.1f}s")
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def upsert(
    client: GitHubClient, number: int, body: str, found: Found | None, *, login: str, key: tuple[str, str], log=print
) -> Comment:
    """Update our comment in place (not when the body is the same), or create it; drop newer duplicates."""
    if found is None:
        return create_checked(client, number, body, login, key, log=log)
    if found.comment.body == body:
        updated = found.comment
        log("The plan comment is up to date")
    else:
        updated = client.update_comment(found.comment.id, body)
    for duplicate in found.duplicates:
        try:
            client.delete_comment(duplicate.id)
            log(f"Removed duplicate plan comment {duplicate.id} (kept the oldest, {found.comment.id})")
        except GitHubError as err:  # a leftover duplicate is untidy, not a failure
            log(f"Could not remove duplicate plan comment {duplicate.id}: {err}")
    return updated


# -- the review record as a commit status (comment: false) ------------------------------------------


def status_context(key: tuple[str, str]) -> str:
    """One status per source and taskset; the readable part is cut, the digest keeps it unique."""
    digest = hashlib.sha256("\0".join(key).encode()).hexdigest()[:10]
    source, taskset = key
    readable = " ".join(f"{source} -> {taskset or 'default taskset'}".split())[:120]
    return f"hud-sync-hook plan ({readable}) {digest}"


def status_description(summary: str, plan_hash: str) -> str:
    """At most 140 characters, ending `plan <sha256>` when there is a plan."""
    if not plan_hash:
        return summary[:140]
    tail = f"plan {plan_hash}"
    room = 140 - len(tail) - 3
    short = summary if len(summary) <= room else summary[: max(0, room - 1)] + "…"
    return f"{short} · {tail}" if short else tail


@dataclass
class StatusRecord:
    plan_hash: str
    summary: str
    state: str


def find_status_record(statuses: list[dict[str, Any]], login: str, context: str) -> StatusRecord | None:
    """The newest status with our context by our login (GitHub lists statuses newest first)."""
    for item in statuses:
        creator = item.get("creator")
        author = creator.get("login") if isinstance(creator, dict) else None
        if author != login or item.get("context") != context:
            continue
        description = item.get("description") if isinstance(item.get("description"), str) else ""
        match = _STATUS_HASH.search(description)
        summary = description[: match.start()].rstrip(" ·") if match else description
        return StatusRecord(plan_hash=match.group(1) if match else "", summary=summary, state=str(item.get("state") or ""))
    return None
