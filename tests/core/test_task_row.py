"""Data rows are read as hud-python 0.5.41's `Task` model reads them.

Each expectation below is what the SDK itself made of the row (its pydantic model and `hud sync
tasks`' own spec builder); tests/differential/ checks the same against the installed SDK on random
rows.
"""

from __future__ import annotations

import json

import pytest

from hud_sync_hook.model import Location
from hud_sync_hook.task_row import normalise_env_name, read_bool, read_row
from hud_sync_hook.validate import validate, validate_task

HERE = Location("tasks.jsonl", 7)
CALL_FIX = ' (write each call as {"name": "tool", "arguments": {...}})'


def row(**fields):
    return {"slug": "t", "scenario": "buy", **fields}


def accepted(data):
    task = read_row(data, HERE)
    problems = validate_task(task)
    assert problems == [], [str(p) for p in problems]
    return task


def refused(data) -> list[str]:
    problems = validate_task(read_row(data, HERE))
    assert problems, f"{data!r} was accepted"
    return [str(p) for p in problems]


@pytest.mark.parametrize(
    "given, stored",
    [
        ({}, {"append_setup_output": False, "append_setup_tool": False}),
        ({"system_prompt": "hi"}, {"system_prompt": "hi", "append_setup_output": False, "append_setup_tool": False}),
        ({"system_prompt": ""}, {"system_prompt": "", "append_setup_output": False, "append_setup_tool": False}),
        ({"allowed_tools": ["*"], "system_prompt": None}, {"append_setup_output": False, "append_setup_tool": False}),
        ({"append_setup_output": 1}, {"append_setup_output": True, "append_setup_tool": False}),
        ({"append_setup_output": True, "append_setup_tool": False}, {"append_setup_output": True, "append_setup_tool": False}),
        ({"append_setup_tool": "YES", "append_setup_output": "off"}, {"append_setup_output": False, "append_setup_tool": True}),
        ({"append_setup_tool": 1.0, "append_setup_output": -0.0}, {"append_setup_output": False, "append_setup_tool": True}),
    ],
)
def test_agent_config_gets_the_models_defaults_and_drops_unknown_keys_and_nulls(given, stored):
    task = accepted(row(agent_config=given))
    assert task.agent_config == stored
    assert task.upload_record()["agent_config"] == stored
    assert '"agent_config":' + json.dumps(stored, sort_keys=True, separators=(",", ":")) in task.signature


@pytest.mark.parametrize("value", ["", " true ", "1.0", "ｙｅｓ", "maybe", 2, 0.5, 10**30, None, [], {}])
def test_agent_config_flags_pydantic_would_not_read_as_booleans_are_refused(value):
    assert read_bool(value) is None
    assert refused(row(agent_config={"append_setup_output": value})) == [
        f"tasks.jsonl:7: task 't': agent_config.append_setup_output must be true or false, found {value!r} (write true or false)"
    ]


def test_a_long_value_is_shown_shortened_to_forty_characters():
    fits = "x" * 38  # 40 characters with its quotes
    assert refused(row(env={"name": "e", "include": fits})) == [
        f"tasks.jsonl:7: task 't': env.include must be a list of strings, found '{fits}' (write a list of names, or leave it out)"
    ]
    assert refused(row(env={"name": "e", "include": fits + "y"})) == [
        f"tasks.jsonl:7: task 't': env.include must be a list of strings, found '{fits[:36]}... (write a list of names, or leave it out)"
    ]


@pytest.mark.parametrize(
    "word, meaning",
    [(w, True) for w in ("1", "on", "t", "true", "y", "yes", "TRUE", "oN")]
    + [(w, False) for w in ("0", "off", "f", "false", "n", "no", "F", "No")],
)
def test_the_words_pydantic_reads_as_booleans(word, meaning):
    assert read_bool(word) is meaning


def test_column_values_are_typed_as_the_model_types_them():
    task = accepted(
        row(columns={"n": 3, "flag": True, "off": False, "text": "3", "tags": ["a", "b"], "none": None, "big": 2**53 + 1, "neg": -0.0, "empty": []})
    )
    assert task.columns == {"n": 3.0, "flag": 1.0, "off": 0.0, "text": "3", "tags": ["a", "b"], "none": None, "big": 9007199254740992.0, "neg": -0.0, "empty": []}
    assert '"columns":{"big":9007199254740992.0,"empty":[],"flag":1.0,"n":3.0,"neg":-0.0,"none":null,"off":0.0,"tags":["a","b"],"text":"3"}' in task.signature
    assert task.upload_record()["column_values"]["n"] == 3.0


