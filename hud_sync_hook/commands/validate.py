"""`hud-sync-hook validate`: offline discovery and validation; no key, no network."""

from __future__ import annotations

import argparse
import json
import sys

from hud_sync_hook import output
from hud_sync_hook.commands._common import add_source_arguments, print_problems, resolve_target
from hud_sync_hook.errors import HudSyncError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser, with_taskset=False)
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: problems as file:line lines (default); json: {tasks, files, problems, skipped} on stdout (skipped: the allowed import errors)",
    )


def run(args: argparse.Namespace) -> int:
    from hud_sync_hook.commands.plan import no_tasks_message
    from hud_sync_hook.sync import read_local

    resolve_target(args)
    local = read_local(
        args.source, import_timeout=args.import_timeout, sdk=args.sdk, allow_import_errors=args.allow_import_errors
    )
    found = local.discovery.tasks
    if args.format == "json":
        from hud_sync_hook.render.json_plan import _problem

        json.dump(
            {
                "sdk": local.dialect.name,
                "tasks": len(found),
                "files": local.discovery.files,
                "problems": [_problem(p) for p in local.problems],
                "skipped": [{"path": s.path, "error": s.error} for s in local.skipped],
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return 1 if local.problems or not found else 0
    print_problems(local.problems, local.skipped)
    if local.problems:
        output.error(f"{len(local.problems)} problem(s) in {len(found)} task(s)")
        return 1
    if not found:
        raise HudSyncError(no_tasks_message(local))
    files = len(local.discovery.files)
    print(f"{len(found)} task(s) valid in {files} file(s), read as {local.dialect.label}")
    return 0
