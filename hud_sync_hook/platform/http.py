"""The HUD platform API client: the contract's requests, with retries and errors a user can act on."""

from __future__ import annotations

import codecs
import json
import random
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterator
from urllib.parse import quote, urlsplit

import httpcore
import httpx

from hud_sync_hook import __version__
from hud_sync_hook.errors import HudSyncError, PlatformError
from hud_sync_hook.bulk import paused_gc
from hud_sync_hook.jsonstream import ValueTooLarge, parse_streaming
from hud_sync_hook.platform.base import RemoteTaskset, UploadResult, is_loopback_host, is_uuid


def _loads(data: bytes) -> Any:
    """Parse an answer with the standard library: orjson reads integers beyond 64 bits as floats
    (or refuses them), and such a task would never compare equal to its local copy."""
    with paused_gc():
        return json.loads(data)


STREAM_CHUNK_BYTES = 256 * 1024
# Answers larger than these are refused: a taskset listing is sized for a million tasks and more
# (2 KiB a task); every other answer is small.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
MAX_TASKS_ANSWER_BYTES = 4 * 1024**3
MAX_TASKS = 2_000_000
MAX_TASK_RECORD_CHARS = 16 * 1024 * 1024


class _Deadline:
    """The moment the request in flight must be over, first byte to last (None: no request)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at: float | None = None

    def bound(self, timeout: float | None, error: type[Exception]) -> float | None:
        """`timeout` for one socket operation, cut to what is left; raises `error` when nothing is."""
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise error(f"no complete answer within {self.seconds:g} s")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the request's deadline, so that an answer
    trickling in a byte at a time cannot keep a request going past `--timeout`."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        bounded = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: Any, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        bounded = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        inner = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _DeadlineStream(inner, self._deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        bounded = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, bounded, socket_options), self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _bound_by(client: httpx.Client, deadline: _Deadline) -> None:
    """Put every connection the client makes (proxied ones too) under `deadline`."""
    transports = [client._transport, *client._mounts.values()]  # noqa: SLF001 - httpx has no public hook
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is None:
            continue
        backend = getattr(pool, "_network_backend", None)
        if backend is None:
            raise RuntimeError("this httpx/httpcore version has no network backend to bound requests by")
        pool._network_backend = _DeadlineBackend(backend, deadline)  # noqa: SLF001
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 30.0
# Retry tuning from the environment (e.g. for tests against a faulty local server, or a CI job that
# would rather fail fast): variable -> (HttpPlatform argument, type, smallest value, largest value).
RETRY_ENV = {
    "HUD_SYNC_HOOK_MAX_ATTEMPTS": ("max_attempts", int, 1, 100),
    "HUD_SYNC_HOOK_BACKOFF_SECONDS": ("backoff_base", float, 0.0, 60.0),
    "HUD_SYNC_HOOK_MAX_RETRY_SECONDS": ("max_retry_seconds", float, 0.0, 3600.0),
}


def retry_options_from_env(environ: Any = None) -> dict[str, Any]:
    """HttpPlatform retry arguments set through `RETRY_ENV` variables; a bad value is an error."""
    import os

    environ = os.environ if environ is None else environ
    options: dict[str, Any] = {}
    for name, (argument, kind, smallest, largest) in RETRY_ENV.items():
        raw = environ.get(name)
        if raw is None or not raw.strip():
            continue
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or value != value or not smallest <= value <= largest:
            raise HudSyncError(
                f"{name}={raw!r} must be a {kind.__name__} from {smallest} to {largest}; fix or unset it"
            )
        options[argument] = value
    return options


def _certificate_error(err: BaseException) -> bool:
    """Whether a connection failed because the server's TLS certificate did not verify."""
    import ssl

    seen: BaseException | None = err
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def parse_retry_after(value: str | None, cap: float, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date, counted from `now`,
    by default the current time), capped; None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _detail(response: httpx.Response) -> str:
    """The platform's `detail` (FastAPI style) or the start of the body."""
    try:
        data = _loads(response.content)
    except ValueError:
        return _one_line(response.text or response.reason_phrase or "")
    if isinstance(data, dict) and "detail" in data:
        detail = data["detail"]
        return detail if isinstance(detail, str) else json.dumps(detail, separators=(",", ":"))
    return _one_line(response.text)


