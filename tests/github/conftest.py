"""Fixtures for the action's tests: a fake GitHub, the real `serve` platform, a workspace repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.github.harness import HUD_KEY
from tests.helpers.fake_github import FakeGitHub
from tests.helpers.serve import start_serve


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
