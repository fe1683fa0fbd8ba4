"""Field-level diffs of updates: what is compared, what is kept of the remote side, how it is shown."""

from __future__ import annotations

import json
import re

from hud_sync_hook.diff import ABSENT, RemoteTask, keeper, shorten_pair, show_value, task_changes
from hud_sync_hook.model import Location, task_from_mapping
from hud_sync_hook.plan import build_plan
from hud_sync_hook.render.json_plan import iter_json, plan_dict, render_json
from hud_sync_hook.render.markdown import render_markdown, utf8_size
from hud_sync_hook.render.text import render_text


def local(slug: str, *, env: str = "e", scenario: str = "s", validation=None, agent_config=None, columns=None, **args):
    row = {"slug": slug, "scenario": scenario, "env": {"name": env}, "args": args}
    row.update({k: v for k, v in (("validation", validation), ("agent_config", agent_config), ("columns", columns)) if v is not None})
    return task_from_mapping(row, Location("tasks.json", 3))


def remote(slug: str, *, env: str = "e", scenario: str = "s", validation=None, agent_config=None, columns=None, **args):
    return {"id": f"id-{slug}", "slug": slug, "scenario": f"{env}:{scenario}", "env": {"name": env}, "args": args,
            "validation": validation, "agent_config": agent_config, "column_values": columns, "extra": 1}


def plan_for(tasks, records, **kw):
    return build_plan(tasks, records, taskset_name="ts", taskset_id="11111111-1111-1111-1111-111111111111",
                      taskset_exists=True, **kw)


def changes_of(task, record, **kw):
    plan = plan_for([task], [record], **kw)
    return [c.as_dict() for c in plan.changes(plan.update[0])] if plan.update else None


def test_each_args_key_added_removed_and_changed_in_key_order():
    got = changes_of(local("a", keep=1, level="hard", hint="x"), remote("a", keep=1, level="easy", old=[1, 2]))
    assert got == [
        {"field": "args", "key": "hint", "change": "added", "new": "x"},
        {"field": "args", "key": "level", "change": "changed", "old": "easy", "new": "hard"},
        {"field": "args", "key": "old", "change": "removed", "old": [1, 2]},
    ]


def test_values_python_thinks_equal_but_the_signature_does_not_are_changes():
    # 1 == 1.0 == True in Python; the platform compares canonical JSON, and so does the diff.
    assert changes_of(local("a", n=1.0), remote("a", n=1)) == [
        {"field": "args", "key": "n", "change": "changed", "old": 1, "new": 1.0}]
    assert changes_of(local("a", n=True), remote("a", n=1))[0]["new"] is True


def test_scenario_validation_agent_config_and_columns():
    got = changes_of(
        local("a", scenario="pay", validation=[{"name": "check", "arguments": {"x": 2}}], agent_config={"model": "b"},
              columns={"difficulty": "hard", "tags": ["x"]}),
        remote("a", scenario="checkout", validation=[{"name": "check", "arguments": {"x": 1}}],
               agent_config={"model": "a", "temperature": 0}, columns={"difficulty": "easy"}),
    )
    assert got == [
        {"field": "scenario", "change": "changed", "old": "checkout", "new": "pay"},
        {"field": "validation", "change": "changed", "old": [{"name": "check", "arguments": {"x": 1}}],
         "new": [{"name": "check", "arguments": {"x": 2}}]},
        {"field": "agent_config", "key": "model", "change": "changed", "old": "a", "new": "b"},
        {"field": "agent_config", "key": "temperature", "change": "removed", "old": 0},
        {"field": "columns", "key": "difficulty", "change": "changed", "old": "easy", "new": "hard"},
        {"field": "columns", "key": "tags", "change": "added", "new": ["x"]},
    ]
    # A field that appears or disappears as a whole.
    assert changes_of(local("a", validation=[{"name": "v"}]), remote("a")) == [
        {"field": "validation", "change": "added", "new": [{"name": "v", "arguments": {}}]}]


def test_the_environment_counts_only_for_a_task_that_is_uploaded():
    # An env rename alone changes nothing (the signature leaves it out): no update, no diff.
    assert changes_of(local("a", env="new", n=1), remote("a", env="old", n=1)) is None
    # Uploaded anyway (another change, or forced): the upload moves it to the new env; say so.
    assert changes_of(local("a", env="new", n=2), remote("a", env="old", n=1)) == [
        {"field": "env", "change": "changed", "old": "old", "new": "new"},
        {"field": "args", "key": "n", "change": "changed", "old": 1, "new": 2},
    ]
    assert changes_of(local("a", env="new", n=1), remote("a", env="old", n=1), force=True) == [
        {"field": "env", "change": "changed", "old": "old", "new": "new"}]
    assert changes_of(local("a", n=1), remote("a", n=1), force=True) == []


