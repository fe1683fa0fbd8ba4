"""Test isolation: no user HOME, no real keys, a git identity, and a scan for leaked secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own HOME (so ~/.hud/.env cannot leak in) and no HUD/GitHub variables."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith(("HUD_", "GITHUB_", "INPUT_", "PRE_COMMIT_", "RUNNER_")) or name in ("CI", "GIT_DIR", "GIT_WORK_TREE"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Author")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n")
    return home


# -- secret scanning ------------------------------------------------------------------------------
# The test secrets (tests/helpers/secrets.py) must never show in anything a test captures. Each
# test's captured stdout/stderr, what it read through capsys/capfd, the output of every subprocess
# it ran (subprocess.run / Popen.communicate) and the files under its tmp_path and HOME are scanned
# at teardown; the whole session's temporary folders (module-scoped servers' logs too) at the end.

import subprocess as _subprocess

from tests.helpers import secrets as _secrets


def _record_captures(monkeypatch: pytest.MonkeyPatch, seen: list) -> None:
    original_readouterr = pytest.CaptureFixture.readouterr

    def readouterr(self):
        result = original_readouterr(self)
        seen.append(("what the test read through capsys/capfd", result.out))
        seen.append(("what the test read through capsys/capfd", result.err))
        return result

    original_init = _subprocess.CompletedProcess.__init__

    def completed_init(self, args, returncode, stdout=None, stderr=None):
        seen.append(("a subprocess's stdout", stdout))
        seen.append(("a subprocess's stderr", stderr))
        original_init(self, args, returncode, stdout, stderr)

    original_communicate = _subprocess.Popen.communicate

    def communicate(self, *args, **kwargs):
        out, err = original_communicate(self, *args, **kwargs)
        seen.append(("a subprocess's stdout", out))
        seen.append(("a subprocess's stderr", err))
        return out, err

    monkeypatch.setattr(pytest.CaptureFixture, "readouterr", readouterr)
    monkeypatch.setattr(_subprocess.CompletedProcess, "__init__", completed_init)
    monkeypatch.setattr(_subprocess.Popen, "communicate", communicate)


@pytest.fixture(autouse=True)
def no_leaked_secrets(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, isolated_environment: Path):
    """Fail the test when a test secret shows up in anything it captured or wrote."""
    seen: list = []
    _record_captures(monkeypatch, seen)
    folders = [(isolated_environment, "the test's HOME")]
    if "tmp_path" in request.fixturenames:
        folders.append((request.getfixturevalue("tmp_path"), "tmp_path"))
    yield
    leaks: list[str] = []
    for where, text in seen:
        leaks += _secrets.find_in_text(text, where)
    for when, key, content in getattr(request.node, "_report_sections", []):
        leaks += _secrets.find_in_text(content, f"the captured {key} ({when})")
    for folder, shown in folders:
        leaks += _secrets.find_in_tree(Path(folder), shown)
    if leaks:
        pytest.fail("secret leak: " + "; ".join(sorted(set(leaks))), pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def no_leaked_secrets_in_the_session_folders(tmp_path_factory: pytest.TempPathFactory):
    """Module- and session-scoped fixtures write under the session's base folder: scan it at the end."""
    yield
    base = tmp_path_factory.getbasetemp()
    leaks = _secrets.find_in_tree(base, "the session's temporary folder")
    if leaks:
        pytest.fail("secret leak: " + "; ".join(sorted(set(leaks))), pytrace=False)
