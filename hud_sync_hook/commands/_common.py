"""Arguments and steps shared by plan, apply and validate."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Iterable

from hud_sync_hook import output
from hud_sync_hook.errors import HudSyncError

DEFAULT_API_URL = "https://api.hud.ai"


TASK_FILE_SUFFIXES = (".py", ".json", ".jsonl", ".yaml", ".yml")


def add_source_arguments(parser: argparse.ArgumentParser, *, with_taskset: bool = True) -> None:
    """`[TASKSET] [SOURCE]` as `hud sync tasks` takes them, or `[SOURCE]` alone; plus the flag forms."""
    if with_taskset:
        parser.add_argument(
            "taskset", nargs="?", default=None, metavar="TASKSET",
            help="taskset name or id (default: tasksetId in .hud/config.json); "
            "a lone argument that names an existing path is the SOURCE",
        )
    parser.add_argument("source", nargs="?", default=None, metavar="SOURCE", help="task folder or file (default: .)")
    if with_taskset:
        parser.add_argument(
            "--taskset", dest="taskset_flag", metavar="NAME|ID", help="the taskset, as a flag (never read as a path)"
        )
    parser.add_argument("--source", dest="source_flag", metavar="PATH", help="the task folder or file, as a flag")
    parser.add_argument(
        "--import-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="give up importing a Python task file after this long (default: 60)",
    )
    add_allow_import_errors(parser)
    add_sdk_argument(parser)


ALLOW_IMPORT_ERRORS_HELP = (
    "a task file (path or glob, relative to the working directory) whose import error is shown but not "
    "an error: the plan goes on without its tasks (repeatable; also allowImportErrors in .hud/config.json). "
    "Any other task file that fails to import is an error"
)


def add_allow_import_errors(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-import-errors", dest="allow_import_errors", action="append", default=[], metavar="GLOB",
        help=ALLOW_IMPORT_ERRORS_HELP,
    )


def add_sdk_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sdk",
        choices=("auto", "v5", "v6"),
        default="auto",
        help="HUD SDK generation of the tasks: v5 (hud-python 0.5), v6 (hud 0.6), or auto to decide "
        "from .hud/config.json, the task files and the installed SDK (default: auto)",
    )


def project_dialect(args: argparse.Namespace, folder: Path, config):
    """The SDK generation of the project in `folder` (from --sdk, its config and files) and the
    config as that generation reads it."""
    from hud_sync_hook.dialect import choose, get

    dialect = get(choose(args.sdk, folder, config_data=config.data, config_shown=config.shown()).name)
    return dialect, dialect.adapt_config(config)


def _looks_like_path(value: str) -> bool:
    return value in (".", "..") or value.endswith(("/", os.sep)) or "/" in value or os.sep in value


def resolve_target(args: argparse.Namespace) -> None:
    """Settle `args.taskset` and `args.source` from the positionals and `--taskset`/`--source`.

    Two positionals are TASKSET SOURCE. A lone positional that names an existing path is the source
    (said on stderr); otherwise it is the taskset. A taskset that looks like a path is refused.
    """
    if getattr(args, "target_resolved", False):  # planning again after a rewrite
        return
    args.target_resolved = True
    command = f"hud-sync-hook {getattr(args, 'command', None) or 'plan'}"
    positionals = [p for p in (getattr(args, "taskset", None), args.source) if p is not None]
    taskset_flag = getattr(args, "taskset_flag", None)
    source_flag = getattr(args, "source_flag", None)
    if not hasattr(args, "taskset_flag"):  # a command that takes [SOURCE] only
        if source_flag is not None and positionals:
            raise HudSyncError(f"give the source once: {positionals[0]!r} or --source {source_flag!r}")
        args.source = source_flag if source_flag is not None else (positionals[0] if positionals else ".")
        return
    taskset: str | None = None
    source: str | None = source_flag
    flagged_taskset = taskset_flag is not None
    if taskset_flag is not None and source_flag is not None and positionals:
        raise HudSyncError(
            f"unexpected argument {positionals[0]!r}: the taskset and the source are already given "
            "by --taskset and --source"
        )
    if taskset_flag is not None:
        if len(positionals) > 1:
            raise HudSyncError(f"unexpected argument {positionals[1]!r}: with --taskset, pass at most the SOURCE")
        taskset = taskset_flag
        source = source_flag if source_flag is not None else (positionals[0] if positionals else None)
    elif source_flag is not None:
        if len(positionals) > 1:
            raise HudSyncError(f"unexpected argument {positionals[1]!r}: with --source, pass at most the TASKSET")
        taskset = positionals[0] if positionals else None
    elif len(positionals) == 2:
        taskset, source = positionals
        if Path(taskset).exists() and not Path(source).exists():
            raise HudSyncError(
                f"{taskset!r} is a path and {source!r} is not: the arguments are [TASKSET] [SOURCE], "
                f"as for `hud sync tasks`; did you mean `{command} {source} {taskset}`?"
            )
    elif len(positionals) == 1:
        only = positionals[0]
        if Path(only).exists():
            source = only
            stored = "--id" if getattr(args, "taskset_id", None) else "tasksetId in the project's .hud/config.json"
            hint = "" if _looks_like_path(only) else f" (to name a taskset {only!r}, pass --taskset {only})"
            print(
                f"hud-sync-hook: {only!r} is an existing path, so it is the SOURCE; the taskset comes from {stored}{hint}",
                file=sys.stderr,
            )
        else:
            taskset = only
    if taskset is not None:
        check_taskset_name(taskset, command, flagged=flagged_taskset)
    args.taskset = taskset
    args.source = source if source is not None else "."


def check_taskset_name(name: str, command: str, *, flagged: bool = False, hint: str | None = None) -> None:
    """Refuse a taskset argument that is surely a path: `.`, `..`, a trailing `/`, or (as an argument) a `/`.
    `hint` replaces the advice about the order of the arguments."""
    hint = hint or (
        f"the arguments are [TASKSET] [SOURCE], as for `hud sync tasks` (e.g. `{command} my-taskset tasks/`); "
        "or use --taskset NAME and --source PATH"
    )
    if not name.strip():
        raise HudSyncError(f"the taskset name is empty; {hint}")
    if name in (".", "..") or name.endswith(("/", os.sep)) or (not flagged and _looks_like_path(name)):
        raise HudSyncError(f"{name!r} looks like a path, not a taskset name (and no such path exists here); {hint}")
    if not flagged and name.lower().endswith(TASK_FILE_SUFFIXES):
        raise HudSyncError(
            f"{name!r} looks like a task file, but there is no such file here; check the path, "
            f"or pass --taskset {name} if it really is the taskset's name"
        )


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument("--id", dest="taskset_id", metavar="UUID", help="taskset id (skips the name look-up)")
    parser.add_argument("--task", dest="only", metavar="SLUG", help="only this task")
    parser.add_argument("--exclude", action="append", default=[], metavar="SLUG", help="leave this task out (repeatable)")
    parser.add_argument(
        "--force", action="store_true", help="treat every selected task as changed: plan (and apply uploads) all of them"
    )
    parser.add_argument("--dry-run", action="store_true", help="show the plan and upload nothing (what `plan` does)")
    parser.add_argument(
        "--project",
        metavar="NAME|ID",
        help="v6: the project new tasksets go to (default: project_id in .hud/config.json, "
        "$HUD_DEFAULT_PROJECT, else the team's default)",
    )
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="how to show the plan")
    parser.add_argument("--out", metavar="FILE", help="also write the rendered plan to FILE")
    add_api_arguments(parser)
    parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when the plan has changes (for apply, with --dry-run); 0: nothing to do, 1: error",
    )


def add_api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-url",
        default=None,
        metavar="URL|local|local:PATH",
        help="platform URL, or `local` / `local:PATH` for the SQLite platform (default: $HUD_API_URL or https://api.hud.ai)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="bound on each request, first byte to last (default: 30)"
    )


# Every number a user (or a repository's settings) can give, and its range: name -> (low, high);
# the low end is excluded for seconds (0 s would give up at once), included for counts.
MAX_TIMEOUT_SECONDS = 3600.0
MAX_IMPORT_SECONDS = 86400.0
NUMBER_RANGES: dict[str, tuple[str, float, float]] = {
    "timeout": ("--timeout", 0.0, MAX_TIMEOUT_SECONDS),
    "import_timeout": ("--import-timeout", 0.0, MAX_IMPORT_SECONDS),
    "batch_size": ("--batch-size", 1, 10_000),
    "port": ("--port", 0, 65_535),
    "latency_ms": ("--latency-ms", 0, 600_000),
    "max_body_bytes": ("--max-body-bytes", 1, 4 * 1024**3),
}


def check_number(name: str, value: object, low: float, high: float, *, seconds: bool) -> None:
    """One line when `value` is not a finite number in range (NaN and infinities included)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    ok = ok and (low < value if seconds else low <= value) and value <= high  # type: ignore[operator]
    if not ok:
        what = f"a number of seconds above {low:g}" if seconds else f"a whole number from {low:g}"
        raise HudSyncError(f"{name} must be {what} and at most {high:g}, got {value!r}")