def test_integers_beyond_a_float_are_refused_and_the_largest_that_rounds_to_one_is_kept():
    limit = 2**1024 - 2**970  # rounds up to 2**1024: float() refuses it, as pydantic does
    assert accepted(row(columns={"x": limit - 1})).columns == {"x": 1.7976931348623157e308}
    (problem,) = refused(row(columns={"x": limit}))
    assert problem.startswith("tasks.jsonl:7: task 't': column 'x' is 1797693134862315807937289714053034150...")
    assert problem.endswith(", too large for a number column (write it as a string)")


@pytest.mark.parametrize(
    "columns, message",
    [
        (None, "columns must be an object of column values, found null (write columns as an object, or leave it out)"),
        ([], "columns must be an object of column values, found a list (write columns as an object, or leave it out)"),
        ({"k": {}}, "column 'k' is an object (use text, a number, a list of text, or null)"),
        ({"k": [1]}, "column 'k' is a list holding something other than text (use text, a number, a list of text, or null)"),
        ({"k": [None]}, "column 'k' is a list holding something other than text (use text, a number, a list of text, or null)"),
    ],
)
def test_columns_the_model_refuses(columns, message):
    assert refused(row(columns=columns)) == [f"tasks.jsonl:7: task 't': {message}"]


@pytest.mark.parametrize(
    "name, normalised",
    [
        ("Shop Env", "shop-env"),
        ("Émile", "mile"),
        ("A_B  c", "a-b-c"),
        ("--x--", "x"),
        ("a.b", "ab"),
        ("ÄÖ", "environment"),
        ("", "environment"),
        ("x\u00a0y", "xy"),
        ("UPPER_case", "upper-case"),
        ("ı", "environment"),
        ("K", "k"),
    ],
)
def test_environment_names_are_normalised_as_the_sdk_does(name, normalised):
    assert normalise_env_name(name) == normalised
    task = accepted(row(env={"name": name, "include": ["a"], "exclude": None, "other": 1}))
    assert task.env == normalised
    assert task.qualified_scenario == f"{normalised}:buy"
    assert task.upload_record()["env"] == {"name": normalised}


def test_a_scenario_that_names_its_environment_keeps_it():
    task = accepted({"slug": "t", "scenario": "x:buy", "env": {"name": "Émile"}})
    assert (task.env, task.qualified_scenario) == ("mile", "x:buy")


@pytest.mark.parametrize(
    "env, message",
    [
        ("shop", 'env must be an object with a name, found a string (write env as {"name": "my-env"})'),
        ([], 'env must be an object with a name, found a list (write env as {"name": "my-env"})'),
        ({}, 'env name must be a string, found none (write env as {"name": "my-env"})'),
        ({"name": None}, 'env name must be a string, found null (write env as {"name": "my-env"})'),
        ({"name": "e", "include": "x"}, "env.include must be a list of strings, found 'x' (write a list of names, or leave it out)"),
        ({"name": "e", "exclude": [1]}, "env.exclude must be a list of strings, found [1] (write a list of names, or leave it out)"),
    ],
)
def test_env_values_the_model_refuses(env, message):
    assert refused(row(env=env)) == [f"tasks.jsonl:7: task 't': {message}"]


@pytest.mark.parametrize("args", [None, {}, [], 0, "", False])
def test_any_false_args_become_an_empty_mapping(args):
    assert accepted(row(args=args)).args == {}


def test_args_are_not_coerced():
    args = {"n": 1, "f": 1.0, "z": -0.0, "big": 10**40, "u": "Ünï", "l": [True, None, {"k": []}]}
    task = accepted(row(args=args))
    assert task.args == args and task.upload_record()["args"] == args
    assert '"big":10000000000000000000000000000000000000000' in task.signature and '"f":1.0,' in task.signature


