"""The plan as a person reads it in a terminal."""

from __future__ import annotations

from hud_sync_hook.inert import text as inert_text
from hud_sync_hook.plan import Plan

LIST_LIMIT = 200


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


def render_text(plan: Plan) -> str:
    lines = [_title(plan)]
    if plan.platform_url:
        key = f" (API key from {plan.key_source})" if plan.key_source else ""
        lines.append(f"  Platform: {plan.platform_url}{key}")
    lines.append(f"  {sdk_line(plan)}")
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
        _listing(lines, "~", [t.slug for t in plan.update])
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
    """The lines, each made inert (slugs, names and paths are untrusted); the blank lines that
    open a section are the renderer's own."""
    shown = []
    for line in lines:
        body = line.lstrip("\n")
        shown.append("\n" * (len(line) - len(body)) + inert_text(body))
    return "\n".join(shown) + "\n"
