"""v6 rows, default slugs, signature, upload record and validation, by the rules of `hud` 0.6.21.

The expected values come from the official client (`hud.eval.task.Task`, `hud.eval.sync`); the
seeded comparison against the installed client itself is in `test_v6_oracle.py`.
"""

from __future__ import annotations

import json

import pytest

from hud_sync_hook.dialect.v6_model import (
    default_slug,
    remote_entry,
    row_signature,
    task_from_mapping,
    validate,
    validate_task,
)
from hud_sync_hook.model import Location, signature_digest

AT = Location("tasks.jsonl", 3)


def task(row):
    return task_from_mapping(row, AT)


def test_default_slug_is_the_template_id_and_a_hash_of_the_sorted_args():
    assert default_slug("count", {"sentence": "Strawberry world", "letter": "r"}) == "count-4376680e"
    assert default_slug("count", {}) == "count"
    assert task({"env": "letters", "id": "count", "args": {"letter": "r", "sentence": "Strawberry world"}}).slug == "count-4376680e"
    assert task({"env": "letters", "id": "count", "slug": "mine", "args": {"a": 1}}).slug == "mine"


def test_signature_is_the_dump_without_slug_so_the_env_counts():
    a = task({"env": "letters", "id": "count", "slug": "s"})
    b = task({"env": "letters-v2", "id": "count", "slug": "s"})
    assert a.signature == '{"args":{},"env":"letters","id":"count"}'
    assert a.signature != b.signature
    # the slug itself does not count
    assert task({"env": "letters", "id": "count", "slug": "other"}).signature == a.signature


@pytest.mark.parametrize(
    "left, right",
    [
        ({"validation": []}, {}),
        ({"agent_config": {}}, {}),
        ({"columns": {}}, {}),
        ({"args": {"n": 1}}, {"args": {"n": 1.0}}),
    ],
)
def test_empty_metadata_and_number_types_differ(left, right):
    base = {"env": "e", "id": "t", "slug": "s"}
    assert task({**base, **left}).signature != task({**base, **right}).signature


def test_nulls_are_left_out_at_the_top_but_kept_inside_values():
    t = task({"env": "e", "id": "t", "slug": "s", "validation": None, "args": {"a": None}, "columns": {"k": None}})
    assert json.loads(t.signature) == {"env": "e", "id": "t", "args": {"a": None}, "columns": {"k": None}}


def test_runtime_config_keeps_what_was_written_and_makes_cpu_a_float():
    t = task({"env": "e", "id": "t", "slug": "s", "runtime_config": {"image": "img", "limits": None, "resources": {"cpu": 2, "memory_mb": None}}})
    assert json.loads(t.signature)["runtime_config"] == {"image": "img", "limits": None, "resources": {"cpu": 2.0}}
    assert '"cpu":2.0' in t.signature


def test_a_verifiers_default_slug_counts():
    t = task({"env": "e", "id": "t", "slug": "s", "verifier": {"env": "e", "id": "v", "args": {"q": 1}}})
    assert json.loads(t.signature)["verifier"] == {"env": "e", "id": "v", "args": {"q": 1}, "slug": "v-231b6a1c"}


def test_upload_record_is_name_env_object_task_id_then_the_rest():
    t = task({"env": "letters", "id": "count", "args": {"a": 1}, "columns": {"d": 1}, "extra": "ignored"})
    t.compact()
    assert t.compacted
    assert t.upload_record() == {"name": t.slug, "env": {"name": "letters"}, "task_id": "count", "args": {"a": 1}, "columns": {"d": 1}}
    assert list(t.upload_record()) == ["name", "env", "task_id", "args", "columns"]


def test_the_remote_export_record_reads_back_to_the_same_signature():
    local = task({"env": "letters", "id": "count", "slug": "s", "args": {"a": [1, 2]}, "validation": [{"name": "f"}]})
    record = {"name": "s", "env": "letters", "scenario": "count", "args": {"a": [1, 2]}, "validation": [{"name": "f"}]}
    assert remote_entry(record) == ("s", signature_digest(local.signature))
    # `args: null` on the platform reads as {} (the SDK's `or {}`)
    assert remote_entry({"name": "s", "env": "e", "scenario": "t", "args": None}) == (
        "s",
        signature_digest(row_signature({"env": "e", "id": "t", "args": {}})),
    )
    assert remote_entry({"env": "e", "scenario": "t"}) is None


def messages(row):
    return [(str(p.location), p.message, p.fix) for p in validate_task(task(row))]


def test_a_v5_row_gets_rename_suggestions_at_its_line():
    found = messages({"slug": "s", "env": {"name": "letters"}, "scenario": "letters:count", "args": {}})
    assert [m[0] for m in found] == ["tasks.jsonl:3", "tasks.jsonl:3"]
    assert "env is an object" in found[0][1] and found[0][2] == 'write env as a string: "env": "letters"'
    assert "has 'scenario' but no 'id'" in found[1][1] and "rename the key 'scenario' to 'id'" in found[1][2]


@pytest.mark.parametrize(
    "row, expected",
    [
        ({"env": "e", "id": 1}, "id must be a string, found a number"),
        ({"env": "e", "id": "t", "args": None}, "args must be an object, found null"),
        ({"env": "e", "id": "t", "slug": ""}, "slug is empty"),
        ({"env": "", "id": "t"}, "env is empty"),
        ({"env": "e", "id": "t", "validation": [1]}, "every validation entry must be an object"),
        ({"env": "e", "id": "t", "runtime_config": {"image": "a", "compose": {"document": {"services": {}}}}}, "either image or compose"),
        ({"env": "e", "id": "t", "runtime_config": {"image": "a", "compose": {}}}, "runtime_config.compose.document is missing"),
        ({"env": "e", "id": "t", "runtime_config": {"gpu": 1}}, "unknown key(s) gpu"),
        ({"env": "e", "id": "t", "verifier": {"env": "e", "id": "v", "verifier": {"env": "e", "id": "w"}}}, "verifier has its own verifier"),
        ({"env": "e", "id": "t", "args": {"x": float("nan")}}, "args.x is NaN or Infinity"),
        ({"env": "e", "id": "t", "columns": {"x": "\ud800"}}, "columns.x holds half of a UTF-16 surrogate pair"),
    ],
)
def test_invalid_rows_are_reported(row, expected):
    found = messages(row)
    assert any(expected in message for _, message, _ in found), found


def test_an_emoji_is_text_not_half_a_pair():
    assert messages({"env": "e", "id": "t", "args": {"x": "🍓"}}) == []


def test_valid_rows_have_no_problems_and_duplicates_name_the_first():
    a = task_from_mapping({"env": "e", "id": "t", "args": {"a": 1}}, Location("a.jsonl", 1))
    b = task_from_mapping({"env": "other", "id": "t", "args": {"a": 1}}, Location("a.jsonl", 2))
    assert validate_task(a) == []
    problems = validate([a, b])
    assert len(problems) == 1
    assert str(problems[0].location) == "a.jsonl:2" and "first defined at a.jsonl:1" in problems[0].message
