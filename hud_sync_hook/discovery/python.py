"""Import Python task files in a child process, so user code can neither hang nor kill discovery.

The child (`_child.py`) imports one file at a time and reports each file's tasks as a JSON line on
a private channel; its own stdout goes nowhere. A file that hangs past the timeout, or exits the
process, is reported as skipped and the child is restarted for the files after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from hud_sync_hook.discovery import Discovery, Skipped, display_path
from hud_sync_hook.model import Location, Problem, task_from_mapping
from hud_sync_hook.validate import compact_if_valid

STDERR_TAIL = 2000


def import_tasks(
    files: list[Path],
    *,
    base: Path,
    project_root: Path | None,
    timeout: float,
    package: Path | None = None,
) -> Discovery:
    """Import `files` (or the package folder) and collect their tasks."""
    targets: list[dict[str, str]] = []
    if package is not None:
        targets.append({"kind": "package", "path": str(package.resolve())})
    targets.extend({"kind": "file", "path": str(p.resolve())} for p in files)
    result = Discovery()
    pending = list(targets)
    attempts = 0
    while pending and attempts <= len(targets):
        attempts += 1
        done = _run_child(pending, project_root, timeout, base, result)
        pending = pending[done:]
    return result


def _shown(target: dict[str, str], base: Path) -> str:
    path = Path(target["path"])
    if target["kind"] == "package":
        path = path / "__init__.py"
    return display_path(path, base)


def _run_child(
    targets: list[dict[str, str]],
    project_root: Path | None,
    timeout: float,
    base: Path,
    result: Discovery,
) -> int:
    """Run one child over `targets`; returns how many targets it finished (or gave up on)."""
    request = {
        "targets": targets,
        "project_root": str(project_root) if project_root else None,
    }
    from hud_sync_hook import sandbox

    env = sandbox.child_env(os.environ)  # the action scrubs it and may run the child as another user
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryFile() as stderr_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hud_sync_hook.discovery._child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            env=env,
            cwd=str(base),
            **sandbox.popen_options(),
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(request).encode())
        proc.stdin.close()

        lines: list[bytes] = []
        progress = threading.Event()

        def reader() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                lines.append(raw)
                progress.set()

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        finished = 0
        deadline = time.monotonic() + timeout
        timed_out = False
        while True:
            if not thread.is_alive():
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                proc.kill()
                break
            if progress.wait(min(remaining, 0.5)):
                progress.clear()
                new_finished = sum(1 for raw in lines if raw.startswith(b'{"done"'))
                if new_finished != finished:
                    finished = new_finished
                    deadline = time.monotonic() + timeout
        thread.join(5)
        proc.wait()
        stderr_file.seek(0, os.SEEK_END)
        size = stderr_file.tell()
        stderr_file.seek(max(0, size - STDERR_TAIL))
        stderr_tail = stderr_file.read().decode("utf-8", "replace").strip()

    finished = 0
    for raw in lines:
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if "done" not in record:
            continue
        target = targets[finished]
        finished += 1
        _collect(record, target, base, result)
    if finished < len(targets):
        target = targets[finished]
        shown = _shown(target, base)
        if timed_out:
            reason = (
                f"TimeoutError: the import did not finish within {timeout:g} s "
                "(raise --import-timeout, or remove what blocks at import time)"
            )
        else:
            last = stderr_tail.splitlines()[-1] if stderr_tail else ""
            reason = f"the import ended the process (exit status {proc.returncode})"
            if last:
                reason += f": {last[:300]}"
        if not (target["kind"] == "package"):
            result.files.append(shown)
        result.skipped.append(Skipped(shown, reason))
        finished += 1
    return finished


def _collect(record: dict[str, Any], target: dict[str, str], base: Path, result: Discovery) -> None:
    shown = _shown(target, base)
    if target["kind"] == "file":
        result.files.append(shown)
    if record.get("error"):
        result.skipped.append(Skipped(shown, record["error"]))
        return
    for raw in record.get("tasks", []):
        file = display_path(Path(raw["file"]), base) if raw.get("file") else shown
        location = Location(file, raw.get("line"))
        task = task_from_mapping(raw["task"], location)
        compact_if_valid(task)
        result.tasks.append(task)
        for path, type_name in raw.get("not_json", []):
            result.problems.append(
                Problem(
                    location,
                    f"task {task.slug!r}: {path} is a {type_name}, which JSON cannot hold",
                    "convert it to a string, number, list or object",
                )
            )
