"""The differential test for v6: the official `hud` 0.6.21 CLI and hud-sync-hook against the same
`hud-sync-hook serve`, over seeded random sets written as JSONL and as a `tasks.py`.

What either tool uploads, the other finds unchanged; one mutated field is one update for both.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hud_sync_hook.dialect.v6_model import default_slug
from tests.dialect.v6_rows import rows
from tests.helpers.oracle_v6 import needs_oracle, oracle_dir, run_official
from tests.helpers.repo import REPO_ROOT, make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

pytestmark = needs_oracle
KEY = HUD_API_KEY


def official_plan(project: Path, home: Path, url: str, taskset: str, source: str) -> dict:
    proc = run_official("sync", "tasks", taskset, source, "--dry-run", "--json", cwd=project, home=home, url=url, key=KEY)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout[proc.stdout.index("{\n") :])


def our_plan(project: Path, url: str, taskset: str, source: str, *, python: str | None = None) -> dict:
    if python is None:
        proc = run_cli("plan", taskset, source, "--api-url", url, "--format", "json", cwd=project, env={"HUD_API_KEY": KEY})
    else:  # under the interpreter where the v6 SDK is installed, as its users run it
        env = {"PATH": "/usr/bin:/bin", "HOME": str(project), "HUD_API_KEY": KEY, "PYTHONPATH": str(REPO_ROOT)}
        proc = subprocess.run(
            [python, "-m", "hud_sync_hook", "plan", taskset, source, "--api-url", url, "--format", "json"],
            cwd=project, env=env, capture_output=True, text=True, timeout=180,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def write_jsonl(path: Path, sample: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in sample), encoding="utf-8")


def write_tasks_py(path: Path, sample: list[dict]) -> None:
    """The rows as `Task` objects of the real SDK, one assignment per task."""
    lines = ["import json", "from hud.eval import Task", ""]
    for i, row in enumerate(sample):
        lines.append(f"task_{i:04d} = Task(**json.loads({json.dumps(row)!r}))")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("form", ["jsonl", "py"])
def test_both_tools_agree_in_both_directions(tmp_path: Path, form: str):
    sample = rows(seed=611 if form == "jsonl" else 612, count=60)
    project = tmp_path / "proj"
    make_repo(project, {})
    source = "tasks.jsonl" if form == "jsonl" else "tasks.py"
    (write_jsonl if form == "jsonl" else write_tasks_py)(project / source, sample)
    python = None if form == "jsonl" else str(oracle_dir() / "bin" / "python")
    home = tmp_path / "home"
    with start_serve(tmp_path, "--api-key", KEY) as server:
        url = server.url
        # official uploads, we find everything unchanged
        done = run_official("sync", "tasks", "alpha", source, "--yes", "--json", cwd=project, home=home, url=url, key=KEY)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        ours = our_plan(project, url, "alpha", source, python=python)
        assert ours["sdk"] == "v6"
        assert ours["counts"] == {"create": 0, "update": 0, "unchanged": 60, "remote_only": 0, "renames": 0}

        # one mutated field: one update for both
        sample[17] = {**sample[17], "columns": {**(sample[17].get("columns") or {}), "mutated": True}}
        (write_jsonl if form == "jsonl" else write_tasks_py)(project / source, sample)
        official = official_plan(project, home, url, "alpha", source)
        assert (official["create_count"], official["update_count"], official["unchanged_count"]) == (0, 1, 59)
        ours = our_plan(project, url, "alpha", source, python=python)
        assert [t["slug"] for t in ours["update"]] == [sample[17].get("slug") or default_slug(sample[17]["id"], sample[17]["args"])]
        assert ours["counts"]["unchanged"] == 59 and ours["counts"]["create"] == 0

        # we upload a new taskset, the official client finds everything unchanged
        if python is None:
            applied = run_cli("apply", "beta", source, "--api-url", url, "--yes", cwd=project, env={"HUD_API_KEY": KEY})
        else:
            env = {"PATH": "/usr/bin:/bin", "HOME": str(project), "HUD_API_KEY": KEY, "PYTHONPATH": str(REPO_ROOT)}
            applied = subprocess.run(
                [python, "-m", "hud_sync_hook", "apply", "beta", source, "--api-url", url, "--yes"],
                cwd=project, env=env, capture_output=True, text=True, timeout=180,
            )
        assert applied.returncode == 0, applied.stderr[-3000:]
        official = official_plan(project, home, url, "beta", source)
        assert (official["create_count"], official["update_count"], official["unchanged_count"]) == (0, 0, 60)
        # and its requests were the /v2 ones, with a Bearer key only (the log never holds the key)
        log = server.stderr_text()
        assert "POST /v2/tasks/upload 200" in log and KEY not in log


def test_v5_and_v6_tasksets_live_in_one_store(tmp_path: Path):
    project = tmp_path / "proj"
    make_repo(project, {})
    v6 = project / "v6"
    v6.mkdir()
    write_jsonl(v6 / "tasks.jsonl", rows(seed=5, count=3))
    v5 = project / "v5"
    v5.mkdir()
    write_jsonl(v5 / "tasks.jsonl", [{"slug": "a", "env": {"name": "letters"}, "scenario": "letters:count", "args": {}}])
    home = tmp_path / "home"
    with start_serve(tmp_path, "--api-key", KEY) as server:
        for folder in ("v5", "v6"):
            applied = run_cli("apply", "shared-name", f"{folder}/tasks.jsonl", "--api-url", server.url, "--yes", cwd=project, env={"HUD_API_KEY": KEY})
            assert applied.returncode == 0, applied.stderr
        official = official_plan(v6, home, server.url, "shared-name", "tasks.jsonl")
        assert (official["create_count"], official["unchanged_count"]) == (0, 3)
        v5_plan = run_cli("plan", "shared-name", "v5/tasks.jsonl", "--api-url", server.url, "--format", "json", cwd=project, env={"HUD_API_KEY": KEY})
        assert json.loads(v5_plan.stdout)["counts"]["unchanged"] == 1 and json.loads(v5_plan.stdout)["sdk"] == "v5"


def test_export_and_link_env_write_what_the_official_client_writes(tmp_path: Path):
    registry = [{"id": "7f3c2a9e-1b2d-4c5e-8f90-123456789abc", "name": "letters", "scenarios": ["count", "checkout", "t", "v"]}]
    (tmp_path / "registry.json").write_text(json.dumps(registry))
    sample = [dict(row, env="letters") for row in rows(seed=77, count=12)]
    for row in sample:
        if "verifier" in row:
            row["verifier"] = {**row["verifier"], "env": "letters"}
    ours_dir, theirs_dir = tmp_path / "ours", tmp_path / "theirs"
    for folder in (ours_dir, theirs_dir):
        make_repo(folder, {})
        write_jsonl(folder / "tasks.jsonl", sample)
    home = tmp_path / "home"
    with start_serve(tmp_path, "--api-key", KEY, "--registry", str(tmp_path / "registry.json")) as server:
        url = server.url
        done = run_official("sync", "tasks", "exported", "tasks.jsonl", "--yes", cwd=theirs_dir, home=home, url=url, key=KEY)
        assert done.returncode == 0, done.stdout[-2000:]
        for suffix in ("json", "jsonl", "csv"):
            theirs = run_official("sync", "tasks", "exported", "--export", f"out.{suffix}", cwd=theirs_dir, home=home, url=url, key=KEY)
            assert theirs.returncode == 0, theirs.stdout[-2000:]
            ours = run_cli("export", "exported", "--out", f"out.{suffix}", "--sdk", "v6", "--api-url", url, cwd=ours_dir, env={"HUD_API_KEY": KEY})
            assert ours.returncode == 0, ours.stderr
            assert (ours_dir / f"out.{suffix}").read_bytes() == (theirs_dir / f"out.{suffix}").read_bytes()

        linked = run_official("sync", "env", "Letters", "--yes", cwd=theirs_dir, home=home, url=url, key=KEY)
        assert linked.returncode == 0, linked.stdout[-2000:]
        (ours_dir / ".hud").mkdir(exist_ok=True)
        (ours_dir / ".hud" / "config.json").write_text(json.dumps({"version": 1}))
        mine = run_cli("link-env", "Letters", "--api-url", url, cwd=ours_dir, env={"HUD_API_KEY": KEY})
        assert mine.returncode == 0, mine.stderr
        ours_config = json.loads((ours_dir / ".hud" / "config.json").read_text())
        theirs_config = json.loads((theirs_dir / ".hud" / "config.json").read_text())
        assert ours_config["registry_id"] == theirs_config["registry_id"] == registry[0]["id"]
        assert ours_config["scope"] == theirs_config["scope"]


def test_the_v6_example_project(tmp_path: Path):
    import shutil

    project = tmp_path / "proj"
    shutil.copytree(REPO_ROOT / "examples" / "hud-sdk-v6", project)
    make_repo(project, {})
    python = str(oracle_dir() / "bin" / "python")
    with start_serve(tmp_path, "--api-key", KEY) as server:
        done = run_official("sync", "tasks", "letters", ".", "--yes", "--json", cwd=project, home=tmp_path / "home", url=server.url, key=KEY)
        assert done.returncode == 0, done.stdout[-3000:]
        plan = our_plan(project, server.url, "letters", ".", python=python)
        assert plan["sdk"] == "v6" and plan["unchanged"] == ["count-4376680e", "count-banana", "count-mississippi"]


def test_projects_by_name_and_from_the_environment_as_the_official_client(tmp_path: Path):
    projects = [
        {"id": "11111111-2222-4333-8444-555555555555", "name": "research-team", "can_create": True},
        {"id": "66666666-7777-4888-8999-000000000000", "name": "read-only", "can_create": False},
    ]
    (tmp_path / "projects.json").write_text(json.dumps(projects))
    ours_dir, theirs_dir = tmp_path / "ours", tmp_path / "theirs"
    sample = rows(seed=91, count=5)
    for folder in (ours_dir, theirs_dir):
        make_repo(folder, {})
        write_jsonl(folder / "tasks.jsonl", sample)
    home = tmp_path / "home"
    with start_serve(tmp_path, "--api-key", KEY, "--projects", str(tmp_path / "projects.json")) as server:
        url = server.url
        done = run_official("sync", "tasks", "theirs", "tasks.jsonl", "--project", "Research Team", "--yes", cwd=theirs_dir, home=home, url=url, key=KEY)
        assert done.returncode == 0, done.stdout[-2000:]
        applied = run_cli("apply", "ours", "tasks.jsonl", "--project", "Research Team", "--api-url", url, "--yes", cwd=ours_dir, env={"HUD_API_KEY": KEY})
        assert applied.returncode == 0, applied.stderr
        # neither stores the taskset id when a project was given
        for folder in (ours_dir, theirs_dir):
            config = folder / ".hud" / "config.json"
            assert not config.exists() or json.loads(config.read_text()).get("taskset_id") is None
        log = server.stderr_text()
        assert log.count("GET /v2/projects?search=research-team&limit=500 200") == 2
        # a project the key may not create in: both refuse before uploading
        theirs = run_official("sync", "tasks", "t2", "tasks.jsonl", "--project", "read-only", "--yes", cwd=theirs_dir, home=home, url=url, key=KEY)
        ours = run_cli("apply", "o2", "tasks.jsonl", "--api-url", url, "--yes", cwd=ours_dir, env={"HUD_API_KEY": KEY, "HUD_DEFAULT_PROJECT": "read-only"})
        assert theirs.returncode != 0 and ours.returncode == 1
        assert "may not create tasksets in the project" in ours.stderr
        assert server.stderr_text().count("POST /v2/tasks/upload") == 2


def test_an_infinite_cpu_in_a_tasks_py_is_signed_as_the_official_client_signs_it(tmp_path: Path):
    # The SDK dumps a cpu of float("inf") as null inside `resources` and keeps the key, so such a
    # task never matches its own upload (read back, the null is dropped): the official client
    # plans it as an update every time, and so must we, and both tools must upload the same.
    project = tmp_path / "proj"
    make_repo(project, {})
    (project / "tasks.py").write_text(
        "from hud.eval import Task\n"
        "endless = Task(env='e', id='t', slug='endless', args={'n': 1},\n"
        "               runtime_config={'image': 'x', 'resources': {'cpu': float('inf')}})\n"
        "two = Task(env='e', id='t', slug='two', args={'n': 2}, runtime_config={'image': 'x', 'resources': {'cpu': 2}})\n",
        encoding="utf-8",
    )
    python, home = str(oracle_dir() / "bin" / "python"), tmp_path / "home"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(project), "HUD_API_KEY": KEY, "PYTHONPATH": str(REPO_ROOT)}
    with start_serve(tmp_path, "--api-key", KEY) as server:
        done = run_official("sync", "tasks", "alpha", "tasks.py", "--yes", "--json", cwd=project, home=home, url=server.url, key=KEY)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        applied = subprocess.run(
            [python, "-m", "hud_sync_hook", "apply", "beta", "tasks.py", "--api-url", server.url, "--yes"],
            cwd=project, env=env, capture_output=True, text=True, timeout=180,
        )
        assert applied.returncode == 0, applied.stderr[-3000:]
        for taskset in ("alpha", "beta"):  # uploaded by the official client, then by us
            official = official_plan(project, home, server.url, taskset, "tasks.py")
            assert (official["create_count"], official["update_count"], official["unchanged_count"]) == (0, 1, 1), taskset
            ours = our_plan(project, server.url, taskset, "tasks.py", python=python)
            assert ours["counts"] == {"create": 0, "update": 1, "unchanged": 1, "remote_only": 0, "renames": 0}, taskset
            assert [task["slug"] for task in ours["update"]] == ["endless"]
