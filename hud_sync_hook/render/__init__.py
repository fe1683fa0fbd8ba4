"""Renderings of a Plan: terminal text, Markdown and JSON read the same value."""

from __future__ import annotations

from hud_sync_hook.plan import Plan


def render(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        from hud_sync_hook.render.json_plan import render_json

        return render_json(plan)
    if fmt == "markdown":
        from hud_sync_hook.render.markdown import render_markdown

        return render_markdown(plan)
    from hud_sync_hook.render.text import render_text

    return render_text(plan)
