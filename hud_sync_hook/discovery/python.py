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
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from hud_sync_hook.discovery import Discovery, Skipped, display_path
from hud_sync_hook.model import Location, Problem, task_from_mapping
from hud_sync_hook.task_row import read_row
from hud_sync_hook.validate import compact_if_valid

STDERR_TAIL = 2000


def import_tasks(
    files: list[Path],
    *,
    base: Path,
    project_root: Path | None,
    timeout: float,
    package: Path | None = None,
    child: str = "hud_sync_hook.discovery._child",
    make_task: Any = None,
) -> Discovery:
    """Import `files` (or the package folder) and collect their tasks.

    `child` is the module the child process runs, `make_task(row, location)` turns each reported
    row into a task: an SDK generation brings its own (see `hud_sync_hook.dialect`).
    """
    targets: list[dict[str, str]] = []
    if package is not None:
        targets.append({"kind": "package", "path": str(package.resolve())})
    targets.extend({"kind": "file", "path": str(p.resolve())} for p in files)
    result = Discovery()
    pending = list(targets)
    attempts = 0
    while pending and attempts <= len(targets):
        attempts += 1
        done = _run_child(pending, project_root, timeout, base, result, child, make_task)
        pending = pending[done:]
    return result


def _shown(target: dict[str, str], base: Path) -> str:
    path = Path(target["path"])
    if target["kind"] == "package":
        path = path / "__init__.py"
    return display_path(path, base)


# How long the tool waits beyond --import-timeout: for a child that has exited while something it
# started still holds the pipe, and for a killed child to be reaped.
GRACE_SECONDS = 1.0
# Variables a task file must never see: the HUD key (and the action's inputs that carry secrets).
SECRET_VARIABLES = ("HUD_API_KEY", "INPUT_HUD-API-KEY", "INPUT_HUD_API_KEY", "INPUT_GITHUB-TOKEN",
                    "INPUT_GITHUB_TOKEN", "GITHUB_TOKEN")


def child_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for code from the repository: without the HUD key, nor any variable holding a
    secret the tool has read (from `.env` files too)."""
    from hud_sync_hook import output

    env = dict(os.environ if environ is None else environ)
    secrets = set(output.registered_secrets())
    for name in SECRET_VARIABLES:
        value = env.pop(name, None)
        if value and len(value.strip()) >= 4:
            secrets.add(value.strip())  # and every copy of it under another name
    for name in [n for n, value in env.items() if any(secret in value for secret in secrets)]:
        del env[name]
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the child's whole process group (the child and whatever it started that stayed in it)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _pipe_still_open(read_fd: int) -> bool:
    """Whether some process still holds the write end of the child's pipe (no end of file yet)."""
    import select

    try:
        readable, _, _ = select.select([read_fd], [], [], 0)
        return not readable or os.read(read_fd, 1 << 16) != b""
    except OSError:
        return False


def _kill_pipe_holders(read_fd: int) -> None:
    """Kill processes that still hold the child's pipe after it is gone: code that left its session
    (a double-forked daemon) but kept the pipe open. Linux only (it reads /proc); elsewhere a no-op."""
    try:
        inode = os.fstat(read_fd).st_ino
        pids = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
    except OSError:
        return
    wanted = f"pipe:[{inode}]"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == wanted:
                    os.kill(int(pid), signal.SIGKILL)
                    break
            except OSError:
                continue


def _run_child(
    targets: list[dict[str, str]],
    project_root: Path | None,
    timeout: float,
    base: Path,
    result: Discovery,
    child: str = "hud_sync_hook.discovery._child",
    make_task: Any = None,
) -> int:
    """Run one child over `targets`; returns how many targets it finished (or gave up on).

    The child runs in its own session; each target may take `timeout` seconds, and the tool waits
    at most `GRACE_SECONDS` more. Then the child's whole process group is killed, and so is anything
    still holding its pipe, whatever the code it imported did to `os._exit` or to the pipe.
    """
    request = {
        "targets": targets,
        "project_root": str(project_root) if project_root else None,
    }
    from hud_sync_hook import sandbox

    with tempfile.TemporaryFile() as stderr_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", child],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            env=sandbox.child_env(child_environment()),  # the action may also run it as another user
            cwd=str(base),
            start_new_session=True,
            **sandbox.popen_options(),
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(request).encode())
            proc.stdin.close()
        except OSError:  # the child is already gone; what it said is read below
            pass
        read_fd = proc.stdout.fileno()
        lines, timed_out = _read_results(proc, read_fd, len(targets), timeout)
        _kill_group(proc)
        if proc.poll() is None:
            try:
                proc.wait(GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        if _pipe_still_open(read_fd):
            _kill_pipe_holders(read_fd)
        proc.stdout.close()
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
        _collect(record, target, base, result, make_task)
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


def _collect(
    record: dict[str, Any], target: dict[str, str], base: Path, result: Discovery, make_task: Any = None
) -> None:
    shown = _shown(target, base)
    if target["kind"] == "file":
        result.files.append(shown)
    if record.get("error"):
        result.skipped.append(Skipped(shown, record["error"]))
        return
    for raw in record.get("tasks", []):
        file = display_path(Path(raw["file"]), base) if raw.get("file") else shown
        location = Location(file, raw.get("line"))
        if make_task is not None:  # another SDK generation's rows (None: reported, not a task)
            task = make_task(raw["task"], location)
            if task is None:
                continue
        else:
            # A dict is read as a data row is; a Task object was already read by the SDK's model.
            task = read_row(raw["task"], location) if raw.get("row") else task_from_mapping(raw["task"], location)
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


def _read_results(proc: subprocess.Popen, read_fd: int, expected: int, timeout: float) -> tuple[list[bytes], bool]:
    """The child's result lines, read until all `expected` arrived, the pipe closed, the child has been
    gone for `GRACE_SECONDS`, or a target ran past `timeout`; and whether it timed out."""
    import selectors

    lines: list[bytes] = []
    pending = b""
    done = 0
    deadline = time.monotonic() + timeout
    exited_at: float | None = None
    with selectors.DefaultSelector() as selector:
        selector.register(read_fd, selectors.EVENT_READ)
        while done < expected:
            now = time.monotonic()
            if now >= deadline:
                return lines, True
            if selector.select(min(0.2, deadline - now)):
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    break  # every holder of the pipe closed it
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    lines.append(raw + b"\n")
                    if raw.startswith(b'{"done"'):
                        done += 1
                        deadline = time.monotonic() + timeout
                continue
            if proc.poll() is not None:
                # The child is gone but something it started keeps the pipe open: what it wrote has
                # been read (the select above found nothing more); stop waiting soon.
                exited_at = exited_at or now
                if now - exited_at > GRACE_SECONDS:
                    break
    if pending:
        lines.append(pending)
    return lines, False
