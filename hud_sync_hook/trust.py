"""What the user chose, as opposed to what a repository says: the API key and approved platform URLs.

A repository under review is untrusted. It may name a platform URL (`prePush.apiUrl`), but the key
is sent there only when the user approved that URL outside the repository: in the environment
(`HUD_SYNC_HOOK_ALLOW_API_URL`), in their own git configuration (`hud-sync-hook.allowApiUrl`) or in
`~/.hud/.env`. A `.env` in the project is read only when git does not track it (a tracked one came
with the repository) and it is not a link out of it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

ALLOW_ENV = "HUD_SYNC_HOOK_ALLOW_API_URL"
ALLOW_GIT_KEY = "hud-sync-hook.allowApiUrl"
KEY_NAME = "HUD_API_KEY"


def normalise_url(url: str) -> str:
    """A URL as compared for approval: scheme and host lower-cased, no trailing slash."""
    from urllib.parse import urlsplit, urlunsplit

    url = url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, ""))


def approve_command(url: str) -> str:
    return f"git config --global --add {ALLOW_GIT_KEY} {url}"


def approved_urls(cwd: Path | None = None) -> set[str]:
    """URLs the user approved for their key: the environment, their git config, `~/.hud/.env`."""
    found: list[str] = []
    found += os.environ.get(ALLOW_ENV, "").split()
    try:
        ran = subprocess.run(
            ["git", "config", "--get-all", ALLOW_GIT_KEY],
            cwd=str(cwd) if cwd else None,
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        found += ran.stdout.split()
    except (OSError, subprocess.SubprocessError):
        pass
    home_value = dotenv_value(Path.home() / ".hud" / ".env", ALLOW_ENV)
    if home_value:
        found += home_value.split()
    return {normalise_url(url) for url in found if url}


def is_approved(url: str, cwd: Path | None = None) -> bool:
    return normalise_url(url) in approved_urls(cwd)


def dotenv_value(path: Path, name: str, root: Path | None = None) -> str | None:
    """`NAME=value` from a `.env` file (regular files only, never through a link out of `root`)."""
    from hud_sync_hook import safefs

    try:
        text = safefs.read_text(path, root)
    except (OSError, UnicodeDecodeError, safefs.UnsafePath):
        return None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        if not line.startswith(f"{name}="):
            continue
        value = line[len(name) + 1 :].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        return value or None
    return None


def tracked_by_git(path: Path) -> bool:
    """Whether git tracks `path` (so it came with the repository); False outside a repository."""
    try:
        ran = subprocess.run(
            ["git", "ls-files", "--error-unmatch", "--", path.name],
            cwd=str(path.parent),
            capture_output=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return ran.returncode == 0


@dataclass(frozen=True)
class ApiKey:
    value: str | None
    source: str | None  # where it came from, for messages: "HUD_API_KEY", "./.env", "~/.hud/.env"
    ignored: str | None = None  # a warning about a key that was not used, if any


def find_api_key(cwd: Path | None = None) -> ApiKey:
    """`HUD_API_KEY` from the environment, else `./.env` when git does not track it, else `~/.hud/.env`."""
    value = os.environ.get(KEY_NAME)
    if value and value.strip():
        return ApiKey(value.strip(), KEY_NAME)
    cwd = cwd or Path.cwd()
    ignored = None
    local = cwd / ".env"
    key = dotenv_value(local, KEY_NAME, root=cwd)
    if key and tracked_by_git(local):
        ignored = (
            f"ignoring {KEY_NAME} in ./.env: git tracks that file, so it came with the repository; "
            f"keep your key in {KEY_NAME} or ~/.hud/.env"
        )
    elif key:
        return ApiKey(key, "./.env")
    key = dotenv_value(Path.home() / ".hud" / ".env", KEY_NAME)
    if key:
        return ApiKey(key, "~/.hud/.env", ignored)
    return ApiKey(None, None, ignored)
