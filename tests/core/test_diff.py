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


def test_a_changed_value_is_shown_with_the_same_common_text_around_the_change_on_both_sides():
    # Five characters of what both share before the change and after it; the cut ends marked.
    old, new = "a" * 100 + "X" + "b" * 100, "a" * 100 + "Y" + "b" * 100
    assert shorten_pair(old, new, width=30, context=5) == ("…aaaaaXbbbbb…", "…aaaaaYbbbbb…")
    assert shorten_pair("p" * 10 + "OLD" + "s" * 99, "p" * 10 + "NEW" + "s" * 99, width=30, context=5) == (
        "…pppppOLDsssss…", "…pppppNEWsssss…")
    # Text inserted in the middle: the common text either side on both sides, and the insertion.
    assert shorten_pair("a" * 50 + "b" * 50, "a" * 50 + "Za" + "b" * 50, width=30, context=5) == (
        "…aaaaabbbbb…", "…aaaaaZabbbbb…")
    # Two changes apart: the view runs from the first to the last (here, the very end).
    assert shorten_pair("x" * 50 + "A" + "z" * 20 + "A", "x" * 50 + "B" + "z" * 20 + "B", width=30, context=5) == (
        "…xxxxxA" + "z" * 20 + "A", "…xxxxxB" + "z" * 20 + "B")
    # The mark in front appears as soon as one character is left out.
    assert shorten_pair("p" * 6 + "OLD" + "s" * 100, "p" * 6 + "NEW" + "s" * 100, width=30, context=5) == (
        "…pppppOLDsssss…", "…pppppNEWsssss…")
    assert shorten_pair("p" * 5 + "OLD" + "s" * 100, "p" * 5 + "NEW" + "s" * 100, width=30, context=5) == (
        "pppppOLDsssss…", "pppppNEWsssss…")
    # A long differing part is cut at the width, after the common text that leads to it.
    old, new = "p" * 40 + "O" * 50 + "s" * 40, "p" * 40 + "N" * 50 + "s" * 40
    assert shorten_pair(old, new, width=30, context=5) == ("…ppppp" + "O" * 25 + "…", "…ppppp" + "N" * 25 + "…")
    # Text added at the end: the old value ends where it did (no mark), the new one is cut.
    assert shorten_pair("x" * 100, "x" * 150, width=30, context=5) == ("…xxxxx", "…" + "x" * 30 + "…")
    assert shorten_pair("x" * 150, "x" * 100, width=30, context=5) == ("…" + "x" * 30 + "…", "…xxxxx")
    # Either value over the width is enough to shorten both around the change; neither over it, none.
    assert shorten_pair("q" * 30 + "A", "q" * 30 + "B", width=30, context=5) == ("…qqqqqA", "…qqqqqB")
    assert shorten_pair("q" * 29 + "A", "q" * 29 + "B", width=30, context=5) == ("q" * 29 + "A", "q" * 29 + "B")
    assert shorten_pair("q", "q" * 31 + "B", width=30, context=5) == ("q", "q" * 30 + "…")
    assert shorten_pair("q" * 31 + "B", "q", width=30, context=5) == ("q" * 30 + "…", "q")


def test_the_default_width_and_context_of_a_shortened_pair():
    old, new = "a" * 100 + "X" + "b" * 100, "a" * 100 + "Y" + "b" * 100
    assert shorten_pair(old, new) == ("…" + "a" * 20 + "X" + "b" * 20 + "…", "…" + "a" * 20 + "Y" + "b" * 20 + "…")
    assert shorten_pair("a" * 70, "b" * 70) == ("a" * 70, "b" * 70)
    assert shorten_pair("a" * 71, "b" * 70) == ("a" * 70 + "…", "b" * 70)


def test_a_value_only_on_one_side_is_cut_at_the_width_and_the_other_side_is_empty():
    from hud_sync_hook.diff import Change, shorten, shown_pair

    assert shown_pair(Change("args", "k", new="n" * 100), width=10) == ("", '"nnnnnnnn…')
    assert shown_pair(Change("args", "k", old="o" * 100), width=10) == ('"oooooooo…', "")
    assert shown_pair(Change("args", "k", old=1, new=2)) == ("1", "2")
    assert shown_pair(Change("args", "k", new="n" * 68)) == ("", '"' + "n" * 68 + '"')
    assert shown_pair(Change("args", "k", new="n" * 69)) == ("", '"' + "n" * 68 + "…")
    # A value at the width stays whole; the cut keeps at least one character however narrow.
    assert shorten("abcd", 4) == "abcd" and shorten("abcde", 4) == "abc…"
    assert shorten("abcdef", 2) == "a…" and shorten("abcdef", 1) == "a…"


