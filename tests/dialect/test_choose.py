"""The SDK generation is chosen before anything is imported: flag, config schema, task files,
installed SDK; two generations in one project is an error naming the files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hud_sync_hook.dialect import Choice, choose, file_generation, get, row_generation
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


def test_the_mixing_error_is_one_line_naming_each_generations_files_and_the_way_out(tmp_path: Path):
    write_files(tmp_path, {"old.py": V5_PY, "new.py": V6_PY})
    with pytest.raises(HudSyncError) as err:
        choose("auto", tmp_path, base=tmp_path)
    assert str(err.value) == (
        "this project mixes two HUD SDK generations: v5 in old.py:3 (@env.scenario); v6 in new.py:3 (@env.template)."
        " Keep one generation per project (move the other's tasks to their own folder), or pass --sdk v5|v6"
    )


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
    # as `hud-sync-hook validate` names them ("read as ...")
    assert (v5.label, v6.label) == ("HUD SDK v5 (hud-python 0.5)", "HUD SDK v6 (hud 0.6)")
    assert v6.data_names == () and v5.data_names
    assert v5.remote_entry is not v6.remote_entry


def test_a_file_too_deeply_nested_to_read_says_nothing_and_is_left_to_discovery(tmp_path: Path):
    write_files(tmp_path, {"tasks.json": "[" * 100_000 + "]" * 100_000, "tasks.jsonl": "[" * 100_000 + "]" * 100_000 + "\n"})
    assert file_generation(tmp_path / "tasks.json") is None
    assert file_generation(tmp_path / "tasks.jsonl") is None


def test_rows_that_name_their_environment_as_an_object_or_a_scenario_are_v5_whatever_else_they_hold():
    assert row_generation({"id": "t", "env": {"name": "e"}}) == "v5"
    assert row_generation({"env": {"name": "e"}}) == "v5"
    assert row_generation({"id": "t", "scenario": "s", "env": "e"}) == "v5"
    assert row_generation({"id": "t", "env": None}) == "v6"
    assert row_generation({"id": "t", "env": 5}) is None
    assert row_generation({"env": "e"}) is None
    assert row_generation("id") is None


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("tasks.json", b"\xef\xbb\xbf \n[ \n\t" + json.dumps(V6_ROW).encode() + b"]", "v6"),  # a BOM and spaces
        ("tasks.json", json.dumps(V6_ROW).encode() + b"\n", "v6"),  # one row, not a list
        ("tasks.json", (json.dumps([V6_ROW, {"env": "\xe9"}])).encode()[:-4] + b"\xe9\xff\"}]", "v6"),  # not UTF-8 later on
        ("tasks.jsonl", b"\n  \n" + json.dumps([V6_ROW, V5_ROW]).encode() + b"\n", "v6"),  # a line holding a list
        ("tasks.jsonl", b"{not json\n" + json.dumps(V6_ROW).encode() + b"\n", None),
        ("tasks.jsonl", json.dumps(V6_ROW).encode() + b" and more\n", None),  # a line that is not JSON as a whole
        ("tasks.jsonl", b"[\n" + json.dumps(V6_ROW).encode() + b"\n]\n", None),
        ("tasks.jsonl", b"\xff" + json.dumps(V6_ROW).encode() + b"\n", "v6"),
        ("tasks.yml", b"- id: count\n  env: letters # \xff\n", "v6"),
        ("tasks.yaml", b"- slug: a\n  env: {}\n", "v5"),
        ("tasks.yaml", b"- id: count\n  env:\n    name: letters\n", "v5"),
        ("tasks.yaml", b"- slug: a\n  id:\n  env: letters\n", "v6"),
        ("tasks.yaml", b"# nothing here\n", None),
        ("tasks.py", V5_PY + V6_PY, None),  # both markers: says nothing
        ("tasks.txt", V6_PY, None),
    ],
)
def test_data_files_are_sniffed_as_text(tmp_path: Path, name, content, expected):
    write_files(tmp_path, {name: content})
    assert file_generation(tmp_path / name) == expected


@pytest.mark.parametrize("name", ["tasks.py", "tasks.json", "tasks.jsonl", "tasks.yaml"])
def test_a_task_file_that_cannot_be_read_says_nothing_and_is_left_to_discovery(tmp_path: Path, name):
    (tmp_path / name).mkdir()
    assert file_generation(tmp_path / name) is None


@pytest.mark.parametrize("key", ["version", "scope", "taskset_id", "registry_id", "project_id"])
def test_every_key_of_the_v6_config_schema_chooses_v6(tmp_path: Path, key):
    chosen = choose("auto", tmp_path, config_data={key: None}, config_shown="proj/.hud/config.json")
    assert chosen == Choice("v6", f"chosen by proj/.hud/config.json: the hud 0.6 config schema, with {key}")


def test_camel_case_config_keys_say_nothing(tmp_path: Path):
    camel = {"tasksetId": "x", "registryId": "y", "projectId": "z", "tasksetName": "n", "registryName": "r"}
    assert choose("auto", tmp_path, config_data=camel).reason != "from .hud/config.json"


def _installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *distributions: tuple[str, str]) -> None:
    """Distributions installed the way pip installs them (a `.dist-info` folder on `sys.path`)."""
    site = tmp_path / "site-packages"
    for name, version in distributions:
        write_files(site, {f"{name.replace('-', '_')}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"})
    monkeypatch.syspath_prepend(str(site))


@pytest.mark.parametrize(
    "distributions, expected",
    [
        ([("hud", "0.6.21")], "v6"),
        ([("hud-python", "0.5.41")], "v5"),
        ([("hud-python", "0.6.0")], "v6"),
        ([("hud-python", "0.5.41"), ("hud", "0.6.21")], "v6"),
    ],
)
def test_with_nothing_in_the_project_the_installed_sdk_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, distributions, expected):
    _installed(tmp_path, monkeypatch, *distributions)
    project = tmp_path / "project"
    project.mkdir()
    from hud_sync_hook.dialect import installed_generation

    assert installed_generation() == expected
    package = {"v5": "hud-python 0.5", "v6": "hud 0.6"}[expected]
    assert choose("auto", project) == Choice(expected, f"chosen by the installed SDK ({package}): nothing in the project names a generation")
    write_files(project, {"tasks.jsonl": json.dumps(V5_ROW) + "\n"})
    assert choose("auto", project, base=project).name == "v5"


def test_with_nothing_to_go_by_at_all_the_choice_is_v5(tmp_path: Path):
    from hud_sync_hook.dialect import installed_generation

    if installed_generation() is not None:
        pytest.skip("a HUD SDK is installed next to hud-sync-hook here")
    default = Choice("v5", "the default: nothing in the project names a generation, and no HUD SDK is installed")
    assert choose("auto", tmp_path / "missing") == default
    assert choose("auto", tmp_path) == default


def test_the_plan_names_the_first_file_that_chose_and_counts_the_others(tmp_path: Path):
    write_files(tmp_path, {"a.py": V6_PY})
    assert choose("auto", tmp_path, base=tmp_path) == Choice("v6", "chosen by a.py:3: @env.template")
    write_files(tmp_path, {"b.py": V6_PY})
    assert choose("auto", tmp_path, base=tmp_path) == Choice("v6", "chosen by a.py:3: @env.template (and 1 more file)")
    write_files(tmp_path, {"c.py": V6_PY})
    assert choose("auto", tmp_path, base=tmp_path) == Choice("v6", "chosen by a.py:3: @env.template (and 2 more files)")


def test_the_mixing_error_names_at_most_five_files_of_a_generation_and_counts_the_rest(tmp_path: Path):
    write_files(tmp_path, {**{f"v5_{i}.py": V5_PY for i in range(6)}, **{f"v6_{i}.py": V6_PY for i in range(5)}})
    with pytest.raises(HudSyncError) as err:
        choose("auto", tmp_path, base=tmp_path)
    v5 = ", ".join(f"v5_{i}.py:3 (@env.scenario)" for i in range(5))
    v6 = ", ".join(f"v6_{i}.py:3 (@env.template)" for i in range(5))
    assert str(err.value) == (
        f"this project mixes two HUD SDK generations: v5 in {v5} and 1 more; v6 in {v6}."
        " Keep one generation per project (move the other's tasks to their own folder), or pass --sdk v5|v6"
    )


def test_the_flag_is_named_as_the_reason():
    assert choose("v5", Path("missing")) == Choice("v5", "chosen by --sdk v5")
    assert choose("v6", Path("missing")) == Choice("v6", "chosen by --sdk v6")
