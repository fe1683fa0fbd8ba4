"""The v6 task model rule by rule: every problem as the line a user reads, the dump and the
signature of every field, the task object before and after it is made compact, and the remote side.

Expected values follow `hud.eval.task.Task` and `hud.eval.sync` of hud 0.6.21 (see
`test_v6_model.py`; `test_v6_oracle.py` compares against the installed client).
"""

from __future__ import annotations

import json

import pytest

from hud_sync_hook.dialect.v6_model import (
    DIFF_RULES,
    V6Task,
    compact_if_valid,
    default_slug,
    dump_row,
    remote_entry,
    remote_row,
    remote_signature,
    task_from_mapping,
    validate,
    validate_task,
)
from hud_sync_hook.model import Location, signature_digest

AT = Location("tasks.jsonl", 3)
BASE = {"env": "e", "id": "t", "slug": "s"}
SLUG_FIX = "set a unique, non-empty slug, e.g. slug='count-banana'"


def lines(row) -> list[str]:
    return [str(p) for p in validate_task(task_from_mapping(row, AT))]


# -- problems ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row, expected",
    [
        ({"id": "t", "slug": "s"}, "has no env (set env to the environment's name, e.g. \"env\": \"letters\")"),
        ({"env": None, "id": "t", "slug": "s"}, "has no env (set env to the environment's name, e.g. \"env\": \"letters\")"),
        ({"env": {}, "id": "t", "slug": "s"}, "env is an object, the v6 SDK takes the environment's name (write env as a string: \"env\": \"my-env\")"),
        ({"env": 5, "id": "t", "slug": "s"}, "env must be a string, found a number (write the environment's name as a string)"),
        ({"env": "", "id": "t", "slug": "s"}, "env is empty (set env to the environment's name)"),
        ({"env": "e", "slug": "s"}, "has no id (the template id) (set id to the template's id, e.g. \"id\": \"count\")"),
        ({"env": "e", "id": None, "slug": "s"}, "has no id (the template id) (set id to the template's id, e.g. \"id\": \"count\")"),
        ({"env": "e", "id": "", "slug": "s"}, "id is empty (set id to the template's id)"),
        ({"env": "e", "id": 1, "slug": "s"}, "id must be a string, found a number (write the template id as a string)"),
        ({**BASE, "args": []}, "args must be an object, found a list (write args as an object of named arguments, or leave it out)"),
        ({**BASE, "validation": {}}, "validation must be a list of objects, found an object (write validation as a list of objects)"),
        ({**BASE, "validation": [{}, "x"]}, "every validation entry must be an object (write validation as a list of objects)"),
        ({**BASE, "agent_config": []}, "agent_config must be an object, found a list (write agent_config as an object)"),
        ({**BASE, "columns": "c"}, "columns must be an object, found a string (write columns as an object)"),
    ],
)
def test_each_problem_of_a_row_is_one_line_with_its_fix(row, expected):
    label = "task 's': " if row.get("slug") == "s" else "task "
    assert lines(row) == [f"tasks.jsonl:3: {label}{expected}"]


@pytest.mark.parametrize(
    "slug, expected",
    [
        (5, "task slug must be a string, found a number"),
        ("", "task slug is empty"),
        ("a\nb", "task slug 'a\\nb' contains a control character or line break"),
    ],
)
def test_a_slug_that_cannot_name_a_task_is_reported_without_it(slug, expected):
    assert lines({"env": "e", "id": "t", "slug": slug}) == [f"tasks.jsonl:3: {expected} ({SLUG_FIX})"]


