"""Renderings of a Plan: terminal text, Markdown and JSON read the same value."""

from __future__ import annotations

from typing import Iterable, Iterator

from hud_sync_hook.plan import Plan

# Where a command-line user finds what a cut Markdown list left out.
CLI_MORE_HINT = "the JSON plan (--format json) lists them all"


def render_pieces(plan: Plan, fmt: str, *, color: bool = False) -> Iterator[str]:
    """`render` in pieces: the JSON plan as it is encoded (it can be large), the others whole."""
    if fmt == "json":
        from hud_sync_hook.render.json_plan import iter_json

        return iter_json(plan)
    return iter([render(plan, fmt, color=color)])


def chunked(pieces: Iterable[str], size: int = 1 << 16) -> Iterator[str]:
    """Pieces joined into chunks of at least `size` characters (the last may be shorter), to be
    written one at a time; a piece is never cut, so a secret inside one JSON string is masked in
    its chunk as in the whole text."""
    pending: list[str] = []
    length = 0
    for piece in pieces:
        pending.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)


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
