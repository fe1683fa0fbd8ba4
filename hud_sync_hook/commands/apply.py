"""`hud-sync-hook apply` (alias `sync`): upload new and changed tasks, in batches, never deleting."""

from __future__ import annotations

import argparse
import sys

from hud_sync_hook import output
from hud_sync_hook.commands._common import Progress, add_plan_arguments
from hud_sync_hook.commands.plan import plan_and_show, refuse_problems
from hud_sync_hook.errors import HudSyncError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser)
    parser.add_argument("-y", "--yes", action="store_true", help="upload without asking")
    parser.add_argument("--batch-size", type=int, default=500, metavar="N", help="tasks per upload request (default: 500)")


def confirm(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def run(args: argparse.Namespace) -> int:
    from hud_sync_hook.sync import apply_plan, landed_message

    if args.batch_size < 1:
        raise HudSyncError("--batch-size must be at least 1")
    prepared = plan_and_show(args)
    if isinstance(prepared, int):
        return prepared
    plan, local, platform = prepared.plan, prepared.local, prepared.platform
    try:
        refused = refuse_problems(plan, "nothing was uploaded")
        if refused is not None:
            return refused
        if not plan.has_changes:
            return 0
        if args.dry_run:
            print("--dry-run: nothing uploaded")
            return 2 if args.detailed_exitcode else 0
        if not args.yes:
            if not output.is_interactive():
                output.error("not uploading without confirmation: pass --yes to upload from a script")
                return 1
            if not confirm(f"Upload {len(plan.to_upload)} task(s) to '{plan.taskset_name}'?"):
                print("Nothing uploaded.")
                return 1
        outcome = apply_plan(
            platform, plan, local, batch_size=args.batch_size, progress=Progress(sys.stderr.isatty())
        )
        if outcome.taskset_id:
            try:
                if local.dialect.remember_taskset(local, outcome.taskset_id, plan.taskset_name):
                    output.info(f"Stored tasksetId {outcome.taskset_id} in {local.config.shown()}")
            except HudSyncError as err:
                output.warning(f"uploaded, but could not store the taskset id: {err}")
        if outcome.interrupted:
            output.error(f"interrupted — {landed_message(outcome, plan, 'run apply again')}")
            return 130
        if outcome.error is not None:
            output.error(f"{outcome.error} — {landed_message(outcome, plan, 'fix the cause and run apply again')}")
            detail = outcome.error.detail
            if detail and "\n" in detail:
                for line in detail.splitlines():
                    output.info(f"  {line}", file=sys.stderr)
            return 1
        output.info(
            f"Uploaded {outcome.tasks_sent} task(s) to '{plan.taskset_name}' in {outcome.batches_done} batch(es): "
            f"{outcome.created} created, {outcome.updated} updated"
        )
        return 0
    finally:
        platform.close()