def test_an_absent_side_is_shown_as_nothing_and_a_null_as_null():
    assert show_value(ABSENT) == "" and show_value(None) == "null"
    assert repr(ABSENT) == "ABSENT"  # as a failing comparison of changes prints it
    # Keys of an object are shown sorted, so the same value always reads the same.
    assert show_value({"b": 1, "a": [2, {"d": 3, "c": 4}]}) == '{"a": [2, {"c": 4, "d": 3}], "b": 1}'


def test_a_remote_task_is_read_whatever_the_platform_answers():
    from hud_sync_hook.diff import remote_task
    from hud_sync_hook.model import remote_signature

    record = remote("a", env="e", n=1)
    assert remote_task(record) == remote_task(record, remote_signature(record))
    assert remote_task(record).values() == {"args": {"n": 1}}
    # The environment's own name counts, not the prefix of the scenario it was stored with ...
    moved = {"slug": "a", "scenario": "old:s", "env": {"name": "new"}, "args": {}}
    assert (remote_task(moved).scenario, remote_task(moved).env) == ("old:s", "new")
    # ... and without a usable name, the whole prefix of the scenario (up to its last colon).
    for env in (None, {"name": 5}, {"name": ""}, {}, "e"):
        assert remote_task({"slug": "a", "scenario": "a:b:s", "env": env, "args": {}}).env == "a:b", env
    assert remote_task({"slug": "a", "scenario": "s", "args": {}}).env is None
    # A scenario that is not a string reads as none.
    assert remote_task({"slug": "a", "scenario": 5, "env": {"name": "e"}, "args": {}}) == RemoteTask("", "e", '{"args":{}}')


def test_a_remote_value_of_the_wrong_type_is_shown_replaced_whole():
    got = changes_of(local("a", agent_config={"model": "b"}), {**remote("a"), "agent_config": "fast"})
    assert got == [{"field": "agent_config", "change": "changed", "old": "fast", "new": {"model": "b"}}]
    got = changes_of(local("a", columns={"c": 1}), {**remote("a"), "column_values": ["c", 1]})
    assert got == [{"field": "columns", "change": "changed", "old": ["c", 1], "new": {"c": 1}}]


def test_an_upload_that_gives_a_legacy_task_its_environment_says_so():
    # A remote task stored without an environment (an unqualified scenario, no env): the upload
    # adds one, where an upload to the same environment changes nothing.
    legacy = {"id": "id-a", "slug": "a", "scenario": "s", "args": {"n": 1}}
    assert changes_of(local("a", env="e", n=2), legacy) == [
        {"field": "env", "change": "added", "new": "e"},
        {"field": "args", "key": "n", "change": "changed", "old": 1, "new": 2},
    ]
    assert changes_of(local("a", env="e", n=1), legacy, force=True) == [{"field": "env", "change": "added", "new": "e"}]
    assert changes_of(local("a", env="e", n=1), remote("a", env="e", n=1), force=True) == []


def test_a_streamed_fetch_skips_records_without_a_slug_and_keeps_no_env_change_unless_forced():
    task = local("b", env="new", n=1)
    assert keeper([task])({"id": "x", "scenario": "e:s", "args": {}}) is None
    assert keeper([task])({**remote("b", n=1), "slug": 7}) is None
    assert len(keeper([task])(remote("b", n=1))) == 2  # not forced: an env rename alone is no update
    assert len(keeper([task], force=True)(remote("b", n=1))) == 3
    assert keeper([task])(remote("other", n=1))[0] == "other"


def test_a_future_generation_s_fields_outside_the_reading_order_follow_it_sorted():
    from dataclasses import replace

    from hud_sync_hook.diff import V5

    rules = replace(V5, order=("args",))
    task = local("a", scenario="new", validation=[{"name": "v"}], n=2)
    plan = plan_for([task], [remote("a", scenario="old", n=1)], rules=rules)
    assert [(c.field, c.key) for c in plan.changes(plan.update[0])] == [
        ("args", "n"), ("scenario", None), ("validation", None)]


