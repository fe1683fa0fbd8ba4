"""The official `hud sync tasks` and `hud sync env` (hud-python 0.5.41), run as a user runs them,
side by side with ours on one `serve`: each tool finds the `.hud/config.json` the other wrote, in
the layouts the README shows."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.core.test_project_dir import LAYOUTS, ROW_C, ROWS, make_layout
from tests.differential.conftest import ORACLE, oracle_env, require_oracle
from tests.helpers.repo import make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve


def run_official(*args: str, cwd: Path, api_url: str, home: Path) -> subprocess.CompletedProcess[str]:
    """`hud ARGS` from the oracle's environment, with nothing to answer its prompts; its console
    writes to stderr, so both streams come back together in `.stdout`."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**oracle_env(home, api_url), "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}
    return subprocess.run(
        [str(ORACLE / "bin" / "hud"), *args], cwd=str(cwd), env=env, input="",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180,
    )


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_config_written_by_either_tool_is_found_by_the_other(tmp_path, layout):
    require_oracle()
    root = tmp_path / "proj"
    folder = make_layout(root, layout)
    data_file = os.path.relpath(folder / "tasks.jsonl", root)  # the official reads a folder's Python files only
    env = {"HUD_API_KEY": HUD_API_KEY}
    with start_serve(tmp_path) as server:
        official = run_official("sync", "tasks", "my-ts", data_file, "--yes", cwd=root, api_url=server.url, home=tmp_path / "home")
        assert official.returncode == 0 and "Sync complete" in official.stdout, official.stdout + official.stderr
        written = json.loads((root / ".hud" / "config.json").read_text())
        for cwd, args in ((root, ["--source", os.path.dirname(data_file) or "."]), (folder, [])):
            ours = run_cli("plan", *args, "--api-url", server.url, cwd=cwd, env=env)
            assert ours.returncode == 0, ours.stderr
            assert "All tasks up to date" in ours.stdout and "my-ts" in ours.stdout, ours.stdout
        # Ours uploads a change from the task folder; the official, at the root, has nothing left to do.
        (folder / "tasks.jsonl").write_text(ROWS + ROW_C)
        applied = run_cli("apply", "--api-url", server.url, "--yes", cwd=folder, env=env)
        assert applied.returncode == 0 and "1 created" in applied.stdout, applied.stderr
        config = json.loads((root / ".hud" / "config.json").read_text())
        assert config["tasksetId"] == written["tasksetId"]
        check = run_official("sync", "tasks", "", data_file, "--dry-run", cwd=root, api_url=server.url,
                             home=tmp_path / "home")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Using taskset ID from .hud/config.json" in check.stdout and "Unchanged: 3" in check.stdout
    assert "All tasks up to date" in check.stdout
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob(".hud")) == [".hud"]


def test_an_environment_linked_by_either_tool_is_seen_by_the_other(tmp_path):
    require_oracle()
    root = tmp_path / "proj"
    make_repo(root, {"tasks/tasks.jsonl": ROWS, "tasks/env.py": 'from hud import Environment\nenv = Environment("shop")\n'})
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps([
        {"id": "00000000-0000-0000-0000-0000000000b1", "name": "shop", "scenarios": ["checkout"]},
        {"id": "00000000-0000-0000-0000-0000000000b2", "name": "shop-v2", "scenarios": ["checkout"]},
    ]))
    env = {"HUD_API_KEY": HUD_API_KEY}
    with start_serve(tmp_path, "--registry", str(registry)) as server:
        official = run_official("sync", "env", "shop-v2", cwd=root, api_url=server.url,
                                home=tmp_path / "home")
        assert official.returncode == 0 and "Linked to: shop-v2" in official.stdout, official.stdout
        ours = run_cli("plan", "my-ts", "--source", "tasks", "--api-url", server.url, cwd=root, env=env)
        assert "tasks/tasks.jsonl:1: 'a' uses 'shop', the environment is now 'shop-v2'" in ours.stdout, ours.stdout
        relinked = run_cli("link-env", "shop", "--yes", "--api-url", server.url, cwd=root / "tasks", env=env)
        assert relinked.returncode == 0, relinked.stderr
        (root / "tasks" / "env.py").write_text('from hud import Environment\nenv = Environment("elsewhere")\n')
        (root / "tasks" / "tasks.jsonl").write_text(ROWS.replace('"shop"', '"elsewhere"'))
        check = run_official("sync", "tasks", "my-ts", "tasks/tasks.jsonl", "--dry-run", cwd=root,
                             api_url=server.url, home=tmp_path / "home")
    assert check.returncode == 0, check.stdout
    # The official CLI read our registryId from ./.hud/config.json and checked the names against it.
    assert "don't match the deployed environment name 'shop'" in check.stdout, check.stdout
    assert json.loads((root / ".hud" / "config.json").read_text())["registryId"].endswith("b1")
