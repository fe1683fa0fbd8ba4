"""Terminal output helpers: one-line errors and warnings on stderr, with secrets masked."""

from __future__ import annotations

import os
import sys

_SECRETS: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so that nothing printed through this module can show it."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def registered_secrets() -> frozenset[str]:
    """The secrets registered so far (for scrubbing a child's environment; never printed)."""
    return frozenset(_SECRETS)


def mask(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _one_line(text: str) -> str:
    """One printed line: secrets masked, control characters escaped, no workflow command."""
    from hud_sync_hook.inert import line

    return line(mask(text))


def error(message: str) -> None:
    print(f"hud-sync-hook: error: {_one_line(message)}", file=sys.stderr)


def warning(message: str) -> None:
    print(f"hud-sync-hook: warning: {_one_line(message)}", file=sys.stderr)


def info(message: str = "", *, file=None) -> None:
    """A line for the terminal; what it quotes from a repository or a platform is made inert."""
    print(_one_line(message), file=file or sys.stdout)


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty() and not os.environ.get("CI")


def wants_color(stream) -> bool:
    """Colours on a terminal, unless NO_COLOR is set (https://no-color.org) or TERM is dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
