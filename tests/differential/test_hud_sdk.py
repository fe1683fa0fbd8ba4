"""Sync a tasks.py written with the real hud-python 0.5.41, as its users write it.

The SDK lives in the oracle's own virtual environment (see conftest.py): our CLI runs with that
interpreter here, as it does for a user who installs hud-sync-hook next to the SDK, so that the
import child can import the user's `from hud import ...`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

from tests.differential.conftest import ORACLE_PYTHON, Oracle
from tests.differential.test_v5_parity import _sdk_env, ours
from tests.helpers.repo import REPO_ROOT, make_repo


def test_sdk_tasks_plan_apply_and_match_the_official_signature(oracle: Oracle, server, tmp_path: Path):
    project = tmp_path / "proj"
    shutil.copytree(REPO_ROOT / "examples" / "hud-sdk", project)
    make_repo(project, {})
    python = str(ORACLE_PYTHON)
    env = _sdk_env(oracle)
    plan = ours("plan", "sdk", ".", "--api-url", server.url, "--format", "json", cwd=project, python=python, env=env)
    assert plan.returncode == 0, plan.stderr
    data = json.loads(plan.stdout)
    created = {t["slug"]: t for t in data["create"]}
    assert sorted(created) == ["checkout-alice", "refund-bob"]
    assert created["checkout-alice"] == {"slug": "checkout-alice", "scenario": "shop-env:checkout", "file": "tasks.py", "line": 7}
    applied = ours("apply", "sdk", ".", "--api-url", server.url, "--yes", cwd=project, python=python, env=env)
    assert applied.returncode == 0, applied.stderr
    again = ours("plan", "--api-url", server.url, cwd=project, python=python, env=env)
    assert "All tasks up to date" in again.stdout, again.stdout + again.stderr

    # The SDK's own diff agrees: its signature of our uploaded records equals its local one.
    check = textwrap.dedent(
        f"""
        import json, sys, httpx
        sys.path.insert(0, {str(project)!r})
        from hud.cli.sync import _compute_remote_signature, _build_local_specs
        from hud.utils.hud_console import HUDConsole
        from hud.types import MCPToolCall
        import tasks
        # The SDK's own sync needs MCPToolCall objects; plain dicts (which we accept) crash it.
        for t in tasks.tasks:
            if t.validation:
                t.validation = [MCPToolCall(**v) for v in t.validation]
        specs = _build_local_specs(tasks.tasks, HUDConsole())
        ts = httpx.get({server.url!r} + "/tasks/evalset/sdk").json()["evalset_id"]
        remote = httpx.get({server.url!r} + f"/tasks/evalsets/{{ts}}/tasks-by-id").json()["tasks"]
        by_slug = {{r["slug"]: r for r in remote.values()}}
        print(json.dumps([s["signature"] == _compute_remote_signature(by_slug[s["slug"]]) for s in specs]))
        """
    )
    result = subprocess.run([python, "-c", check], capture_output=True, text=True, timeout=120, env=oracle.env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [True, True]
