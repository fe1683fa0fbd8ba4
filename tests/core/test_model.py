"""The signature, upload record and column inference follow the platform contract exactly."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hud_sync_hook.model import (
    Location,
    Problem,
    TaskSpec,
    canonical_json,
    column_definitions,
    describe_type,
    qualify_scenario,
    remote_entry,
    remote_signature,
    remote_slug,
    short_scenario,
    shortened,
    signature,
    signature_digest,
    task_from_mapping,
)


def make(**fields) -> TaskSpec:
    data = {"slug": "s", "scenario": "checkout", "env": {"name": "my-env"}, "args": {"b": 1, "a": 2}}
    data.update(fields)
    return task_from_mapping(data, Location("tasks.json", 1))


def test_signature_is_short_scenario_and_canonical_json():
    task = make()
    assert task.signature == 'checkout|{"args":{"a":2,"b":1}}'
    assert task.qualified_scenario == "my-env:checkout"


def test_signature_includes_optional_parts_only_when_set():
    task = make(validation=[{"name": "check", "arguments": {"x": 1}}], agent_config={"model": "m"}, columns={"d": "easy"})
    assert task.signature == (
        'checkout|{"agent_config":{"model":"m"},"args":{"a":2,"b":1},'
        '"columns":{"d":"easy"},"validation":[{"arguments":{"x":1},"name":"check"}]}'
    )
    # Empty validation counts as none, as in the SDK; empty agent_config/columns are left out.
    assert make(validation=[], agent_config={}, columns={}).signature == make().signature


def test_env_rename_changes_nothing_but_scenario_does():
    assert make(env={"name": "other"}).signature == make().signature
    assert make(scenario="refund").signature != make().signature


def test_non_json_values_render_with_str_and_unicode_is_escaped():
    assert canonical_json({"é": {1, 2} and "x"}) == '{"\\u00e9":"x"}'
    assert signature("a:b", {"n": 1.5}, None, None, None) == 'b|{"args":{"n":1.5}}'


def test_remote_record_signature_matches_local_and_uses_column_values():
    task = make(columns={"tags": ["a"]}, validation=[{"name": "v", "arguments": {}}])
    record = json.loads(json.dumps(task.upload_record()))
    assert record["column_values"] == {"tags": ["a"]}
    assert remote_signature(record) == task.signature
    assert remote_signature({"external_id": "x", "scenario": "other-env:checkout", "args": {"a": 2, "b": 1}}) == make().signature


def test_upload_record_qualifies_the_scenario_and_leaves_out_empty_parts():
    assert make().upload_record() == {
        "slug": "s",
        "env": {"name": "my-env"},
        "scenario": "my-env:checkout",
        "args": {"b": 1, "a": 2},
    }
    assert qualify_scenario("other:checkout", "my-env") == "other:checkout"
    assert short_scenario("a:b:c") == "c"


def test_column_definitions_infer_types_from_every_task():
    tasks = [make(columns={"tags": ["b", "a"], "score": 1, "level": "x"}), make(columns={"tags": "c", "score": 2.5, "level": 3})]
    assert column_definitions(tasks) == {
        "tags": {"type": "multi-select", "options": ["a", "b", "c"]},
        "score": {"type": "number"},
        "level": {"type": "text"},
    }
    assert column_definitions([make()]) is None


def test_mapping_accepts_env_as_string_and_defaults_args():
    task = task_from_mapping({"slug": " x ", "scenario": "s", "env": "e"}, Location("f", 2))
    assert (task.slug, task.env, task.args) == ("x", "e", {})


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()  # NaN and Infinity too: the canonical form spells them, and reads them back
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    args=st.dictionaries(st.text(max_size=6), json_values, max_size=5),
    validation=st.none() | st.lists(st.fixed_dictionaries({"name": st.text(max_size=5), "arguments": json_values}), min_size=1, max_size=3),
    agent_config=st.none() | st.dictionaries(st.text(max_size=5), json_values, min_size=1, max_size=3),
    columns=st.none() | st.dictionaries(st.text(max_size=5), json_values, min_size=1, max_size=3),
    scenario=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
    env=st.none() | st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8),
)
def test_a_compact_task_reads_back_what_it_was_given(args, validation, agent_config, columns, scenario, env):
    # Scenarios with '|' and ':' in them, unicode, floats, huge integers: the values come back
    # from the signature equal (as JSON) to what was given, and the upload sends the same.
    task = TaskSpec(slug="s", scenario=scenario, env=env, args=args, validation=validation,
                    agent_config=agent_config, columns=columns, location=Location("t.json", 3))
    before_signature = task.signature
    before_record = canonical_json(task.upload_record())
    task.compact()
    assert task.compacted
    assert task.signature == before_signature
    assert canonical_json(task.upload_record()) == before_record
    assert canonical_json([task.args, task.validation, task.agent_config]) == canonical_json(
        [args, validation, agent_config or None]
    )
    assert task.columns is columns  # kept as given: column inference reads every task's columns


def test_compact_only_after_validation_and_equal_to_the_original():
    original = make(validation=[{"name": "v", "arguments": {"n": 1.5}}], columns={"level": "hard"})
    task = make(validation=[{"name": "v", "arguments": {"n": 1.5}}], columns={"level": "hard"})
    task.compact()
    assert task == original and "args={'a': 2, 'b': 1}" in repr(task)
    assert task.upload_record() == original.upload_record()
    assert not make().compacted


def test_a_mapping_may_name_its_columns_column_values_like_the_platform_does():
    # A task mapping written with the platform's `column_values` keeps its columns: dropping them
    # would make its signature differ from the remote one, so the task would always show as changed.
    record = {"slug": "s", "scenario": "my-env:checkout", "args": {"b": 1, "a": 2}, "column_values": {"level": "hard"}}
    task = task_from_mapping(record, Location("export.json", 4))
    assert task.columns == {"level": "hard"}
    assert task.signature == remote_signature(record) == make(columns={"level": "hard"}).signature
    both = task_from_mapping({**record, "columns": {"level": "easy"}}, Location("export.json", 5))
    assert both.columns == {"level": "easy"}


def test_validation_entries_that_are_not_calls_are_kept_for_validation_to_report():
    assert make(validation=["x", {"name": "v"}]).validation == ["x", {"name": "v", "arguments": {}}]
    assert make(validation=[{"name": "v", "arguments": None}]).validation == [{"name": "v", "arguments": {}}]
    assert make(validation="check").validation == "check"
    assert make(validation=None).validation is None and make(validation=[]).validation is None


def test_tasks_compare_by_value_and_not_with_other_types():
    first, same = make(columns={"c": 1}), make(columns={"c": 1})
    assert (first == same) is True and (first != same) is False
    assert (first == make(columns={"c": 2})) is False
    assert first.__eq__("s") is NotImplemented and first != "s"
    assert make() != task_from_mapping({"slug": "s", "scenario": "checkout", "env": "my-env", "args": {"b": 1, "a": 2}}, Location("tasks.json", 2))


def test_remote_slug_must_be_a_non_empty_string():
    assert remote_slug({"slug": "a", "external_id": "b"}) == "a"
    assert remote_slug({"slug": "", "external_id": "b"}) == "b"
    assert remote_slug({"external_id": "b"}) == "b"
    for bad in ({"slug": 5}, {"slug": ["a"]}, {"slug": ""}, {}, {"external_id": 7}):
        assert remote_slug(bad) is None and remote_entry(bad) is None
    assert remote_entry({"slug": "a", "scenario": "e:s", "args": {}}) == ("a", signature_digest('s|{"args":{}}'))


def test_places_and_problems_read_as_file_line_column_and_fix():
    assert str(Location("a.json")) == "a.json"
    assert str(Location("a.json", 3)) == "a.json:3"
    assert str(Location("a.json", 3, 7)) == "a.json:3:7"
    assert str(Location("a.json", None, 7)) == "a.json"
    assert str(Problem(Location("a.json", 3), "bad", "fix it")) == "a.json:3: bad (fix it)"
    assert str(Problem(Location("a.json", 3), "bad")) == "a.json:3: bad"


def test_types_are_named_as_json_kinds():
    kinds = [describe_type(v) for v in (None, True, 1, 1.5, "s", [1], {"a": 1}, (1,), b"x")]
    assert kinds == ["null", "a boolean", "a number", "a number", "a string", "a list", "an object", "tuple", "bytes"]


def test_scenario_qualification_and_its_short_form():
    assert qualify_scenario("checkout", "my-env") == "my-env:checkout"
    assert qualify_scenario("checkout", None) == qualify_scenario("checkout", "") == "checkout"
    assert short_scenario("checkout") == "checkout" and short_scenario("e:checkout") == "checkout"
    assert make(env=None).qualified_scenario == "checkout"
    assert make(env={"name": 5}).qualified_scenario == "checkout"  # validation reports the env


def test_upload_record_carries_every_part_that_is_set():
    task = make(validation=[{"name": "v"}], agent_config={"model": "m"}, columns={"level": "hard"})
    assert task.upload_record() == {
        "slug": "s",
        "env": {"name": "my-env"},
        "scenario": "my-env:checkout",
        "args": {"b": 1, "a": 2},
        "validation": [{"name": "v", "arguments": {}}],
        "agent_config": {"model": "m"},
        "column_values": {"level": "hard"},
    }
    assert make(env=None).upload_record()["env"] == {}
    bare = TaskSpec(slug="t", scenario="s", validation=[], agent_config={}, columns={})
    assert bare.upload_record() == {"slug": "t", "env": {}, "scenario": "s", "args": {}, "validation": []}
    assert bare.location == Location("<unknown>") and bare.args == {}


def test_signature_digest_is_16_bytes_and_tells_signatures_apart():
    assert len(signature_digest("a|{}")) == 16
    assert signature_digest("a|{}") == signature_digest("a|{}") != signature_digest("b|{}")
    assert signature_digest("x\ud800") != signature_digest("x")  # a lone surrogate is hashed, not refused


def test_column_types_ignore_nulls_and_booleans_are_not_numbers():
    tasks = [
        make(columns={"n": None, "flag": True, "score": 1, "tags": None, "mixed": 1}),
        make(columns={"n": None, "flag": 2, "score": None, "tags": [1, "b"], "mixed": "x"}),
        make(columns=None),
        make(columns=["not", "a", "mapping"]),
    ]
    assert column_definitions(tasks) == {
        "n": {"type": "text"},
        "flag": {"type": "text"},
        "score": {"type": "number"},
        "tags": {"type": "multi-select", "options": ["1", "b"]},
        "mixed": {"type": "text"},
    }


def test_repr_names_every_field_and_compacting_twice_keeps_the_values():
    task = make(validation=[{"name": "v"}])
    assert repr(task) == (
        "TaskSpec(slug='s', scenario='checkout', env='my-env', args={'b': 1, 'a': 2}, "
        "validation=[{'name': 'v', 'arguments': {}}], agent_config=None, columns=None, "
        "location=Location(file='tasks.json', line=1, column=None))"
    )
    task.compact()
    task.compact()
    assert task.compacted and task.args == {"a": 2, "b": 1} and task.validation == [{"name": "v", "arguments": {}}]
    assert task.agent_config is None


def test_a_long_text_is_cut_to_its_limit_with_an_ellipsis_and_a_short_one_kept_whole():
    assert shortened("x" * 40) == "x" * 40
    assert shortened("x" * 41) == "x" * 37 + "..."
    assert shortened("abcdefgh", 8) == "abcdefgh"
    assert shortened("abcdefghi", 8) == "abcde..."
    assert len(shortened("y" * 500, 60)) == 60
