"""The v5 generation's own parts: no projects, the camelCase config, the linked environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hud_sync_hook.config import load_project_config
from hud_sync_hook.dialect import get
from hud_sync_hook.errors import HudSyncError
from tests.helpers.repo import make_repo

V5 = get("v5")


def test_v5_asks_the_platform_nothing_and_refuses_a_project(tmp_path: Path):
    make_repo(tmp_path)
    platform = V5.open_platform("local", None, project_root=tmp_path)
    try:
        V5.before_plan(platform, None)  # no --project: nothing to ask
        platform.project_ref = "Research Team"
        with pytest.raises(HudSyncError) as err:
            V5.before_plan(platform, None)
        assert str(err.value) == "--project is for HUD SDK v6 projects (the v5 API has no projects); leave it out, or pass --sdk v6"
    finally:
        platform.close()


def test_link_env_stores_the_registry_in_the_camel_case_config_and_keeps_the_rest(tmp_path: Path):
    make_repo(tmp_path, {".hud/config.json": json.dumps({"tasksetId": "t-1", "allowImportErrors": ["x.py"]})})
    config = V5.adapt_config(load_project_config(tmp_path))
    assert V5.config_ids(config.data) == ("t-1", None)
    V5.link_env(config, None, {"id": "r-1", "name": "letters", "registryName": "letters", "other": 1})
    stored = json.loads((tmp_path / ".hud" / "config.json").read_text())
    assert stored == {"tasksetId": "t-1", "allowImportErrors": ["x.py"], "registryId": "r-1", "registryName": "letters"}
    assert V5.config_ids(load_project_config(tmp_path).data) == ("t-1", "r-1")
    # v6 keys are not v5's
    assert V5.config_ids({"taskset_id": "a", "registry_id": "b"}) == (None, None)


def test_v5_reads_the_config_as_it_was_loaded(tmp_path: Path):
    taskset = "6f1c0e3a-2b4d-4e8f-9a1b-3c5d7e9f1a2b"
    make_repo(tmp_path, {".hud/config.json": json.dumps({"tasksetId": taskset})})
    config = load_project_config(tmp_path)
    adapted = V5.adapt_config(config)
    assert adapted is config and adapted.taskset_id == taskset