def test_every_update_that_is_not_forced_shows_at_least_one_change():
    pairs = [
        (local("a", n=[1, 2]), remote("a", n=[2, 1])),
        (local("a", agent_config={"x": None}), remote("a")),  # non-empty agent_config counts
        (local("a", columns={"c": 0}), remote("a", columns={})),
        (local("a", s="é"), remote("a", s="e\u0301")),  # not normalised: different bytes
    ]
    for task, record in pairs:
        got = changes_of(task, record)
        assert got, (task, record)


def test_a_streamed_fetch_keeps_the_remote_record_only_for_changed_slugs():
    tasks = [local(f"t{i}", n=i) for i in range(100)]
    records = [remote(f"t{i}", n=i + (1 if i % 10 == 0 else 0)) for i in range(100)] + [remote("gone", n=1)]
    keep = keeper(tasks)
    kept = [keep(dict(r)) for r in records]
    compact = [item for item in kept if len(item) == 3]
    assert [item[0] for item in compact] == [f"t{i}" for i in range(0, 100, 10)]
    assert all(isinstance(item[2], RemoteTask) for item in compact)
    # The same plan, and the same changes, as from the full records.
    streamed, full = plan_for(tasks, kept), plan_for(tasks, records)
    assert plan_dict(streamed) == plan_dict(full)
    # Written in pieces as it is encoded, the JSON plan is the same text.
    assert "".join(iter_json(streamed)) == render_json(full) and len(list(iter_json(streamed))) > 100
    assert sorted(streamed.remote_tasks) == [f"t{i}" for i in range(0, 100, 10)]
    # Forced: identical tasks keep nothing unless their environment would change.
    forced = keeper([local("a", n=1), local("b", env="new", n=1)], force=True)
    assert len(forced(remote("a", n=1))) == 2 and len(forced(remote("b", n=1))) == 3


def test_a_repeated_remote_slug_is_diffed_against_the_record_that_counts():
    plan = plan_for([local("a", n=3)], [remote("a", n=1), remote("a", n=2)])
    assert [c.old for c in plan.changes(plan.update[0])] == [2]


def test_long_values_are_shortened_around_the_change():
    old = json.dumps("x" * 500 + "OLD" + "y" * 500)
    new = json.dumps("x" * 500 + "NEW" + "y" * 500)
    short_old, short_new = shorten_pair(old, new, width=60, context=20)
    assert "OLD" in short_old and "NEW" in short_new
    assert short_old.startswith("…" + "x" * 20 + "OLD") and short_old.endswith("…")
    assert len(short_old) <= 62 and len(short_new) <= 62
    # Short values are shown whole; a change at the very start keeps the start.
    assert shorten_pair('"a"', '"b"') == ('"a"', '"b"')
    start_old, _ = shorten_pair("A" + "z" * 200, "B" + "z" * 200, width=30)
    assert start_old.startswith("Az") and start_old.endswith("…")


HOSTILE = "\x1b]8;;https://evil\x07click\x1b[2J\r\n::error::forged\u202egnp.exe\u2028\x85\x00"


def test_text_from_a_task_or_the_platform_is_inert_in_every_rendering():
    plan = plan_for([local("a", **{HOSTILE: HOSTILE + "2"})], [remote("a", **{HOSTILE: HOSTILE + "1"}, gone=HOSTILE)])
    assert len(plan.changes(plan.update[0])) == 2
    for text in (render_text(plan), render_text(plan, color=True), render_markdown(plan)):
        assert not re.search("[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]", text)
        assert not any(line.lstrip().startswith("::") for line in text.splitlines())
    assert "\\u001b]8;;https://evil\\u0007click" in render_text(plan)
    assert "\\u202egnp.exe" in render_text(plan)
    markdown = render_markdown(plan)
    assert "https:\u200b//evil" in markdown and "<script" not in markdown
    # Colour codes are ours only: each is a colour or a reset.
    assert set(re.findall("\x1b\\[[0-9;]*m", render_text(plan, color=True))) == {"\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[0m"}
    assert "\x1b" not in render_text(plan)
    assert show_value("tab\there\x85") == '"tab\\there\\x85"' and show_value("é ✓") == '"é ✓"'


def test_text_lists_changes_under_each_update():
    plan = plan_for([local("a", level="hard"), local("b", n=1)], [remote("a", level="easy"), remote("b", n=1)], force=True)
    text = render_text(plan)
    assert '    ~ a\n        ~ args.level: "easy" → "hard"\n' in text
    assert "    ~ b (forced; no field differs)\n" in text


def _update_plan(count: int, value: str = "x"):
    tasks = [local(f"task-{i:05d}", level=value * 40 + "new") for i in range(count)]
    records = [remote(f"task-{i:05d}", level=value * 40 + "old") for i in range(count)]
    return plan_for(tasks, records)


