"""Real git repositories in temporary folders, and running the real CLI against them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping

import git

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_files(root: Path, files: Mapping[str, str | bytes | object]) -> None:
    """Write `files` under `root`; str/bytes as they are, anything else as JSON."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(json.dumps(content, indent=2), encoding="utf-8")


def make_repo(root: Path, files: Mapping[str, str | bytes | object] | None = None, message: str = "initial") -> git.Repo:
    """A git repository at `root` holding `files` in one commit on `main`."""
    root.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(root, initial_branch="main")
    if files:
        write_files(root, files)
        repo.git.add(A=True)
        repo.index.commit(message)
    return repo


def commit_all(repo: git.Repo, message: str) -> str:
    repo.git.add(A=True)
    return repo.index.commit(message).hexsha


def run_cli(*args: str, cwd: Path, env: Mapping[str, str] | None = None, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m hud_sync_hook ARGS` as a user would, capturing both streams."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "hud_sync_hook", *args],
        cwd=str(cwd),
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
