"""Command-line entry point: parses arguments and hands off to one module under `commands/`.

Start-up stays light: a command's module (and what it imports) loads only when that command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from hud_sync_hook import __version__

# name -> (module under hud_sync_hook.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("plan", "show what a sync would create and update, without uploading"),
    "apply": ("apply", "upload new and changed tasks to the taskset (alias: sync)"),
    "sync": ("apply", "same as apply"),
    "validate": ("validate", "check task definitions offline: discovery and validation only"),
    "export": ("export", "download a taskset to a .json, .jsonl or .csv file"),
    "link-env": ("link_env", "link the project to a platform environment (registryId)"),
    "serve": ("serve", "serve a local platform (SQLite) over the HUD HTTP API"),
    "pre-push": ("pre_push", "git pre-push hook: validate, then show the plan for the pushed commit"),
    "install-hook": ("install_hook", "install (or remove) a plain git pre-push hook"),
    "github": ("github", "GitHub Action entrypoint: plan on pull requests, apply on merge"),
}


def _load(name: str):
    return importlib.import_module(f"hud_sync_hook.commands.{COMMANDS[name][0]}")


class Parser(argparse.ArgumentParser):
    """argparse, except that a usage error exits 1: 2 means "has changes" under --detailed-exitcode."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = Parser(
        prog="hud-sync-hook",
        description="Review and publish HUD evaluation tasksets.",
    )
    parser.add_argument("--version", action="version", version=f"hud-sync-hook {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        # Only the chosen command's module is imported; the others show their one-line help.
        if name == only:
            _load(name).add_arguments(command_parser)
            _describe(command_parser, name, help_text)
    return parser


def _describe(command_parser: argparse.ArgumentParser, name: str, help_text: str) -> None:
    """The longer description, the examples, the API key and the exit codes, for `COMMAND --help`."""
    from hud_sync_hook.commands._help import HELP

    import textwrap

    description, epilog = HELP.get(name, ("", ""))
    if not description or command_parser.description != help_text:
        description = command_parser.description or ""  # the command set its own
    command_parser.description = textwrap.fill(description, 96)
    command_parser.epilog = epilog or None
    command_parser.formatter_class = argparse.RawDescriptionHelpFormatter


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list in (["--version"], ["-V"]):
        print(f"hud-sync-hook {__version__}")
        return 0
    chosen = next((a for a in args_list if not a.startswith("-")), None)
    if chosen not in COMMANDS:
        chosen = None
    parser = build_parser(only=chosen)
    args = parser.parse_args(args_list)
    if not args.command:
        parser.print_help()
        return 1
    from hud_sync_hook.errors import HudSyncError

    try:
        from hud_sync_hook.commands._common import check_numbers

        check_numbers(args)
        return int(_load(args.command).run(args) or 0)
    except HudSyncError as err:
        from hud_sync_hook.output import error

        error(str(err))
        return 1
    except KeyboardInterrupt:
        print("hud-sync-hook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as err:  # noqa: BLE001 - a bug must still end in one line, not a traceback
        import os

        if os.environ.get("HUD_SYNC_HOOK_DEBUG"):
            raise
        from hud_sync_hook.output import error

        error(
            f"internal error: {type(err).__name__}: {err} "
            "(set HUD_SYNC_HOOK_DEBUG=1 to see the traceback, and please report it)"
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
