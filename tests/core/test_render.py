"""What a reviewer reads: the plan in a terminal and as Markdown, every section, and the size budget."""

from __future__ import annotations

import json

from hud_sync_hook.discovery import Skipped
from hud_sync_hook.model import Location, Problem, task_from_mapping
from hud_sync_hook.plan import EnvMismatch, Plan, build_plan, offline_plan
from hud_sync_hook.render import render
from hud_sync_hook.render.markdown import _section_text, _share, escape, render_markdown
from hud_sync_hook.render.text import render_text


def local(slug: str, line: int, **args):
    return task_from_mapping({"slug": slug, "scenario": "s", "env": {"name": "e"}, "args": args}, Location("tasks.json", line))


def remote(slug: str, **args):
    return {"slug": slug, "scenario": "e:s", "args": args}


def full_plan(force: bool = False) -> Plan:
    """A plan with something in every section."""
    plan = build_plan(
        [local("new", 1, a=1), local("renamed", 2, a=7), local("changed", 3, a=2), local("same", 4, a=1)],
        [remote("old-name", a=7), remote("changed", a=1), remote("same", a=1), remote("gone", a=9)],
        taskset_name="ts",
        taskset_id="11111111-2222-3333-4444-555555555555",
        taskset_exists=True,
        force=force,
    )
    plan.problems = [Problem(Location("bad.json", 3, 5), "slug is empty", "set a slug")]
    plan.skipped = [Skipped("broken.py", "SyntaxError: invalid syntax (line 2)")]
    plan.env_mismatches = [EnvMismatch("same", Location("tasks.json", 4), "e", "e-renamed")]
    plan.notes = ["linked environment e-renamed"]
    plan.switching_from = "99999999-8888-7777-6666-555555555555"
    plan.platform_url, plan.key_source = "https://api.hud.ai", "HUD_API_KEY"
    return plan


TEXT_FULL = (
    "Sync plan for 'ts' (11111111-2222-3333-4444-555555555555)\n"
    '  Platform: https://api.hud.ai (API key from HUD_API_KEY)\n'
    "  HUD SDK v5 (hud-python 0.5)\n"
    '  Switching from previously stored taskset (99999999...)\n'
    '  Note: linked environment e-renamed\n'
    '\n'
    '  Skipped: broken.py: SyntaxError: invalid syntax (line 2)\n'
    '\n'
    '  Problems (1):\n'
    '    x bad.json:3:5: slug is empty (set a slug)\n'
    '\n'
    '  Create (2):\n'
    '    + new\n'
    '    + renamed\n'
    '\n'
    '  Probable renames (1):\n'
    "    'old-name' was renamed to 'renamed'\n"
    '\n'
    '  Update (1):\n'
    '    ~ changed\n'
    '        ~ args.a: 1 → 2\n'
    '\n'
    '  Unchanged: 1\n'
    '\n'
    '  Remote-only (not in the local source; never deleted): 2\n'
    '    - gone\n'
    '    - old-name\n'
    '\n'
    '  Environment name differs from the linked environment (1):\n'
    "    tasks.json:4: 'same' uses 'e', the environment is now 'e-renamed'\n"
    '\n'
    'Summary: 2 to create, 1 to update, 1 unchanged, 2 remote-only\n'
)

