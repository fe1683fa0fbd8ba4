"""The plan as GitHub-flavoured Markdown, for PR comments, job summaries and `--format markdown`.

Everything that comes from a repository is escaped (no HTML, no Markdown syntax, no @-mentions,
no autolinks), and the body is built to fit a size budget: the budget is shared fairly between
the sections, and lists are cut with "N more, <where the rest is>", never in the middle of a
construct. Each update is a fold of its own, with a table of what it changes.
"""

from __future__ import annotations

import html
import re
from typing import Any, Callable, Iterable, Iterator, Sequence

from hud_sync_hook.diff import field_label, shown_pair
from hud_sync_hook.inert import text as inert_text
from hud_sync_hook.model import TaskSpec
from hud_sync_hook.plan import Plan
from hud_sync_hook.render.text import sdk_line

DEFAULT_LIMIT = 60_000
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_OPEN_LISTS_AT = 10
# What a section costs besides its rows: <details>, <summary>, the "N more" line, separators.
_SECTION_OVERHEAD = 160
_TASK_HEADER = "\n| Slug | Scenario | Defined at |\n|---|---|---|"
RUN_LOG = "see the run log"
CHANGE_LIMIT = 20  # changes shown per task
VALUE_WIDTH = 60
_CHANGE_HEADER = "| Field | Before | After |\n|---|---|---|"


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
    return _unlinked(value)


def _unlinked(value: str) -> str:
    return value.replace("@", "@\u200b").replace("://", ":\u200b//").replace("www.", "www\u200b.")


_HTML_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+!|~<>&\"']")


def escape_html(text: object, max_len: int = 300) -> str:
    """Untrusted text as inert inline HTML (e.g. in a `<summary>`, where Markdown may or may not
    be read): one line, every HTML or Markdown special character a numeric entity."""
    value = _BREAKS.sub(" ", str(text).strip())
    if len(value) > max_len:
        value = value[: max_len - 1] + "…"
    return _unlinked(_HTML_SPECIAL.sub(lambda m: f"&#{ord(m.group(0))};", value))


Measure = Callable[[str], int]


def utf8_size(text: str) -> int:
    """A budget in bytes (the job summary's limit), where `len` counts characters (a comment's)."""
    return len(text.encode("utf-8", "surrogatepass"))


def _section_text(
    title: str, header: str | None, rows: Sequence[str], cap: int, more_hint: str = RUN_LOG, measure: Measure = len
) -> str:
    """One collapsible list or table of at most `cap` (by `measure`; rows cut whole, with a note)."""
    opening = f"<details{' open' if len(rows) <= _OPEN_LISTS_AT else ''}><summary>{title}</summary>\n"
    closing = "\n</details>\n"
    parts = [opening]
    if header:
        parts.append(header)
    used = sum(measure(p) + 1 for p in parts) + measure(closing) + 1
    if used > cap:
        return f"{title}: list left out, {more_hint}\n"
    shown = 0
    for row in rows:
        more = measure(f"\n_{len(rows) - shown} more, {more_hint}_") + 1
        last = shown == len(rows) - 1
        size = measure(row)
        if used + size + 1 + (0 if last else more) > cap:
            break
        parts.append(row)
        used += size + 1
        shown += 1
    if shown < len(rows):
        parts.append(f"\n_{len(rows) - shown} more, {more_hint}_")
    parts.append(closing)
    return "\n".join(parts)


def _full_size(
    title: str, header: str | None, rows: Sequence[str], measure: Measure = len, bound: int | None = None
) -> int:
    """What a section needs to be shown whole; with `bound`, counting stops once past it (a need
    over all that is available is never met, whatever it is, so its rows need not all be made)."""
    size = measure(title) + measure(header or "") + _SECTION_OVERHEAD
    for row in rows:
        size += measure(row) + 1
        if bound is not None and size > bound:
            break
    return size


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


class _Rows(Sequence[str]):
    """A section's rows, each made only when it is read: the 100,000 folds of a large plan are
    measured and cut one at a time, never all held (a comment shows a few dozen of them)."""

    def __init__(self, items: Sequence[Any], make: Callable[[Any], str]) -> None:
        self._items = items
        self._make = make

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._make(item) for item in self._items[index]]
        return self._make(self._items[index])

    def __iter__(self) -> Iterator[str]:
        return map(self._make, self._items)


def _task_row(t: TaskSpec) -> str:
    return f"| {escape(t.slug)} | {escape(t.qualified_scenario)} | {escape(t.location)} |"


