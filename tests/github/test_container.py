"""The action's image, built and run as the runner does; needs a running Docker engine.

CI runs `.ci/docker-smoke.sh` itself (it can also start dockerd); this test lets a developer with a
running engine do the same through pytest: `python -m pytest -m docker`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.github.harness import REPO_ROOT

pytestmark = pytest.mark.docker


def _engine_running() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _engine_running(), reason="no running Docker engine")
def test_image_builds_and_runs_like_the_runner_runs_it():
    proc = subprocess.run(
        [str(REPO_ROOT / ".ci" / "docker-smoke.sh")], capture_output=True, text=True, timeout=900, cwd=REPO_ROOT,
        env={**os.environ, "PYTHON": sys.executable},  # the smoke test's driver needs this environment's packages
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "docker smoke test passed" in proc.stdout
