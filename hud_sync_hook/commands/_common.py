"""Arguments and steps shared by plan, apply and validate."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hud_sync_hook import output
from hud_sync_hook.errors import HudSyncError

DEFAULT_API_URL = "https://api.hud.ai"


def add_source_arguments(parser: argparse.ArgumentParser, *, with_taskset: bool = True) -> None:
    parser.add_argument("source", nargs="?", default=".", help="task folder or file (default: .)")
    if with_taskset:
        parser.add_argument(
            "taskset", nargs="?", default=None, help="taskset name or id (default: tasksetId in .hud/config.json)"
        )
    parser.add_argument(
        "--import-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="give up importing a Python task file after this long (default: 60)",
    )


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument("--id", dest="taskset_id", metavar="UUID", help="taskset id (skips the name look-up)")
    parser.add_argument("--task", dest="only", metavar="SLUG", help="only this task")
    parser.add_argument("--exclude", action="append", default=[], metavar="SLUG", help="leave this task out (repeatable)")
    parser.add_argument("--force", action="store_true", help="upload every task, changed or not")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="how to show the plan")
    parser.add_argument("--out", metavar="FILE", help="also write the rendered plan to FILE")
    add_api_arguments(parser)
    parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when there are changes (0: nothing to do, 1: error)",
    )


def add_api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-url",
        default=None,
        help="platform URL, or `local` / `local:PATH` for the SQLite platform (default: $HUD_API_URL or https://api.hud.ai)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="HTTP timeout per request")


def api_url(args: argparse.Namespace) -> str:
    return args.api_url or os.environ.get("HUD_API_URL") or DEFAULT_API_URL


def open_platform_for(args: argparse.Namespace, project_root: Path | None):
    """The platform the arguments name; the API key is required for anything but `local`."""
    from hud_sync_hook.config import find_api_key
    from hud_sync_hook.platform import open_platform

    url = api_url(args)
    key = None
    if not url.startswith("local"):
        key = find_api_key()
        # A `serve` on this machine started without --api-key takes requests without one.
        if not key and not _is_loopback_url(url):
            raise HudSyncError(
                "no HUD API key: set HUD_API_KEY, or put HUD_API_KEY=... in ./.env or ~/.hud/.env "
                "(or use --api-url local to try the local platform)"
            )
        output.register_secret(key)
    return open_platform(url, key, project_root=project_root, timeout=getattr(args, "timeout", 30.0))


def _is_loopback_url(url: str) -> bool:
    from urllib.parse import urlsplit

    from hud_sync_hook.platform.base import is_loopback_host

    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return bool(host) and is_loopback_host(host)


def write_out(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as err:
        raise HudSyncError(f"cannot write the plan: {err.strerror}; check the path", file=path) from None


def print_problems(problems, skipped=()) -> None:
    for problem in problems:
        print(f"{problem}", file=sys.stderr)
    for item in skipped:
        print(f"Skipped: {item}", file=sys.stderr)


class Progress:
    """Upload progress on stderr: on a terminal a bar redrawn in place; elsewhere (a CI log) a plain
    line every `every` batches or `seconds` seconds, whichever comes first, and one at the end.

    `clock` is the time source (seconds, monotonic), to be replaced where time must not matter.
    """

    def __init__(self, terminal: bool, *, stream=None, every: int = 10, seconds: float = 5.0, clock=None) -> None:
        import time

        self.terminal = terminal
        self.stream = stream
        self.every = max(1, every)
        self.seconds = seconds
        self.clock = clock or time.monotonic
        self._last_done = 0
        self._last_time = self.clock()

    def __call__(self, done: int, total: int) -> None:
        if total <= 1:
            return
        stream = self.stream or sys.stderr
        if self.terminal:
            width = 30
            filled = int(width * done / total)
            stream.write(f"\rUploading [{'#' * filled}{'.' * (width - filled)}] {done}/{total} batches")
            if done == total:
                stream.write("\n")
        else:
            now = self.clock()
            if done < total and done - self._last_done < self.every and now - self._last_time < self.seconds:
                return
            self._last_done, self._last_time = done, now
            stream.write(f"Uploading: {done}/{total} batches ({100 * done // total}%)\n")
        stream.flush()
