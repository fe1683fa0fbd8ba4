"""Fixtures for the action's tests: a fake GitHub, the real `serve` platform, a workspace repository."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.github.harness import HUD_KEY
from tests.helpers.fake_github import FakeGitHub
from tests.helpers.serve import start_serve


@pytest.fixture(scope="session")
def _passable_root():
    """A folder every user may pass through (pytest's own are private to their owner)."""
    root = Path(tempfile.mkdtemp(prefix="hud-action-tests-"))
    os.chmod(root, 0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def tmp_path(request: pytest.FixtureRequest, _passable_root: Path) -> Path:
    """Like pytest's `tmp_path`, but readable by other users: running as root, the action imports
    task files and runs `pip` as `nobody`, who must reach the workspace, as on a runner. Kept until
    the end of the session, so the leak scan after each test still sees what the test wrote."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", request.node.name)[:40]
    folder = Path(tempfile.mkdtemp(prefix=name + "-", dir=_passable_root))
    os.chmod(folder, 0o755)
    return folder


@pytest.fixture
def github():
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def platform(tmp_path: Path):
    """The real `hud-sync-hook serve`, accepting only HUD_KEY."""
    folder = tmp_path / "platform"
    folder.mkdir()
    with start_serve(folder, "--api-key", HUD_KEY) as server:
        yield server
