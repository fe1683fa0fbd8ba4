"""Start the real `hud-sync-hook serve` in a subprocess on 127.0.0.1, and always stop it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import weakref
from pathlib import Path
from typing import Mapping

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_LINE = re.compile(r"^hud-sync-hook serve: listening on (http://\S+) \(db: (.+)\)$")
START_TIMEOUT = 20.0
_counter = 0
_counter_lock = threading.Lock()


class ServeProcess:
    """A running `serve` subprocess: `.url`, `.db`, `.proc`, `.stderr_text()`; stops on `with` exit."""

    def __init__(self, proc: subprocess.Popen[str], url: str, db: Path, stderr_path: Path) -> None:
        self.proc = proc
        self.url = url
        self.db = db
        self.stderr_path = stderr_path
        # Even a test that forgets `with` leaves no server behind.
        self._finalizer = weakref.finalize(self, _kill, proc)

    def stderr_text(self) -> str:
        """Everything the server logged so far (one line per request)."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 5.0) -> int:
        """SIGTERM, then SIGKILL if it does not stop in time; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self) -> "ServeProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ServeProcess(url={self.url!r}, pid={self.proc.pid})"


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def start_serve(
    tmp_path: Path, *extra_args: str, env: Mapping[str, str] | None = None
) -> ServeProcess:
    """Run `python -m hud_sync_hook serve --port 0 --db tmp_path/platform.sqlite ...extra_args`.

    Waits for the ready line and returns a `ServeProcess` (use it in a `with` block). A `--db` in
    `extra_args` replaces the default one, so two starts on one `tmp_path` share the same store.
    """
    global _counter
    with _counter_lock:
        _counter += 1
        number = _counter
    tmp_path = Path(tmp_path)
    args = list(extra_args)
    if "--db" not in args and not any(a.startswith("--db=") for a in args):
        args += ["--db", str(tmp_path / "platform.sqlite")]
    if "--host" not in args:
        args += ["--host", "127.0.0.1"]
    stderr_path = tmp_path / f"serve-{os.getpid()}-{number}.log"
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), full_env.get("PYTHONPATH", "")) if p
    )
    full_env.update(env or {})
    with open(stderr_path, "w", encoding="utf-8") as stderr_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hud_sync_hook", "serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
            env=full_env,
            cwd=str(tmp_path),
        )
    line: list[str] = []
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    match = READY_LINE.match(line[0].rstrip("\n")) if line else None
    if match is None:
        proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
        got = line[0].strip() if line else "nothing"
        raise RuntimeError(
            f"serve did not start (printed {got!r}, exit code {proc.returncode}):\n"
            + stderr_path.read_text(encoding="utf-8", errors="replace")
        )
    return ServeProcess(proc, match.group(1), Path(match.group(2)), stderr_path)