def check_numbers(args: argparse.Namespace) -> None:
    """Range-check every numeric flag the command has (those left unset are skipped)."""
    for attribute, (name, low, high) in NUMBER_RANGES.items():
        value = getattr(args, attribute, None)
        if value is not None:
            check_number(name, value, low, high, seconds=isinstance(low, float))


def api_url(args: argparse.Namespace) -> str:
    return args.api_url or os.environ.get("HUD_API_URL") or DEFAULT_API_URL


def open_platform_for(args: argparse.Namespace, project_root: Path | None, dialect=None):
    """The platform the arguments name, spoken in `dialect`'s API (v5 unless given); the API key
    is required for anything but `local`."""
    from hud_sync_hook.platform import open_platform
    from hud_sync_hook.trust import find_api_key

    url = api_url(args)
    key = None
    if not url.startswith("local"):
        found = find_api_key()
        if found.ignored:
            output.warning(found.ignored)
        key = found.value
        # A `serve` on this machine started without --api-key takes requests without one.
        if not key and not _is_loopback_url(url):
            raise HudSyncError(
                "no HUD API key: set HUD_API_KEY, or put HUD_API_KEY=... in ~/.hud/.env or an untracked ./.env "
                "(or use --api-url local to try the local platform)"
            )
        output.register_secret(key)
    opener = dialect.open_platform if dialect is not None else open_platform
    platform = opener(url, key, project_root=project_root, timeout=getattr(args, "timeout", 30.0))
    if key:
        platform.key_source = found.source
    return platform


def _is_loopback_url(url: str) -> bool:
    from urllib.parse import urlsplit

    from hud_sync_hook.platform.base import is_loopback_host

    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return bool(host) and is_loopback_host(host)


def write_out(path: str, text: str | Iterable[str]) -> None:
    """Write the plan to `path`: whole, or chunk by chunk as it is made."""
    from hud_sync_hook import safefs

    try:
        if isinstance(text, str):
            safefs.write_text(path, text)  # atomic, and never through a link
        else:
            safefs.write_bytes(path, (chunk.encode("utf-8") for chunk in text))
    except OSError as err:
        raise HudSyncError(f"cannot write the plan: {err.strerror}; check the path", file=path) from None


def print_problems(problems, skipped=()) -> None:
    from hud_sync_hook import inert

    for problem in problems:
        print(output.mask(inert.line(problem)), file=sys.stderr)
    for item in skipped:
        print(output.mask(inert.line(f"Skipped: {item}")), file=sys.stderr)


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
