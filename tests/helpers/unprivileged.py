"""A Python interpreter the action's unprivileged children can start, for tests run as root.

Run as root, the action starts task-file imports and `pip` as `nobody` with its own interpreter.
When the test's interpreter is private to root (a pyenv or venv under /root), `nobody` cannot start
it, so the tests run the entrypoint with a virtual environment built once from a system Python that
every user can run, holding the action's pinned requirements (as the container does).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534


def runs_as_nobody(python: str) -> bool:
    try:
        proc = subprocess.run(
            [python, "-c", "import encodings"], user=NOBODY, group=NOBODY, extra_groups=[],
            capture_output=True, timeout=60, cwd="/",
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


@functools.cache
def action_python() -> str:
    """`sys.executable`, unless the tests run as root with an interpreter `nobody` cannot start."""
    if os.geteuid() != 0 or runs_as_nobody(sys.executable):
        return sys.executable
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [shutil.which(version, path="/usr/bin:/usr/local/bin:/bin"), shutil.which("python3", path="/usr/bin:/usr/local/bin:/bin")]
    base = next((c for c in candidates if c and runs_as_nobody(c)), None)
    if base is None:
        return sys.executable  # the action then says clearly why it cannot drop privileges
    requirements = (REPO_ROOT / "requirements-action.txt").read_bytes()
    digest = hashlib.sha256(requirements + base.encode()).hexdigest()[:12]
    target = Path(f"/tmp/hud-sync-hook-test-python-{digest}")
    python = target / "bin" / "python"
    lock_path = Path(f"/tmp/hud-sync-hook-test-python-{digest}.lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "ready").exists():
            shutil.rmtree(target, ignore_errors=True)
            subprocess.run([base, "-m", "venv", str(target)], check=True, capture_output=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "-r", str(REPO_ROOT / "requirements-action.txt")],
                check=True, capture_output=True,
            )
            (target / "ready").write_text("ok\n")
    return str(python)