MARKDOWN_FULL = (
    '### HUD taskset plan: ts\n'
    'pre\n'
    'Platform: https:\u200b//api.hud.ai\n'
    'Tasks read as HUD SDK v5 (hud-python 0.5).\n'
    '**2 to create, 1 to update, 1 unchanged, 2 remote-only**, 1 probable renames\n'
    'Switching from previously stored taskset `99999999…`\n'
    '> linked environment e-renamed\n'
    '\n'
    '<details open><summary>Validation problems (1)</summary>\n'
    '\n'
    '- bad.json:3:5: slug is empty \\(set a slug\\)\n'
    '\n'
    '</details>\n'
    '\n'
    '<details open><summary>Skipped files (1)</summary>\n'
    '\n'
    '- broken.py: SyntaxError: invalid syntax \\(line 2\\)\n'
    '\n'
    '</details>\n'
    '\n'
    '<details open><summary>To create (2)</summary>\n'
    '\n'
    '\n'
    '| Slug | Scenario | Defined at |\n'
    '|---|---|---|\n'
    '| new | e:s | tasks.json:1 |\n'
    '| renamed | e:s | tasks.json:2 |\n'
    '\n'
    '</details>\n'
    '\n'
    '<details open><summary>Probable renames (1)</summary>\n'
    '\n'
    '- old-name → renamed\n'
    '\n'
    '</details>\n'
    '\n'
    '<details open><summary>To update (1)</summary>\n'
    '\n'
    '<details open><summary><code>changed</code>: 1 change · tasks.json:3</summary>\n'
    '\n'
    '| Field | Before | After |\n'
    '|---|---|---|\n'
    '| args.a | 1 | 2 |\n'
    '\n'
    '</details>\n'
    '\n'
    '\n'
    '</details>\n'
    '\n'
    '<details open><summary>Remote-only, never deleted (2)</summary>\n'
    '\n'
    '- gone\n'
    '- old-name\n'
    '\n'
    '</details>\n'
    '\n'
    '<details open><summary>Unchanged (1)</summary>\n'
    '\n'
    '- same\n'
    '\n'
    '</details>\n'
    '\n'
    '<details open><summary>Environment name differs from the linked environment (1)</summary>\n'
    '\n'
    '- tasks.json:4: same uses e, the environment is now e-renamed\n'
    '\n'
    '</details>\n'
    '\n'
    '<sub>footer</sub>\n'
)


def test_text_shows_every_section_in_reading_order():
    assert render_text(full_plan()) == TEXT_FULL
    forced = TEXT_FULL.replace(
        "  Update (1):\n    ~ changed\n        ~ args.a: 1 → 2\n\n  Unchanged: 1\n",
        "  Update (forced) (2):\n    ~ changed\n        ~ args.a: 1 → 2\n    ~ same (forced; no field differs)\n",
    )
    assert render_text(full_plan(force=True)) == forced.replace("1 to update, 1 unchanged", "2 to update, 0 unchanged")


def test_text_for_a_new_taskset_an_offline_plan_and_a_plan_with_problems_only():
    new = build_plan([local("a", 1)], [], taskset_name=None, taskset_id="id-1", taskset_exists=False)
    assert render_text(new) == "Sync plan for 'id-1'\n  HUD SDK v5 (hud-python 0.5)\n  Taskset will be created\n\n  Create (1):\n    + a\n\nSummary: 1 to create, 0 to update, 0 unchanged, 0 remote-only\n"
    offline = offline_plan([local("b", 2), local("a", 1)], taskset_name=None)
    assert render_text(offline) == "Sync plan for '?'\n  HUD SDK v5 (hud-python 0.5)\n\n  Tasks found (2):\n    * a\n    * b\n"
    stuck = build_plan([], [remote("a")], taskset_name="ts", taskset_id=None, taskset_exists=True)
    stuck.problems = [Problem(Location("t.json", 1), "bad")]
    assert render_text(stuck).endswith("\n\nSummary: 0 to create, 0 to update, 0 unchanged, 1 remote-only\n")


def test_text_lists_are_cut_at_200_with_a_pointer_to_the_full_list():
    def listed(count: int) -> list[str]:
        plan = build_plan([local(f"t{i:03}", i) for i in range(count)], [], taskset_name="ts", taskset_id=None, taskset_exists=True)
        return render_text(plan).splitlines()

    assert sum(line.startswith("    + ") for line in listed(200)) == 200 and not any("more" in line for line in listed(200))
    lines = listed(201)
    assert sum(line.startswith("    + ") for line in lines) == 200
    assert "    ... and 1 more (--format json lists them all)" in lines


def test_markdown_shows_every_section_escaped_in_reading_order():
    assert render_markdown(full_plan(), footer=["<sub>footer</sub>"], preamble=["pre"]) == MARKDOWN_FULL
    forced = render_markdown(full_plan(force=True))
    assert "<details open><summary>To update (forced) (2)</summary>" in forced


def test_markdown_for_a_new_taskset_and_an_offline_plan():
    new = build_plan([local("a", 1)], [], taskset_name=None, taskset_id="id-1", taskset_exists=False)
    assert render_markdown(new, title="Custom").startswith(
        "### Custom: id-1\nTasks read as HUD SDK v5 (hud-python 0.5).\n**1 to create, 0 to update, 0 unchanged, 0 remote-only**\nTaskset will be created by the first upload.\n"
    )
    offline = render_markdown(offline_plan([local("a", 1)], taskset_name="ts"))
    assert offline.startswith("### HUD taskset plan: ts\nTasks read as HUD SDK v5 (hud-python 0.5).\n**1 tasks found; plan unavailable**\n\n<details open><summary>Tasks found (1)</summary>")
    assert "| a | e:s | tasks.json:1 |" in offline


