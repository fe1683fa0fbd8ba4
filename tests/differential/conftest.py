"""The official client (hud-python 0.5.41) in its own virtual environment, and one shared server.

`.ci/run` installs the oracle into `.oracles/v5` inside the clone and sets `HUD_ORACLE_V5` to it;
without either, these tests skip and say why. The variable is read when this file is imported,
before the suite's isolation removes `HUD_*` variables from each test's environment.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.helpers.repo import REPO_ROOT
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import ServeProcess, start_serve

_GIVEN = os.environ.get("HUD_ORACLE_V5")
ORACLE = Path(_GIVEN) if _GIVEN else REPO_ROOT / ".oracles" / "v5"
ORACLE_PYTHON = ORACLE / "bin" / "python"
# Hunting mode: HUD_DIFF_SETS=2000 HUD_DIFF_SEED=12345 python -m pytest tests/differential
SETS = int(os.environ.get("HUD_DIFF_SETS", "50"))
SEED = int(os.environ.get("HUD_DIFF_SEED", "0"))
DRIVER = Path(__file__).with_name("oracle_driver.py")
UNREACHABLE = "http://127.0.0.1:9"  # nothing listens there: anything the SDK would send elsewhere fails


def require_oracle() -> None:
    if ORACLE_PYTHON.exists():
        return
    if _GIVEN:
        pytest.fail(f"HUD_ORACLE_V5={_GIVEN} has no bin/python: the oracle's installation failed")
    pytest.skip("the official client is not installed: .ci/run puts hud-python==0.5.41 in .oracles/v5 (or set HUD_ORACLE_V5 to a venv holding it)")


def oracle_env(home: Path, api_url: str) -> dict[str, str]:
    """What the official client runs with: a home of its own, telemetry and version checks off,
    every other HUD endpoint on a loopback port nothing listens on."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "HUD_API_URL": api_url,
        "HUD_API_KEY": HUD_API_KEY,
        "HUD_TELEMETRY_ENABLED": "0",
        "DO_NOT_TRACK": "1",
        "HUD_SKIP_VERSION_CHECK": "1",
        "HUD_TELEMETRY_URL": UNREACHABLE,
        "HUD_MCP_URL": UNREACHABLE,
        "HUD_RL_URL": UNREACHABLE,
        "HUD_GATEWAY_URL": UNREACHABLE,
        "NO_PROXY": "*",
    }


class Oracle:
    """The long-lived driver process (oracle_driver.py) in the oracle's interpreter."""

    def __init__(self, home: Path, api_url: str, log: Path, python: Path = ORACLE_PYTHON, *args: str) -> None:
        self.env = oracle_env(home, api_url)
        self._log = open(log, "w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [str(python), str(DRIVER), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            encoding="utf-8",
            env=self.env,
            cwd=str(home),
        )
        self.log = log

    def ask(self, request: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("the oracle driver ended:\n" + self.log.read_text(encoding="utf-8", errors="replace")[-3000:])
        answer = json.loads(line)
        if isinstance(answer, dict) and answer.get("error") and "exit" not in answer:
            raise AssertionError(f"the oracle driver failed on {request.get('op')}: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    require_oracle()
    with start_serve(tmp_path_factory.mktemp("serve")) as running:
        yield running


@pytest.fixture(scope="module")
def oracle(server: ServeProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oracle]:
    home = tmp_path_factory.mktemp("oracle-home")
    driver = Oracle(home, server.url, home / "driver.log")
    try:
        yield driver
    finally:
        driver.close()
