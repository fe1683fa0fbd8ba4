"""v6 projects through the CLI: the SDK's flat folder layout, the local platform's v6 side, the
scoped config, ids that are never created, and every plan naming its generation."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.repo import make_repo, run_cli

# v6 tasks by their shape (what `hud.eval.Task` offers), so these tests need no SDK installed.
SHAPED = '''
class Task:
    def __init__(self, env, id, args=None, slug=None):
        self.env, self.id, self.args = env, id, args or {}
        self.slug = slug or id
    def model_dump(self, mode="json", exclude_none=True):
        return {k: v for k, v in vars(self).items() if v is not None}
'''
V6_ROWS = [
    {"env": "letters", "id": "count", "args": {"sentence": "Strawberry world", "letter": "r"}},
    {"env": "letters", "id": "count", "slug": "banana", "args": {"sentence": "banana", "letter": "a"}},
]


def jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_a_folder_is_its_own_py_files_only(tmp_path: Path):
    project = tmp_path / "proj"
    make_repo(project, {
        "shape.py": SHAPED,
        "a.py": "from shape import Task\nfirst = Task('letters', 'count', {'n': 1}, slug='from-a')\n",
        "env.py": "from shape import Task\nfrom_env = [Task('letters', 'count', {'n': 2}, slug='from-env')]\n",
        "conftest.py": "from shape import Task\nskipped = Task('letters', 'count', slug='from-conftest')\n",
        "sub/task.py": "from shape import Task\nnested = Task('letters', 'count', slug='from-sub')\n",
        "tasks.jsonl": jsonl(V6_ROWS),
    })
    proc = run_cli("plan", "s", ".", "--sdk", "v6", "--api-url", "local", "--format", "json", cwd=project)
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["sdk"] == "v6"
    assert sorted(t["slug"] for t in plan["create"]) == ["from-a", "from-env"]
    lines = {t["slug"]: (t["file"], t["line"]) for t in plan["create"]}
    assert lines["from-a"] == ("a.py", 2)


def test_apply_plan_and_the_scoped_config_on_the_local_platform(tmp_path: Path):
    project = tmp_path / "proj"
    make_repo(project, {"tasks.jsonl": jsonl(V6_ROWS)})
    applied = run_cli("apply", "letters-set", "tasks.jsonl", "--api-url", "local", "--yes", cwd=project)
    assert applied.returncode == 0, applied.stderr
    assert "HUD SDK v6 (hud 0.6)" in applied.stdout
    config = json.loads((project / ".hud" / "config.json").read_text())
    assert list(config) == ["version", "scope", "registry_id", "taskset_id", "project_id"]
    assert config["version"] == 1 and config["scope"]["origin"] == "local" and config["taskset_id"]
    again = run_cli("plan", "tasks.jsonl", "--api-url", "local", "--format", "markdown", cwd=project)
    assert again.returncode == 0, again.stderr
    assert "Tasks read as HUD SDK v6 (hud 0.6)." in again.stdout and "0 to create, 0 to update, 2 unchanged" in again.stdout
    # an env rename is an update for v6 (the env is part of the signature)
    (project / "tasks.jsonl").write_text(jsonl([{**V6_ROWS[0], "env": "letters-2"}, V6_ROWS[1]]))
    changed = json.loads(run_cli("plan", "tasks.jsonl", "--api-url", "local", "--format", "json", cwd=project).stdout)
    assert [t["slug"] for t in changed["update"]] == ["count-4376680e"]


def test_a_scope_of_another_platform_is_an_error(tmp_path: Path):
    project = tmp_path / "proj"
    config = {"version": 1, "scope": {"origin": "https://api.hud.ai", "user_id": "u", "team_id": "t"}, "registry_id": None, "taskset_id": None, "project_id": None}
    make_repo(project, {"tasks.jsonl": jsonl(V6_ROWS), ".hud/config.json": config})
    proc = run_cli("plan", "s", "tasks.jsonl", "--api-url", "local", cwd=project)
    assert proc.returncode == 1
    assert ".hud/config.json" in proc.stderr and "was linked against https://api.hud.ai, not local" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_stored_id_that_is_gone_is_an_error_never_a_create(tmp_path: Path):
    project = tmp_path / "proj"
    config = {"version": 1, "scope": None, "registry_id": None, "taskset_id": "00000000-0000-4000-8000-000000000000", "project_id": None}
    make_repo(project, {"tasks.jsonl": jsonl(V6_ROWS), ".hud/config.json": config})
    proc = run_cli("apply", "tasks.jsonl", "--api-url", "local", "--yes", cwd=project)
    assert proc.returncode == 1 and "was not found on the platform" in proc.stderr
    assert "Uploaded" not in proc.stdout


def test_a_v5_project_keeps_its_config_schema(tmp_path: Path):
    project = tmp_path / "proj"
    row = {"slug": "a", "env": {"name": "letters"}, "scenario": "letters:count", "args": {}}
    make_repo(project, {"tasks.jsonl": jsonl([row])})
    applied = run_cli("apply", "old-set", "tasks.jsonl", "--api-url", "local", "--yes", cwd=project)
    assert applied.returncode == 0, applied.stderr
    assert "HUD SDK v5" in applied.stdout
    assert set(json.loads((project / ".hud" / "config.json").read_text())) == {"tasksetId", "tasksetName"}


def test_v5_rows_under_v6_get_rename_suggestions_at_file_and_line(tmp_path: Path):
    project = tmp_path / "proj"
    row = {"slug": "a", "env": {"name": "letters"}, "scenario": "letters:count", "args": {}}
    make_repo(project, {"tasks.jsonl": "\n" + jsonl([row])})
    proc = run_cli("validate", "tasks.jsonl", "--sdk", "v6", cwd=project)
    assert proc.returncode == 1
    assert "tasks.jsonl:2: task 'a': env is an object" in proc.stderr
    assert "rename the key 'scenario' to 'id'" in proc.stderr


def test_mixing_generations_is_one_clear_error(tmp_path: Path):
    project = tmp_path / "proj"
    make_repo(project, {
        "old.py": "from hud import Environment\nenv = Environment('e')\n@env.scenario('t')\nasync def t(): ...\n",
        "new.py": "from hud import Environment\nenv = Environment(name='e')\n@env.template(id='t')\nasync def t(): ...\n",
    })
    proc = run_cli("validate", ".", cwd=project)
    assert proc.returncode == 1
    assert "mixes two HUD SDK generations: v5 in old.py:3 (@env.scenario); v6 in new.py:3 (@env.template)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_project_that_does_not_exist_is_an_error_and_v5_has_none(tmp_path: Path):
    project = tmp_path / "proj"
    make_repo(project, {"tasks.jsonl": jsonl(V6_ROWS)})
    proc = run_cli("plan", "s", "tasks.jsonl", "--api-url", "local", "--project", "Research Team", cwd=project)
    assert proc.returncode == 1 and "no project 'Research Team' on the platform (from --project)" in proc.stderr
    (project / "v5.jsonl").write_text(jsonl([{"slug": "a", "env": {"name": "e"}, "scenario": "e:t", "args": {}}]))
    proc = run_cli("plan", "s", "v5.jsonl", "--api-url", "local", "--project", "x", cwd=project)
    assert proc.returncode == 1 and "--project is for HUD SDK v6 projects" in proc.stderr
