"""The official v6 client (`hud` 0.6.21) in its own virtual environment, found through `ORACLE_V6`
(a venv folder) or `.ci/oracles/v6` in the clone (made by `.ci/run`); tests that need it skip
without it. It runs with a temporary HOME and analytics off, and talks only to loopback servers."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def oracle_dir() -> Path | None:
    for candidate in (os.environ.get("ORACLE_V6"), str(REPO_ROOT / ".ci" / "oracles" / "v6")):
        if candidate and (Path(candidate) / "bin" / "hud").is_file():
            return Path(candidate)
    return None


needs_oracle = pytest.mark.skipif(oracle_dir() is None, reason="the official v6 client is not installed (.ci/run installs it)")


def oracle_python() -> str:
    found = oracle_dir()
    assert found is not None
    return str(found / "bin" / "python")


def official_env(home: Path, url: str | None = None, key: str | None = None) -> dict[str, str]:
    """A clean environment for the official CLI: its own HOME, analytics and version checks off."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "HUD_CLI_ANALYTICS_ENABLED": "0",
        "HUD_SKIP_VERSION_CHECK": "1",
        "HUD_TELEMETRY_ENABLED": "0",
        "DO_NOT_TRACK": "1",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    if url:
        env["HUD_API_URL"] = url
    if key:
        env["HUD_API_KEY"] = key
    return env


def run_official(*args: str, cwd: Path, home: Path, url: str, key: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`hud ARGS` of the official v6 CLI against `url`."""
    found = oracle_dir()
    assert found is not None
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(found / "bin" / "hud"), *args],
        cwd=cwd,
        env=official_env(home, url, key),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
