"""`hud-sync-hook link-env`: link the project to a platform environment (`registryId` in the config)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hud_sync_hook.commands._common import add_api_arguments, open_platform_for
from hud_sync_hook.errors import HudSyncError
from hud_sync_hook.platform.base import is_uuid


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env", metavar="NAME|ID", help="environment name (exact, else a unique substring) or registry id")
    parser.add_argument("--dir", default=".", help="project folder whose .hud/config.json to update (default: .)")
    add_api_arguments(parser)


def resolve_env(platform, wanted: str) -> dict:
    if is_uuid(wanted):
        env = platform.get_env(wanted)
        if env is None:
            raise HudSyncError(f"no environment with id {wanted} on the platform; check the id")
        return env
    candidates = platform.search_envs(wanted, limit=20)
    exact = [e for e in candidates if e.get("name") == wanted or e.get("name_display") == wanted]
    if len(exact) == 1:
        return exact[0]
    partial = exact or [e for e in candidates if wanted.lower() in str(e.get("name", "")).lower()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise HudSyncError(f"no environment matches {wanted!r}; check the name (deploy it first with `hud deploy`)")
    names = ", ".join(f"{e.get('name')} ({e.get('id')})" for e in partial[:10])
    raise HudSyncError(f"{wanted!r} matches {len(partial)} environments: {names}; pass the exact name or the id")


def run(args: argparse.Namespace) -> int:
    from hud_sync_hook.config import load_project_config, save_config

    folder = Path(args.dir).resolve()
    if not folder.is_dir():
        raise HudSyncError("is not a folder", file=args.dir)
    config = load_project_config(folder)
    platform = open_platform_for(args, config.path.parent.parent)
    try:
        env = resolve_env(platform, args.env)
    finally:
        platform.close()
    save_config(config, {"registryId": env["id"], "registryName": env.get("name")})
    from hud_sync_hook import output

    output.info(f"Linked environment '{env.get('name')}' ({env['id']}) in {config.shown()}")
    return 0
