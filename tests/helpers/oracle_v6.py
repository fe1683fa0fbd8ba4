"""The official v6 client (`hud` 0.6.21) in its own virtual environment: `.ci/run` installs it into
`.oracles/v6` in the clone and sets `HUD_ORACLE_V6` to it (read here, at import, before the suite's
isolation removes `HUD_*` variables). Without either the tests that need it skip; a variable that
names no installation fails them. It runs as the v5 oracle does (`tests/differential/`): its own
HOME, telemetry, analytics and version checks off, every other HUD endpoint unreachable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.differential.conftest import oracle_env
from tests.helpers.repo import REPO_ROOT

_GIVEN = os.environ.get("HUD_ORACLE_V6")
ORACLE = Path(_GIVEN) if _GIVEN else REPO_ROOT / ".oracles" / "v6"


def oracle_dir() -> Path | None:
    if (ORACLE / "bin" / "hud").is_file():
        return ORACLE
    if _GIVEN:
        pytest.fail(f"HUD_ORACLE_V6={_GIVEN} has no bin/hud: the oracle's installation failed")
    return None


needs_oracle = pytest.mark.skipif(
    not (ORACLE / "bin" / "hud").is_file() and not _GIVEN,
    reason="the official v6 client is not installed: .ci/run puts hud==0.6.21 in .oracles/v6 (or set HUD_ORACLE_V6)",
)


def oracle_python() -> str:
    found = oracle_dir()
    assert found is not None
    return str(found / "bin" / "python")


def run_official(*args: str, cwd: Path, home: Path, url: str, key: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`hud ARGS` of the official v6 CLI against `url`, with `key`."""
    found = oracle_dir()
    assert found is not None
    home.mkdir(parents=True, exist_ok=True)
    env = {**oracle_env(home, url), "HUD_API_KEY": key, "HUD_CLI_ANALYTICS_ENABLED": "0", "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([str(found / "bin" / "hud"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
