"""`hud-sync-hook plan`: show what a sync would create and update, without uploading."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from hud_sync_hook import output
from hud_sync_hook.commands._common import (
    add_plan_arguments,
    open_platform_for,
    print_problems,
    resolve_target,
    write_out,
)
from hud_sync_hook.errors import HudSyncError, PlatformError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser)


@dataclass
class Planned:
    local: object
    plan: object
    platform: object


def no_tasks_message(local) -> str:
    found_files = ", ".join(local.discovery.files[:5]) or "no task files"
    return (
        f"no tasks found in {local.source} (looked at: {found_files}); "
        "define tasks in tasks.py or tasks.json|jsonl|yaml, or pass the file to use"
    )


def prepare(args: argparse.Namespace) -> Planned | int:
    """Discover, validate, and plan against the platform; an int is an exit status to return."""
    from hud_sync_hook.sync import check_linked_env, choose_taskset, plan_against, read_local, unregistered_scenarios

    resolve_target(args)
    local = read_local(
        args.source,
        only=args.only,
        exclude=args.exclude,
        import_timeout=args.import_timeout,
        allow_import_errors=args.allow_import_errors,
        sdk=args.sdk,
    )
    if local.problems:
        print_problems(local.problems, local.skipped)
        output.error(f"{len(local.problems)} problem(s) in the task definitions; nothing was sent to the platform")
        return 1
    if not local.discovery.tasks:
        print_problems([], local.skipped)
        raise HudSyncError(no_tasks_message(local))
    ref = choose_taskset(args.taskset, args.taskset_id, local.config)
    platform = open_platform_for(args, local.project_root, local.dialect)
    platform.project_ref = getattr(args, "project", None)
    plan = plan_against(platform, local, ref, force=args.force)
    try:
        mismatches, warning, linked = check_linked_env(platform, local)
        plan.env_mismatches = mismatches
        if warning:
            plan.notes.append(warning)
        if linked:
            try:
                plan.problems.extend(unregistered_scenarios(platform, local, linked))
            except PlatformError as err:  # a check, not the plan: say it was not made
                plan.notes.append(f"the scenarios of '{linked}' could not be listed, so they were not checked: {err}")
    except BaseException:
        platform.close()
        raise
    return Planned(local=local, plan=plan, platform=platform)


def plan_and_show(args: argparse.Namespace) -> Planned | int:
    """Plan and show it; after an accepted rewrite of environment names, collect, plan and show again,
    so that what is uploaded is what was shown last. An int is an exit status to return."""
    prepared = prepare(args)
    if isinstance(prepared, int):
        return prepared
    try:
        show(prepared.plan, args)
        rewritten = offer_env_rewrite(prepared)
    except BaseException:
        prepared.platform.close()
        raise
    if not rewritten:
        return prepared
    prepared.platform.close()
    print("Collecting the tasks again after the rewrite:", file=sys.stderr)
    prepared = prepare(args)
    if isinstance(prepared, int):
        return prepared
    try:
        show(prepared.plan, args)
    except BaseException:
        prepared.platform.close()
        raise
    return prepared


def refuse_problems(plan, outcome: str = "fix them before apply") -> int | None:
    """Exit 1 when the plan found tasks the platform would reject (e.g. unregistered scenarios)."""
    if not plan.problems:
        return None
    output.error(f"{len(plan.problems)} task(s) would be rejected by the platform (see Problems); {outcome}")
    return 1


def show(plan, args: argparse.Namespace) -> None:
    from hud_sync_hook import inert
    from hud_sync_hook.render import chunked, render, render_pieces

    if args.out:
        if args.format == "json":  # written as it is encoded, as below
            write_out(args.out, chunked(render_pieces(plan, "json")))
        else:
            write_out(args.out, inert.lines(render(plan, args.format)))
    color = args.format == "text" and output.wants_color(sys.stdout)
    # Written as it is made: a JSON plan of 100,000 updates is never one string in memory. No line
    # of the text or Markdown can be taken for a workflow command (the text plan's lines are already
    # inert, colours included; the JSON plan's strings are escaped).
    pieces = render_pieces(plan, args.format, color=color)
    for chunk in chunked(inert.lines(piece) if args.format == "markdown" else piece for piece in pieces):
        sys.stdout.write(output.mask(chunk))
    sys.stdout.flush()


def offer_env_rewrite(planned: Planned) -> bool:
    """On a terminal, offer to rewrite `Environment("old")` to the linked environment's name; True
    when files were rewritten."""
    plan = planned.plan
    if not plan.env_mismatches or not output.is_interactive():
        return False
    from hud_sync_hook.reconcile import rewrite_env_names

    current = plan.env_mismatches[0].current_env
    olds = sorted({m.local_env for m in plan.env_mismatches})
    files = sorted({m.location.file for m in plan.env_mismatches if m.location.file.endswith(".py")})
    if not files:
        return False
    try:
        answer = input(
            f"Rewrite Environment({', '.join(map(repr, olds))}) to Environment({current!r}) in {', '.join(files)}? [y/N] "
        )
    except EOFError:
        return False
    if answer.strip().lower() not in ("y", "yes"):
        return False
    changed = rewrite_env_names([Path(f) for f in files], olds, current)
    print(f"Rewrote {changed} file(s).")
    return changed > 0


def run(args: argparse.Namespace) -> int:
    prepared = plan_and_show(args)
    if isinstance(prepared, int):
        return prepared
    prepared.platform.close()
    refused = refuse_problems(prepared.plan)
    if refused is not None:
        return refused
    if args.detailed_exitcode and prepared.plan.has_changes:
        return 2
    return 0
