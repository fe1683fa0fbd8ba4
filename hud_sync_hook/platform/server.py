"""The HUD platform HTTP API served over a `LocalStore`, with fault injection to test client resilience."""

from __future__ import annotations

import hmac
import json
import random
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

from hud_sync_hook.errors import PlatformError
from hud_sync_hook.platform.local import LocalStore
from hud_sync_hook.platform.local_v2 import LOCAL_TEAM_ID, LOCAL_USER_ID, V2Store

DEFAULT_MAX_BODY_BYTES = 50 * 1024 * 1024
DEFAULT_FAIL_STATUSES = (429, 500, 502, 503)


class ApiError(Exception):
    """An answer other than 200, with the platform's `{"detail": ...}` body."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Fault:
    """What the fault injector decided for one request."""

    status: int | None = None
    after_commit: bool = False
    retry_after: str | None = None
    drop: bool = False


@dataclass
class FaultInjector:
    """Seeded random failures, latency and dropped connections, like an unreliable proxy."""

    fail_rate: float = 0.0
    fail_statuses: tuple[int, ...] = DEFAULT_FAIL_STATUSES
    latency_ms: int = 0
    drop_rate: float = 0.0
    seed: int | None = None
    # After this many writes, every further write is held, unanswered, until the server dies: a
    # crash at a known point, without racing a kill against the client.
    hold_after_writes: int | None = None
    _writes: int = field(init=False, repr=False, default=0)
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def hold(self, method: str) -> bool:
        """Whether to hold this request (a write past `hold_after_writes`) instead of answering it."""
        if self.hold_after_writes is None or method != "POST":
            return False
        with self._lock:
            if self._writes >= self.hold_after_writes:
                return True
            self._writes += 1
        return False

    def draw(self, method: str) -> Fault:
        if not (self.fail_rate or self.drop_rate):
            return Fault()
        with self._lock:
            rng = self._rng
            if self.fail_statuses and rng.random() < self.fail_rate:
                status = rng.choice(self.fail_statuses)
                retry_after = rng.choice(("0", "1")) if status == 429 else None
                # Half the failures of a write come after it committed, as with a proxy timeout.
                after_commit = method == "POST" and rng.random() < 0.5
                return Fault(status=status, after_commit=after_commit, retry_after=retry_after)
            if rng.random() < self.drop_rate:
                return Fault(drop=True)
        return Fault()


Route = Callable[["PlatformRequestHandler", "list[str]", "dict[str, list[str]]", bytes], "tuple[int, Any]"]


class PlatformServer(ThreadingHTTPServer):
    """One store, the accepted keys, the fault injector and the request log."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        store: LocalStore,
        *,
        api_keys: Iterable[str] = (),
        faults: FaultInjector | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        log: TextIO | None = None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.store = store
        self.store_v2 = V2Store(store)
        self.api_keys = tuple(k.encode() for k in api_keys if k)
        self.faults = faults or FaultInjector()
        self.max_body_bytes = max_body_bytes
        self.log = log if log is not None else sys.stderr
        self._log_lock = threading.Lock()
        super().__init__(address, PlatformRequestHandler)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    def log_line(self, text: str) -> None:
        for key in self.api_keys:  # belt and braces: no key ever reaches the log
            text = text.replace(key.decode(), "***")
        with self._log_lock:
            try:
                self.log.write(text + "\n")
                self.log.flush()
            except (OSError, ValueError):
                pass


def _json_body(body: bytes) -> Any:
    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(body, parse_constant=reject_constant)
    except (ValueError, UnicodeDecodeError) as err:
        raise ApiError(400, f"Malformed JSON in request body: {err}") from None
    except RecursionError:
        raise ApiError(400, "Malformed JSON in request body: nested too deeply") from None


def _retry_note(fault: Fault) -> str:
    return f", Retry-After: {fault.retry_after}" if fault.retry_after is not None else ""


def _flag(query: dict[str, list[str]], name: str) -> bool:
    return (query.get(name) or [""])[-1].lower() in ("true", "1", "yes")


