"""Hostile servers on loopback: one that logs what it is sent, one that trickles, one that never ends.

Each runs in a thread of the test process on a 127.x address and port 0, answers every request the
same way, and stops by itself: the trickle and the endless answer after a bounded number of bytes,
or as soon as the client goes away, and every server when its `with` block ends.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Attacker:
    """A running server: `.url`, `.seen` (requests, with their headers), `.stop()`."""

    server: ThreadingHTTPServer
    thread: threading.Thread
    seen: list[Seen] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def credentials_seen(self) -> list[str]:
        """Header names that carried a credential, one per request that sent any (never the value)."""
        return [name for s in self.seen for name in s.headers if name in ("authorization", "x-api-key")]

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def __enter__(self) -> "Attacker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _start(host: str, answer: Callable[[BaseHTTPRequestHandler, Attacker], None]) -> Attacker:
    holder: list[Attacker] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(min(length, 64 * 1024 * 1024))
            attacker = holder[0]
            attacker.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            try:
                answer(self, attacker)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_PUT = _any

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    attacker = Attacker(server, thread)
    holder.append(attacker)
    thread.start()
    return attacker


def logging_server(
    host: str = "127.0.0.2", status: int = 404, body: object = None, routes: dict[str, tuple[int, object]] | None = None
) -> Attacker:
    """Records each request (headers included) and answers `status` with `body` as JSON, or what
    `routes` gives for "METHOD /path" (the path without its query)."""

    def answer(handler: BaseHTTPRequestHandler, attacker: Attacker) -> None:
        code, content = (routes or {}).get(f"{handler.command} {handler.path.split('?')[0]}", (status, body))
        data = json.dumps(content if content is not None else {"detail": "Not Found"}).encode()
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return _start(host, answer)


def trickle_server(host: str = "127.0.0.1", interval: float = 0.5, limit: int = 600, in_headers: bool = False) -> Attacker:
    """Answers one byte every `interval` seconds, at most `limit` bytes: in the body (after a 200
    header announcing a long JSON body), or from the status line on with `in_headers`."""

    def answer(handler: BaseHTTPRequestHandler, attacker: Attacker) -> None:
        if in_headers:
            stream = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * limit
        else:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(10 * limit))
            handler.end_headers()
            handler.wfile.flush()
            stream = b'{"evalset_id": "' + b"a" * limit
        for byte in stream:
            if attacker.stopping.wait(interval):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
        handler.close_connection = True

    return _start(host, answer)


def endless_server(kind: str, host: str = "127.0.0.1", limit_bytes: int = 2 * 1024**3) -> Attacker:
    """A 200 JSON answer that never ends (until `limit_bytes` or the client leaves): `string` is one
    endless string in the taskset's name; `records` endless task records with fresh ids; `plain`
    an endless `evalset_id` for a non-streamed answer."""

    def answer(handler: BaseHTTPRequestHandler, attacker: Attacker) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()  # no length: the body ends when the connection closes
        handler.close_connection = True
        if kind == "records":
            head = b'{"evalset_id": "x", "tasks": {'
        elif kind == "string":
            head = b'{"evalset_name": "'
        else:
            head = b'{"evalset_id": "'
        handler.wfile.write(head)
        sent = len(head)
        chunk = b"x" * 65536
        number = 0
        while sent < limit_bytes and not attacker.stopping.is_set():
            if kind == "records":
                parts = []
                for _ in range(500):
                    number += 1
                    parts.append(b'"id-%d": {"slug": "s%d", "scenario": "x", "args": {}},' % (number, number))
                data = b"".join(parts)
            else:
                data = chunk
            handler.wfile.write(data)
            sent += len(data)

    return _start(host, answer)


def wait_for(condition: Callable[[], bool], limit: float = 60.0, step: float = 0.05) -> bool:
    """Poll `condition` until it holds or `limit` seconds pass (a bound, not an expectation)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return condition()


def can_bind(host: str) -> bool:
    try:
        with socket.socket() as sock:
            sock.bind((host, 0))
        return True
    except OSError:
        return False
