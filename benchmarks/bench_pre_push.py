"""Benchmark of the pre-push fast path: a push that touches no task file, in a large repository.

Builds a repository with 2,000 commits and 5,000 files (with `git fast-import`, in a few seconds),
pushes it to a local bare remote, commits a change to files no discovery rule looks at, and reports
the wall time of `hud-sync-hook pre-push` for that push, the way git runs the hook (ref lines on
standard input), the way pre-commit runs it (`PRE_COMMIT_*` variables), and for a new branch (which
needs the merge-base with the remote's default branch). The goal is a median under 0.25 s.

    python benchmarks/bench_pre_push.py [--runs 21] [--commits 2000] [--files 5000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 0.25


def git(cwd: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=env, check=True)
    return done.stdout.decode().strip()


def fast_import_stream(commits: int, files: int) -> bytes:
    """A root commit with `files` files (one of them `tasks.py`), then commits that each edit one file."""
    out: list[bytes] = []

    def blob_inline(path: str, text: str) -> None:
        data = text.encode()
        out.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")

    def paths(index: int) -> str:
        return f"src/pkg_{index % 50:02d}/module_{index:05d}.py"

    stamp = 1_700_000_000
    for number in range(commits):
        message = f"commit {number}".encode()
        out.append(
            b"commit refs/heads/main\n"
            + f"committer Bench <bench@example.com> {stamp + number * 60} +0000\n".encode()
            + f"data {len(message)}\n".encode() + message + b"\n"
        )
        if number == 0:
            blob_inline("tasks.py", 'tasks = [{"slug": "t-1", "env": {"name": "e"}, "scenario": "s", "args": {}}]\n')
            blob_inline("README.md", "bench\n")
            for index in range(files - 2):
                blob_inline(paths(index), f"VALUE = {index}\n")
        else:
            index = (number * 7919) % (files - 2)
            blob_inline(paths(index), f"VALUE = {index}  # edit {number}\n")
        out.append(b"\n")
    return b"".join(out)


def build(folder: Path, commits: int, files: int) -> tuple[Path, str]:
    """The work repository (with `origin`, its `main` pushed) and the URL of the bare remote."""
    work, remote = folder / "work", folder / "remote.git"
    git(folder, "init", "-q", "-b", "main", str(work))
    git(work, "fast-import", "--quiet", input=fast_import_stream(commits, files))
    git(work, "checkout", "-q", "-f", "main")
    git(folder, "init", "-q", "--bare", str(remote))
    git(work, "remote", "add", "origin", str(remote))
    git(work, "push", "-q", "--no-verify", "origin", "main")
    git(work, "remote", "set-head", "origin", "main")
    return work, str(remote)


def command() -> list[str]:
    script = Path(sys.executable).parent / "hud-sync-hook"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hud_sync_hook"]


def time_runs(runs: int, argv: list[str], cwd: Path, env: dict[str, str], stdin: str) -> tuple[list[float], str]:
    times: list[float] = []
    last = ""
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, env=env, input=stdin.encode(), capture_output=True)
        times.append(time.perf_counter() - started)
        last = (done.stdout + done.stderr).decode().strip()
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{last}")
    return times, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--files", type=int, default=5000)
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-pre-push-"))
    try:
        started = time.perf_counter()
        work, remote_url = build(folder, options.commits, options.files)
        built = time.perf_counter() - started
        old = git(work, "rev-parse", "HEAD")
        (work / "README.md").write_text("bench, edited\n")
        (work / "src" / "pkg_03" / "module_00003.py").write_text("VALUE = 'edited'\n")
        git(work, "add", "-A")
        git(work, "-c", "user.name=Bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "no task file")
        new = git(work, "rev-parse", "HEAD")
        count = len(git(work, "ls-files").splitlines())
        history = git(work, "rev-list", "--count", "HEAD")

        env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "HUD_"))}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        argv = command()
        zero = "0" * len(new)
        cases = [
            ("git hook: update of main", argv + ["pre-push", "origin", remote_url], env,
             f"refs/heads/main {new} refs/heads/main {old}\n"),
            ("pre-commit: FROM/TO variables", argv + ["pre-push"],
             {**env, "PRE_COMMIT": "1", "PRE_COMMIT_FROM_REF": old, "PRE_COMMIT_TO_REF": new,
              "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/main", "PRE_COMMIT_REMOTE_NAME": "origin"}, ""),
            ("git hook: new branch (merge-base)", argv + ["pre-push", "origin", remote_url], env,
             f"refs/heads/topic {new} refs/heads/topic {zero}\n"),
            ("reference: hud-sync-hook --version", argv + ["--version"], env, ""),
            ("reference: python -c pass", [sys.executable, "-c", "pass"], env, ""),
        ]
        print(f"repository: {history} commits, {count} files (built in {built:.1f} s); {options.runs} runs each")
        print(f"command: {' '.join(argv)}\n")
        print(f"{'case':<38} {'median':>8} {'min':>8} {'max':>8}")
        print("-" * 65)
        results = {}
        for name, case_argv, case_env, stdin in cases:
            time_runs(2, case_argv, work, case_env, stdin)  # warm the page cache
            times, last = time_runs(options.runs, case_argv, work, case_env, stdin)
            results[name] = statistics.median(times)
            print(f"{name:<38} {results[name]:>7.3f}s {min(times):>7.3f}s {max(times):>7.3f}s")
            if name.startswith("git hook: update"):
                output_line = last
        print(f"\nhook output: {output_line}")
        fast = results["git hook: update of main"]
        verdict = "meets" if fast < GOAL_SECONDS else "MISSES"
        print(f"fast path median {fast:.3f} s {verdict} the {GOAL_SECONDS:.2f} s goal")
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