def test_an_update_shows_its_first_twenty_changes_and_counts_the_rest():
    def plan_changing(count: int):
        return plan_for([local("a", **{f"k{i:02}": 2 for i in range(count)})], [remote("a", **{f"k{i:02}": 1 for i in range(count)})])

    for count in (20, 26):
        markdown, text = render_markdown(plan_changing(count)), render_text(plan_changing(count))
        assert re.findall(r"\| args\.(k\d\d) \| 1 \| 2 \|", markdown) == [f"k{i:02}" for i in range(20)]
        assert re.findall(r"~ args\.(k\d\d): 1 → 2", text) == [f"k{i:02}" for i in range(20)]
        assert ("| _6 more changes_ | | |" in markdown) == (count == 26) and "more changes_" not in markdown.replace("_6 more changes_", "")
        assert ("        ... and 6 more changes (--format json lists them all)\n" in text) == (count == 26)
        assert "more changes (" not in text.replace("6 more changes (", "")


def test_a_long_value_is_cut_to_sixty_characters_in_markdown_and_seventy_in_a_terminal():
    plan = plan_for([local("a", k="n" * 100)], [remote("a")])
    assert "| args.k | _none_ | &quot;" + "n" * 58 + "… |" in render_markdown(plan)
    assert '+ args.k: "' + "n" * 68 + "…\n" in render_text(plan)
    plan = plan_for([local("a", k="n" * 58)], [remote("a")])  # 60 with its quotes: shown whole
    assert "| args.k | _none_ | &quot;" + "n" * 58 + "&quot; |" in render_markdown(plan)


def test_a_repeated_remote_slug_streamed_is_diffed_against_the_last_record_only():
    # The platform's last record of a slug counts. Streamed, an earlier record kept for its changes
    # must not be shown for a task the last record says is identical.
    task = local("a", env="e", n=1)
    records = [remote("a", env="old", n=5), remote("a", env="e", n=1)]
    kept = [keeper([task], force=True)(r) for r in records]
    assert [len(item) for item in kept] == [3, 2]
    forced = plan_for([task], kept, force=True)
    assert [t.slug for t in forced.update] == ["a"] and forced.changes(forced.update[0]) == []
    assert forced.remote_tasks == {}
    assert plan_for([task], kept).unchanged == [task]
    # The other way round, the last record's changes are the ones shown.
    kept = [keeper([task])(r) for r in reversed(records)]
    plan = plan_for([task], kept)
    assert [c.as_dict() for c in plan.changes(plan.update[0])] == [
        {"field": "env", "change": "changed", "old": "old", "new": "e"},
        {"field": "args", "key": "n", "change": "changed", "old": 5, "new": 1},
    ]


def test_an_update_s_summary_line_is_inert_html_whatever_the_slug_or_file_is_called():
    task = task_from_mapping({"slug": "a", "scenario": "s", "env": {"name": "e"}, "args": {"n": 2}},
                             Location("we<b>ird_*[x](y)&#1 @me 'q\" `c` |~!+{}\\.json", 3))
    markdown = render_markdown(plan_for([task], [remote("a", n=1)]))
    summary = re.search(r"<summary><code>a</code>: 1 change · (.*)</summary>", markdown).group(1)
    assert summary == ("we&#60;b&#62;ird&#95;&#42;&#91;x&#93;&#40;y&#41;&#38;&#35;1 @\u200bme &#39;q&#34; &#96;c&#96; "
                       "&#124;&#126;&#33;&#43;&#123;&#125;&#92;.json:3")
    # A long file name is cut at 300 characters, as every other name is.
    for length, shown in ((298, "f" * 298 + ":3"), (299, "f" * 299 + "…")):
        task = task_from_mapping({"slug": "a", "scenario": "s", "env": {"name": "e"}, "args": {"n": 2}}, Location("f" * length, 3))
        markdown = render_markdown(plan_for([task], [remote("a", n=1)]))
        assert re.search(r"<summary><code>a</code>: 1 change · (.*)</summary>", markdown).group(1) == shown


def test_a_file_name_that_is_not_utf8_or_breaks_a_line_still_fits_a_byte_budget():
    # A name read from disk with bytes that are not UTF-8 holds lone surrogates (3 bytes each when
    # written out); a name with a line break is one line all the same.
    task = task_from_mapping({"slug": "a", "scenario": "s", "env": {"name": "e"}, "args": {"n": 2}},
                             Location("bad\udcff\n  name.json", 3))
    plan = plan_for([task], [remote("a", n=1)])
    assert utf8_size("bad\udcff") == 6
    summary = render_markdown(plan, limit=1_000, measure=utf8_size)
    assert utf8_size(summary) <= 1_000 and "<code>a</code>: 1 change · bad\udcff name.json:3</summary>" in summary