def test_markdown_folds_each_update_with_a_table_of_its_changes():
    text = render_markdown(_update_plan(2))
    block = re.search(r"<details open><summary><code>task-00000</code>: 1 change · tasks\.json:3</summary>\n\n"
                      r"\| Field \| Before \| After \|\n\|---\|---\|---\|\n\| args\.level \| (.*) \| (.*) \|\n\n</details>", text)
    assert block, text
    assert block.group(1).endswith("old&quot;") and block.group(2).endswith("new&quot;")


def test_thousands_of_updates_show_the_first_in_full_and_count_the_rest():
    plan = _update_plan(3000)
    comment = render_markdown(plan, limit=65_536)
    assert len(comment) <= 65_536
    shown = re.findall(r"<summary><code>(task-\d+)</code>", comment)
    assert 50 < len(shown) < 3000
    assert shown == [f"task-{i:05d}" for i in range(len(shown))]  # the first ones, in order
    assert f"_{3000 - len(shown)} more, see the run log_" in comment
    assert comment.count("<details") == comment.count("</details>")  # no fold cut in half
    cli = render_markdown(plan, limit=65_536, more_hint="the JSON plan (--format json) lists them all")
    assert "run log" not in cli and "more, the JSON plan (--format json) lists them all_" in cli


def test_a_byte_budget_holds_with_characters_of_four_bytes():
    plan = _update_plan(3000, value="\U0001f600")
    summary = render_markdown(plan, limit=1_000_000, measure=utf8_size)
    assert utf8_size(summary) <= 1_000_000 < 2 * len(summary)
    assert "more, see the run log_" in summary


def test_absent_is_neither_a_value_nor_json():
    assert ABSENT is type(ABSENT)() and not ABSENT
    assert task_changes(local("a"), None) == []


def test_a_streamed_fetch_keeps_of_a_changed_task_only_the_remote_side_of_what_changes():
    from hud_sync_hook.diff import Diffed

    unchanged_text = "kept-only-locally " * 200  # long, the same on both sides: not kept
    pairs = [
        (local("a", text=unchanged_text, level="new", hint="h"), remote("a", text=unchanged_text, level="old", gone=1)),
        (local("b", text=unchanged_text, validation=[{"x": 1}], columns={"c": 2.0}),
         remote("b", text=unchanged_text, validation={"x": float("nan")}, columns={"c": 2, "d": "dropped"})),
        (local("c", env="other", scenario="t", text=unchanged_text, n=[1, 2], agent_config={"k": None}),
         remote("c", text=unchanged_text, n=[2, 1])),
        (local("d", text=unchanged_text, long="é" * 5000 + "new"), remote("d", text=unchanged_text, long="é" * 5000 + "old")),
    ]
    tasks = [task for task, _record in pairs]
    keep = keeper(tasks)
    for task, record in pairs:
        item = keep(dict(record))
        assert item[0] is task.slug  # one slug string for both sides
        kept = item[2]
        assert isinstance(kept, Diffed) and kept.body == ""
        # Nothing of the record but what differs: the long unchanged value is gone.
        assert b"kept-only-locally" not in kept.old and len(kept.old) < len(unchanged_text) // 4
        # The changes read back from what is kept are those of the whole record, values and order.
        whole = plan_for([task], [record])
        assert [c.as_dict() for c in kept.changes(task, whole.rules)] == changes_of(task, record)
        assert json.dumps([c.as_dict() for c in task_changes(task, kept)]) == json.dumps(changes_of(task, record))
    # A long remote side is kept compressed: 5,000 two-byte characters are not 10,000 bytes.
    assert len(keep(dict(pairs[3][1]))[2].old) < 1000
    # Nothing is kept for an unchanged task but its slug and digest.
    assert len(keep(remote("a", text=unchanged_text, level="new", hint="h"))) == 2


def test_a_diffed_remote_task_does_not_pretend_to_hold_the_record():
    import pytest

    item = keeper([local("a", n=2)])(remote("a", n=1))
    with pytest.raises(TypeError, match="only the changes"):
        item[2].values()


def test_the_markdown_plan_makes_only_the_update_folds_it_can_show():
    from hud_sync_hook.plan import Plan

    class Counting(Plan):
        made = 0

        def changes(self, task):
            Counting.made += 1
            return super().changes(task)

    plan = _update_plan(3000)
    counted = Counting(**{name: getattr(plan, name) for name in plan.__dataclass_fields__})
    comment = render_markdown(counted, limit=65_536)
    assert comment == render_markdown(plan, limit=65_536)
    shown = len(re.findall(r"<summary><code>task-\d+</code>", comment))
    # Each fold shown is made to be measured and to be written; none past the budget is made.
    assert shown < Counting.made <= 2 * shown + 2
