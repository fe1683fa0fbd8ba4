"""Renderings of a Plan: terminal text, Markdown and JSON read the same value."""

from __future__ import annotations

from typing import Iterator

from hud_sync_hook.plan import Plan

# Where a command-line user finds what a cut Markdown list left out.
CLI_MORE_HINT = "the JSON plan (--format json) lists them all"


def render_pieces(plan: Plan, fmt: str, *, color: bool = False) -> Iterator[str]:
    """`render` in pieces: the JSON plan as it is encoded (it can be large), the others whole."""
    if fmt == "json":
        from hud_sync_hook.render.json_plan import iter_json

        return iter_json(plan)
    return iter([render(plan, fmt, color=color)])


def render(plan: Plan, fmt: str, *, color: bool = False) -> str:
    """`color` (ANSI colours) applies to text only."""
    if fmt == "json":
        from hud_sync_hook.render.json_plan import render_json

        return render_json(plan)
    if fmt == "markdown":
        from hud_sync_hook.render.markdown import render_markdown

        return render_markdown(plan, more_hint=CLI_MORE_HINT)
    from hud_sync_hook.render.text import render_text

    return render_text(plan, color=color)
