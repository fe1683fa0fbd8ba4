"""`link-env` and the official `hud sync env` (hud-python 0.5.41), run side by side on one `serve`,
record the same `registryId` and `registryName` for each way a user names the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.test_link_env import REGISTRY, SHOP
from tests.differential.conftest import require_oracle
from tests.differential.test_cli_layouts import run_official
from tests.helpers.repo import make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve


@pytest.mark.parametrize("typed", ["Shop Env", "shop", "garden", SHOP])
def test_both_tools_record_the_same_link(tmp_path: Path, typed: str):
    require_oracle()
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    for root in (theirs, ours):
        make_repo(root, {"tasks.jsonl": '{"slug": "a", "env": {"name": "shop"}, "scenario": "checkout", "args": {}}\n'})
    (tmp_path / "registry.json").write_text(json.dumps(REGISTRY))
    with start_serve(tmp_path, "--registry", str(tmp_path / "registry.json")) as server:
        official = run_official("sync", "env", typed, "--yes", cwd=theirs, api_url=server.url, home=tmp_path / "home")
        linked = run_cli("link-env", typed, "--yes", "--api-url", server.url, cwd=ours, env={"HUD_API_KEY": HUD_API_KEY})
    assert official.returncode == 0 and "Linked to:" in official.stdout, official.stdout
    assert linked.returncode == 0, linked.stderr
    official_link, our_link = (
        (config["registryId"], config["registryName"])
        for config in (json.loads((root / ".hud" / "config.json").read_text()) for root in (theirs, ours))
    )
    assert our_link == official_link
