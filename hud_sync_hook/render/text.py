"""The plan as a person reads it in a terminal."""

from __future__ import annotations

from hud_sync_hook.diff import Change, field_label, shown_pair
from hud_sync_hook.inert import line as inert_line
from hud_sync_hook.model import TaskSpec
from hud_sync_hook.plan import Plan

LIST_LIMIT = 200
CHANGE_LIMIT = 20  # changes shown per task
VALUE_WIDTH = 70

_MARKS = {"added": "+", "removed": "-", "changed": "~"}
_RED, _GREEN, _YELLOW, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[0m"
_MARK_COLOURS = {"added": _GREEN, "removed": _RED, "changed": _YELLOW}


def _paint(text: str, colour: str, color: bool) -> str:
    return f"{colour}{text}{_RESET}" if color and text else text


class _Inert(str):
    """A line this renderer made inert itself (with its own colour codes): shown as it is."""


def change_line(change: Change, *, color: bool = False) -> str:
    """`~ args.level: "easy" → "hard"`, `+ args.hint: "x"`, `- columns.tag: "a"`; every value
    inert (escaped JSON), so nothing from a task or the platform can steer the terminal."""
    old, new = shown_pair(change, VALUE_WIDTH)
    mark = _paint(_MARKS[change.kind], _MARK_COLOURS[change.kind], color)
    label = field_label(change)
    if change.kind == "added":
        shown = _paint(new, _GREEN, color)
    elif change.kind == "removed":
        shown = _paint(old, _RED, color)
    else:
        shown = f"{_paint(old, _RED, color)} → {_paint(new, _GREEN, color)}"
    return f"{mark} {label}: {shown}"


def _update_lines(lines: list[str], plan: Plan, tasks: list[TaskSpec], color: bool) -> None:
    for task in tasks[:LIST_LIMIT]:
        changes = plan.changes(task)
        if not changes and plan.forced:
            lines.append(f"    ~ {task.slug} (forced; no field differs)")
            continue
        lines.append(f"    ~ {task.slug}")
        for change in changes[:CHANGE_LIMIT]:
            lines.append(_Inert(f"        {change_line(change, color=color)}"))
        if len(changes) > CHANGE_LIMIT:
            lines.append(f"        ... and {len(changes) - CHANGE_LIMIT} more changes (--format json lists them all)")
    if len(tasks) > LIST_LIMIT:
        lines.append(f"    ... and {len(tasks) - LIST_LIMIT} more (--format json lists them all)")


def _title(plan: Plan) -> str:
    name = plan.taskset_name or plan.taskset_id or "?"
    suffix = f" ({plan.taskset_id})" if plan.taskset_id and plan.taskset_name else ""
    return f"Sync plan for '{name}'{suffix}"


def sdk_line(plan: Plan) -> str:
    """Which HUD SDK generation the plan was made for: 'HUD SDK v6 (hud 0.6)'."""
    from hud_sync_hook.dialect import LABELS

    return LABELS.get(plan.sdk, plan.sdk)


def _listing(lines: list[str], marker: str, slugs: list[str]) -> None:
    for slug in slugs[:LIST_LIMIT]:
        lines.append(f"    {marker} {slug}")
    if len(slugs) > LIST_LIMIT:
        lines.append(f"    ... and {len(slugs) - LIST_LIMIT} more (--format json lists them all)")


def render_text(plan: Plan, *, color: bool = False) -> str:
    """The plan for a person; with `color`, ANSI colours for a terminal."""
    lines = [_title(plan)]
    if plan.platform_url:
        key = f" (API key from {plan.key_source})" if plan.key_source else ""
        lines.append(f"  Platform: {plan.platform_url}{key}")
    reason = f", {inert_line(plan.sdk_reason)}" if plan.sdk_reason else ""
    lines.append(f"  {sdk_line(plan)}{reason}")
    if plan.remote_known and not plan.taskset_exists:
        lines.append("  Taskset will be created")
    if plan.switching_from:
        lines.append(f"  Switching from previously stored taskset ({plan.switching_from[:8]}...)")
    for note in plan.notes:
        lines.append(f"  Note: {note}")
    if plan.skipped:
        lines.append("")
        for skipped in plan.skipped:
            lines.append(f"  Skipped: {skipped}")
    if plan.problems:
        lines.append(f"\n  Problems ({len(plan.problems)}):")
        for problem in plan.problems:
            lines.append(f"    x {problem}")
    if not plan.remote_known:
        lines.append(f"\n  Tasks found ({len(plan.create)}):")
        _listing(lines, "*", [t.slug for t in plan.create])
        return _joined(lines)
    if plan.create:
        lines.append(f"\n  Create ({len(plan.create)}):")
        _listing(lines, "+", [t.slug for t in plan.create])
    if plan.renames:
        lines.append(f"\n  Probable renames ({len(plan.renames)}):")
        for rename in plan.renames[:LIST_LIMIT]:
            lines.append(f"    '{rename.old}' was renamed to '{rename.new}'")
    if plan.update:
        label = "Update (forced)" if plan.forced else "Update"
        lines.append(f"\n  {label} ({len(plan.update)}):")
        _update_lines(lines, plan, plan.update, color)
    if plan.unchanged:
        lines.append(f"\n  Unchanged: {len(plan.unchanged)}")
    if plan.remote_only:
        lines.append(f"\n  Remote-only (not in the local source; never deleted): {len(plan.remote_only)}")
        _listing(lines, "-", plan.remote_only)
    if plan.env_mismatches:
        lines.append(f"\n  Environment name differs from the linked environment ({len(plan.env_mismatches)}):")
        for m in plan.env_mismatches[:LIST_LIMIT]:
            lines.append(f"    {m.location}: '{m.slug}' uses '{m.local_env}', the environment is now '{m.current_env}'")
    lines.append("")
    if plan.has_changes:
        lines.append(f"Summary: {plan.summary()}")
    elif not plan.problems:
        lines.append(f"All tasks up to date ({plan.summary()})")
    else:
        lines.append(f"Summary: {plan.summary()}")
    return _joined(lines)


def _joined(lines: list[str]) -> str:
    """The lines, each made inert (slugs, names and paths are untrusted; no line can start a
    workflow command), but for the changes, made inert when they were written, colours and all;
    the blank lines that open a section are the renderer's own."""
    shown = []
    for line in lines:
        if isinstance(line, _Inert):
            shown.append(line)
            continue
        body = line.lstrip("\n")
        shown.append("\n" * (len(line) - len(body)) + inert_line(body))
    return "\n".join(shown) + "\n"
