"""Consumer repositories for the hook tests: a work tree, a local bare remote, and real `git push`es.

The hooks git runs must use this checkout's code: every child process gets PYTHONPATH pointing at it
and PATH starting with the test interpreter's folder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import git
import httpx

from tests.helpers.repo import REPO_ROOT, write_files

ENV = {"name": "shop-env"}


def task(slug: str | None, n: int = 1, scenario: str = "checkout") -> dict:
    found = {"env": ENV, "scenario": scenario, "args": {"n": n}}
    if slug is not None:
        found = {"slug": slug, **found}
    return found


def tasks_py(*tasks: dict) -> str:
    """A `tasks.py` holding `tasks`, that notes each import in $HOOK_TEST_IMPORT_LOG."""
    body = ",\n".join(f"    {json.dumps(t)}" for t in tasks)
    return (
        "import os\n"
        "if os.environ.get('HOOK_TEST_IMPORT_LOG'):\n"
        "    open(os.environ['HOOK_TEST_IMPORT_LOG'], 'a').write('imported\\n')\n"
        "\n"
        f"tasks = [\n{body},\n]\n"
    )


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process (git, pre-commit, the CLI) that runs this checkout's code."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PATH"] = os.pathsep.join((os.path.dirname(sys.executable), env.get("PATH", "")))
    env.update(extra or {})
    return env


def git_run(cwd: Path, *args: str, env: Mapping[str, str] | None = None, input: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["git", *args], cwd=str(cwd), env=child_env(env), input=input,
        capture_output=True, text=True, timeout=180,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


@dataclass
class Consumer:
    """A user's repository with an `origin` bare remote on disk, whose `main` is pushed."""

    work: Path
    remote: Path
    import_log: Path

    @property
    def repo(self) -> git.Repo:
        return git.Repo(self.work)

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {"HOOK_TEST_IMPORT_LOG": str(self.import_log), **(extra or {})}

    def commit(self, files: Mapping[str, object], message: str = "change") -> str:
        write_files(self.work, files)
        git_run(self.work, "add", "-A")
        git_run(self.work, "commit", "-q", "--no-verify", "-m", message)
        return self.head()

    def head(self, rev: str = "HEAD") -> str:
        return git_run(self.work, "rev-parse", rev).stdout.strip()

    def push(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`git push origin ARGS` with the hooks as installed; output is stdout+stderr."""
        result = git_run(self.work, "push", "origin", *args, env=self.env(env), check=False)
        result.output = result.stdout + result.stderr  # type: ignore[attr-defined]
        return result

    def remote_sha(self, ref: str) -> str | None:
        found = git_run(self.remote, "rev-parse", "--verify", "--quiet", ref, check=False)
        return found.stdout.strip() or None

    def imports(self) -> int:
        """How many times a task file was imported since the last call."""
        if not self.import_log.exists():
            return 0
        count = len(self.import_log.read_text().splitlines())
        self.import_log.unlink()
        return count


def make_consumer(tmp_path: Path, files: Mapping[str, object], *, object_format: str = "sha1") -> Consumer:
    remote = tmp_path / "remote.git"
    work = tmp_path / "work"
    git_run(tmp_path, "init", "-q", "--bare", f"--object-format={object_format}", str(remote))
    git_run(tmp_path, "init", "-q", "-b", "main", f"--object-format={object_format}", str(work))
    consumer = Consumer(work, remote, tmp_path / "imports.log")
    consumer.commit(files, "initial")
    git_run(work, "remote", "add", "origin", str(remote))
    git_run(work, "push", "-q", "--no-verify", "-u", "origin", "main")
    git_run(work, "remote", "set-head", "origin", "main")
    return consumer


REQUEST_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) /", re.M)


def request_count(serve) -> int:
    return len(REQUEST_LINE.findall(serve.stderr_text()))


def remote_slugs(url: str, taskset: str) -> dict[str, dict]:
    """The tasks of `taskset` on a served platform, by slug (empty when it does not exist)."""
    with httpx.Client(base_url=url, timeout=10, trust_env=False) as client:
        found = client.get(f"/tasks/evalset/{taskset}")
        if found.status_code == 404:
            return {}
        found.raise_for_status()
        listing = client.get(f"/tasks/evalsets/{found.json()['evalset_id']}/tasks-by-id")
        if listing.status_code == 404:
            return {}
        listing.raise_for_status()
        return {record["slug"]: record for record in listing.json()["tasks"].values()}


def closed_port() -> int:
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