@pytest.mark.parametrize(
    "validation, stored",
    [
        (None, None),
        ([], None),
        ([{"name": "v"}], [{"name": "v", "arguments": {}}]),
        ([{"name": "v", "arguments": None, "id": "i", "annotation": None, "extra": 1}], [{"name": "v", "arguments": {}}]),
        ([{"name": "v", "arguments": {"k": None}, "_meta": {"progressToken": 2.0}, "task": {"ttl": 5}}], [{"name": "v", "arguments": {"k": None}}]),
    ],
)
def test_validation_calls_keep_only_name_and_arguments(validation, stored):
    task = accepted(row(validation=validation))
    assert task.validation == stored
    assert ("validation" in task.upload_record()) is (stored is not None)


@pytest.mark.parametrize(
    "validation, message",
    [
        ({}, 'validation must be a list of tool calls, found an object (write validation as [{"name": ..., "arguments": {...}}])'),
        ("", 'validation must be a list of tool calls, found a string (write validation as [{"name": ..., "arguments": {...}}])'),
        ([5], "validation[0] must be an object, found a number" + CALL_FIX),
        ([{"arguments": {}}], "validation[0].name must be a string, found none" + CALL_FIX),
        ([{"name": None}], "validation[0].name must be a string, found null" + CALL_FIX),
        ([{"name": "v"}, {"name": "w", "arguments": []}], "validation[1].arguments must be an object, found a list" + CALL_FIX),
        ([{"name": "v", "id": 5}], "validation[0].id must be a string, found a number (remove it, or write it as a string)"),
        ([{"name": "v", "annotation": 5}], "validation[0].annotation must be a string, found a number (write it as a string)"),
        ([{"name": "v", "task": {"ttl": 1.0}}], "validation[0].task must be an object whose ttl is an integer (fix or remove task)"),
        (
            [{"name": "v", "_meta": {"progressToken": 1.5}}],
            "validation[0]._meta must be an object whose progressToken is a string or an integer (fix or remove _meta)",
        ),
    ],
)
def test_validation_the_model_refuses(validation, message):
    assert refused(row(validation=validation)) == [f"tasks.jsonl:7: task 't': {message}"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"metadata": None}, "metadata must be an object, found null (write metadata as an object, or leave it out)"),
        ({"id": 5}, "id must be a string, found a number (leave id out: the platform assigns it)"),
        (
            {"prompt": "p", "mcp_config": {"a": {}}},
            "is in the older task format (prompt and mcp_config), which has no scenario to sync (write the task as {slug, env, scenario, args})",
        ),
        ({"args": [1]}, "args must be a mapping, found a list (write args as an object of named arguments)"),
        ({"agent_config": "x"}, 'agent_config must be an object, found a string (write agent_config as an object, e.g. {"system_prompt": "..."})'),
        ({"agent_config": {"system_prompt": 5}}, "agent_config.system_prompt must be a string, found a number (write the prompt as a string)"),
    ],
)
def test_other_fields_the_model_refuses(fields, message):
    assert refused(row(**fields)) == [f"tasks.jsonl:7: task 't': {message}"]


def test_column_values_and_unknown_keys_are_ignored_as_the_model_ignores_them():
    task = accepted(row(column_values={"k": "v"}, metadata={"m": 1}, id="abc", prompt="", whatever=[1]))
    assert task.columns is None and "column_values" not in task.upload_record()


@pytest.mark.parametrize("fields", [{"prompt": "do it"}, {"mcp_config": {"a": {}}}, {"prompt": "do it", "mcp_config": {}}])
def test_only_prompt_and_mcp_config_together_are_the_older_format(fields):
    task = accepted(row(**fields))
    assert task.qualified_scenario == "buy" and "prompt" not in task.signature


def test_the_slug_limit_counts_the_spaces_the_sdk_strips_afterwards():
    assert accepted(row(slug="  " + "s" * 98)).slug == "s" * 98
    assert refused(row(slug=" " + "s" * 100)) == [
        "tasks.jsonl:7: task '" + "s" * 100 + "': slug is 101 characters long with its surrounding spaces, the limit is 100"
        " (remove the spaces around the slug)"
    ]


def test_every_refused_field_of_a_row_is_reported_with_the_rest_of_its_problems():
    task = read_row({"slug": 5, "scenario": "s", "env": "e", "columns": None, "args": [1]}, HERE)
    messages = [p.message for p in validate([task])]
    assert messages == [
        "task: env must be an object with a name, found a string",
        "task: args must be a mapping, found a list",
        "task: columns must be an object of column values, found null",
        "slug must be a string, found a number",
    ]
    assert not task.compacted
