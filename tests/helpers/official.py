"""The official HUD CLI (`hud` from hud-python 0.5.41), run as a user runs it, for side-by-side tests.

Found through `HUD_SYNC_HOOK_OFFICIAL_HUD` (a path to its `hud` script), else the `hud` script beside
the running Python when hud-python 0.5.41 is installed there (`.ci/run` installs it). Tests that need
it skip with the reason when neither is there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Mapping

VERSION = "0.5.41"
# Read once, at import: the test fixtures clear HUD_* variables from each test's environment.
_NAMED = os.environ.get("HUD_SYNC_HOOK_OFFICIAL_HUD")


def official_hud() -> Path | None:
    if _NAMED:
        return Path(_NAMED)
    try:
        if metadata.version("hud-python") != VERSION:
            return None
    except metadata.PackageNotFoundError:
        return None
    script = Path(sys.executable).parent / "hud"
    return script if script.exists() else None


def run_official(
    hud: Path, *args: str, cwd: Path, api_url: str, api_key: str, home: Path, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`hud ARGS` against `api_url`, with a private HOME, telemetry and the version check off.

    Its console writes to stderr; both streams come back together in `.stdout`."""
    home.mkdir(parents=True, exist_ok=True)
    env: Mapping[str, str] = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "HUD_API_URL": api_url,
        "HUD_API_KEY": api_key,
        "HUD_TELEMETRY_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "HUD_SKIP_VERSION_CHECK": "1",
        "NO_COLOR": "1",
        "TERM": "dumb",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(hud), *args], cwd=str(cwd), env=dict(env), input=input if input is not None else "",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180,
    )
