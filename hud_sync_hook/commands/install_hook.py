"""`hud-sync-hook install-hook`: a plain git pre-push hook, for repositories that do not use pre-commit.

The hook runs `hud-sync-hook pre-push` with the interpreter that installed it. A pre-push hook that
was already there is kept beside it and run first (or, with `--force`, set aside); `--uninstall`
puts it back.
"""

from __future__ import annotations

import argparse
import os
import shlex
import stat
import sys
from pathlib import Path

from hud_sync_hook.errors import HudSyncError

HOOK_NAME = "pre-push"
MARKER = "# hud-sync-hook: managed pre-push hook"
PREVIOUS_SUFFIX = ".hud-sync-hook-previous"

HEADER = """#!/bin/sh
{marker}
# Validates the HUD task definitions this push sends and shows the taskset plan for the pushed commit.
# Installed by `hud-sync-hook install-hook`; remove it with `hud-sync-hook install-hook --uninstall`.
HUD_SYNC_HOOK_PYTHON={python}

# git writes one line per pushed ref on standard input; every hook here gets all of them.
ref_lines=$(cat)
feed() {{ if [ -n "$ref_lines" ]; then printf '%s\\n' "$ref_lines"; fi; }}
"""

CHAIN = """
# The pre-push hook that was here before runs first; if it refuses the push, so does this one.
previous="$(dirname "$0")/{previous}"
if [ -x "$previous" ]; then
    feed | "$previous" "$@" || exit $?
fi
"""

RUN = """
if [ -x "$HUD_SYNC_HOOK_PYTHON" ]; then
    feed | "$HUD_SYNC_HOOK_PYTHON" -m hud_sync_hook pre-push{args} "$@"
elif command -v hud-sync-hook >/dev/null 2>&1; then
    feed | hud-sync-hook pre-push{args} "$@"
else
    echo "hud-sync-hook: not found ($HUD_SYNC_HOOK_PYTHON is gone): install hud-sync-hook and run 'hud-sync-hook install-hook' again, or push with --no-verify" >&2
    exit 1
fi
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force", action="store_true",
        help="set an existing pre-push hook aside instead of running it first (--uninstall restores it)",
    )
    parser.add_argument("--uninstall", action="store_true", help="remove the hook and restore the one that was there")
    parser.add_argument(
        "hook_args", nargs=argparse.REMAINDER, metavar="-- PRE-PUSH-ARGS",
        help="arguments for `pre-push` on every push, after `--` (e.g. -- --source tasks --apply-on-branch main)",
    )


def is_ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return MARKER in handle.read(4096)
    except OSError:
        return False


def hook_script(python: str, hook_args: list[str], chain: bool) -> str:
    """The hook's shell script: run the set-aside hook first when `chain`, then `pre-push`."""
    args = "".join(" " + shlex.quote(arg) for arg in hook_args)
    text = HEADER.format(marker=MARKER, python=shlex.quote(python))
    if chain:
        text += CHAIN.format(previous=HOOK_NAME + PREVIOUS_SUFFIX)
    return text + RUN.format(args=args)


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".hud-sync-hook-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRUSR)
    os.replace(tmp, path)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def install(hooks: Path, *, force: bool, hook_args: list[str]) -> str:
    hook = hooks / HOOK_NAME
    previous = hooks / (HOOK_NAME + PREVIOUS_SUFFIX)
    python = os.path.abspath(sys.executable)
    if _exists(hook) and not is_ours(hook):
        if hook.is_dir():
            raise HudSyncError(f"{hook} is a folder, not a hook; remove it and install again")
        if _exists(previous):
            raise HudSyncError(
                f"{previous} already holds a set-aside hook; move it away, then install again"
            )
        os.replace(hook, previous)  # renames a symlink itself, keeping its target
        chain = not force
        verb = "runs it first" if chain else "does not run it (--force)"
        message = f"kept the existing pre-push hook as {previous.name}; the new hook {verb}"
    else:
        # A fresh install, or ours again (idempotent): a hook set aside earlier keeps running first.
        chain = _exists(previous) and not force
        message = "updated" if _exists(hook) else "installed"
    hooks.mkdir(parents=True, exist_ok=True)
    _write_executable(hook, hook_script(python, hook_args, chain))
    return message


def uninstall(hooks: Path) -> str:
    hook = hooks / HOOK_NAME
    previous = hooks / (HOOK_NAME + PREVIOUS_SUFFIX)
    if not _exists(hook) or not is_ours(hook):
        return f"no hud-sync-hook pre-push hook in {hooks}; nothing to remove"
    hook.unlink()
    if _exists(previous):
        os.replace(previous, hook)
        return f"removed the hook from {hooks} and restored the pre-push hook that was there before"
    return f"removed the hook from {hooks}"


def run(args: argparse.Namespace) -> int:
    from hud_sync_hook import git as githelp

    repo = githelp.open_repo()
    hooks = githelp.hooks_dir(repo)
    hook_args = list(args.hook_args)
    if hook_args[:1] == ["--"]:
        hook_args = hook_args[1:]
    if args.uninstall:
        print(f"hud-sync-hook: {uninstall(hooks)}")
        return 0
    message = install(hooks, force=args.force, hook_args=hook_args)
    print(f"hud-sync-hook: pre-push hook {message} in {hooks / HOOK_NAME}")
    return 0
