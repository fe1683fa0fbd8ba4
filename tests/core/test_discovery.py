"""Discovery follows the documented `hud sync tasks` rules, on real files in temporary folders."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from hud_sync_hook.discovery import discover
from hud_sync_hook.discovery.files import read_task_file
from hud_sync_hook.errors import HudSyncError
from hud_sync_hook.validate import validate


def task_py(*slugs: str, var: str = "tasks") -> str:
    rows = ",\n".join(
        f'    {{"slug": "{s}", "env": {{"name": "e"}}, "scenario": "sc", "args": {{"n": {i}}}}}' for i, s in enumerate(slugs)
    )
    return f"{var} = [\n{rows},\n]\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if name.endswith(".py") else text)
    return root


def slugs(found) -> list[str]:
    return sorted(t.slug for t in found.tasks)


def test_root_tasks_py_wins_over_every_other_group(tmp_path):
    write(tmp_path, {
        "tasks.py": task_py("root"),
        "sub/task.py": task_py("nested"),
        "other.py": task_py("other"),
        "tasks.json": json.dumps([{"slug": "data", "scenario": "s"}]),
    })
    assert slugs(discover(tmp_path, base=tmp_path)) == ["root"]


def test_nested_task_py_skips_private_and_hidden_folders(tmp_path):
    write(tmp_path, {
        "a/task.py": task_py("a"),
        "b/c/task.py": task_py("c"),
        "_private/task.py": task_py("private"),
        ".hidden/task.py": task_py("hidden"),
        "other.py": task_py("other"),
    })
    found = discover(tmp_path, base=tmp_path)
    assert slugs(found) == ["a", "c"]
    assert {t.location.file for t in found.tasks} == {"a/task.py", "b/c/task.py"}


def test_other_root_python_files_except_the_skip_list(tmp_path):
    write(tmp_path, {
        "alpha.py": task_py("alpha"),
        "env.py": task_py("env"),
        "conftest.py": task_py("conftest"),
        "setup.py": task_py("setup"),
        "__main__.py": task_py("main"),
    })
    assert slugs(discover(tmp_path, base=tmp_path)) == ["alpha"]


def test_package_folder_is_imported_as_a_package_first(tmp_path):
    write(tmp_path, {
        "__init__.py": "from .defs import tasks\n",
        "defs.py": task_py("from-package"),
        "tasks.py": task_py("root"),
    })
    assert slugs(discover(tmp_path, base=tmp_path)) == ["from-package"]


def test_data_files_only_when_no_python_group_finds_tasks(tmp_path):
    write(tmp_path, {"helpers.py": "X = 1\n", "tasks.yaml": "- slug: y\n  scenario: s\n"})
    found = discover(tmp_path, base=tmp_path)
    assert slugs(found) == ["y"]


def test_module_tasks_list_wins_over_module_level_tasks(tmp_path):
    write(tmp_path, {"tasks.py": """
        loose = {"slug": "loose", "scenario": "s"}
        tasks = [{"slug": "listed", "scenario": "s"}]
    """})
    assert slugs(discover(tmp_path, base=tmp_path)) == ["listed"]


def test_module_level_task_objects_and_dicts_are_found_with_lines(tmp_path):
    write(tmp_path, {"tasks.py": """
        class Env:
            def __init__(self, name):
                self.name = name

        class Task:
            def __init__(self, env, scenario, **args):
                self.env, self.scenario, self.args = env, scenario, args
                self.slug = None
                self.validation = None
                self.agent_config = None
                self.columns = {}

        env = Env("my-env")
        first = Task(env, "checkout", user="alice")
        first.slug = "checkout-alice"
        second = {"slug": "plain", "scenario": "refund"}
        _private = Task(env, "hidden")
    """})
    found = discover(tmp_path, base=tmp_path)
    by_slug = {t.slug: t for t in found.tasks}
    assert sorted(by_slug) == ["checkout-alice", "plain"]
    assert by_slug["checkout-alice"].location.line == 15  # the line that created it
    assert by_slug["checkout-alice"].env == "my-env"
    assert by_slug["checkout-alice"].args == {"user": "alice"}
    assert by_slug["plain"].location.line == 17


def test_broken_file_is_skipped_without_hiding_the_others(tmp_path):
    write(tmp_path, {
        "a.py": task_py("good"),
        "b.py": "raise RuntimeError('boom')\n",
        "c.py": "def broken(:\n",
    })
    found = discover(tmp_path, base=tmp_path)
    assert slugs(found) == ["good"]
    skipped = {s.path: s.error for s in found.skipped}
    assert skipped["b.py"] == "RuntimeError: boom (line 1)"
    assert skipped["c.py"].startswith("SyntaxError:")


def test_missing_hud_package_says_what_to_install(tmp_path):
    write(tmp_path, {"tasks.py": "from hud_not_here import x\nimport hud.eval.task\n"})
    found = discover(tmp_path, base=tmp_path)
    assert found.tasks == []
    (skipped,) = found.skipped
    assert "ModuleNotFoundError" in skipped.error


def test_hud_missing_message_names_the_package(tmp_path):
    import importlib.util

    # Whether or not the SDK is installed here, a missing `hud` module gets the install hint.
    missing = "hud" if importlib.util.find_spec("hud") is None else "hud.no_such_module_here"
    write(tmp_path, {"tasks.py": f"import {missing}\n"})
    (skipped,) = discover(tmp_path, base=tmp_path).skipped
    assert "pip install 'hud>=0.6' for v6, pip install 'hud-python<0.6' for v5" in skipped.error


def test_exit_and_hang_and_noise_are_contained(tmp_path):
    files = {
        "a_exit.py": "import sys\nsys.exit(3)\n",
        "b_hard_exit.py": "import os\nos._exit(4)\n",
        "d_noise.py": "print('x' * 10_000_000)\n" + task_py("after-noise"),
        "e_good.py": task_py("good"),
    }
    write(tmp_path / "finite", files)
    found = discover(tmp_path / "finite", base=tmp_path / "finite")  # the default timeout: load cannot matter
    assert slugs(found) == ["after-noise", "good"]
    skipped = {s.path: s.error for s in found.skipped}
    assert "sys.exit(3)" in skipped["a_exit.py"]
    assert "exit status 4" in skipped["b_hard_exit.py"]
    # A file that never finishes, among the others: skipped after the timeout, the others still read.
    write(tmp_path / "hang", {**files, "c_hang.py": "import time\nwhile True:\n    time.sleep(0.05)\n"})
    found = discover(tmp_path / "hang", base=tmp_path / "hang", import_timeout=10)
    skipped = {s.path: s.error for s in found.skipped}
    assert "did not finish within 10 s" in skipped["c_hang.py"]
    assert "good" in slugs(found)


def test_imports_resolve_from_the_project_root_and_sys_path_is_restored(tmp_path):
    write(tmp_path, {
        "pyproject.toml": "[project]\nname='x'\n",
        "shared/__init__.py": "",
        "shared/defaults.py": "ARGS = {'level': 3}\n",
        "suite/task.py": "from shared.defaults import ARGS\ntasks = [{'slug': 'lvl', 'scenario': 's', 'args': ARGS}]\n",
    })
    found = discover(tmp_path, base=tmp_path)
    assert [t.args for t in found.tasks] == [{"level": 3}]


def test_single_python_file_source(tmp_path):
    write(tmp_path, {"mine.py": task_py("one", "two")})
    assert slugs(discover(tmp_path / "mine.py", base=tmp_path)) == ["one", "two"]


def test_non_json_values_are_reported(tmp_path):
    write(tmp_path, {"tasks.py": "import datetime\ntasks = [{'slug': 'd', 'scenario': 's', 'args': {'when': datetime.date(2020, 1, 2), 'tags': {1}}}]\n"})
    found = discover(tmp_path, base=tmp_path)
    messages = sorted(p.message for p in found.problems)
    assert messages == [
        "task 'd': args.tags is a set, which JSON cannot hold",
        "task 'd': args.when is a date, which JSON cannot hold",
    ]
    assert all(str(p.location) == "tasks.py:2" for p in found.problems)


def test_untrusted_python_is_not_imported(tmp_path):
    marker = tmp_path / "ran"
    write(tmp_path, {"tasks.py": f"open({str(marker)!r}, 'w').close()\n", "tasks.json": '[{"slug": "j", "scenario": "s"}]'})
    found = discover(tmp_path, base=tmp_path, allow_python=False)
    assert not marker.exists()
    assert found.untrusted_python == ["tasks.py"]
    assert slugs(found) == ["j"]


def test_missing_or_unsupported_source_is_a_clear_error(tmp_path):
    with pytest.raises(HudSyncError, match="source path does not exist"):
        discover(tmp_path / "nope", base=tmp_path)
    (tmp_path / "tasks.txt").write_text("x")
    with pytest.raises(HudSyncError, match="unsupported task file type '.txt'"):
        discover(tmp_path / "tasks.txt", base=tmp_path)


def test_dicts_in_a_tasks_py_are_read_as_data_rows_are(tmp_path):
    # The same keys as a Task: read through the SDK's model as a JSON row is, so a dict signs the
    # same as the row, and as the Task object it describes.
    write(tmp_path, {"tasks.py": """
        class Env:
            name = "Other Env"

        tasks = [
            {"slug": "a", "env": {"name": "Shop Env"}, "scenario": "buy", "agent_config": {}, "columns": {"n": 3}},
            {"slug": "b", "env": Env(), "scenario": "buy"},
            {"slug": "c", "env": "shop", "scenario": "buy"},
        ]
    """})
    found = discover(tmp_path, base=tmp_path)
    a, b, c = found.tasks
    rows, problems = read_task_file(write(tmp_path / "data", {"tasks.jsonl": json.dumps({"slug": "a", "env": {"name": "Shop Env"}, "scenario": "buy", "agent_config": {}, "columns": {"n": 3}})}) / "tasks.jsonl", "tasks.jsonl")
    assert problems == [] and a.signature == rows[0].signature and a.upload_record() == rows[0].upload_record()
    assert (a.env, a.qualified_scenario, a.columns) == ("shop-env", "shop-env:buy", {"n": 3.0})
    assert a.agent_config == {"append_setup_output": False, "append_setup_tool": False}
    assert b.env == "other-env"
    assert [str(p).split(" (")[0] for p in validate(found.tasks)] == ["tasks.py:8: task 'c': env must be an object with a name, found a string"]


TASK_CLASS = """
    class Env:
        def __init__(self, name):
            self.name = name

    class Task:
        def __init__(self, env, scenario, slug=None, **args):
            self.env, self.scenario, self.args, self.slug = env, scenario, args, slug
            self.validation = None
            self.agent_config = None
            self.columns = {}

    env = Env("shop")