def test_the_fields_of_a_change_are_listed_in_reading_order():
    got = changes_of(
        local("a", env="new", scenario="pay", validation=[{"name": "v"}], agent_config={"m": 2}, columns={"c": 2}, n=2),
        remote("a", env="old", scenario="buy", validation=[{"name": "w"}], agent_config={"m": 1}, columns={"c": 1}, n=1),
    )
    assert [(c["field"], c.get("key")) for c in got] == [
        ("scenario", None), ("env", None), ("args", "n"), ("validation", None), ("agent_config", "m"), ("columns", "c")]


def test_an_update_without_a_field_to_show_says_why_in_one_line():
    # Forced and identical; or changed, with only the digest of the remote side known.
    plan = plan_for([local("same", n=1)], [remote("same", n=1)], force=True)
    assert "<summary>To update (forced) (1)</summary>\n\n- <code>same</code>: forced, no field differs · tasks.json:3\n" in render_markdown(plan)
    plan = plan_for([local("a", n=2)], [("a", b"\0" * 16)])
    assert plan.update and plan.changes(plan.update[0]) == []
    assert "<summary>To update (1)</summary>\n\n- <code>a</code>: changed · tasks.json:3\n" in render_markdown(plan)
    assert render_text(plan).endswith("  Update (1):\n    ~ a\n\nSummary: 0 to create, 1 to update, 0 unchanged, 0 remote-only\n")


def test_an_update_s_summary_counts_its_changes_and_a_long_key_is_cut():
    one = render_markdown(plan_for([local("a", n=2)], [remote("a", n=1)]))
    two = render_markdown(plan_for([local("a", n=2, m=2)], [remote("a", n=1, m=1)]))
    assert "<code>a</code>: 1 change · tasks.json:3</summary>" in one and "<code>a</code>: 2 changes · tasks.json:3</summary>" in two
    long = render_markdown(plan_for([local("a", **{"k" * 250: 2})], [remote("a", **{"k" * 250: 1})]))
    assert "| args." + "k" * 194 + "… | 1 | 2 |" in long


def test_up_to_ten_updates_start_open_and_more_start_folded():
    for count, opening in ((10, "<details open><summary><code>"), (11, "<details><summary><code>")):
        markdown = render_markdown(_update_plan(count))
        assert markdown.count(opening) == count and markdown.count("<summary><code>") == count
    block = render_markdown(plan_for([local("a", n=2, m=2)], [remote("a", n=1, m=1)]))
    assert ("<details open><summary><code>a</code>: 2 changes · tasks.json:3</summary>\n\n"
            "| Field | Before | After |\n|---|---|---|\n| args.m | 1 | 2 |\n| args.n | 1 | 2 |\n\n</details>\n") in block


def test_each_kind_of_change_has_its_mark_and_colours_in_a_terminal():
    plan = plan_for([local("a", keep=1, level="hard", hint="x")], [remote("a", keep=1, level="easy", old=[1, 2])])
    assert render_text(plan).split("    ~ a\n")[1].startswith(
        '        + args.hint: "x"\n'
        '        ~ args.level: "easy" → "hard"\n'
        "        - args.old: [1, 2]\n\n")
    red, green, yellow, reset = "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[0m"
    assert render_text(plan, color=True).split("    ~ a\n")[1].startswith(
        f'        {green}+{reset} args.hint: {green}"x"{reset}\n'
        f'        {yellow}~{reset} args.level: {red}"easy"{reset} → {green}"hard"{reset}\n'
        f"        {red}-{reset} args.old: {red}[1, 2]{reset}\n\n")


def test_a_terminal_lists_the_first_200_updates_and_counts_the_rest():
    for count in (200, 201):
        text = render_text(_update_plan(count))
        assert re.findall(r"\n    ~ (task-\d+)\n", text) == [f"task-{i:05d}" for i in range(200)]
        assert ("\n    ... and 1 more (--format json lists them all)\n" in text) == (count == 201)
        assert text.count(" more (--format json lists them all)") == (count == 201)


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
    with pytest.raises(TypeError, match=r"^a Diffed keeps only the changes; read them with `changes`$"):
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
