"""Fixtures for the hook tests: a served local platform and a consumer repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.serve import start_serve
from tests.hooks.consumer import Consumer, make_consumer, task, tasks_py


@pytest.fixture
def serve(tmp_path: Path):
    """The real `hud-sync-hook serve` on 127.0.0.1 (any key accepted), stopped after the test."""
    folder = tmp_path / "serve"
    folder.mkdir()
    with start_serve(folder) as server:
        yield server


@pytest.fixture
def consumer(tmp_path: Path) -> Consumer:
    """A repository with two valid tasks in `tasks.py` and a README, `main` pushed to a bare `origin`."""
    return make_consumer(tmp_path, {"tasks.py": tasks_py(task("alpha"), task("beta")), "README.md": "hello\n"})
