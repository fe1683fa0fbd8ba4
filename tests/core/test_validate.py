"""Every validation problem is found at once, with its place and a one-line fix."""

from __future__ import annotations

from hud_sync_hook.model import Location, task_from_mapping
from hud_sync_hook.task_row import read_row
from hud_sync_hook.validate import compact_if_valid, validate, validate_task


def task(line: int, **fields):
    data = {"slug": f"t{line}", "scenario": "s", "args": {}}
    data.update(fields)
    return task_from_mapping(data, Location("tasks.jsonl", line))


def messages(*tasks) -> list[str]:
    return [str(p) for p in validate(tasks)]


def test_valid_tasks_have_no_problems():
    assert messages(task(1), task(2, validation=[{"name": "v"}], columns={"c": 1})) == []


def test_slug_problems():
    found = messages(
        task(1, slug=None),
        task(2, slug=""),
        task(3, slug="   "),
        task(4, slug="x" * 101),
        task(5, slug="a\nb"),
        task(6, slug=7),
        task(7, slug="x" * 100),
    )
    assert [m.split(": ", 1)[0] for m in found] == [f"tasks.jsonl:{i}" for i in range(1, 7)]
    assert "task has no slug" in found[0]
    assert "slug is empty" in found[1] and "slug is empty" in found[2]
    assert "101 characters long, the platform allows 100" in found[3]
    assert "control character or line break" in found[4]
    assert "slug must be a string, found a number" in found[5]
    assert all("set a unique slug" in m for m in found)


def test_scenario_env_args_and_shapes():
    found = messages(
        task(1, scenario=None),
        task(2, scenario=3),
        task(3, env={"name": 5}),
        task(4, args=[1, 2]),
        task(5, validation={"name": "v"}),
        task(6, validation=[{"arguments": {}}]),
        task(7, agent_config=[1]),
        task(8, columns=["x"]),
    )
    assert len(found) == 8
    assert "task 't1' has no scenario" in found[0]
    assert "scenario must be a string" in found[1]
    assert "env name must be a string, found a number" in found[2]
    assert "args must be a mapping, found a list" in found[3]
    assert "validation must be a list" in found[4]
    assert "every validation call needs a string name" in found[5]
    assert "agent_config must be a mapping" in found[6]
    assert "columns must be a mapping" in found[7]


def test_nan_and_infinity_are_reported_with_their_path():
    found = messages(task(1, args={"a": [1, float("nan")]}), task(2, columns={"score": float("inf")}), task(3, args={"s": "NaN"}))
    assert found == [
        "tasks.jsonl:1: task 't1': args.a[1] is NaN or Infinity, which JSON cannot hold (use a finite number, a string or null)",
        "tasks.jsonl:2: task 't2': columns.score is NaN or Infinity, which JSON cannot hold (use a finite number, a string or null)",
    ]


def test_duplicate_slugs_name_the_first_place():
    first = task(1, slug="dupe")
    second = task_from_mapping({"slug": "dupe", "scenario": "s"}, Location("other.yaml", 9))
    assert messages(first, second) == [
        "other.yaml:9: duplicate slug 'dupe' (first defined at tasks.jsonl:1) (give every task its own slug)"
    ]


def test_lone_surrogates_are_problems_but_emoji_are_text():
    assert messages(task(1, args={"face": "😀", "pair": "\ud83d\ude00"})) == []
    (found,) = messages(task(2, args={"half": "x\ud800"}))
    assert "args.half holds half of a UTF-16 surrogate pair" in found


def test_every_problem_is_one_line_with_its_place_and_fix():
    found = messages(
        task(1, slug=None),
        task(2, slug=7),
        task(3, slug=""),
        task(4, slug="x" * 101),
        task(5, slug="a\tb"),
        task(6, scenario="  "),
        task(7, scenario=3),
        task(8, env={"name": 5}),
        task(9, scenario="a\nb", env="e\u2028f"),
        task(10, args=[1]),
        task(11, validation="check"),
        task(12, validation=[{"name": 1}]),
        task(13, agent_config=[1]),
        task(14, columns=["x"]),
    )
    slug_fix = "(set a unique slug of 1 to 100 printable characters, e.g. t.slug = 'checkout-alice')"
    assert found == [
        f"tasks.jsonl:1: task has no slug (sync matches tasks by slug) {slug_fix}",
        f"tasks.jsonl:2: slug must be a string, found a number {slug_fix}",
        f"tasks.jsonl:3: slug is empty {slug_fix}",
        f"tasks.jsonl:4: slug is 101 characters long, the platform allows 100 {slug_fix}",
        f"tasks.jsonl:5: slug 'a\\tb' contains a control character or line break {slug_fix}",
        "tasks.jsonl:6: task 't6' has no scenario (set scenario to the scenario's name, e.g. 'checkout')",
        "tasks.jsonl:7: task 't7': scenario must be a string, found a number (write the scenario's name as a string)",
        "tasks.jsonl:8: task 't8': env name must be a string, found a number (write env as {\"name\": \"my-env\"})",
        "tasks.jsonl:9: task 't9': scenario 'a\\nb' contains a control character or line break (write it on one line, in printable characters)",
        "tasks.jsonl:9: task 't9': env 'e\\u2028f' contains a control character or line break (write it on one line, in printable characters)",
        "tasks.jsonl:10: task 't10': args must be a mapping, found a list (write args as an object of named arguments)",
        "tasks.jsonl:11: task 't11': validation must be a list of tool calls, found a string (write validation as [{name, arguments}])",
        "tasks.jsonl:12: task 't12': every validation call needs a string name (write validation as [{name, arguments}])",
        "tasks.jsonl:13: task 't13': agent_config must be a mapping, found a list (write agent_config as an object)",
        "tasks.jsonl:14: task 't14': columns must be a mapping, found a list (write columns as an object of column values)",
    ]


