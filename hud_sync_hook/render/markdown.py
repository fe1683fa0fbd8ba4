"""The plan as GitHub-flavoured Markdown, for PR comments, job summaries and `--format markdown`.

Everything that comes from a repository is escaped (no HTML, no Markdown syntax, no @-mentions,
no autolinks), and the body is built to fit a size budget: the budget is shared fairly between
the sections, and lists are cut with "N more, see the run log", never in the middle of a construct.
"""

from __future__ import annotations

import html
import re
from typing import Iterable, Sequence

from hud_sync_hook.inert import text as inert_text
from hud_sync_hook.plan import Plan
from hud_sync_hook.render.text import sdk_line

DEFAULT_LIMIT = 60_000
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_OPEN_LISTS_AT = 10
# What a section costs besides its rows: <details>, <summary>, the "N more" line, separators.
_SECTION_OVERHEAD = 160
_TASK_HEADER = "\n| Slug | Scenario | Defined at |\n|---|---|---|"


# Line breaks, tabs and the other control characters Python counts as whitespace, with the spaces
# around them: each such run becomes one space. Other spaces (runs of them, no-break spaces) stay,
# so that a slug reads back exactly.
_BREAKS = re.compile(r"\s*[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]\s*")


def escape(text: object, max_len: int = 300) -> str:
    """Untrusted text as inert Markdown: one line, no HTML, no syntax, nobody mentioned, no links."""
    value = inert_text(_BREAKS.sub(" ", str(text).strip()))
    if len(value) > max_len:
        value = value[: max_len - 1] + "…"
    value = _MD_SPECIAL.sub(r"\\\1", value)
    value = html.escape(value, quote=True)
    # A zero-width space after "@" stops mentions; after "://" and "www." it stops autolinks.
    return value.replace("@", "@\u200b").replace("://", ":\u200b//").replace("www.", "www\u200b.")


def _section_text(title: str, header: str | None, rows: Sequence[str], cap: int) -> str:
    """One collapsible list or table of at most `cap` characters (rows cut whole, with a note)."""
    opening = f"<details{' open' if len(rows) <= _OPEN_LISTS_AT else ''}><summary>{title}</summary>\n"
    closing = "\n</details>\n"
    parts = [opening]
    if header:
        parts.append(header)
    used = sum(len(p) + 1 for p in parts) + len(closing) + 1
    if used > cap:
        return f"{title}: list left out, see the run log\n"
    shown = 0
    for row in rows:
        more = len(f"\n_{len(rows) - shown} more, see the run log_") + 1
        last = shown == len(rows) - 1
        if used + len(row) + 1 + (0 if last else more) > cap:
            break
        parts.append(row)
        used += len(row) + 1
        shown += 1
    if shown < len(rows):
        parts.append(f"\n_{len(rows) - shown} more, see the run log_")
    parts.append(closing)
    return "\n".join(parts)


def _full_size(title: str, header: str | None, rows: Sequence[str]) -> int:
    return len(title) + len(header or "") + sum(len(r) + 1 for r in rows) + _SECTION_OVERHEAD


def _share(needs: Sequence[int], available: int) -> list[int]:
    """Water-filling: small sections get all they need, the rest split what is left evenly."""
    caps = [0] * len(needs)
    waiting = set(range(len(needs)))
    while waiting:
        fair = max(0, available) // len(waiting)
        satisfied = [i for i in waiting if needs[i] <= fair]
        if not satisfied:
            for i in waiting:
                caps[i] = fair
            break
        for i in satisfied:
            caps[i] = needs[i]
            available -= needs[i]
            waiting.discard(i)
    return caps


def _task_rows(tasks) -> list[str]:
    return [f"| {escape(t.slug)} | {escape(t.qualified_scenario)} | {escape(t.location)} |" for t in tasks]


def plan_sections(plan: Plan) -> list[tuple[str, str | None, list[str]]]:
    """The plan's lists, in the order a reviewer reads them: (title, table header or None, rows)."""
    sections: list[tuple[str, str | None, list[str]]] = []
    if plan.problems:
        sections.append((f"Validation problems ({len(plan.problems)})", None, [f"- {escape(p, 600)}" for p in plan.problems]))
    if plan.skipped:
        sections.append(
            (f"Skipped files ({len(plan.skipped)})", None, [f"- {escape(s.path)}: {escape(s.error, 500)}" for s in plan.skipped])
        )
    if plan.remote_known:
        if plan.create:
            sections.append((f"To create ({len(plan.create)})", _TASK_HEADER, _task_rows(plan.create)))
        if plan.renames:
            sections.append(
                (f"Probable renames ({len(plan.renames)})", None, [f"- {escape(r.old)} → {escape(r.new)}" for r in plan.renames])
            )
        if plan.update:
            label = "To update (forced)" if plan.forced else "To update"
            sections.append((f"{label} ({len(plan.update)})", _TASK_HEADER, _task_rows(plan.update)))
        if plan.remote_only:
            sections.append(
                (f"Remote-only, never deleted ({len(plan.remote_only)})", None, [f"- {escape(s)}" for s in plan.remote_only])
            )
        if plan.unchanged:
            sections.append((f"Unchanged ({len(plan.unchanged)})", None, [f"- {escape(t.slug)}" for t in plan.unchanged]))
    elif plan.create:
        sections.append((f"Tasks found ({len(plan.create)})", _TASK_HEADER, _task_rows(plan.create)))
    if plan.env_mismatches:
        sections.append(
            (
                f"Environment name differs from the linked environment ({len(plan.env_mismatches)})",
                None,
                [
                    f"- {escape(m.location)}: {escape(m.slug)} uses {escape(m.local_env)}, "
                    f"the environment is now {escape(m.current_env)}"
                    for m in plan.env_mismatches
                ],
            )
        )
    return sections


def render_markdown(
    plan: Plan,
    *,
    limit: int = DEFAULT_LIMIT,
    title: str | None = None,
    preamble: Iterable[str] = (),
    footer: Iterable[str] = (),
    extra_sections: Iterable[tuple[str, Sequence[str]]] = (),
) -> str:
    """The plan as Markdown of at most `limit` characters.

    `title`, `preamble`, `footer` and the `extra_sections` (title, rows) placed before the plan's
    own lists are trusted Markdown: callers escape what they put in them.
    """
    name = escape(plan.taskset_name or plan.taskset_id or "?")
    head: list[str] = [f"### {title or 'HUD taskset plan'}: {name}\n"]
    head.extend(f"{line}\n" for line in preamble)
    if plan.platform_url:
        head.append(f"Platform: {escape(plan.platform_url)}\n")
    head.append(f"Tasks read as {sdk_line(plan)}.\n")
    if plan.remote_known:
        head.append(f"**{plan.summary()}**" + (f", {len(plan.renames)} probable renames" if plan.renames else "") + "\n")
        if not plan.taskset_exists:
            head.append("Taskset will be created by the first upload.\n")
    else:
        head.append(f"**{len(plan.create)} tasks found; plan unavailable**\n")
    if plan.switching_from:
        head.append(f"Switching from previously stored taskset `{escape(plan.switching_from[:8])}…`\n")
    for note in plan.notes:
        head.append(f"> {escape(note, 500)}\n")
    tail = [f"{line}\n" for line in footer]
    fixed = "".join(head) + "\n" + "".join(tail)
    if len(fixed) > limit:
        # Only a caller's enormous preamble gets here: keep the summary line, drop the rest.
        return "".join(head[:1])[: max(0, limit)]
    sections = [(t, None, list(rows)) for t, rows in extra_sections] + plan_sections(plan)
    available = limit - len(fixed) - 2 * len(sections) - 2
    caps = _share([_full_size(*s) for s in sections], available)
    body = [_section_text(t, h, rows, cap) for (t, h, rows), cap in zip(sections, caps)]
    text = "".join(head) + "\n" + "\n".join(body) + ("\n" if body else "") + "".join(tail)
    if len(text) > limit:  # the shares are conservative; this keeps the promise regardless
        text = "".join(head) + "\n_The lists are too long to show here; see the run log._\n" + "".join(tail)
    return text
