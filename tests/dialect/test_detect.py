"""`--sdk auto` decides from what the project states, read statically and never imported: the
syntax of its task files (aliases and templates of other modules followed), the shape of its rows,
its config schema; then the installed SDK; then v5. Tables for the reading and the (pure) decision,
then real repositories through the CLI, and with the real SDKs when their oracles are installed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from hud_sync_hook.dialect import choose, decide
from hud_sync_hook.dialect.sniff import Evidence, gather
from hud_sync_hook.errors import HudSyncError
from tests.helpers.repo import REPO_ROOT, make_repo, run_cli, write_files

TEMPLATES = '''from hud import Environment as E

env = E(name="letters")


@env.template(id="count")
async def count(sentence: str, letter: str):
    yield f"How many {letter} in {sentence}?"
    yield 1.0
'''
V5_ENV = 'from hud import Environment\n\nenv = Environment("letters")\n'

# (files, expected evidence as (generation, "file:line") in file order; [] when nothing is said)
PYTHON_CASES = {
    "a v6 decorator": ({"tasks.py": TEMPLATES}, [("v6", "tasks.py:6")]),
    "a v5 decorator": ({"tasks.py": V5_ENV + '@env.scenario("count")\nasync def count(): ...\n'}, [("v5", "tasks.py:4")]),
    "v6 Task with env a string": (
        {"tasks.py": 'from hud.eval import Task\n\nt = Task(env="letters", id="count", args={"n": 1})\n'},
        [("v6", "tasks.py:3")],
    ),
    "v6 Task through `import hud as h`": (
        {"tasks.py": 'import hud as h\n\nt = h.Task(env="letters", id="count")\n'},
        [("v6", "tasks.py:3")],
    ),
    "v6 Task with env from an environment's name": (
        {"tasks.py": 'from hud.eval.task import Task as T\nfrom hud import Environment\nenv = Environment("e")\nt = T(env=env.name, id="x")\n'},
        [("v6", "tasks.py:4")],
    ),
    "v6 Task with only an id": ({"tasks.py": "from hud.eval import Task\nt = Task(id='count', env=ENV)\n"}, [("v6", "tasks.py:2")]),
    "v6 Taskset and `from hud import Task`": (
        {"tasks.py": "from hud import Task, Taskset\nts = Taskset('s', [])\n"},
        [("v6", "tasks.py:1"), ("v6", "tasks.py:2")],
    ),
    "v5 Task with an Environment": (
        {"tasks.py": V5_ENV + 'from hud.eval import Task\nx = Task(env=Environment("a"), args={})\n'},
        [("v5", "tasks.py:5")],
    ),
    "v5 Task with an env instance": (
        {"tasks.py": V5_ENV + "from hud.eval import Task\nx = Task(env=env, args={})\n"},
        [("v5", "tasks.py:5")],
    ),
    "v5 Task with an env object": (
        {"tasks.py": "from hud.eval import Task\nx = Task(env={'name': 'a'}, scenario='s')\n"},
        [("v5", "tasks.py:2")],
    ),
    "v5 Task with a scenario only": ({"tasks.py": "from hud.eval import Task\nx = Task(scenario='s', slug='a')\n"}, [("v5", "tasks.py:2")]),
    "v5 calling the environment": ({"tasks.py": V5_ENV + "t = env('checkout', user_id='alice')\n"}, [("v5", "tasks.py:4")]),
    "v5 calling an environment connected to a hub": (
        {"tasks.py": "import hud\nenv = hud.Environment('b').connect_hub('browser')\nt = env('checkout')\n"},
        [("v5", "tasks.py:3")],
    ),
    "files neither generation reads say nothing": (
        {"conftest.py": V5_ENV + "t = env('x')\n", "setup.py": TEMPLATES, "tasks.jsonl": json.dumps({"env": "e", "id": "t"}) + "\n"},
        [("v6", "tasks.jsonl:1")],
    ),
    "v5 calling an environment from another module": (
        {"env.py": V5_ENV, "tasks.py": "from env import env\nt = [env('checkout', user_id='alice')]\n"},
        [("v5", "tasks.py:2")],
    ),
    "v6 template imported from another module": (
        {"env.py": TEMPLATES, "tasks.py": "from env import count as c\n\ntasks = [c(sentence='a', letter='a')]\n"},
        [("v6", "env.py:6"), ("v6", "tasks.py:3")],
    ),
    "v6 template of a package module, relative import": (
        {"evals/__init__.py": "", "evals/templates.py": TEMPLATES, "evals/tasks.py": "from .templates import count\nt = count(sentence='a', letter='b')\n"},
        [("v6", "evals/tasks.py:2"), ("v6", "evals/templates.py:6")],
    ),
    "v6 template through `import module as m`": (
        {"lib/letters.py": TEMPLATES, "tasks.py": "import lib.letters as m\nt = m.count(sentence='a', letter='b')\n"},
        [("v6", "tasks.py:2")],
    ),
    "v6 template at the root of a sub-project": (
        {"sub/pyproject.toml": "", "sub/letters.py": TEMPLATES, "sub/evals/tasks.py": "from letters import count\nt = count(sentence='a', letter='b')\n"},
        [("v6", "sub/evals/tasks.py:2")],
    ),
    "v6 template re-exported by a package": (
        {"pkg/__init__.py": "from .templates import count\n", "pkg/templates.py": TEMPLATES, "tasks.py": "from pkg import count\nt = count(sentence='a', letter='b')\n"},
        [("v6", "tasks.py:2")],
    ),
    "v5 rows written as dicts": (
        {"tasks.py": 'ENV = {"name": "shop"}\n\ntasks = [\n    {"slug": "a", "env": ENV, "scenario": "checkout", "args": {}},\n]\n'},
        [("v5", "tasks.py:4")],
    ),
    "v6 rows written as dicts": (
        {"tasks.py": 'NAME = "letters"\nrows = [{"env": NAME, "id": "count", "args": {"n": 1}}]\n'},
        [("v6", "tasks.py:2")],
    ),
    "other dicts with such keys say nothing": (
        {"tasks.py": 'a = {"id": 3, "env": "prod"}\nb = {"scenario": "x"}\nc = {"id": "x", "env": f"{a}"}\nd = {"scenario": 1, "slug": "s"}\n'},
        [],
    ),
    "an unknown Task says nothing": ({"tasks.py": "from shape import Task\nt = Task(env='x', id='y', scenario='z')\n"}, []),
    "a call of something unknown says nothing": ({"tasks.py": "from elsewhere import count\nt = count(sentence='a')\n"}, []),
    "Environment alone says nothing": ({"tasks.py": 'from hud import Environment\nenv = Environment(name="e")\n'}, []),
    "a syntax error says nothing (discovery reports it)": ({"tasks.py": "def (\n"}, []),
    "v5 and v6 in one file": (
        {"tasks.py": TEMPLATES + "from hud.eval import Task\nold = Task(scenario='s', env={'name': 'letters'})\n"},
        [("v6", "tasks.py:6"), ("v5", "tasks.py:11")],
    ),
}


@pytest.mark.parametrize("files, expected", PYTHON_CASES.values(), ids=PYTHON_CASES.keys())
def test_python_files_are_read_by_their_syntax(tmp_path: Path, files, expected):
    write_files(tmp_path, files)
    folders = {name.rsplit("/", 1)[0] for name in files if name.endswith("tasks.py") and "/" in name}
    source = tmp_path / folders.pop() if folders else tmp_path
    found = [(e.generation, e.where) for e in gather(source, tmp_path, {}, ".hud/config.json")]
    assert found == expected


def test_imports_are_not_followed_out_of_the_repository(tmp_path: Path):
    outside = tmp_path / "outside"
    write_files(outside, {"secret_templates.py": TEMPLATES})
    project = tmp_path / "project"
    make_repo(project, {"tasks.py": "from secret_templates import count\nt = count(sentence='a', letter='b')\n"})
    (project / "secret_templates.py").symlink_to(outside / "secret_templates.py")
    assert [(e.generation, e.where) for e in gather(project / "tasks.py", project, {}, "c")] == []


def test_a_task_file_linking_out_of_the_repository_says_nothing(tmp_path: Path):
    outside = tmp_path / "outside"
    write_files(outside, {"tasks.py": TEMPLATES})
    project = tmp_path / "project"
    make_repo(project, {"tasks.jsonl": json.dumps(ROW_V5) + "\n"})
    (project / "tasks.py").symlink_to(outside / "tasks.py")
    assert [(e.generation, e.where) for e in gather(project, project, {}, "c")] == [("v5", "tasks.jsonl:1")]


def test_an_import_cycle_ends(tmp_path: Path):
    write_files(tmp_path, {"a.py": "from b import count\n", "b.py": "from a import count\n", "tasks.py": "from a import count\nt = count()\n"})
    assert gather(tmp_path / "tasks.py", tmp_path, {}, "c") == []


ROW_V6 = {"env": "letters", "id": "count", "args": {"n": 1}}
ROW_V5 = {"slug": "a", "env": {"name": "letters"}, "scenario": "count", "args": {}}
DATA_CASES = {
    "v6 JSONL": ({"tasks.jsonl": "\n" + json.dumps(ROW_V6) + "\n"}, [("v6", "tasks.jsonl:2")]),
    "v5 JSONL": ({"tasks.jsonl": json.dumps(ROW_V5) + "\n"}, [("v5", "tasks.jsonl:1")]),
    "v6 JSON object": ({"tasks.json": json.dumps(ROW_V6, indent=2)}, [("v6", "tasks.json:1")]),
    "JSON list mixing, with each row's line": (
        {"tasks.json": "[\n" + json.dumps(ROW_V6) + ",\n\n" + json.dumps(ROW_V5) + "\n]"},
        [("v6", "tasks.json:2"), ("v5", "tasks.json:4")],
    ),
    "JSONL mixing on line 3": (
        {"tasks.jsonl": "".join(json.dumps(r) + "\n" for r in (ROW_V6, ROW_V6, ROW_V5))},
        [("v6", "tasks.jsonl:1"), ("v5", "tasks.jsonl:3")],
    ),
    "v6 YAML": ({"tasks.yaml": "# tasks\n- env: letters\n  id: count\n  args: {n: 1}\n"}, [("v6", "tasks.yaml:2")]),
    "v5 YAML with a block env": (
        {"tasks.yml": "- slug: a\n  env:\n    name: letters\n  scenario: count\n"},
        [("v5", "tasks.yml:1")],
    ),
    "v5 YAML under tasks:": ({"tasks.yaml": "tasks:\n  - slug: a\n    env: {name: letters}\n    args: {}\n"}, [("v5", "tasks.yaml:2")]),
    "YAML mixing on the second task": (
        {"tasks.yaml": "- env: letters\n  id: count\n- slug: b\n  scenario: count\n  env:\n    name: letters\n"},
        [("v6", "tasks.yaml:1"), ("v5", "tasks.yaml:3")],
    ),
    "a YAML env left empty is no object": ({"tasks.yaml": "- id: count\n  env:\n- id: other\n"}, [("v6", "tasks.yaml:1")]),
    "rows without a generation's keys": ({"tasks.jsonl": '{"slug": "a", "args": {}}\n'}, []),
    "broken JSON says nothing": ({"tasks.json": "[{"}, []),
}


@pytest.mark.parametrize("files, expected", DATA_CASES.values(), ids=DATA_CASES.keys())
def test_rows_are_read_by_their_shape(tmp_path: Path, files, expected):
    write_files(tmp_path, files)
    found = [(e.generation, e.where) for e in gather(tmp_path, tmp_path, {}, ".hud/config.json")]
    assert found == expected


def E(generation: str, file: str, line: int | None = 1, what: str = "x") -> Evidence:
    return Evidence(generation, file, line, what)


DECISIONS = {
    "one v6 file": ([E("v6", "tasks.py", 4, "@env.template")], None, "v6", "chosen by tasks.py:4: @env.template"),
    "v5 rows in two files": ([E("v5", "a.jsonl"), E("v5", "b.jsonl", 3)], "v6", "v5", "chosen by a.jsonl:1: x (and 1 more file)"),
    "many lines of one file count once": ([E("v6", "a.py", 1), E("v6", "a.py", 9)], None, "v6", "chosen by a.py:1: x"),
    "the config alone": ([E("v6", ".hud/config.json", None, "the schema")], "v5", "v6", "chosen by .hud/config.json: the schema"),
    "nothing: the installed SDK": ([], "v6", "v6", "chosen by the installed SDK (hud 0.6): nothing in the project names a generation"),
    "nothing: the installed v5 SDK": ([], "v5", "v5", "chosen by the installed SDK (hud-python 0.5): nothing in the project names a generation"),
    "nothing at all: v5": ([], None, "v5", "the default: nothing in the project names a generation, and no HUD SDK is installed"),
}


@pytest.mark.parametrize("evidence, installed, name, reason", DECISIONS.values(), ids=DECISIONS.keys())
def test_the_decision(evidence, installed, name, reason):
    chosen = decide(evidence, installed)
    assert (chosen.name, chosen.reason) == (name, reason)


def test_two_generations_are_an_error_naming_each_file_and_line():
    evidence = [E("v6", ".hud/config.json", None, "the schema"), E("v5", "old.py", 3, "@env.scenario"), E("v6", "new.py", 7, "@env.template"), E("v5", "old.py", 9)]
    with pytest.raises(HudSyncError) as err:
        decide(evidence, "v6")
    assert str(err.value).startswith(
        "this project mixes two HUD SDK generations: v5 in old.py:3 (@env.scenario); "
        "v6 in .hud/config.json (the schema), new.py:7 (@env.template). Keep one generation per project"
    )


def test_many_files_are_counted_not_listed():
    evidence = [E("v5", f"f{i}.py") for i in range(8)] + [E("v6", "n.py")]
    with pytest.raises(HudSyncError, match=r"f4.py:1 \(x\) and 3 more; v6 in n.py:1"):
        decide(evidence, None)


def test_nothing_is_imported_to_decide(tmp_path: Path):
    marker = tmp_path / "imported"
    write_files(tmp_path, {
        "env.py": f"open({str(marker)!r}, 'w').close()\n" + TEMPLATES,
        "tasks.py": f"open({str(marker)!r}, 'w').close()\nfrom env import count\nt = count(sentence='a', letter='b')\n",
    })
    chosen = choose("auto", tmp_path, base=tmp_path)
    assert chosen.name == "v6" and chosen.reason == "chosen by env.py:7: @env.template (and 1 more file)"
    assert not marker.exists()


# -- real repositories through the CLI ---------------------------------------------------------------


def test_a_plan_says_why_its_generation_was_chosen_in_every_format(tmp_path: Path):
    project = tmp_path / "proj"
    make_repo(project, {"evals/set.jsonl": json.dumps(ROW_V6) + "\n"})
    reason = "chosen by evals/set.jsonl:1: a row with id and env as a string and no scenario"
    plan = run_cli("plan", "s", "evals/set.jsonl", "--api-url", "local", "--format", "json", cwd=project)
    assert plan.returncode == 0, plan.stderr
    data = json.loads(plan.stdout)
    slug = "count-" + hashlib.sha1(json.dumps(ROW_V6["args"], sort_keys=True).encode()).hexdigest()[:8]  # the SDK's default
    assert (data["sdk"], data["sdk_reason"], [t["slug"] for t in data["create"]]) == ("v6", reason, [slug])
    text = run_cli("plan", "s", "evals/set.jsonl", "--api-url", "local", cwd=project)
    assert f"  HUD SDK v6 (hud 0.6), {reason}\n" in text.stdout
    markdown = run_cli("plan", "s", "evals/set.jsonl", "--api-url", "local", "--format", "markdown", cwd=project)
    assert "Tasks read as HUD SDK v6 (hud 0.6). Chosen by evals/set.jsonl:1: a row with id and env as a string and no scenario.\n" in markdown.stdout
    flagged = run_cli("plan", "s", "evals/set.jsonl", "--sdk", "v6", "--api-url", "local", "--format", "json", cwd=project)
    assert json.loads(flagged.stdout)["sdk_reason"] == "chosen by --sdk v6"


def test_a_v5_yaml_project_is_v5_even_with_a_v6_sdk_installed(tmp_path: Path):
    project = tmp_path / "proj"
    make_repo(project, {"tasks.yaml": "- slug: a\n  env:\n    name: letters\n  scenario: count\n  args: {}\n"})
    proc = run_cli("plan", "s", ".", "--api-url", "local", "--format", "json", cwd=project)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["sdk"] == "v5" and data["sdk_reason"] == "chosen by tasks.yaml:1: a row with scenario"
    assert [t["slug"] for t in data["create"]] == ["a"]


def test_a_mixed_project_is_refused_before_anything_is_imported(tmp_path: Path):
    project = tmp_path / "proj"
    marker = tmp_path / "imported"
    make_repo(project, {
        "tasks.py": f"open({str(marker)!r}, 'w').close()\nfrom hud.eval import Task\nold = Task(env={{'name': 'letters'}}, scenario='count')\n",
        "tasks.jsonl": json.dumps(ROW_V6) + "\n",
    })
    proc = run_cli("plan", "s", ".", "--api-url", "local", cwd=project)
    assert proc.returncode != 0
    assert "v5 in tasks.py:3 (a Task with env as an Environment or an object); v6 in tasks.jsonl:1" in proc.stderr
    assert "Traceback" not in proc.stderr and not marker.exists()


# -- with the real SDKs ------------------------------------------------------------------------------

V6_PROJECT = {
    "env.py": TEMPLATES,
    "tasks.py": "from env import count\n\ntasks = [count(sentence='banana', letter='a'), count(sentence='kiwi', letter='i')]\n",
}
V5_PROJECT = {
    "tasks.py": (
        "from hud import Environment as Env\nfrom hud.eval import Task\n\nenv = Env('letters')\n\n"
        "first = Task(env=Env('letters'), scenario='count', slug='first', args={'n': 1})\n"
        "second = env('count', n=2)\nsecond.slug = 'second'\n"
    ),
}


# Read at import, before the suite's isolation removes `HUD_*` variables from each test's environment.
_GIVEN = {name: os.environ.get(name) for name in ("HUD_ORACLE_V5", "HUD_ORACLE_V6")}


def _oracle(variable: str, generation: str) -> Path:
    given = _GIVEN[variable]
    folder = Path(given) if given else REPO_ROOT / ".oracles" / generation
    if not (folder / "bin" / "python").is_file():
        if given:
            pytest.fail(f"{variable}={given} has no bin/python")
        pytest.skip(f"the official {generation} SDK is not installed: .ci/run puts it in .oracles/{generation} (or set {variable})")
    return folder / "bin" / "python"


def _ours(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "PYTHONPATH": str(REPO_ROOT), "HUD_TELEMETRY_ENABLED": "0", "DO_NOT_TRACK": "1"}
    return subprocess.run([str(python), "-m", "hud_sync_hook", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _slugs_by_the_sdk(python: Path, cwd: Path) -> list[str]:
    probe = "import json, tasks\nprint(json.dumps(sorted(t.slug for t in tasks.tasks)))\n"
    proc = subprocess.run([str(python), "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(cwd), "DO_NOT_TRACK": "1", "HUD_TELEMETRY_ENABLED": "0"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_v6_tasks_from_templates_of_another_module_with_the_real_sdk(tmp_path: Path):
    python = _oracle("HUD_ORACLE_V6", "v6")
    project = tmp_path / "proj"
    make_repo(project, V6_PROJECT)
    proc = _ours(python, project, "plan", "letters", "tasks.py", "--api-url", "local", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["sdk"] == "v6" and plan["sdk_reason"] == "chosen by tasks.py:3: count(...) calls the template defined at env.py:6"
    assert sorted(t["slug"] for t in plan["create"]) == _slugs_by_the_sdk(python, project)


def test_v5_tasks_with_aliased_environments_with_the_real_sdk(tmp_path: Path):
    python = _oracle("HUD_ORACLE_V5", "v5")
    project = tmp_path / "proj"
    make_repo(project, V5_PROJECT)
    proc = _ours(python, project, "plan", "letters", "tasks.py", "--api-url", "local", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["sdk"] == "v5" and plan["sdk_reason"] == "chosen by tasks.py:6: a Task with env as an Environment or an object"
    assert sorted(t["slug"] for t in plan["create"]) == ["first", "second"]


def test_a_hostile_path_in_the_reason_is_shown_inert(tmp_path: Path):
    project = tmp_path / "proj"
    folder = "@octocat\x1b[2J"
    make_repo(project, {f"{folder}/set.jsonl": json.dumps(ROW_V6) + "\n"})
    source = f"{folder}/set.jsonl"
    text = run_cli("plan", "s", source, "--api-url", "local", cwd=project)
    markdown = run_cli("plan", "s", source, "--api-url", "local", "--format", "markdown", cwd=project)
    data = json.loads(run_cli("plan", "s", source, "--api-url", "local", "--format", "json", cwd=project).stdout)
    assert text.returncode == 0 and markdown.returncode == 0, text.stderr + markdown.stderr
    assert "\x1b" not in text.stdout and "chosen by @octocat\\x1b[2J/set.jsonl:1" in text.stdout
    assert "\x1b" not in markdown.stdout and "@octocat" not in markdown.stdout and "@\u200bocto" in markdown.stdout
    assert data["sdk_reason"].startswith(f"chosen by {folder}/set.jsonl:1")


def test_the_quickstart_stays_v5_with_the_v6_sdk_installed(tmp_path: Path):
    python = _oracle("HUD_ORACLE_V6", "v6")
    project = tmp_path / "quickstart"
    make_repo(project, {"tasks.py": (REPO_ROOT / "examples" / "quickstart" / "tasks.py").read_text()})
    proc = _ours(python, project, "plan", "quickstart", ".", "--api-url", "local", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert (plan["sdk"], plan["sdk_reason"]) == ("v5", "chosen by tasks.py:10: a row with scenario")
    assert sorted(t["slug"] for t in plan["create"]) == ["checkout-alice", "checkout-bob", "refund-carol"]
