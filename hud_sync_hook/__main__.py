"""Lets `python -m hud_sync_hook` behave like the `hud-sync-hook` command."""

from hud_sync_hook.cli import main

raise SystemExit(main())
