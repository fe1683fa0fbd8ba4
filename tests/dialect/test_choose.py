"""The SDK generation is chosen before anything is imported: flag, config schema, task files,
installed SDK; two generations in one project is an error naming the files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hud_sync_hook.dialect import choose, file_generation, get, row_generation
from hud_sync_hook.errors import HudSyncError
from tests.helpers.repo import write_files

V6_PY = 'from hud import Environment\nenv = Environment(name="e")\n@env.template(id="t")\nasync def t(): ...\n'
V5_PY = 'from hud import Environment\nenv = Environment("e")\n@env.scenario("t")\nasync def t(): ...\n'
V6_ROW = {"env": "letters", "id": "count", "args": {}}
V5_ROW = {"slug": "a", "env": {"name": "letters"}, "scenario": "letters:count"}


@pytest.mark.parametrize(
    "row, expected",
    [(V6_ROW, "v6"), (V5_ROW, "v5"), ({"slug": "a", "scenario": "x"}, "v5"), ({"id": "t"}, "v6"), ({"slug": "a"}, None), ([1], None)],
)
def test_rows_say_their_generation(row, expected):
    assert row_generation(row) == expected


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("tasks.py", V6_PY, "v6"),
        ("tasks.py", V5_PY, "v5"),
        ("tasks.py", "from hud.eval import Task\nt = Task(scenario='x', slug='a')\n", "v5"),
        ("tasks.py", "x = 1\n", None),
        ("tasks.jsonl", "\n" + json.dumps(V6_ROW) + "\n", "v6"),
        ("tasks.json", json.dumps([V5_ROW, V6_ROW]), None),  # says both: see test_detect.py
        ("tasks.yaml", "- env: letters\n  id: count\n", "v6"),
        ("tasks.yaml", "- slug: a\n  env:\n    name: letters\n  scenario: letters:count\n", "v5"),
    ],
)
def test_files_say_their_generation_as_text(tmp_path: Path, name, content, expected):
    write_files(tmp_path, {name: content})
    assert file_generation(tmp_path / name) == expected


def test_the_flag_wins_and_an_unknown_name_is_an_error(tmp_path: Path):
    write_files(tmp_path, {"tasks.py": V5_PY})
    assert choose("v6", tmp_path).name == "v6"
    with pytest.raises(HudSyncError, match="--sdk must be one of auto, v5, v6"):
        choose("v7", tmp_path)


def test_the_v6_config_schema_chooses_v6_and_camel_case_keys_say_nothing(tmp_path: Path):
    assert choose("auto", tmp_path, config_data={"version": 1, "taskset_id": None}).name == "v6"
    write_files(tmp_path, {"tasks.jsonl": json.dumps(V5_ROW) + "\n"})
    assert choose("auto", tmp_path, config_data={"tasksetId": "x"}).name == "v5"


def test_mixed_generations_are_an_error_naming_the_files(tmp_path: Path):
    write_files(tmp_path, {"old.py": V5_PY, "new.py": V6_PY, "tasks.jsonl": json.dumps(V6_ROW) + "\n"})
    with pytest.raises(HudSyncError) as err:
        choose("auto", tmp_path, base=tmp_path)
    message = str(err.value)
    assert "v5 in old.py:3 (@env.scenario); v6 in new.py:3 (@env.template), tasks.jsonl:1" in message and "--sdk" in message


def test_a_v6_config_with_v5_rows_is_mixed_too(tmp_path: Path):
    write_files(tmp_path, {"tasks.jsonl": json.dumps(V5_ROW) + "\n"})
    with pytest.raises(HudSyncError, match=r"v5 in tasks.jsonl:1 \(a row with scenario\); v6 in \.hud/config\.json"):
        choose("auto", tmp_path, config_data={"version": 1}, base=tmp_path)


def test_nothing_to_go_by_falls_back_to_the_installed_sdk_or_v5(tmp_path: Path):
    from hud_sync_hook.dialect import installed_generation

    chosen = choose("auto", tmp_path)
    assert chosen.name == (installed_generation() or "v5")


def test_both_dialects_offer_every_part():
    v5, v6 = get("v5"), get("v6")
    assert (v5.name, v6.name) == ("v5", "v6")
    assert v6.data_names == () and v5.data_names
    assert v5.remote_entry is not v6.remote_entry


def test_a_file_too_deeply_nested_to_read_says_nothing_and_is_left_to_discovery(tmp_path: Path):
    write_files(tmp_path, {"tasks.json": "[" * 100_000 + "]" * 100_000, "tasks.jsonl": "[" * 100_000 + "]" * 100_000 + "\n"})
    assert file_generation(tmp_path / "tasks.json") is None
    assert file_generation(tmp_path / "tasks.jsonl") is None