def test_a_task_is_named_only_by_a_slug_that_can_be_shown():
    for slug in (None, "", 7, "a\nb"):
        (_slug_problem, scenario_problem) = messages(task(1, slug=slug, scenario=None))
        assert scenario_problem.startswith("tasks.jsonl:1: task has no scenario")


def test_printable_means_no_control_format_surrogate_or_line_separator_characters():
    # Not str.isprintable(): other spaces are fine in a slug, scenario or env name.
    for fine in ("a\u00a0b", "a\u3000b", "caf\u00e9", "\u00e9t\u00e9"):
        assert messages(task(1, slug=fine, scenario=fine, env=fine)) == []
    for bad in ("a\tb", "a\x00b", "a\u200bb", "a\u2028b", "a\u2029b", "a\ud800b"):
        found = messages(task(1, slug=bad))
        assert len(found) == 1 and "contains a control character or line break" in found[0]
        found = messages(task(1, scenario=bad), task(2, env=bad))
        assert [m.split(": ", 2)[2].split(" ", 1)[0] for m in found] == ["scenario", "env"]


def test_non_finite_numbers_anywhere_are_found_with_their_path():
    found = messages(
        task(1, validation=[{"name": "v", "arguments": {"x": [0, float("-inf")]}}]),
        task(2, agent_config={"limits": (1.5, float("nan"))}),
        task(3, args={"ok": [1.5, {"deep": 2.0}]}),
    )
    assert [m.split(": ", 2)[2].split(" is ")[0] for m in found] == ["validation[0].arguments.x[1]", "agent_config.limits[1]"]


def test_shape_problems_come_alone_without_a_second_report_for_the_same_task():
    assert messages(task(1, scenario=None, args={"a": float("nan")})) == [
        "tasks.jsonl:1: task 't1' has no scenario (set scenario to the scenario's name, e.g. 'checkout')"
    ]
    assert messages(task(1, scenario=None, args={"a": "x\ud800"})) == [
        "tasks.jsonl:1: task 't1' has no scenario (set scenario to the scenario's name, e.g. 'checkout')"
    ]


def test_lone_surrogates_in_keys_nested_lists_and_every_field_are_found():
    found = messages(
        task(1, args={"k\udc00": 1}),
        task(2, args={1: ["fine", ["x\udc00"]]}),
        task(3, validation=[{"name": "v", "arguments": {"a": "\ud800"}}]),
        task(4, agent_config={"system": "\udfff"}),
        task(5, columns={"c": ("ok", "\ud83d")}),
    )
    assert [m.split(": ", 2)[2] for m in found] == [
        "args key 'k\\udc00' holds half of a UTF-16 surrogate pair, which is not text (write the character itself, or escape both halves of the pair)",
        "args.1[1][0] holds half of a UTF-16 surrogate pair, which is not text (write the character itself, or escape both halves of the pair)",
        "validation[0].arguments.a holds half of a UTF-16 surrogate pair, which is not text (write the character itself, or escape both halves of the pair)",
        "agent_config.system holds half of a UTF-16 surrogate pair, which is not text (write the character itself, or escape both halves of the pair)",
        "columns.c[1] holds half of a UTF-16 surrogate pair, which is not text (write the character itself, or escape both halves of the pair)",
    ]


def test_tasks_without_a_usable_slug_are_not_duplicates_of_each_other():
    found = messages(task(1, slug=None), task(2, slug=None), task(3, slug=""), task(4, slug=""))
    assert len(found) == 4 and not any("duplicate" in m for m in found)
    assert len(messages(task(1, slug="d"), task(2, slug="d"), task(3, slug="d"))) == 2


def test_only_a_valid_task_is_made_compact_and_a_compact_task_is_not_checked_again():
    good, bad = task(1, args={"a": 1}), task(2, args={"a": float("nan")})
    compact_if_valid(good)
    compact_if_valid(bad)
    assert good.compacted and not bad.compacted
    assert good.args == {"a": 1} and validate_task(good) == []


def test_what_the_row_reader_refused_is_reported_with_the_other_problems():
    row = read_row({"slug": "r", "scenario": "s", "env": "plain", "agent_config": {"append_setup_tool": "maybe"}}, Location("tasks.jsonl", 3))
    assert messages(row) == [
        "tasks.jsonl:3: task 'r': env must be an object with a name, found a string (write env as {\"name\": \"my-env\"})",
        "tasks.jsonl:3: task 'r': agent_config.append_setup_tool must be true or false, found 'maybe' (write true or false)",
    ]
