"""`serve`: put a local SQLite platform behind the HUD HTTP API, for trials, tests and demos."""

from __future__ import annotations

import argparse
import sys

DEFAULT_DB = ".hud/local-platform.sqlite"
DEFAULT_PORT = 8765


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _statuses(text: str) -> tuple[int, ...]:
    try:
        codes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated status codes, got {text!r}") from None
    if not codes or any(not 400 <= code <= 599 for code in codes):
        raise argparse.ArgumentTypeError(f"expected HTTP error codes (400-599), got {text!r}")
    return codes


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default: {DEFAULT_DB})")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=_non_negative, default=DEFAULT_PORT,
        help=f"port to listen on, 0 for a free one (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--api-key", action="append", default=[], metavar="KEY",
        help="accept only requests carrying this key (repeatable); without it, no key is needed",
    )
    parser.add_argument(
        "--projects", metavar="FILE",
        help='JSON list of v6 projects {"id", "name", "can_create"} answered under /v2/projects',
    )
    parser.add_argument(
        "--registry", metavar="FILE",
        help='JSON list of environments {"id", "name", "scenarios"}; uploads are then validated against it',
    )
    faults = parser.add_argument_group("fault injection (for resilience tests)")
    faults.add_argument("--fail-rate", type=_rate, default=0.0, help="probability of answering with an error")
    faults.add_argument(
        "--fail-status", type=_statuses, default=(429, 500, 502, 503), metavar="CODES",
        help="error codes to inject, comma-separated (default: 429,500,502,503)",
    )
    faults.add_argument("--latency-ms", type=_non_negative, default=0, help="delay before each answer")
    faults.add_argument("--drop-rate", type=_rate, default=0.0, help="probability of hanging up mid-response")
    faults.add_argument("--seed", type=int, default=None, help="seed for the fault injector")
    faults.add_argument(
        "--hold-after-writes", type=_non_negative, default=None, metavar="N",
        help="answer N writes, then hold every further one unanswered (to kill the server at a known point)",
    )
    parser.add_argument(
        "--max-body-bytes", type=_non_negative, default=50 * 1024 * 1024,
        help="largest request body accepted (default: 50 MB)",
    )


def run(args: argparse.Namespace) -> int:
    import signal
    from pathlib import Path

    from hud_sync_hook.errors import HudSyncError
    from hud_sync_hook.platform.base import is_loopback_host
    from hud_sync_hook.platform.local import LocalStore, load_registry
    from hud_sync_hook.platform.local_v2 import load_projects
    from hud_sync_hook.platform.server import FaultInjector, make_server

    db = Path(args.db).expanduser().resolve()
    registry = load_registry(args.registry) if args.registry else None
    store = LocalStore(db, registry=registry)
    projects = load_projects(args.projects) if args.projects else []
    faults = FaultInjector(
        fail_rate=args.fail_rate,
        fail_statuses=tuple(args.fail_status),
        latency_ms=args.latency_ms,
        drop_rate=args.drop_rate,
        seed=args.seed,
        hold_after_writes=args.hold_after_writes,
    )
    try:
        server = make_server(
            store, args.host, args.port, api_keys=args.api_key, faults=faults,
            max_body_bytes=args.max_body_bytes,
        )
    except OSError as err:
        raise HudSyncError(f"cannot listen on {args.host}:{args.port} ({err.strerror or err})") from None
    server.store_v2.projects = projects

    if not args.api_key and not is_loopback_host(args.host):
        from hud_sync_hook.output import warning

        warning(f"serving on {args.host} without --api-key: anyone who can reach it can change the tasksets")

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"hud-sync-hook serve: listening on {server.url} (db: {db})", flush=True)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("hud-sync-hook serve: stopped", file=sys.stderr, flush=True)
    return 0