def test_a_v5_row_is_told_which_keys_to_rename():
    assert lines({"slug": "s", "env": {"name": "letters"}, "scenario": "letters:count", "column_values": {"k": 1}}) == [
        "tasks.jsonl:3: task 's': env is an object, the v6 SDK takes the environment's name (write env as a string: \"env\": \"letters\")",
        "tasks.jsonl:3: task 's': has 'scenario' but no 'id' (v5 rows name the scenario, v6 rows the template id)"
        " (rename the key 'scenario' to 'id' (without the 'env:' prefix))",
        "tasks.jsonl:3: task 's': has 'column_values' (v5); v6 rows call them 'columns' (rename the key 'column_values' to 'columns')",
    ]
    # columns written as well: the v5 name is ignored, as the SDK ignores unknown keys
    assert lines({**BASE, "columns": {"k": 1}, "column_values": {"k": 1}}) == []


@pytest.mark.parametrize(
    "verifier, expected",
    [
        ("v", ["task 's': verifier must be a task object, found a string (write verifier as a task row)"]),
        ({"id": "v"}, ["task 's': verifier has no env (set env to the environment's name, e.g. \"env\": \"letters\")"]),
        ({"env": "e", "id": "v", "args": 1}, ["task 's': verifier args must be an object, found a number (write args as an object of named arguments, or leave it out)"]),
        (
            {"env": "e", "id": "v", "verifier": {"env": "e", "id": "w"}},
            ["task 's': verifier has its own verifier (nested verifier tasks are not supported; remove the inner one)"],
        ),
        ({"env": "e", "id": "v", "verifier": None}, []),
        ({"env": "e", "id": "v", "scenario": "x"}, []),  # the verifier's own unknown keys are dropped
    ],
)
def test_a_verifier_is_checked_as_a_task_of_its_own(verifier, expected):
    assert lines({**BASE, "verifier": verifier}) == [f"tasks.jsonl:3: {e}" for e in expected]


@pytest.mark.parametrize(
    "field, value, path",
    [
        ("args", {"x": [float("inf")]}, "args.x[0]"),
        ("validation", [{"v": float("nan")}], "validation[0].v"),
        ("agent_config", {"t": float("-inf")}, "agent_config.t"),
        ("columns", {"c": float("nan")}, "columns.c"),
        ("verifier", {"env": "e", "id": "v", "args": {"n": float("nan")}}, "verifier.args.n"),
    ],
)
def test_numbers_json_cannot_hold_are_found_in_every_field(field, value, path):
    assert lines({**BASE, field: value}) == [
        f"tasks.jsonl:3: task 's': {path} is NaN or Infinity, which JSON cannot hold (use a finite number, a string or null)"
    ]


@pytest.mark.parametrize(
    "field, value, path",
    [
        ("args", {"x": "\udc00"}, "args.x"),
        ("validation", [{"name": "\ud800"}], "validation[0].name"),
        ("columns", {"c": ["ok", "\ud800"]}, "columns.c[1]"),
        ("verifier", {"env": "e", "id": "v", "args": {"q": "\ud800"}}, "verifier.args.q"),
    ],
)
def test_half_of_a_surrogate_pair_is_found_in_every_field(field, value, path):
    assert lines({**BASE, field: value}) == [
        f"tasks.jsonl:3: task 's': {path} holds half of a UTF-16 surrogate pair, which is not text (write the character itself)"
    ]


def test_text_that_only_looks_like_nan_or_a_surrogate_escape_is_valid():
    assert lines({**BASE, "args": {"a": "NaN", "b": "Infinity", "c": "\\ud800"}}) == []


def test_the_label_names_a_printable_slug_only():
    assert lines({"env": "", "id": "t", "slug": "ok"}) == ["tasks.jsonl:3: task 'ok': env is empty (set env to the environment's name)"]
    bad = lines({"env": "", "id": "t", "slug": "a\tb"})
    assert bad[0] == "tasks.jsonl:3: task env is empty (set env to the environment's name)"