class PlatformRequestHandler(BaseHTTPRequestHandler):
    """Answers the task-sync endpoints of the HUD API from the server's store."""

    server: PlatformServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, the body waits for the
    # client's delayed ACK, about 40 ms on every answer.
    disable_nagle_algorithm = True
    server_version = "hud-sync-hook-local"
    sys_version = ""
    timeout = 120  # seconds an idle or stalled connection may hold a thread

    # -- endpoints -----------------------------------------------------------------------------

    def get_evalset(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        name = params[0]
        taskset = self.server.store.find_taskset(name)
        if taskset is None:
            raise ApiError(404, f"Evalset '{name}' not found")
        head = f'{{"evalset_id":{json.dumps(taskset.id)},"evalset_name":{json.dumps(taskset.name)}'
        if _flag(query, "all"):
            return 200, f'{head},"tasks":'.encode() + self.server.store.tasks_json(taskset.id) + b"}"
        return 200, head + "}"

    def post_resolve_evalset(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        payload = _json_body(body)
        if not isinstance(payload, dict):
            raise ApiError(400, "The request body must be a JSON object with 'name'")
        taskset, created = self.server.store.resolve_taskset(payload.get("name"))
        return 200, {"evalset_id": taskset.id, "name": taskset.name, "created": created}

    def get_tasks_by_id(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        taskset = self.server.store.find_taskset(params[0])
        answer = self.server.store.tasks_by_id_json(taskset) if taskset else None
        if answer is None:
            raise ApiError(404, "No tasks found for this evalset")
        return 200, answer

    def post_upload(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        result = self.server.store.upload(_json_body(body))
        return 200, {
            "tasks_created": result.created,
            "tasks_updated": result.updated,
            "evalset_id": result.taskset_id,
        }

    def get_env(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        env = self.server.store.get_env(params[0])
        if env is None:
            raise ApiError(404, "Environment not found")
        return 200, env

    def get_envs(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        search = (query.get("search") or [""])[-1]
        try:
            limit = int((query.get("limit") or ["20"])[-1])
        except ValueError:
            raise ApiError(400, "Query parameter 'limit' must be an integer") from None
        return 200, self.server.store.search_envs(search, limit)

    def get_scenarios(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        scenarios = self.server.store.env_scenarios(params[0])
        if scenarios is None:
            raise ApiError(404, f"Environment '{params[0]}' not found")
        return 200, {"scenarios": [{"name": name} for name in scenarios]}

    # -- the /v2 API of the v6 SDK -------------------------------------------------------------

    def v2_auth_me(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        return 200, {"user_id": LOCAL_USER_ID, "team_id": LOCAL_TEAM_ID}

    def v2_by_name(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        taskset = self.server.store_v2.by_name(params[0])
        if taskset is None:
            raise ApiError(404, f"Taskset '{params[0]}' not found")
        return 200, {"taskset_id": taskset.id, "name": taskset.name}

    def _v2_taskset(self, taskset_id: str):
        taskset = self.server.store_v2.by_id(taskset_id)
        if taskset is None:
            raise ApiError(404, "Taskset not found")
        return taskset

    def v2_taskset(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        taskset = self._v2_taskset(params[0])
        return 200, {"id": taskset.id, "name": taskset.name, "project_id": None, "can_edit": True}

    def v2_export(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        return 200, self.server.store_v2.export_json(self._v2_taskset(params[0]))

    def v2_upload(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        result = self.server.store_v2.upload(_json_body(body))
        return 200, {"taskset_id": result.taskset_id, "tasks_created": result.created, "tasks_updated": result.updated}

    def _int_param(self, query: dict[str, list[str]], name: str, default: int) -> int:
        try:
            return int((query.get(name) or [str(default)])[-1])
        except ValueError:
            raise ApiError(422, f"Query parameter '{name}' must be an integer") from None

    def v2_registry(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        search = (query.get("search") or [""])[-1]
        page = self.server.store_v2.registry_page(
            search, self._int_param(query, "limit", 50), self._int_param(query, "offset", 0)
        )
        return 200, page

    def v2_registry_env(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        env = self.server.store_v2.registry_env(params[0])
        if env is None:
            raise ApiError(404, "Environment not found")
        return 200, env

    def v2_projects(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        search = (query.get("search") or [""])[-1]
        return 200, self.server.store_v2.project_page(
            search, self._int_param(query, "limit", 50), self._int_param(query, "offset", 0)
        )

    def v2_project(self, params: list[str], query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        project = self.server.store_v2.project(params[0])
        if project is None:
            raise ApiError(404, "Project not found")
        return 200, project

    ROUTES: list[tuple[str, re.Pattern[str], Route]] = [
        ("GET", re.compile(r"/v2/auth/me"), v2_auth_me),
        ("GET", re.compile(r"/v2/tasksets/by-name/([^/]+)"), v2_by_name),
        ("GET", re.compile(r"/v2/tasksets/([^/]+)"), v2_taskset),
        ("GET", re.compile(r"/v2/tasksets/([^/]+)/export"), v2_export),
        ("POST", re.compile(r"/v2/tasks/upload"), v2_upload),
        ("GET", re.compile(r"/v2/registry"), v2_registry),
        ("GET", re.compile(r"/v2/registry/([^/]+)"), v2_registry_env),
        ("GET", re.compile(r"/v2/projects"), v2_projects),
        ("GET", re.compile(r"/v2/projects/([^/]+)"), v2_project),
        ("GET", re.compile(r"/tasks/evalset/([^/]+)"), get_evalset),
        ("POST", re.compile(r"/tasks/resolve-evalset"), post_resolve_evalset),
        ("GET", re.compile(r"/tasks/evalsets/([^/]+)/tasks-by-id"), get_tasks_by_id),
        ("POST", re.compile(r"/tasks/upload"), post_upload),
        ("GET", re.compile(r"/registry/envs/([^/]+)"), get_env),
        ("GET", re.compile(r"/registry/envs"), get_envs),
        ("GET", re.compile(r"/tasks/environments/([^/]+)/scenarios"), get_scenarios),
    ]

    # -- plumbing ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _route(self, path: str) -> tuple[Route, list[str]]:
        path = path.rstrip("/") or "/"
        allowed = False
        for method, pattern, route in self.ROUTES:
            match = pattern.fullmatch(path)
            if match:
                if method == self.command:
                    return route, [unquote(group) for group in match.groups()]
                allowed = True
        if allowed:
            raise ApiError(405, "Method Not Allowed")
        raise ApiError(404, "Not Found")

    def _authorized(self) -> bool:
        keys = self.server.api_keys
        if not keys:
            return True
        offered: list[bytes] = []
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            offered.append(auth[7:].strip().encode("utf-8", "replace"))
        if self.headers.get("X-API-Key"):
            offered.append(self.headers["X-API-Key"].strip().encode("utf-8", "replace"))
        return any(hmac.compare_digest(o, k) for o in offered for k in keys)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise ApiError(411, "Send the request body with a Content-Length header")
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "Invalid Content-Length header") from None
        limit = self.server.max_body_bytes
        if length > limit:
            self.close_connection = True  # the unread body must not be taken for the next request
            raise ApiError(413, f"Request body too large: {length} bytes, the limit is {limit} bytes")
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            raise ConnectionError("client closed the connection while sending the body")
        return body

    def _handle(self) -> None:
        start = time.perf_counter()
        url = urlsplit(self.path)
        note = ""
        status = 500
        try:
            if url.path == "/health":
                status = self._send(200, {"ok": True})
                return
            if not self._authorized():
                self.close_connection = True
                raise ApiError(401, "Invalid or missing API key")
            if self.server.faults.hold(self.command):
                self.server.log_line(f"held: {self.command} {url.path} (--hold-after-writes)")
                threading.Event().wait()  # never answered: the server is to be killed now
            body = self._read_body() if self.command in ("POST", "PUT", "PATCH") else b""
            route, params = self._route(url.path)
            fault = self.server.faults.draw(self.command)
            if self.server.faults.latency_ms:
                time.sleep(self.server.faults.latency_ms / 1000)
            if fault.status and not fault.after_commit:
                note = " (injected" + _retry_note(fault) + ")"
                status = self._send_fault(fault)
                return
            try:
                status, payload = route(self, params, parse_qs(url.query), body)
            except PlatformError as err:
                status, payload = err.status or 400, {"detail": err.detail or str(err)}
            if fault.status:
                note = " (injected after commit" + _retry_note(fault) + ")"
                status = self._send_fault(fault)
            elif fault.drop:
                note = " (dropped mid-response)"
                status = self._send(status, payload, drop=True)
            else:
                status = self._send(status, payload)
        except ApiError as err:
            status = self._send(err.status, {"detail": err.detail})
        except UnicodeEncodeError:  # a lone surrogate ("\ud800") the store cannot keep as text
            status = self._send(400, {"detail": "Malformed request: a text value is not valid Unicode (a lone surrogate)"})
        except (ConnectionError, TimeoutError):
            status, note = 499, " (client went away)"
            self.close_connection = True
        except Exception as err:  # never let one request take the server down
            note = f" (internal error: {type(err).__name__})"
            status = self._send(500, {"detail": "Internal server error"})
        finally:
            ms = (time.perf_counter() - start) * 1000
            path = url.path + (f"?{url.query}" if url.query else "")
            self.server.log_line(f"{self.command} {path} {status} {ms:.1f}ms{note}")

    def _send_fault(self, fault: Fault) -> int:
        assert fault.status is not None
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        phrase = HTTPStatus(fault.status).phrase if fault.status in HTTPStatus._value2member_map_ else ""
        return self._send(fault.status, {"detail": f"Injected fault: {fault.status} {phrase}".rstrip()}, headers)

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None, *, drop: bool = False) -> int:
        if isinstance(payload, bytes):  # JSON already encoded
            data = payload
        else:
            text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
            data = text.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if self.close_connection or drop:
                self.send_header("Connection", "close")
            self.end_headers()
            if drop:  # part of the body, then hang up: the client must notice and retry
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            else:
                self.wfile.write(data)
        except (ConnectionError, OSError):
            self.close_connection = True
        return status

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found while parsing the request line or headers, answered as JSON too."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # answer with a status line all the same
        self._send(code, {"detail": message or HTTPStatus(code).phrase})
        self.server.log_line(f"- {self.path if hasattr(self, 'path') else '-'} {code} ({message or ''})")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are logged once, by `_handle`, without headers."""

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log_line("serve: " + (format % args))


def make_server(
    store: LocalStore,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    api_keys: Iterable[str] = (),
    faults: FaultInjector | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    log: TextIO | None = None,
) -> PlatformServer:
    """Bind the server (port 0 picks a free port); call `serve_forever()` to answer requests."""
    return PlatformServer(
        (host, port), store, api_keys=api_keys, faults=faults, max_body_bytes=max_body_bytes, log=log
    )
