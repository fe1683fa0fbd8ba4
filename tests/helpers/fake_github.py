"""A fake GitHub REST API on 127.0.0.1, served over real HTTP from a thread, recording every request.

It answers the calls the action makes, the way GitHub does: paginated issue comments with `Link`
headers and author logins, who the token is for each kind of token (the workflow's GITHUB_TOKEN and
a GitHub App installation token: `GET /user` refused with 403, GraphQL `viewer` gives the bot's
login; a personal token: `GET /user` gives its login), commit statuses with their creator, a pull
request and the pull requests of a commit, 422 for comment bodies over 65,536 characters, and on
request: injected rate-limit or server errors (also after the request took effect), and a
read-only token ("Resource not accessible by integration").
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers.secrets import GITHUB_TOKEN

BOT = "github-actions[bot]"
MAX_BODY = 65_536
SERVER_URL = "https://github.example"
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Fault:
    status: int
    method: str | None
    path: re.Pattern[str] | None
    headers: dict[str, str]
    message: str
    times: int
    after: bool = False


@dataclass
class FakeGitHub:
    """Start with `with FakeGitHub(...) as gh:`; `gh.url` is the API base URL."""

    token: str = GITHUB_TOKEN
    repository: str = "octo/tasks"
    login: str | None = None  # a personal token's login; None: GET /user answers 403
    app_login: str | None = None  # an App installation token: GraphQL viewer (and comments) say this
    read_only: bool = False  # writes answer 403 "Resource not accessible by integration"
    default_per_page: int = 30
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls_by_commit: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._next_id = 1000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> "FakeGitHub":
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeGitHub":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def author(self) -> str:
        return self.login or self.app_login or BOT

    # -- state -------------------------------------------------------------------------------------

    def add_comment(self, number: int, body: str, *, login: str | None = None, age_minutes: int | None = None) -> int:
        """Seed a comment on PR `number` (by `login`, default: the token's author); returns its id."""
        with self._lock:
            return self._create(number, body, login or self.author, age_minutes)

    def _create(self, number: int, body: str, login: str, age_minutes: int | None = None) -> int:
        self._next_id += 1
        cid = self._next_id
        created = _EPOCH + (timedelta(minutes=-age_minutes) if age_minutes is not None else timedelta(seconds=cid))
        stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.comments[cid] = {
            "id": cid,
            "issue_number": number,
            "body": body,
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
            "created_at": stamp,
            "updated_at": stamp,
            "html_url": f"{SERVER_URL}/{self.repository}/pull/{number}#issuecomment-{cid}",
        }
        return cid

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in sorted(self.comments.values(), key=lambda c: c["id"]) if c["issue_number"] == number]

    def add_pull(
        self, sha: str, number: int, *, merged: bool = True, base_ref: str = "main",
        head_sha: str = "1" * 40, head_repo: str | None = None,
    ) -> None:
        """A pull request that `sha` belongs to (its merge commit when merged, else its head)."""
        pull = {
            "number": number,
            "state": "closed" if merged else "open",
            "merged_at": "2026-01-01T00:00:00Z" if merged else None,
            "merge_commit_sha": sha if merged else None,
            "base": {"ref": base_ref, "sha": "2" * 40, "repo": {"full_name": self.repository}},
            "head": {"ref": f"feature-{number}", "sha": head_sha, "repo": {"full_name": head_repo or self.repository}},
        }
        self.pulls_by_commit.setdefault(sha, []).append(pull)
        self.pulls[number] = pull

    def add_status(self, sha: str, *, context: str, description: str, state: str = "success", login: str | None = None) -> None:
        with self._lock:
            self._status(sha, {"state": state, "context": context, "description": description}, login or self.author)

    def _status(self, sha: str, body: dict[str, Any], login: str) -> dict[str, Any]:
        self._next_id += 1
        item = {
            "id": self._next_id,
            "state": body.get("state"),
            "context": body.get("context") or "default",
            "description": body.get("description"),
            "target_url": body.get("target_url"),
            "creator": {"login": login},
            "created_at": (_EPOCH + timedelta(seconds=self._next_id)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.statuses.setdefault(sha, []).insert(0, item)  # newest first, as GitHub lists them
        return item

    def inject(
        self,
        status: int,
        *,
        method: str | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
        message: str = "injected failure",
        times: int = 1,
        after: bool = False,
    ) -> None:
        """Answer the next `times` matching requests (method, path regex) with `status`; with
        `after`, once the request has taken effect (as when GitHub stores a comment, then fails).
        Status 0 closes the connection without answering (a lost connection)."""
        with self._lock:
            self.faults.append(
                Fault(status, method, re.compile(path) if path else None, dict(headers or {}), message, times, after)
            )

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """Recorded requests, optionally filtered by method and a path regex."""
        pattern = re.compile(path) if path else None
        with self._lock:
            return [
                r for r in self.requests
                if (method is None or r.method == method) and (pattern is None or pattern.search(r.path))
            ]

    # -- routing -----------------------------------------------------------------------------------

    def _fault_for(self, method: str, path: str, after: bool = False) -> Fault | None:
        for fault in self.faults:
            if fault.times <= 0 or fault.after != after:
                continue
            if fault.method and fault.method != method:
                continue
            if fault.path and not fault.path.search(path):
                continue
            fault.times -= 1
            return fault
        return None

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any, base: str):
        """Returns (status, headers, json body)."""
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, {"message": "Bad credentials"}
        fault = self._fault_for(method, path)
        if fault is not None:
            return fault.status, fault.headers, {"message": fault.message}
        answer = self._route(method, path, query, body, base)
        fault = self._fault_for(method, path, after=True)
        if fault is not None:
            return fault.status, fault.headers, {"message": fault.message}
        return answer

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any, base: str):
        repo = re.escape(self.repository)
        if method == "GET" and path == "/user":
            if self.login is None:
                return 403, {}, {"message": "Resource not accessible by integration"}
            return 200, {}, {"login": self.login, "id": 1}
        if method == "POST" and path == "/graphql":
            query_text = body.get("query") if isinstance(body, dict) else None
            if not isinstance(query_text, str) or "viewer" not in query_text:
                return 200, {}, {"errors": [{"message": "unsupported query"}]}
            return 200, {}, {"data": {"viewer": {"login": self.author}}}
        match = re.fullmatch(rf"/repos/{repo}/statuses/([0-9a-f]{{40}})", path)
        if match and method == "POST":
            if self.read_only:
                return 403, {}, {"message": "Resource not accessible by integration"}
            if not isinstance(body, dict) or body.get("state") not in ("error", "failure", "pending", "success"):
                return 422, {}, {"message": "Validation Failed"}
            if len(str(body.get("description") or "")) > 140:
                return 422, {}, {"message": "Validation Failed", "errors": [{"field": "description", "code": "custom"}]}
            return 201, {}, self._status(match.group(1), body, self.author)
        match = re.fullmatch(rf"/repos/{repo}/commits/([0-9a-f]+)/statuses", path)
        if match and method == "GET":
            return 200, {}, list(self.statuses.get(match.group(1), []))
        match = re.fullmatch(rf"/repos/{repo}/pulls/(\d+)", path)
        if match and method == "GET":
            pull = self.pulls.get(int(match.group(1)))
            return (200, {}, pull) if pull is not None else (404, {}, {"message": "Not Found"})
        match = re.fullmatch(rf"/repos/{repo}/issues/(\d+)/comments", path)
        if match and method == "GET":
            return self._list(int(match.group(1)), query, base, path)
        if match and method == "POST":
            if self.read_only:
                return 403, {}, {"message": "Resource not accessible by integration"}
            text = body.get("body") if isinstance(body, dict) else None
            if not isinstance(text, str):
                return 422, {}, {"message": "Validation Failed"}
            if len(text) > MAX_BODY:
                return 422, {}, _too_long()
            cid = self._create(int(match.group(1)), text, self.author)
            return 201, {}, self.comments[cid]
        match = re.fullmatch(rf"/repos/{repo}/issues/comments/(\d+)", path)
        if match and method in ("PATCH", "DELETE"):
            cid = int(match.group(1))
            if self.read_only:
                return 403, {}, {"message": "Resource not accessible by integration"}
            comment = self.comments.get(cid)
            if comment is None:
                return 404, {}, {"message": "Not Found"}
            if comment["user"]["login"] != self.author:
                return 403, {}, {"message": "You must be the author of the comment"}
            if method == "DELETE":
                del self.comments[cid]
                return 204, {}, None
            text = body.get("body") if isinstance(body, dict) else None
            if not isinstance(text, str):
                return 422, {}, {"message": "Validation Failed"}
            if len(text) > MAX_BODY:
                return 422, {}, _too_long()
            comment["body"] = text
            comment["updated_at"] = (_EPOCH + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            return 200, {}, comment
        match = re.fullmatch(rf"/repos/{repo}/commits/([0-9a-f]+)/pulls", path)
        if match and method == "GET":
            return 200, {}, self.pulls_by_commit.get(match.group(1), [])
        return 404, {}, {"message": "Not Found"}

    def _list(self, number: int, query: dict[str, list[str]], base: str, path: str):
        per_page = min(100, int(query.get("per_page", [self.default_per_page])[0]))
        page = max(1, int(query.get("page", ["1"])[0]))
        items = [c for c in sorted(self.comments.values(), key=lambda c: c["id"]) if c["issue_number"] == number]
        pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        if page < pages:
            links.append(f'<{base}{path}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{base}{path}?per_page={per_page}&page={pages}>; rel="last"')
        if page > 1:
            links.append(f'<{base}{path}?per_page={per_page}&page=1>; rel="first"')
        return 200, ({"Link": ", ".join(links)} if links else {}), chunk


def _too_long() -> dict[str, Any]:
    return {
        "message": "Validation Failed",
        "errors": [{"resource": "IssueComment", "code": "custom", "field": "body",
                    "message": "body is too long (maximum is 65536 characters)"}],
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = Recorded(self.command, parts.path, parse_qs(parts.query), headers, body)
        base = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}"
        with self.fake._lock:
            self.fake.requests.append(record)
            status, extra, payload = self.fake.handle(self.command, parts.path, record.query, headers, body, base)
            record.status = status
        if status == 0:  # an injected lost connection: no answer at all
            self.close_connection = True
            return
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve
