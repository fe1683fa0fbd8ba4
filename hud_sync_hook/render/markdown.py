"""The plan as GitHub-flavoured Markdown, for PR comments, job summaries and `--format markdown`.

Everything that comes from a repository is escaped (no HTML, no Markdown syntax, no @-mentions),
and the body is built to fit a size budget: lists are cut with "N more, see the run log", never
in the middle of a construct.
"""

from __future__ import annotations

import html
import re
from typing import Iterable, Sequence

from hud_sync_hook.plan import Plan

DEFAULT_LIMIT = 60_000
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_OPEN_LISTS_AT = 10


def escape(text: object, max_len: int = 300) -> str:
    """Untrusted text as inert Markdown: one line, no HTML, no syntax, nobody mentioned."""
    value = " ".join(str(text).split())
    if len(value) > max_len:
        value = value[: max_len - 1] + "…"
    value = _MD_SPECIAL.sub(r"\\\1", value)
    value = html.escape(value, quote=True)
    return value.replace("@", "@\u200b")


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, text: str) -> bool:
        if len(text) + 1 > self.left:
            return False
        self.left -= len(text) + 1
        return True


def _section(
    out: list[str],
    budget: _Budget,
    title: str,
    header: str | None,
    rows: Sequence[str],
    reserve: int,
) -> None:
    """A collapsible list or table, cut to the budget minus what later sections need."""
    opening = f"<details{' open' if len(rows) <= _OPEN_LISTS_AT else ''}><summary>{title}</summary>\n"
    closing = "\n</details>\n"
    if not budget.take(opening + closing) :
        out.append(f"{title}: list left out, see the run log\n")
        return
    out.append(opening)
    if header:
        out.append(header)
        budget.take(header)
    shown = 0
    for row in rows:
        more_note = f"\n_{len(rows) - shown} more, see the run log_\n"
        if budget.left - len(row) - 1 < reserve + len(more_note) + 80:
            break
        budget.take(row)
        out.append(row)
        shown += 1
    if shown < len(rows):
        note = f"\n_{len(rows) - shown} more, see the run log_"
        budget.take(note)
        out.append(note)
    out.append(closing)


def render_markdown(
    plan: Plan,
    *,
    limit: int = DEFAULT_LIMIT,
    title: str | None = None,
    preamble: Iterable[str] = (),
    footer: Iterable[str] = (),
) -> str:
    """The plan as Markdown of at most `limit` characters; `preamble`/`footer` are trusted Markdown."""
    name = escape(plan.taskset_name or plan.taskset_id or "?")
    head: list[str] = [f"### {title or 'HUD taskset plan'}: {name}\n"]
    head.extend(f"{line}\n" for line in preamble)
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
    budget = _Budget(limit)
    for part in head + tail:
        budget.take(part)
    body: list[str] = []
    task_header = "\n| Slug | Scenario | Defined at |\n|---|---|---|"

    def task_rows(tasks):
        return [
            f"| {escape(t.slug)} | {escape(t.qualified_scenario)} | {escape(t.location)} |" for t in tasks
        ]

    sections: list[tuple[str, str | None, list[str]]] = []
    if plan.problems:
        sections.append(
            (f"Validation problems ({len(plan.problems)})", "", [f"- {escape(p, 600)}" for p in plan.problems])
        )
    if plan.skipped:
        sections.append(
            (f"Skipped files ({len(plan.skipped)})", "", [f"- {escape(s.path)}: {escape(s.error, 500)}" for s in plan.skipped])
        )
    if plan.remote_known:
        if plan.create:
            sections.append((f"To create ({len(plan.create)})", task_header, task_rows(plan.create)))
        if plan.renames:
            sections.append(
                (
                    f"Probable renames ({len(plan.renames)})",
                    "",
                    [f"- {escape(r.old)} → {escape(r.new)}" for r in plan.renames],
                )
            )
        if plan.update:
            label = "To update (forced)" if plan.forced else "To update"
            sections.append((f"{label} ({len(plan.update)})", task_header, task_rows(plan.update)))
        if plan.remote_only:
            sections.append(
                (
                    f"Remote-only, never deleted ({len(plan.remote_only)})",
                    "",
                    [f"- {escape(s)}" for s in plan.remote_only],
                )
            )
        if plan.unchanged:
            sections.append((f"Unchanged ({len(plan.unchanged)})", "", [f"- {escape(t.slug)}" for t in plan.unchanged]))
    elif plan.create:
        sections.append((f"Tasks found ({len(plan.create)})", task_header, task_rows(plan.create)))
    if plan.env_mismatches:
        sections.append(
            (
                f"Environment name differs from the linked environment ({len(plan.env_mismatches)})",
                "",
                [
                    f"- {escape(m.location)}: {escape(m.slug)} uses {escape(m.local_env)}, the environment is now {escape(m.current_env)}"
                    for m in plan.env_mismatches
                ],
            )
        )
    remaining_sections = len(sections)
    for title_text, header, rows in sections:
        remaining_sections -= 1
        reserve = remaining_sections * 200
        _section(body, budget, title_text, (header or None), rows, reserve)
    return "".join(head) + "\n" + "\n".join(body) + ("\n" if body else "") + "".join(tail)
