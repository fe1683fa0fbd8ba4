"""The v5 generation (`hud-python` 0.5.x): the rules hud-sync-hook has always followed, reused by
assignment from where they live."""

from __future__ import annotations

from typing import Any

from hud_sync_hook.commands.export import write_tasks
from hud_sync_hook.config import save_config
from hud_sync_hook.diff import V5 as DIFF_RULES
from hud_sync_hook.dialect import LABELS, Dialect
from hud_sync_hook.errors import HudSyncError
from hud_sync_hook.discovery import DATA_NAMES, discover, python_groups
from hud_sync_hook.model import remote_entry, task_from_mapping
from hud_sync_hook.platform import open_platform
from hud_sync_hook.sync import remember_taskset
from hud_sync_hook.validate import validate


def unchanged(config: Any) -> Any:
    return config


def nothing_before_plan(platform: Any, local: Any) -> None:
    """v5 asks the platform nothing before planning; it has no projects."""
    if getattr(platform, "project_ref", None):
        raise HudSyncError("--project is for HUD SDK v6 projects (the v5 API has no projects); leave it out, or pass --sdk v6")


def link_env(config: Any, platform: Any, env: dict[str, Any]) -> None:
    """`registryId` and `registryName` (the name `hud sync env` records: see `link_env.registry_name`)."""
    save_config(config, {"registryId": env["id"], "registryName": env["registryName"]})


def config_ids(data: dict[str, Any]) -> tuple[Any, Any]:
    return data.get("tasksetId"), data.get("registryId")


DIALECT = Dialect(
    name="v5",
    label=LABELS["v5"],
    python_groups=python_groups,
    data_names=DATA_NAMES,
    discover=discover,
    task_from_mapping=task_from_mapping,
    validate=validate,
    remote_entry=remote_entry,
    diff=DIFF_RULES,
    open_platform=open_platform,
    config_ids=config_ids,
    adapt_config=unchanged,
    before_plan=nothing_before_plan,
    remember_taskset=remember_taskset,
    write_export=write_tasks,
    link_env=link_env,
)