def test_duplicate_slugs_name_the_first_and_blank_slugs_are_not_duplicates():
    first = task_from_mapping({"env": "e", "id": "t"}, Location("a.jsonl", 1))
    second = task_from_mapping({"env": "f", "id": "t"}, Location("b.jsonl", 7))
    blank = [task_from_mapping({"env": "e", "id": "u", "slug": ""}, Location("a.jsonl", n)) for n in (2, 3)]
    assert [str(p) for p in validate([first, *blank, second])] == [
        f"a.jsonl:2: task slug is empty ({SLUG_FIX})",
        f"a.jsonl:3: task slug is empty ({SLUG_FIX})",
        "b.jsonl:7: duplicate slug 't' (first defined at a.jsonl:1) (give each task its own slug=)",
    ]


def test_only_a_valid_task_is_made_compact_and_a_compact_task_is_not_checked_again():
    good, bad = task_from_mapping(BASE, AT), task_from_mapping({**BASE, "env": ""}, AT)
    compact_if_valid(good)
    compact_if_valid(bad)
    assert good.compacted and not bad.compacted
    assert validate_task(good) == [] and len(validate_task(bad)) == 1


# -- dump, signature, slug -----------------------------------------------------------------------


def test_the_default_slug():
    # the value hud 0.6.21's Task model gives these args, whatever their order
    assert default_slug("count", {"b": 2, "a": 1}) == default_slug("count", {"a": 1, "b": 2}) == "count-1744f53e"
    assert default_slug(None, {}) == "" and default_slug(7, None) == "7"


def test_no_default_slug_without_a_string_id_or_with_args_that_are_not_an_object():
    assert task_from_mapping({"env": "e", "id": 5}, AT).slug is None
    assert task_from_mapping({"env": "e", "id": "t", "args": [1]}, AT).slug is None
    assert task_from_mapping({"env": "e", "id": "t", "args": None}, AT).slug is None
    assert task_from_mapping({"env": "e", "id": "t", "slug": None}, AT).slug is None


def test_the_dump_follows_the_models_field_order_and_leaves_out_nulls():
    row = {
        "verifier": {"env": "e", "id": "v"},
        "runtime_config": {"image": "i"},
        "columns": {"c": 1},
        "agent_config": {"a": 1},
        "validation": [{"name": "f"}],
        "slug": "s",
        "args": {"x": None},
        "id": "t",
        "env": "e",
        "other": 1,
    }
    task = task_from_mapping(row, AT)
    dumped = dump_row(task.row, with_slug=True)
    assert list(dumped) == ["env", "id", "args", "slug", "validation", "agent_config", "columns", "runtime_config", "verifier"]
    assert dumped["verifier"] == {"env": "e", "id": "v", "args": {}, "slug": "v"}
    assert list(dump_row(task.row, with_slug=False)) == ["env", "id", "args", "validation", "agent_config", "columns", "runtime_config", "verifier"]
    assert dump_row({"env": "e", "id": "t", "args": {}, "columns": None, "slug": None}, with_slug=True) == {"env": "e", "id": "t", "args": {}}


@pytest.mark.parametrize(
    "config, dumped",
    [
        ({"image": "i", "limits": None}, '{"image":"i","limits":null}'),
        ({"image": None, "compose": {"document": {"services": {}}}}, None),
        ({"resources": {"cpu": 2, "memory_mb": None}, "limits": {}}, '{"limits":{},"resources":{"cpu":2.0}}'),
        ({"resources": {"cpu": 1.5}}, '{"resources":{"cpu":1.5}}'),
        ({"limits": {"run_timeout_s": 60, "startup_timeout_s": None}}, '{"limits":{"run_timeout_s":60}}'),
    ],
)
def test_a_valid_runtime_config_keeps_what_was_written_and_makes_cpu_a_float(config, dumped):
    task = task_from_mapping({**BASE, "runtime_config": config}, AT)
    assert validate_task(task) == []
    if dumped is not None:
        assert f'"runtime_config":{dumped}' in task.signature