class HttpPlatform:
    """`Platform` over the HUD HTTP API (`shared/docs/hud-platform-api.md`).

    Every call is retried on network errors and on 429/5xx with full-jitter exponential backoff,
    honouring `Retry-After`, within `max_attempts` and `max_retry_seconds`. Uploads are idempotent
    upserts by slug, so retrying them is safe even when a failed answer hid a committed write.
    `sleep` and `clock` (seconds, monotonic) are how it waits and tells the time between attempts.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = 30.0,
        max_attempts: int = 6,
        max_retry_seconds: float = 120.0,
        backoff_base: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        base_url = (base_url or "").strip().rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HudSyncError(
                f"--api-url must be an http:// or https:// URL (or 'local'), got {base_url!r}"
            )
        if parts.username or parts.password:
            raise HudSyncError("--api-url must not contain credentials; put the key in HUD_API_KEY")
        api_key = (api_key or "").strip() or None
        if api_key is not None and not all(33 <= ord(ch) <= 126 for ch in api_key):
            raise HudSyncError(
                "HUD_API_KEY contains spaces, control or non-ASCII characters; copy the key again"
            )
        loopback = is_loopback_host(parts.hostname)
        if api_key and parts.scheme == "http" and not loopback:
            raise HudSyncError(
                f"refusing to send the API key over plain http:// to {parts.hostname}; "
                "use https:// or a loopback address (127.0.0.1, ::1, localhost)"
            )
        self.base_url = base_url
        self._api_key = api_key
        self.max_attempts = max(1, max_attempts)
        self.max_retry_seconds = max(0.0, max_retry_seconds)
        self.backoff_base = max(0.0, backoff_base)
        self._count = 0
        self._random = random.Random()
        self._sleep = sleep
        self._clock = clock
        headers = {"User-Agent": f"hud-sync-hook/{__version__}", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
            headers["X-API-Key"] = api_key
        self.timeout = timeout
        self._deadline = _Deadline(timeout)
        self._budget_end: float | None = None
        self._client = httpx.Client(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            verify=True,
            follow_redirects=False,
            # Proxy settings from the environment must not divert loopback traffic.
            trust_env=not loopback,
        )
        _bound_by(self._client, self._deadline)

    key_source: str | None = None  # where the API key came from, for the plan header

    @property
    def url(self) -> str:
        return self.base_url

    def __repr__(self) -> str:
        return f"HttpPlatform({self.base_url!r}, api_key={'set' if self._api_key else 'not set'})"

    def __enter__(self) -> "HttpPlatform":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def request_count(self) -> int:
        return self._count

    def close(self) -> None:
        self._client.close()

    def limit_total(self, seconds: float | None) -> None:
        """From now on, all requests together (retries included) end within `seconds`; None lifts it."""
        self._budget_end = None if seconds is None else time.monotonic() + seconds

    # -- transport -----------------------------------------------------------------------------

    def _masked(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _error(self, message: str, *, status: int | None = None, detail: str | None = None) -> PlatformError:
        return PlatformError(
            self._masked(message), status=status, detail=self._masked(detail) if detail else detail
        )

    def _backoff(self, attempt: int) -> float:
        return self._random.uniform(0, min(MAX_BACKOFF_SECONDS, self.backoff_base * 2 ** (attempt - 1)))

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one call, retrying what may succeed on a second try; the answer is fully read."""
        return self._exchange(method, path, None, **kwargs)[0]

    def _exchange(
        self, method: str, path: str, consume: Callable[[httpx.Response], Any] | None, **kwargs: Any
    ) -> tuple[httpx.Response, Any]:
        """`_request`, except that a successful (2xx) answer's body is handed to `consume` as it
        arrives instead of being read whole; returns the response and what `consume` returned.

        A connection lost mid-body is retried like any other, and `consume` starts again.
        """
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            self._count += 1
            retry_after: float | None = None
            response: httpx.Response | None = None
            consumed: Any = None
            now = time.monotonic()
            self._deadline.at = now + self.timeout
            if self._budget_end is not None:
                if self._budget_end <= now:
                    raise self._error(
                        f"the HUD platform at {self.base_url} did not answer within the time allowed; "
                        "check --api-url or your network"
                    )
                self._deadline.at = min(self._deadline.at, self._budget_end)
            try:
                with self._client.stream(method, path, **kwargs) as response:
                    if consume is not None and 200 <= response.status_code < 300:
                        consumed = consume(response)
                    else:
                        self._read_capped(response, method, path)
            except httpx.TransportError as err:
                response = None  # whatever arrived before the connection failed is not an answer
                reason = _one_line(f"{type(err).__name__}: {err}" if str(err) else type(err).__name__)
                if isinstance(err, httpx.TimeoutException):  # --timeout bounds the whole request
                    reason = f"{type(err).__name__}: no complete answer within {self.timeout:g} s"
                if _certificate_error(err):  # not a passing fault: retrying cannot help
                    raise self._error(
                        f"the TLS certificate of {self.base_url} could not be verified ({reason}); "
                        "check --api-url, or if your network uses its own certificate authority, "
                        "point SSL_CERT_FILE at its bundle"
                    ) from None
            except httpx.HTTPError as err:
                raise self._error(f"request to the HUD platform failed: {_one_line(str(err))}") from None
            finally:
                self._deadline.at = None
            if response is not None:
                if response.status_code not in RETRY_STATUSES:
                    return response, consumed
                reason = f"HTTP {response.status_code}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"), self.max_retry_seconds)
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            # The retry budget runs on the client's clock; the whole-call budget on the sockets' one.
            out_of_time = self._clock() - started + delay > self.max_retry_seconds or (
                self._budget_end is not None and time.monotonic() + delay >= self._budget_end
            )
            if attempt >= self.max_attempts or out_of_time:
                if response is not None:
                    raise self._error(
                        f"the HUD platform at {self.base_url} answered HTTP {response.status_code} "
                        f"to {method} {path} {_plural(attempt, 'time')} "
                        f"({_one_line(_detail(response), 150)}); try again later",
                        status=response.status_code,
                        detail=_detail(response),
                    )
                raise self._error(
                    f"cannot reach the HUD platform at {self.base_url} after "
                    f"{_plural(attempt, 'attempt')} ({reason}); check --api-url or your network"
                )
            self._sleep(delay)

    def _too_large(self, method: str, path: str, limit: int, what: str = "bytes") -> PlatformError:
        return self._error(
            f"the HUD platform's answer to {method} {path} is larger than {limit:,} {what}, "
            "more than any taskset needs; refusing it (check --api-url)"
        )

    def _read_capped(self, response: httpx.Response, method: str, path: str) -> None:
        """Read a whole (small) answer, refusing one above `MAX_ANSWER_BYTES`."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            raise self._too_large(method, path, MAX_ANSWER_BYTES)
        parts: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes(STREAM_CHUNK_BYTES):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise self._too_large(method, path, MAX_ANSWER_BYTES)
            parts.append(chunk)
        response._content = b"".join(parts)  # noqa: SLF001 - what `response.read()` itself sets

    def _check(self, response: httpx.Response, method: str, path: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status in (401, 403):
            if self._api_key:
                raise self._error(
                    f"the HUD platform refused the API key ({status}); check HUD_API_KEY", status=status
                )
            raise self._error(
                f"no HUD API key, and the HUD platform at {self.base_url} needs one ({status}): set HUD_API_KEY, "
                "or put HUD_API_KEY=... in ./.env or ~/.hud/.env",
                status=status,
            )
        detail = _detail(response)
        raise self._error(
            f"the HUD platform answered HTTP {status} to {method} {path}: {_one_line(detail)}",
            status=status,
            detail=detail,
        )

    def _json(self, response: httpx.Response, method: str, path: str) -> Any:
        try:
            return _loads(response.content)
        except ValueError:
            start = _one_line(response.text, 80) if response.content else "an empty body"
            raise self._not_json(method, path, response.status_code, start) from None

    def _not_json(self, method: str, path: str, status: int, start: str) -> PlatformError:
        return self._error(
            f"the HUD platform sent an answer that is not JSON to {method} {path} "
            f"(HTTP {status}: {start}); check --api-url",
            status=status,
        )

    def _shape_error(self, method: str, path: str, expected: str) -> PlatformError:
        return self._error(
            f"the HUD platform sent an unexpected answer to {method} {path}: expected {expected}; "
            "check --api-url"
        )

    def _get(self, path: str, *, allow_404: bool = False, **kwargs: Any) -> Any:
        response = self._request("GET", path, **kwargs)
        if allow_404 and response.status_code == 404:
            return None
        self._check(response, "GET", path)
        return self._json(response, "GET", path)

    # -- Platform ------------------------------------------------------------------------------

    def find_taskset(self, name: str) -> RemoteTaskset | None:
        path = f"/tasks/evalset/{quote(name, safe='')}"
        data = self._get(path, allow_404=True)
        if data is None:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("evalset_id"), str) or not data["evalset_id"]:
            raise self._shape_error("GET", path, "an object with 'evalset_id'")
        found_name = data.get("evalset_name")
        return RemoteTaskset(id=data["evalset_id"], name=found_name if isinstance(found_name, str) else name)

    def fetch_tasks(
        self, taskset_id: str, keep: Callable[[dict[str, Any]], Any] | None = None
    ) -> tuple[str | None, list[Any]]:
        path = f"/tasks/evalsets/{quote(taskset_id, safe='')}/tasks-by-id"
        response, read = self._exchange("GET", path, lambda answer: self._read_tasks(answer, path, keep))
        if response.status_code == 404:
            return None, []
        self._check(response, "GET", path)
        data, kept = read
        if not isinstance(data, dict) or not isinstance(data.get("tasks"), (dict, list)):
            raise self._shape_error("GET", path, "an object with 'tasks' keyed by task id")
        name = data.get("evalset_name")
        return (name if isinstance(name, str) else None), kept

    def _read_tasks(
        self, response: httpx.Response, path: str, keep: Callable[[dict[str, Any]], Any] | None
    ) -> tuple[Any, list[Any]]:
        """Parse a tasks-by-id answer as it arrives: each task record is handed to `keep` and only
        what it returns (unless None) is held, so a large taskset is never in memory as a whole."""
        by_id: dict[str, Any] = {}
        listed: list[Any] = []
        seen = [0]

        def on_entry(task_id: str | None, record: Any) -> None:
            seen[0] += 1
            if seen[0] > MAX_TASKS:
                raise self._too_large("GET", path, MAX_TASKS, "tasks")
            if not isinstance(record, dict):
                raise self._shape_error("GET", path, "task records (objects) in 'tasks'")
            if task_id is not None:
                record.setdefault("id", task_id)
            kept = keep(record) if keep is not None else record
            if task_id is None:
                if kept is not None:
                    listed.append(kept)
            elif kept is None:
                by_id.pop(task_id, None)  # a repeated id replaces the earlier record, as in json.loads
            else:
                by_id[task_id] = kept

        head: list[str] = []
        decoder = codecs.getincrementaldecoder("utf-8-sig")()

        def text() -> Iterator[str]:
            size = 0
            for chunk in response.iter_bytes(STREAM_CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_TASKS_ANSWER_BYTES:
                    raise self._too_large("GET", path, MAX_TASKS_ANSWER_BYTES)
                part = decoder.decode(chunk)
                if not head and part.strip():
                    head.append(part[:200])
                yield part
            yield decoder.decode(b"", final=True)

        try:
            with paused_gc():
                data = parse_streaming(text(), "tasks", on_entry, max_value_chars=MAX_TASK_RECORD_CHARS)
        except ValueTooLarge:
            raise self._too_large("GET", path, MAX_TASK_RECORD_CHARS, "characters in one value") from None
        except (ValueError, RecursionError):
            start = _one_line(head[0], 80) if head else "an empty body"
            raise self._not_json("GET", path, response.status_code, start) from None
        return data, list(by_id.values()) or listed

    def upload(
        self, name: str, tasks: list[dict[str, Any]], columns: dict[str, Any] | None
    ) -> UploadResult:
        path = "/tasks/upload"
        payload: dict[str, Any] = {"name": name, "tasks": tasks}
        if columns:
            payload["columns"] = columns
        response = self._request("POST", path, json=payload)
        if response.status_code in (400, 422):
            detail = _detail(response)
            raise self._error(
                f"upload rejected by the platform: {detail}", status=response.status_code, detail=detail
            )
        self._check(response, "POST", path)
        data = self._json(response, "POST", path)
        return self._upload_result(data, path, len(tasks))

    def _upload_result(self, data: Any, path: str, sent: int) -> UploadResult:
        """The counts and id of an upload answer, checked: a 200 is believed only when it says
        what happened to every task sent, and names the taskset by a UUID."""
        if isinstance(data, dict) and data.get("error"):
            detail = data["error"] if isinstance(data["error"], str) else json.dumps(data["error"])
            raise self._error(f"the platform answered the upload with an error: {_one_line(detail, 200)}", detail=detail)

        def count(key: str) -> int | None:
            value = data.get(key) if isinstance(data, dict) else None
            return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

        created, updated = count("tasks_created"), count("tasks_updated")
        taskset_id = data.get("evalset_id") if isinstance(data, dict) else None
        if created is None or updated is None or not isinstance(taskset_id, str):
            raise self._shape_error(
                "POST", path, "an object with 'tasks_created', 'tasks_updated' (counts) and 'evalset_id'"
            )
        if created + updated != sent:
            raise self._error(
                f"the platform's upload answer does not add up: {created} created and {updated} updated "
                f"for {sent} task(s) sent; not trusting it (check --api-url)"
            )
        if not is_uuid(taskset_id):
            raise self._error(
                f"the platform's upload answer names the taskset {_one_line(repr(taskset_id), 80)}, which is not "
                "a taskset id (a UUID); not storing it (check --api-url)"
            )
        return UploadResult(created=created, updated=updated, taskset_id=taskset_id)

    def get_env(self, registry_id: str) -> dict[str, Any] | None:
        path = f"/registry/envs/{quote(registry_id, safe='')}"
        data = self._get(path, allow_404=True)
        if data is None:
            return None
        if not isinstance(data, dict) or "name" not in data:
            raise self._shape_error("GET", path, "an environment object with 'id' and 'name'")
        return data

    def search_envs(self, name: str, limit: int = 5) -> list[dict[str, Any]]:
        path = "/registry/envs"
        data = self._get(path, params={"search": name, "limit": limit})
        if not isinstance(data, list) or not all(isinstance(env, dict) for env in data):
            raise self._shape_error("GET", path, "a list of environments")
        return data

    def env_scenarios(self, env_name: str) -> list[str]:
        path = f"/tasks/environments/{quote(env_name, safe='')}/scenarios"
        data = self._get(path, allow_404=True)
        if data is None:
            return []
        scenarios = data.get("scenarios") if isinstance(data, dict) else None
        if not isinstance(scenarios, list):
            raise self._shape_error("GET", path, "an object with a 'scenarios' list")
        names = []
        for item in scenarios:
            value = item.get("name") if isinstance(item, dict) else item
            if isinstance(value, str):
                names.append(value)
        return names