"""


def test_each_problem_points_at_the_line_that_created_its_task(tmp_path):
    from hud_sync_hook.validate import validate

    write(tmp_path, {"tasks.py": TASK_CLASS + """
    alice = Task(env, "checkout", user="alice")
    alice.slug = "checkout-alice"
    bob = Task(env, "checkout", user="bob")
    bob.slug = "checkout-alice"
    nameless = Task(env, "refund")
    tasks = [
        alice,
        bob,
        nameless,
        {"slug": "checkout-alice", "scenario": "s"},
        {"scenario": "s", "slug": ""},
        Task(env, "inline",
             slug="inline"),
    ]
    for user in ("carol", "dave"):
        t = Task(env, "checkout", user=user)
        t.slug = "looped"
        tasks.append(t)
    """})
    found = discover(tmp_path, base=tmp_path)
    assert not found.skipped and not found.problems
    assert [(t.slug, t.location.line) for t in found.tasks] == [
        ("checkout-alice", 15),  # alice = Task(...)
        ("checkout-alice", 17),  # bob = Task(...), not the first definition
        (None, 19),  # nameless = Task(...), not the `tasks = [` line
        ("checkout-alice", 24),  # its element of the literal list
        ("", 25),
        ("inline", 26),  # where the call starts, not where its slug is
        ("looped", 31),  # made in a loop: the slug's line
        ("looped", 31),
    ]
    problems = [str(p) for p in validate(found.tasks)]
    assert [p.split(" (", 1)[0] for p in problems if "duplicate" in p] == [
        "tasks.py:17: duplicate slug 'checkout-alice'",
        "tasks.py:24: duplicate slug 'checkout-alice'",
        "tasks.py:31: duplicate slug 'looped'",
    ]
    assert any(p.startswith("tasks.py:19: task has no slug") for p in problems), problems
    assert any(p.startswith("tasks.py:25: slug is empty") for p in problems), problems


def test_a_reordered_tasks_list_falls_back_to_the_slug_lines(tmp_path):
    write(tmp_path, {"tasks.py": """
    tasks = [
        {"slug": "b", "scenario": "s"},
        {"slug": "a", "scenario": "s"},
    ]
    tasks.sort(key=lambda t: t["slug"])
    tasks.insert(0, {"slug": "c", "scenario": "s"})
    """})
    found = discover(tmp_path, base=tmp_path)
    assert [(t.slug, t.location.line) for t in found.tasks] == [("c", 7), ("a", 4), ("b", 3)]
