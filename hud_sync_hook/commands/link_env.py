"""`hud-sync-hook link-env`: link the project to a platform environment (`registryId` in the config),
as `hud sync env [name] [directory]` does, except that an unknown id is refused, not linked blindly."""

from __future__ import annotations

import argparse
from pathlib import Path

from hud_sync_hook import output
from hud_sync_hook.commands._common import add_api_arguments, add_sdk_argument, open_platform_for, project_dialect
from hud_sync_hook.errors import HudSyncError
from hud_sync_hook.platform.base import is_uuid

PICKER_SIZE = 10
SCENARIOS_SHOWN = 15


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "env", nargs="?", metavar="NAME|ID",
        help="environment name (exact, else a unique substring) or registry id; "
        "without it, pick from a numbered list (on a terminal)",
    )
    parser.add_argument(
        "directory", nargs="?", metavar="DIRECTORY",
        help="the project folder to link (default: .); its .hud/ is found as for plan",
    )
    parser.add_argument("--dir", dest="dir_flag", metavar="DIRECTORY", help="the same as DIRECTORY")
    parser.add_argument("-y", "--yes", action="store_true", help="switch from an already linked environment without asking")
    add_sdk_argument(parser)
    add_api_arguments(parser)


def registry_name(env: dict, typed: str | None) -> str:
    """The `registryName` `hud sync env` stores: for an id typed in full, its first 8 characters and
    `...`; else the environment's display name, else its name, else `unnamed` (only strings: the
    platform's answer is untrusted)."""
    if typed is not None and is_uuid(typed):
        return typed[:8] + "..."
    return next((name for name in (env.get("name_display"), env.get("name")) if isinstance(name, str) and name), "unnamed")


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


def _ask(question: str) -> str | None:
    try:
        return input(question).strip()
    except EOFError:
        return None


def pick_env(platform, linked: str | None) -> tuple[dict, str | None] | None:
    """The numbered picker of `hud sync env`: the environment and what was typed for it (None for a
    number); None when the user gives no answer."""
    envs = [e for e in platform.search_envs("", limit=20) if isinstance(e.get("id"), str)][:PICKER_SIZE]
    if not envs:
        raise HudSyncError("no environments on the platform; deploy one first with `hud deploy`")
    print("Your environments:")
    for number, env in enumerate(envs, 1):
        version = f" v{env['latest_version']}" if env.get("latest_version") else ""
        marker = " (currently linked)" if env["id"] == linked else ""
        output.info(f"  {number}. {env.get('name_display') or env.get('name')}{version} ({env['id'][:8]}...){marker}")
    answer = _ask("Select environment number (or paste full name): ")
    if not answer:
        return None
    if answer.isdigit():
        if not 1 <= int(answer) <= len(envs):
            raise HudSyncError(f"no environment number {answer}; pick 1 to {len(envs)}")
        return envs[int(answer) - 1], None
    return resolve_env(platform, answer), answer


def show_scenarios(platform, name: str) -> None:
    """The environment's registered scenarios; a platform that cannot list them leaves the link
    made, with a note saying so."""
    from hud_sync_hook.errors import PlatformError

    try:
        scenarios = platform.env_scenarios(name)
    except PlatformError as err:
        output.warning(f"the environment is linked, but its scenarios could not be listed: {err}")
        return
    if not scenarios:
        output.warning(f"environment '{name}' registers no scenarios yet (deploy it first with `hud deploy`)")
        return
    print(f"Registered scenarios ({len(scenarios)}):")
    for scenario in scenarios[:SCENARIOS_SHOWN]:
        output.info(f"  {scenario}")
    if len(scenarios) > SCENARIOS_SHOWN:
        print(f"  ... and {len(scenarios) - SCENARIOS_SHOWN} more")


def offer_reference_fix(folder: Path, name: str) -> None:
    """List `Environment("other")` in the folder's Python files; on a terminal, offer to rewrite them."""
    from hud_sync_hook.discovery import display_path
    from hud_sync_hook.reconcile import find_env_references, rewrite_env_names

    mismatched = [ref for ref in find_env_references(folder) if ref.name != name]
    if not mismatched:
        return
    output.info(f"Local code references don't match the environment '{name}':")
    for ref in mismatched:
        output.info(f"  {display_path(ref.path, Path.cwd())}:{ref.line}: Environment({ref.name!r}) -> Environment({name!r})")
    if not output.is_interactive():
        print("Rewrite them, or run link-env again on a terminal to have them rewritten.")
        return
    if (_ask("Update these references? [y/N] ") or "").lower() not in ("y", "yes"):
        return
    files = sorted({ref.path for ref in mismatched})
    changed = rewrite_env_names(files, sorted({ref.name for ref in mismatched}), name)
    print(f"Rewrote {changed} file(s).")


def run(args: argparse.Namespace) -> int:
    from hud_sync_hook.config import load_project_config

    if args.directory is not None and args.dir_flag is not None:
        raise HudSyncError(f"give the folder once: {args.directory!r} or --dir {args.dir_flag!r}")
    where = args.directory or args.dir_flag or "."
    folder = Path(where).resolve()
    if not folder.is_dir():
        raise HudSyncError("is not a folder", file=where)
    dialect, config = project_dialect(args, folder, load_project_config(folder))
    linked = config.registry_id
    platform = open_platform_for(args, config.path.parent.parent, dialect)
    try:
        if args.env:
            env, typed = resolve_env(platform, args.env), args.env
        elif output.is_interactive():
            picked = pick_env(platform, linked)
            if picked is None:
                print("Aborted: nothing linked.")
                return 0
            env, typed = picked
        else:
            raise HudSyncError("pass an environment NAME or ID (the numbered list needs a terminal)")
        if linked and linked != env["id"]:
            before = config.data.get("registryName") or linked[:8] + "..."
            output.info(f"Currently linked to: {before} ({linked})")
            if not args.yes:
                if not output.is_interactive():
                    output.error(f"already linked to another environment in {config.shown()}; pass --yes to switch")
                    return 1
                if (_ask("Switch to the new environment? [y/N] ") or "").lower() not in ("y", "yes"):
                    print("Aborted: the link is unchanged.")
                    return 1
        name = env.get("name")
        dialect.link_env(config, platform, {**env, "registryName": registry_name(env, typed)})
        output.info(f"Linked environment '{name}' ({env['id']}) in {config.shown()}")
        if isinstance(name, str) and name:
            show_scenarios(platform, name)
    finally:
        platform.close()
    if isinstance(name, str) and name:
        offer_reference_fix(folder, name)
    return 0
