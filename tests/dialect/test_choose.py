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
    "name, content",
    [
        ("tasks.json", json.dumps([{"slug": "a"}, V5_ROW])),
        ("tasks.jsonl", json.dumps({"slug": "a"}) + "\n" + json.dumps(V5_ROW) + "\n"),
        ("tasks.yaml", "- slug: a\n  env: letters\n- slug: b\n  scenario: letters:count\n"),
    ],
)
def test_only_the_first_row_of_a_data_file_is_read(tmp_path: Path, name, content):
    write_files(tmp_path, {name: content})
    assert file_generation(tmp_path / name) is None


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("tasks.json", b"\xef\xbb\xbf \n[ \n\t" + json.dumps(V6_ROW).encode() + b"]", "v6"),  # a BOM and spaces
        ("tasks.json", json.dumps(V6_ROW).encode() + b"\n", "v6"),  # one row, not a list
        ("tasks.json", (json.dumps([V6_ROW, {"env": "\xe9"}])).encode()[:-4] + b"\xe9\xff\"}]", "v6"),  # not UTF-8 later on
        ("tasks.jsonl", b"\n  \n" + json.dumps([V6_ROW, V5_ROW]).encode() + b"\n", "v6"),  # a line holding a list
        ("tasks.jsonl", b"[]\n" + json.dumps(V6_ROW).encode() + b"\n", None),
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
def test_data_files_are_sniffed_from_their_first_row(tmp_path: Path, name, content, expected):
    write_files(tmp_path, {name: content})
    assert file_generation(tmp_path / name) == expected


@pytest.mark.parametrize("name", ["tasks.py", "tasks.json", "tasks.jsonl", "tasks.yaml"])
def test_a_task_file_that_cannot_be_read_says_nothing_and_is_left_to_discovery(tmp_path: Path, name):
    (tmp_path / name).mkdir()
    assert file_generation(tmp_path / name) is None


def test_only_the_first_mebibyte_of_a_file_is_read(tmp_path: Path):
    write_files(tmp_path, {"late.py": "#" * (1 << 20) + "\n" + V6_PY, "early.py": V6_PY + "#" * (1 << 20) + "\n"})
    assert file_generation(tmp_path / "late.py") is None
    assert file_generation(tmp_path / "early.py") == "v6"


@pytest.mark.parametrize("key", ["version", "scope", "taskset_id", "registry_id", "project_id"])
def test_every_key_of_the_v6_config_schema_chooses_v6(tmp_path: Path, key):
    chosen = choose("auto", tmp_path, config_data={key: None}, config_shown="proj/.hud/config.json")
    assert chosen == Choice("v6", "from proj/.hud/config.json")


def test_camel_case_config_keys_say_nothing(tmp_path: Path):
    camel = {"tasksetId": "x", "registryId": "y", "projectId": "z", "tasksetName": "n", "registryName": "r"}
    assert choose("auto", tmp_path, config_data=camel).reason != "from .hud/config.json"


def test_the_choice_names_its_evidence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert choose("v5", tmp_path) == Choice("v5", "--sdk v5")
    write_files(tmp_path, {"a.py": V6_PY, "b.py": V6_PY, "sub/task.py": V6_PY, "tasks.jsonl": json.dumps(V6_ROW) + "\n"})
    assert choose("auto", tmp_path, base=tmp_path) == Choice("v6", "from a.py, b.py, sub/task.py")
    monkeypatch.chdir(tmp_path)  # without a base, paths are shown from the working folder
    assert choose(None, Path("sub")) == Choice("v6", "from sub/task.py")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert choose("auto", tmp_path / "a.py", base=elsewhere) == Choice("v6", f"from {tmp_path / 'a.py'}")


@pytest.mark.parametrize("name", ["tasks.json", "tasks.jsonl", "tasks.yaml", "tasks.yml"])
def test_a_folders_data_file_is_read_by_its_usual_names(tmp_path: Path, name):
    row = json.dumps(V6_ROW) + "\n" if name.endswith(("json", "jsonl")) else "- env: letters\n  id: count\n"
    write_files(tmp_path, {name: row, "other.json": json.dumps(V5_ROW)})
    assert choose("auto", tmp_path, base=tmp_path) == Choice("v6", f"from {name}")


def test_a_folders_task_files_are_its_own_py_files_and_task_py_one_level_down(tmp_path: Path):
    write_files(
        tmp_path,
        {
            "one/task.py": V5_PY,
            ".hidden/task.py": V6_PY,
            "_private/task.py": V6_PY,
            "one/other.py": V6_PY,
            "one/two/task.py": V6_PY,
            "notes.txt": V6_PY,
        },
    )
    assert choose("auto", tmp_path, base=tmp_path) == Choice("v5", "from one/task.py")


def test_a_source_that_is_one_file_reads_that_file_only(tmp_path: Path):
    write_files(tmp_path, {"old.py": V5_PY, "new.py": V6_PY})
    assert choose("auto", tmp_path / "new.py", base=tmp_path) == Choice("v6", "from new.py")


def test_a_mix_names_at_most_five_files_of_each_generation(tmp_path: Path):
    write_files(tmp_path, {**{f"v5_{i}.py": V5_PY for i in range(6)}, "tasks.yaml": "- env: letters\n  id: count\n"})
    with pytest.raises(HudSyncError) as err:
        choose("auto", tmp_path, base=tmp_path)
    assert str(err.value) == (
        "this project mixes two HUD SDK generations: v5 in v5_0.py, v5_1.py, v5_2.py, v5_3.py, v5_4.py; v6 in tasks.yaml."
        " Keep one generation per project (move the other's tasks to their own folder), or pass --sdk v5|v6"
    )
    write_files(tmp_path, {f"v6_{i}.py": V6_PY for i in range(5)})
    with pytest.raises(HudSyncError) as err:
        choose("auto", tmp_path, base=tmp_path)
    assert str(err.value) == (
        "this project mixes two HUD SDK generations: v5 in v5_0.py, v5_1.py, v5_2.py, v5_3.py, v5_4.py;"
        " v6 in v6_0.py, v6_1.py, v6_2.py, v6_3.py, v6_4.py."
        " Keep one generation per project (move the other's tasks to their own folder), or pass --sdk v5|v6"
    )


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
    assert choose("auto", project) == Choice(expected, "from the installed HUD SDK")
    write_files(project, {"tasks.jsonl": json.dumps(V5_ROW) + "\n"})
    assert choose("auto", project, base=project) == Choice("v5", "from tasks.jsonl")


def test_with_nothing_to_go_by_at_all_the_choice_is_v5(tmp_path: Path):
    from hud_sync_hook.dialect import installed_generation

    if installed_generation() is not None:
        pytest.skip("a HUD SDK is installed next to hud-sync-hook here")
    assert choose("auto", tmp_path / "missing") == Choice("v5", "default (nothing in the project names a generation)")
    assert choose("auto", tmp_path) == Choice("v5", "default (nothing in the project names a generation)")