def test_escape_makes_text_one_inert_line():
    assert escape("  a \n\t b  ") == "a b"
    assert escape("a\u2028b\x1fc") == "a b c"
    assert escape("a  \u00a0b") == "a  \u00a0b"  # other spaces stay, so a slug reads back exactly
    assert escape("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#x27;"
    assert escape("*x* [y](z) `c` #1 |") == "\\*x\\* \\[y\\]\\(z\\) \\`c\\` \\#1 \\|"
    assert escape("@team https://x.io www.y.io") == "@\u200bteam https:\u200b//x.io www\u200b.y.io"
    assert escape("x" * 300) == "x" * 300
    assert escape("x" * 301) == "x" * 299 + "…"
    assert escape("x" * 11, max_len=10) == "x" * 9 + "…"
    assert escape(Location("a.json", 2)) == "a.json:2"


def test_a_section_is_cut_between_rows_with_a_count_of_the_rest():
    rows = [f"- row {i}" for i in range(3)]
    whole = "<details open><summary>T</summary>\n\n- row 0\n- row 1\n- row 2\n\n</details>\n"
    one = "<details open><summary>T</summary>\n\n- row 0\n\n_2 more, see the run log_\n\n</details>\n"
    # Room is kept for the "N more" line until the last row, so the cuts fall at these sizes.
    assert _section_text("T", None, rows, 10_000) == _section_text("T", None, rows, 92) == whole
    assert _section_text("T", None, rows, 91) == _section_text("T", None, rows, 84) == one
    assert _section_text("T", None, rows, 83).count("- row") == 0
    assert "_3 more, see the run log_" in _section_text("T", None, rows, 83)
    assert _section_text("T", None, rows, 48) == "T: list left out, see the run log\n"
    assert _section_text("T", "| h |", [], 60) == "<details open><summary>T</summary>\n\n| h |\n\n</details>\n"


def test_long_sections_start_closed():
    assert _section_text("T", None, ["- r"] * 10, 10_000).startswith("<details open>")
    assert _section_text("T", None, ["- r"] * 11, 10_000).startswith("<details><summary>")


def test_the_budget_is_shared_fairly():
    assert _share([10, 50, 100], 1_000) == [10, 50, 100]
    assert _share([10, 50, 100], 120) == [10, 50, 60]
    assert _share([10, 50, 100], 100) == [10, 45, 45]
    # A section needing exactly the fair share gets it, and what it leaves goes to the others.
    assert _share([0, 48, 48, 17], 53) == [0, 18, 18, 17]
    assert _share([10, 50], -5) == [0, 0] and _share([5], -5) == [0]
    assert _share([], 100) == []


def test_markdown_keeps_to_its_limit_and_says_what_it_left_out():
    plan = build_plan([local(f"task-{i:03}", i) for i in range(300)], [], taskset_name="ts", taskset_id=None, taskset_exists=True)
    body = render_markdown(plan, limit=3_000, footer=["<sub>f</sub>"])
    assert len(body) <= 3_000 and body.endswith("</details>\n\n<sub>f</sub>\n")
    shown = body.count("| task-")
    assert 0 < shown < 300 and f"_{300 - shown} more, see the run log_" in body
    assert render_markdown(plan, limit=60_000) == render_markdown(plan)
    # An enormous preamble leaves only the title line, cut to the limit.
    assert render_markdown(plan, limit=20, preamble=["p" * 100]) == "### HUD taskset plan"
    assert render_markdown(plan, limit=40, preamble=["p" * 100]) == "### HUD taskset plan: ts\n"
    assert render_markdown(plan, limit=0) == ""


def test_the_fixed_part_may_fill_the_limit_exactly():
    plan = offline_plan([], taskset_name=None)
    fixed = "### HUD taskset plan: ?\nTasks read as HUD SDK v5 (hud-python 0.5).\n**0 tasks found; plan unavailable**\n\n"
    assert render_markdown(plan, limit=len(fixed)) == fixed
    assert render_markdown(plan, limit=len(fixed) - 1) == "### HUD taskset plan: ?\n"
    # Footer lines each end a line of their own, and count in full against the limit.
    assert render_markdown(plan, limit=len(fixed) + 4, footer=["a", "b"]) == fixed + "a\nb\n"
    assert render_markdown(plan, limit=len(fixed) + 3, footer=["a", "b"]) == "### HUD taskset plan: ?\n"


def test_the_platform_line_names_the_key_source_only_when_known():
    plan = offline_plan([], taskset_name="ts")
    plan.platform_url = "http://127.0.0.1:8765"
    assert "\n  Platform: http://127.0.0.1:8765\n" in render_text(plan) and "API key from" not in render_text(plan)
    assert "Platform: http:\u200b//127.0.0.1:8765\n" in render_markdown(plan)


def test_long_problems_skipped_files_and_notes_are_cut_to_their_own_lengths():
    def shown(plan: Plan) -> str:
        return render_markdown(plan, limit=60_000)

    plan = offline_plan([], taskset_name="ts")
    plan.problems = [Problem(Location("a.json", 1), "m" * (600 - len("a.json:1: ")))]
    plan.skipped = [Skipped("b.py", "e" * 500)]
    plan.notes = ["n" * 500]
    body = shown(plan)
    assert "- a.json:1: " + "m" * 590 + "\n" in body and "e" * 500 + "\n" in body and "> " + "n" * 500 + "\n" in body
    plan.problems = [Problem(Location("a.json", 1), "m" * (601 - len("a.json:1: ")))]
    plan.skipped = [Skipped("b.py", "e" * 501)]
    plan.notes = ["n" * 501]
    body = shown(plan)
    assert "- a.json:1: " + "m" * 589 + "…\n" in body and "e" * 499 + "…\n" in body and "> " + "n" * 499 + "…\n" in body


def test_extra_sections_come_before_the_plan_lists():
    body = render_markdown(offline_plan([local("a", 1)], taskset_name="ts"), extra_sections=[("Diff", ["- one"])])
    assert body.index("<summary>Diff</summary>\n\n- one\n") < body.index("<summary>Tasks found (1)</summary>")


def test_render_picks_the_format():
    plan = offline_plan([local("a", 1)], taskset_name="ts")
    assert json.loads(render(plan, "json"))["create"][0]["slug"] == "a"
    assert render(plan, "markdown") == render_markdown(plan)
    assert render(plan, "text") == render_text(plan)


def test_the_json_plan_has_every_documented_member():
    plan = full_plan()
    data = json.loads(render(plan, "json"))
    assert data == {
        "schema_version": 2,
        "sdk": "v5",
        "sdk_reason": "",
        "taskset": {
            "name": "ts",
            "id": "11111111-2222-3333-4444-555555555555",
            "exists": True,
            "switching_from": "99999999-8888-7777-6666-555555555555",
        },
        "platform": {"url": "https://api.hud.ai", "key_from": "HUD_API_KEY"},
        "remote_known": True,
        "summary": "2 to create, 1 to update, 1 unchanged, 2 remote-only",
        "counts": {"create": 2, "update": 1, "unchanged": 1, "remote_only": 2, "renames": 1},
        "has_changes": True,
        "forced": False,
        "plan_hash": plan.plan_hash,
        "create": [
            {"slug": "new", "scenario": "e:s", "file": "tasks.json", "line": 1},
            {"slug": "renamed", "scenario": "e:s", "file": "tasks.json", "line": 2},
        ],
        "update": [{"slug": "changed", "scenario": "e:s", "file": "tasks.json", "line": 3,
                    "changes": [{"field": "args", "key": "a", "change": "changed", "old": 1, "new": 2}]}],
        "unchanged": ["same"],
        "remote_only": ["gone", "old-name"],
        "renames": [{"old": "old-name", "new": "renamed"}],
        "skipped": [{"path": "broken.py", "error": "SyntaxError: invalid syntax (line 2)"}],
        "problems": [{"file": "bad.json", "line": 3, "column": 5, "message": "slug is empty", "fix": "set a slug"}],
        "env_mismatches": [{"slug": "same", "file": "tasks.json", "line": 4, "local_env": "e", "current_env": "e-renamed"}],
        "notes": ["linked environment e-renamed"],
    }
    assert len(plan.plan_hash) == 64
    text = render(plan, "json")
    assert text.endswith("}\n") and text.startswith('{\n  "schema_version": 2,\n')
    assert json.loads(render(offline_plan([local("é", 1)], taskset_name=None), "json"))["create"][0]["slug"] == "é"
    assert '"slug": "é"' in render(offline_plan([local("é", 1)], taskset_name=None), "json")


def test_the_default_limit_is_60000_characters():
    # Room for the comment marker and footers within GitHub's 65,536. This plan's cut falls exactly
    # at the limit (the taskset name's 41 characters place it there): one character more shows one
    # more row.
    plan = build_plan(
        [local(f"ttttttt-{i:04}", i) for i in range(2000)], [], taskset_name="ts" + "x" * 39, taskset_id=None, taskset_exists=True
    )
    default = render_markdown(plan)
    assert default == render_markdown(plan, limit=60_000) != render_markdown(plan, limit=60_001)
    assert len(default) <= 60_000


def test_each_row_is_shown_as_soon_as_it_and_the_count_of_the_rest_fit():
    # Where the cuts fall for twelve short rows: one more row per row's length (5 characters), one
    # sooner where the "N more" count loses a digit, and the last row needs no "more" line at all.
    rows = [f"- r{i}" for i in range(12)]
    first_cap_showing = {}
    for cap in range(30, 200):
        text = _section_text("T", None, rows, cap)
        shown = -1 if "left out" in text else text.count("- r")
        first_cap_showing.setdefault(shown, cap)
        if shown >= 1:
            assert len(text) <= cap
            assert (f"_{12 - shown} more, see the run log_" in text) == (shown < 12)
    assert first_cap_showing == {-1: 30, 0: 44, 1: 77, 2: 82, 3: 87, 4: 91, 5: 96, 6: 101, 7: 106, 8: 111, 9: 116, 10: 121, 12: 127}
    # The last row needs no room for a "more" line: a long last row shows as soon as it fits.
    two = ["- a", "- " + "x" * 60]
    assert _section_text("T", None, two, 116).endswith("- a\n- " + "x" * 60 + "\n\n</details>\n")
    assert "_1 more, see the run log_" in _section_text("T", None, two, 115)
    # A header alone fits exactly in its size plus one.
    assert _section_text("T", "| h |", [], 55) == "<details open><summary>T</summary>\n\n| h |\n\n</details>\n"
    assert _section_text("T", "| h |", [], 54) == "T: list left out, see the run log\n"


def test_a_small_section_gets_what_it_needs_and_the_long_list_every_character_left():
    plan = build_plan(
        [local(f"task-{i:03}", i) for i in range(100)] + [local("same", 999)],
        [remote("same")],
        taskset_name="ts",
        taskset_id=None,
        taskset_exists=True,
    )
    # Too small for any list: the whole body says so in one line rather than break the limit.
    assert render_markdown(plan, limit=264) == (
        "### HUD taskset plan: ts\nTasks read as HUD SDK v5 (hud-python 0.5).\n**100 to create, 0 to update, 1 unchanged, 0 remote-only**\n\n"
        "_The lists are too long to show here; see the run log._\n"
    )
    assert len(render_markdown(plan, limit=265)) <= 265 and "too long to show" not in render_markdown(plan, limit=265)
    assert render_markdown(plan, limit=270, footer=["f1", "f2"]).endswith("see the run log._\nf1\nf2\n")
    below, at = render_markdown(plan, limit=2_082), render_markdown(plan, limit=2_083)
    assert "<summary>Unchanged (1)</summary>\n\n- same\n" in below and "<summary>Unchanged (1)</summary>\n\n- same\n" in at
    assert below.count("| task-") == 46 and "_54 more, see the run log_" in below
    assert at.count("| task-") == 47 and "_53 more, see the run log_" in at


def test_a_small_table_beside_a_long_list_is_counted_with_its_header():
    plan = build_plan(
        [local("new", 0)] + [local(f"same-{i:03}", i + 1) for i in range(100)],
        [remote(f"same-{i:03}") for i in range(100)],
        taskset_name="ts",
        taskset_id=None,
        taskset_exists=True,
    )
    below, at = render_markdown(plan, limit=1_051), render_markdown(plan, limit=1_052)
    assert "| new | e:s | tasks.json:0 |" in below and "| new | e:s | tasks.json:0 |" in at
    assert (below.count("- same-"), at.count("- same-")) == (52, 53)