@pytest.mark.parametrize(
    "config, start",
    [
        (5, "runtime_config must be an object"),
        ([], "runtime_config must be an object"),
        ({"image": ""}, "runtime_config.image "),
        ({"image": 5}, "runtime_config.image "),
        ({"compose": 5}, "runtime_config.compose must be an object"),
        ({"resources": "big"}, "runtime_config.resources must be an object"),
        ({"limits": 5}, "runtime_config.limits must be an object"),
    ],
)
def test_a_runtime_config_of_the_wrong_shape_is_one_problem(config, start):
    (problem,) = lines({**BASE, "runtime_config": config})
    assert problem.startswith(f"tasks.jsonl:3: task 's': {start}")
    if not isinstance(config, dict):
        assert "(write runtime_config as an object" in problem


def test_runtime_config_names_its_unknown_keys_and_refuses_image_and_compose_together():
    assert lines({**BASE, "runtime_config": {"zz": 1, "gpu": 2}}) == [
        "tasks.jsonl:3: task 's': runtime_config has unknown key(s) gpu, zz (use only image, compose, resources, limits)"
    ]
    assert lines({**BASE, "runtime_config": {"image": "a", "compose": {"document": {"services": {}}}}}) == [
        "tasks.jsonl:3: task 's': runtime_config accepts either image or compose, not both (keep one of them)"
    ]


def test_a_verifier_given_by_the_user_keeps_its_slug_and_has_its_nulls_left_out():
    task = task_from_mapping({**BASE, "verifier": {"env": "e", "id": "v", "slug": "mine", "columns": None, "junk": 1}}, AT)
    assert json.loads(task.signature)["verifier"] == {"env": "e", "id": "v", "args": {}, "slug": "mine"}


# -- the task object ------------------------------------------------------------------------------


def test_a_task_reads_the_same_before_and_after_it_is_made_compact():
    row = {"env": "letters", "id": "count", "args": {"n": 1}, "slug": "c", "columns": {"k": "v"}}
    task = task_from_mapping(row, AT)
    assert repr(task) == "V6Task({'env': 'letters', 'id': 'count', 'args': {'n': 1}, 'slug': 'c', 'columns': {'k': 'v'}}, tasks.jsonl:3)"
    before = (task.row, task.args, task.signature, task.upload_record(), task.qualified_scenario)
    assert (task.slug, task.scenario, task.env, task.columns, task.location, task.compacted) == ("c", "count", "letters", {"k": "v"}, AT, False)
    task.compact()
    task.compact()  # twice is harmless
    assert task.compacted
    assert (task.row, task.args, task.signature, task.upload_record(), task.qualified_scenario) == before
    assert before[0] == row and before[1] == {"n": 1} and before[4] == "letters:count"
    assert repr(task) == "V6Task({'args': {'n': 1}, 'columns': {'k': 'v'}, 'env': 'letters', 'id': 'count', 'slug': 'c'}, tasks.jsonl:3)"


def test_the_signature_is_computed_once_from_the_row_as_first_read():
    task = task_from_mapping(BASE, AT)
    first = task.signature
    task.row["args"] = {"changed": True}
    assert task.signature == first == '{"args":{},"env":"e","id":"t"}'


@pytest.mark.parametrize("env, shown", [("", "t"), (None, "t"), (5, "t"), ("e", "e:t")])
def test_the_plan_names_a_task_by_env_and_template(env, shown):
    assert task_from_mapping({"env": env, "id": "t"}, AT).qualified_scenario == shown


def test_tasks_are_equal_by_row_and_place():
    a = task_from_mapping(BASE, AT)
    assert a == task_from_mapping(BASE, AT)
    assert a != task_from_mapping({**BASE, "slug": "other"}, AT)
    assert a != task_from_mapping(BASE, Location("tasks.jsonl", 4))
    assert a != BASE and (a == BASE) is False
    compact = task_from_mapping(BASE, AT)
    compact.compact()
    assert compact == a


def test_the_upload_record_renames_the_first_fields_and_keeps_the_rest():
    task = task_from_mapping({**BASE, "validation": [{"name": "f"}], "verifier": {"env": "e", "id": "v"}}, AT)
    assert task.upload_record() == {
        "name": "s",
        "env": {"name": "e"},
        "task_id": "t",
        "args": {},
        "validation": [{"name": "f"}],
        "verifier": {"env": "e", "id": "v", "args": {}, "slug": "v"},
    }