def _task_rows(tasks: Sequence[TaskSpec]) -> Sequence[str]:
    return _Rows(tasks, _task_row)


def _cell(text: str) -> str:
    return escape(text, 10 * VALUE_WIDTH) if text else "_none_"


def update_block(plan: Plan, task: TaskSpec, *, open_: bool = False) -> str:
    """One update as a fold: the slug, how many fields change and where the task is defined, then
    a table of the changes (old → new, shortened around the change)."""
    changes = plan.changes(task)
    where = escape_html(task.location)
    name = f"<code>{escape_html(task.slug)}</code>"
    if not changes:
        what = "forced, no field differs" if plan.forced else "changed"
        return f"- {name}: {what} · {where}\n"
    count = f"{len(changes)} change{'' if len(changes) == 1 else 's'}"
    rows = []
    for change in changes[:CHANGE_LIMIT]:
        old, new = shown_pair(change, VALUE_WIDTH)
        rows.append(f"| {escape(field_label(change), 200)} | {_cell(old)} | {_cell(new)} |")
    if len(changes) > CHANGE_LIMIT:
        rows.append(f"| _{len(changes) - CHANGE_LIMIT} more changes_ | | |")
    opening = f"<details{' open' if open_ else ''}><summary>{name}: {count} · {where}</summary>"
    return f"{opening}\n\n{_CHANGE_HEADER}\n" + "\n".join(rows) + "\n\n</details>\n"


def _update_rows(plan: Plan) -> Sequence[str]:
    open_ = len(plan.update) <= _OPEN_LISTS_AT
    return _Rows(plan.update, lambda task: update_block(plan, task, open_=open_))


def _slug_row(slug: str) -> str:
    return f"- {escape(slug)}"


def _task_slug_row(task: TaskSpec) -> str:
    return f"- {escape(task.slug)}"


def plan_sections(plan: Plan) -> list[tuple[str, str | None, Sequence[str]]]:
    """The plan's lists, in the order a reviewer reads them: (title, table header or None, rows);
    the long lists' rows are made as they are read."""
    sections: list[tuple[str, str | None, Sequence[str]]] = []
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
            sections.append((f"{label} ({len(plan.update)})", None, _update_rows(plan)))
        if plan.remote_only:
            sections.append(
                (f"Remote-only, never deleted ({len(plan.remote_only)})", None, _Rows(plan.remote_only, _slug_row))
            )
        if plan.unchanged:
            sections.append((f"Unchanged ({len(plan.unchanged)})", None, _Rows(plan.unchanged, _task_slug_row)))
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
    more_hint: str = RUN_LOG,
    measure: Measure = len,
) -> str:
    """The plan as Markdown of at most `limit` characters (or bytes, with `measure=utf8_size`).

    `title`, `preamble`, `footer` and the `extra_sections` (title, rows) placed before the plan's
    own lists are trusted Markdown: callers escape what they put in them. `more_hint` says where
    the rest of a cut list can be read ("see the run log" in a workflow).
    """
    name = escape(plan.taskset_name or plan.taskset_id or "?")
    head: list[str] = [f"### {title or 'HUD taskset plan'}: {name}\n"]
    head.extend(f"{line}\n" for line in preamble)
    if plan.platform_url:
        head.append(f"Platform: {escape(plan.platform_url)}\n")
    reason = f" {escape(plan.sdk_reason[:1].upper() + plan.sdk_reason[1:])}." if plan.sdk_reason else ""
    head.append(f"Tasks read as {sdk_line(plan)}.{reason}\n")
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
    if measure(fixed) > limit:
        # Only a caller's enormous preamble gets here: keep the summary line, drop the rest.
        first = head[0]
        while first and measure(first) > limit:
            first = first[: max(0, min(len(first) - 1, limit))]
        return first
    sections = [(t, None, list(rows)) for t, rows in extra_sections] + plan_sections(plan)
    available = limit - measure(fixed) - 2 * len(sections) - 2
    bound = max(0, available)
    caps = _share([_full_size(*s, measure=measure, bound=bound) for s in sections], available)
    body = [_section_text(t, h, rows, cap, more_hint, measure) for (t, h, rows), cap in zip(sections, caps)]
    text = "".join(head) + "\n" + "\n".join(body) + ("\n" if body else "") + "".join(tail)
    if measure(text) > limit:  # the shares are conservative; this keeps the promise regardless
        text = "".join(head) + f"\n_The lists are too long to show here; {more_hint}._\n" + "".join(tail)
    return text