def test_only_the_known_fields_are_kept_and_the_v5_keys_remembered():
    task = task_from_mapping({**BASE, "scenario": "x", "column_values": {}, "extra": 1}, AT)
    assert task.row == {**BASE, "args": {}} and task.notes == ("scenario", "column_values")
    assert task_from_mapping(BASE, AT).notes == ()


# -- the remote side ------------------------------------------------------------------------------


def test_a_remote_record_reads_as_the_sdk_maps_it():
    record = {
        "name": "s",
        "env": "e",
        "scenario": None,
        "args": [],
        "columns": {"c": 1},
        "verifier": {"env": "e", "id": "v", "args": {"q": 1}},
        "extra": 1,
    }
    assert remote_row(record) == {
        "env": "e",
        "id": "",
        "args": {},
        "slug": "s",
        "validation": None,
        "agent_config": None,
        "columns": {"c": 1},
        "runtime_config": None,
        "verifier": {"env": "e", "id": "v", "args": {"q": 1}, "slug": "v-231b6a1c"},
    }
    assert remote_signature(record) == '{"args":{},"columns":{"c":1},"env":"e","id":"","verifier":{"args":{"q":1},"env":"e","id":"v","slug":"v-231b6a1c"}}'


@pytest.mark.parametrize("name", [None, "", 5])
def test_a_remote_record_without_a_usable_name_is_left_out(name):
    assert remote_entry({"name": name, "env": "e", "scenario": "t"}) is None
    assert DIFF_RULES.remote_slug({"name": name}) is None


def test_a_remote_record_matches_the_local_task_it_was_uploaded_from():
    local = task_from_mapping({**BASE, "runtime_config": {"resources": {"cpu": 1}}, "verifier": {"env": "e", "id": "v"}}, AT)
    record = {"name": "s", "env": "e", "scenario": "t", "args": {}, "runtime_config": {"resources": {"cpu": 1.0}}, "verifier": {"env": "e", "id": "v"}}
    assert remote_entry(record) == ("s", signature_digest(local.signature))


def test_the_field_level_changes_compare_the_whole_row_but_the_slug():
    local = task_from_mapping({**BASE, "args": {"n": 1}}, AT)
    remote = {"name": "s", "env": "e", "scenario": "t", "args": {"n": 2}}
    a = DIFF_RULES.local_task(local)
    b = DIFF_RULES.remote_task(remote, DIFF_RULES.remote_signature(remote))
    assert DIFF_RULES.fields(a) == {"args": {"n": 1}, "env": "e", "id": "t"}
    assert DIFF_RULES.fields(b) == {"args": {"n": 2}, "env": "e", "id": "t"}
    assert DIFF_RULES.order == ("id", "env", "args", "validation", "agent_config", "columns", "runtime_config", "verifier")
    assert DIFF_RULES.remote_slug(remote) == "s"


def test_v6_tasks_are_plain_values():
    assert V6Task.__hash__ is None
    with pytest.raises(TypeError):
        {task_from_mapping(BASE, AT)}


@pytest.mark.parametrize("junk", ["big", [1], 5, {"resources": 5}, {"resources": {"cpu": [1]}}, {"resources": {"cpu": "two"}}])
def test_a_remote_runtime_config_of_the_wrong_type_is_signed_as_it_came(junk):
    """The platform's answer is untrusted: a runtime_config of the wrong shape neither breaks the
    plan nor passes for the task without it, so the task shows as changed."""
    record = {"name": "s", "env": "e", "scenario": "t"}
    signature = remote_signature({**record, "runtime_config": junk})
    assert signature == '{"args":{},"env":"e","id":"t","runtime_config":' + json.dumps(junk, separators=(",", ":")) + "}"
    assert remote_entry({**record, "runtime_config": junk}) != remote_entry(record)
