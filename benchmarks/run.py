"""Benchmark hud-sync-hook as a user runs it: plan, apply, start-up, and the local platform server.

    python benchmarks/run.py [--sizes 1000,10000,100000] [--runs 5] [--formats jsonl,yaml,py] [--label TEXT]

Fixtures (seeded, deterministic) are generated once into `benchmarks/.fixtures/` (git-ignored). Every
plan and apply runs the installed `hud-sync-hook` command in its own process against the real
`hud-sync-hook serve` on 127.0.0.1, whose remote holds half of the tasks, a tenth of those changed.
Reported: median and min-max over the runs of wall time, peak RSS (the process and the children it
waits for), and HTTP requests counted from the server's request log. The table is printed and
written to `benchmarks/RESULTS.md`, newest first, earlier runs kept below it so regressions show.
A (size, format) whose first run takes longer than `--slow` seconds gets `--slow-runs` runs only;
the table says so.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import http.client
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(HERE))

import fixtures  # noqa: E402
from tests.helpers.serve import start_serve  # noqa: E402

FIXTURES = HERE / ".fixtures"
RESULTS = HERE / "RESULTS.md"
TASKSET = "bench"
BATCH = 500
API_KEY = "bench-key"
# A shared machine can be slow to answer: a slow answer is not what these runs measure.
PATIENCE = ("--timeout", "600")
REQUEST_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (\S+) (\d{3}) ([\d.]+)ms")
RESULTS_HEADER = (
    "# Benchmark results\n\n"
    "Written by `python benchmarks/run.py` (see its docstring). Newest run first; earlier runs are kept\n"
    "below so regressions show. Times are wall-clock seconds, median (min-max) over the runs.\n"
)

BARE_PARSE: dict[str, str] = {
    "jsonl": (
        "import json, sys, time\n"
        "t = time.perf_counter()\n"
        "with open(sys.argv[1], encoding='utf-8') as f:\n"
        "    rows = [json.loads(line) for line in f if line.strip()]\n"
        "print(time.perf_counter() - t, len(rows))\n"
    ),
    "yaml": (
        "import sys, time, yaml\n"
        "t = time.perf_counter()\n"
        "with open(sys.argv[1], encoding='utf-8') as f:\n"
        "    rows = yaml.load(f, Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))['tasks']\n"
        "print(time.perf_counter() - t, len(rows))\n"
    ),
    "py": (
        "import runpy, sys, time\n"
        "t = time.perf_counter()\n"
        "rows = runpy.run_path(sys.argv[1])['tasks']\n"
        "print(time.perf_counter() - t, len(rows))\n"
    ),
}
BARE_PARSE["jsonl-v6"] = BARE_PARSE["jsonl"]


# -- measuring one process ----------------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    rss_mb: float
    code: int
    stdout: str
    stderr: str


# Linux records the peak resident size of the memory a process leaves at `exec` in the new
# program's own peak: a command started straight from this process would report this process's
# peak (fixtures, seeded records, parsed plans: up to 900 MB) as its own. So each command is started
# by a small fresh Python, whose peak (about 10 MB) is all it can inherit, and which reports the
# command's peak as the kernel counts it at the end (`wait4`).
LAUNCHER = (
    "import os, subprocess, sys, time\n"
    "started = time.perf_counter()\n"
    "proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL)\n"
    "_pid, status, usage = os.wait4(proc.pid, 0)\n"
    "wall = time.perf_counter() - started\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(f'{wall} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}')\n"
)


def measure(cmd: Sequence[str], *, cwd: Path, env: dict[str, str]) -> Sample:
    """Run `cmd` to the end; wall time and peak RSS: the largest of the command's process and the
    children it waits for (`ru_maxrss`; a peak, not a sum). Processes the command does not start,
    such as the `serve` it talks to, are not counted."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "usage"
        launcher = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(report), *cmd], cwd=cwd, env=env, stdout=out, stderr=err
        )
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        if launcher.returncode != 0 or not report.exists():
            raise RuntimeError(f"the launcher failed (exit {launcher.returncode}): {stderr[-2000:]}")
        wall, maxrss_kib, code = report.read_text().split()
        return Sample(
            wall=float(wall),
            rss_mb=int(maxrss_kib) / 1024,  # KiB on Linux
            code=int(code),
            stdout=stdout,
            stderr=stderr,
        )


@dataclass
class Stat:
    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    def fmt(self, digits: int = 2, unit: str = "") -> str:
        if not self.values:
            return "—"
        med, lo, hi = (f"{v:.{digits}f}" for v in (statistics.median(self.values), min(self.values), max(self.values)))
        return f"{med}{unit}" if lo == hi else f"{med}{unit} ({lo}–{hi})"

    def fmt_int(self) -> str:
        if not self.values:
            return "—"
        lo, hi = int(min(self.values)), int(max(self.values))
        return str(lo) if lo == hi else f"{int(statistics.median(self.values))} ({lo}–{hi})"

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")


# -- the server ---------------------------------------------------------------------------------


def request_lines(serve) -> list[re.Match[str]]:
    return [m for m in map(REQUEST_LINE.match, serve.stderr_text().splitlines()) if m]


def copy_db(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(str(target) + suffix).exists():
            Path(str(target) + suffix).unlink()
        if Path(str(source) + suffix).exists():
            shutil.copy2(str(source) + suffix, str(target) + suffix)


class Client:
    """A keep-alive HTTP connection to the serve, timing each call to the last byte of the answer."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=600)

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[float, int, bytes]:
        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return time.perf_counter() - started, response.status, data

    def upload(self, name: str, records: list[dict[str, Any]], v2: bool = False) -> float:
        """`POST /tasks/upload`, or with `v2` the v6 SDK's `POST /v2/tasks/upload`."""
        payload = {"taskset_name" if v2 else "name": name, "tasks": records}
        seconds, status, data = self.call("POST", "/v2/tasks/upload" if v2 else "/tasks/upload", json.dumps(payload).encode())
        if status != 200:
            raise RuntimeError(f"upload failed: {status} {data[:300]!r}")
        return seconds

    def close(self) -> None:
        self.conn.close()


def upload_all(
    client: Client, name: str, records: Sequence[dict[str, Any]], timings: Stat | None = None, v2: bool = False
) -> None:
    for start in range(0, len(records), BATCH):
        seconds = client.upload(name, list(records[start : start + BATCH]), v2)
        if timings is not None:
            timings.add(seconds)


def seed_db(work: Path, size: int, v6: bool = False, *, all_changed: bool = False) -> Path:
    """A store whose taskset holds what the remote should hold for an N-task fixture (with `v6`,
    the same taskset on the v6 SDK's API as well); with `all_changed`, every one of the N tasks,
    each with other args (the most a plan can diff)."""
    db = work / f"seed-{size}{'-v6' if v6 else ''}{'-all-changed' if all_changed else ''}.sqlite"
    copy_db(work / "absent", db)
    if all_changed:
        records = [fixtures.remote_record(fixtures.make_task(i), 0) for i in range(size)]
    else:
        records = list(fixtures.remote_seed(size))
    with start_serve(work, "--db", str(db)) as serve:
        client = Client(serve.url)
        upload_all(client, TASKSET, records)
        if v6:
            upload_all(client, TASKSET, list(fixtures.remote_seed_v6(size)), v2=True)
        client.close()
    return db


# -- the benchmark ------------------------------------------------------------------------------


@dataclass
class Row:
    size: int
    fmt: str
    runs: int = 0
    plan_wall: Stat = field(default_factory=Stat)
    plan_rss: Stat = field(default_factory=Stat)
    plan_requests: Stat = field(default_factory=Stat)
    apply_wall: Stat = field(default_factory=Stat)
    apply_rss: Stat = field(default_factory=Stat)
    apply_requests: Stat = field(default_factory=Stat)
    apply_runs: int = 0
    bare_wall: Stat = field(default_factory=Stat)
    bare_parse: Stat = field(default_factory=Stat)
    bare_rss: Stat = field(default_factory=Stat)
    notes: list[str] = field(default_factory=list)


@dataclass
class DiffRow:
    remote: str
    updates: int
    fmt: str  # text, markdown, json, or apply
    wall: Stat = field(default_factory=Stat)
    rss: Stat = field(default_factory=Stat)
    server_rss: Stat = field(default_factory=Stat)

    @property
    def what(self) -> str:
        return "`apply --yes`" if self.fmt == "apply" else f"`plan --format {self.fmt}`"


def peak_rss_mb(pid: int) -> float:
    """A running process's peak resident size so far (Linux: VmHWM), in MB; NaN when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return float("nan")


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.env = dict(os.environ)
        for name in list(self.env):
            if name.startswith(("HUD_", "GITHUB_")):
                del self.env[name]
        home = work / "home"
        home.mkdir(exist_ok=True)
        self.env.update({"HUD_API_KEY": API_KEY, "HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"})
        script = Path(sys.executable).parent / "hud-sync-hook"
        self.command = [str(script)] if script.exists() else [sys.executable, "-m", "hud_sync_hook"]
        self.command_shown = "hud-sync-hook" if script.exists() else "python -m hud_sync_hook"

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    def runs_for(self, first: Sample) -> int:
        return self.args.slow_runs if first.wall > self.args.slow else self.args.runs

    def repeat(self, row: Row, what: str, once: Callable[[], Sample], check: Callable[[Sample], None]) -> list[Sample]:
        """Run `once` as often as asked; a failed run ends the series and is noted under the table."""
        samples: list[Sample] = []
        try:
            while not samples or len(samples) < self.runs_for(samples[0]):
                sample = once()
                check(sample)
                samples.append(sample)
        except Failed as failure:
            self.log(f"{row.size} {row.fmt}: {what} failed: {failure}")
            row.notes.append(f"{what} failed: {failure.reason}")
            return []
        return samples

    @staticmethod
    def reset_project(folder: Path) -> None:
        """Each run starts from the same project state: an empty `.hud/config.json`."""
        hud = folder / ".hud"
        hud.mkdir(exist_ok=True)
        (hud / "config.json").write_text("{}\n")

    def cli(self, *argv: str, cwd: Path) -> Sample:
        return measure([*self.command, *argv], cwd=cwd, env=self.env)

    # -- per size ------------------------------------------------------------------------------

    def size(self, size: int) -> list[Row]:
        paths = {fmt: fixtures.ensure_fixture(FIXTURES, size, fmt) for fmt in self.args.formats}
        self.log(f"{size} tasks: seeding the remote with {size // 2}")
        seed = seed_db(self.work, size, v6="jsonl-v6" in self.args.formats)
        expected = fixtures.expected_counts(size)
        summary = (
            f"{expected['create']} to create, {expected['update']} to update, "
            f"{expected['unchanged']} unchanged, 0 remote-only"
        )
        rows = {fmt: Row(size, fmt) for fmt in self.args.formats}

        for fmt, path in paths.items():
            row = rows[fmt]
            self.log(f"{size} {fmt}: bare parse")
            for sample in self.repeat(
                row,
                "bare parse",
                lambda: measure([sys.executable, "-c", BARE_PARSE[fmt], str(path)], cwd=path.parent, env=self.env),
                lambda s: _expect(s.code == 0 and s.stdout.split()[1] == str(size), "bare parse", s),
            ):
                row.bare_wall.add(sample.wall)
                row.bare_parse.add(float(sample.stdout.split()[0]))
                row.bare_rss.add(sample.rss_mb)

        plan_db = self.work / "plan.sqlite"
        copy_db(seed, plan_db)
        with start_serve(self.work, "--db", str(plan_db)) as serve:
            url = serve.url
            for fmt, path in paths.items():
                row = rows[fmt]
                self.log(f"{size} {fmt}: plan")

                def plan_once() -> Sample:
                    self.reset_project(path.parent)
                    before = len(request_lines(serve))
                    sample = self.cli("plan", TASKSET, path.name, "--api-url", url, cwd=path.parent)
                    sample.requests = len(request_lines(serve)) - before  # type: ignore[attr-defined]
                    return sample

                samples = self.repeat(
                    row, "plan", plan_once, lambda s: _expect(s.code == 0 and summary in s.stdout, f"plan ({summary})", s)
                )
                row.runs = len(samples)
                for sample in samples:
                    row.plan_wall.add(sample.wall)
                    row.plan_rss.add(sample.rss_mb)
                    row.plan_requests.add(sample.requests)  # type: ignore[attr-defined]

        uploads = expected["create"] + expected["update"]
        for fmt, path in paths.items():
            row = rows[fmt]
            self.log(f"{size} {fmt}: apply")

            def apply_once() -> Sample:
                self.reset_project(path.parent)
                db = self.work / "apply.sqlite"
                copy_db(seed, db)
                with start_serve(self.work, "--db", str(db)) as serve:
                    sample = self.cli("apply", TASKSET, path.name, "--api-url", serve.url, "--yes", cwd=path.parent)
                    sample.requests = len(request_lines(serve))  # type: ignore[attr-defined]
                return sample

            samples = self.repeat(
                row, "apply", apply_once, lambda s: _expect(s.code == 0 and f"Uploaded {uploads} task(s)" in s.stdout, "apply", s)
            )
            row.apply_runs = len(samples)
            for sample in samples:
                row.apply_wall.add(sample.wall)
                row.apply_rss.add(sample.rss_mb)
                row.apply_requests.add(sample.requests)  # type: ignore[attr-defined]
            self.reset_project(path.parent)
        return [rows[fmt] for fmt in self.args.formats]

    # -- field-level diffs -------------------------------------------------------------------------

    def diffs(self, size: int) -> list[DiffRow]:
        """Plans that show the changes of every update, of the JSONL fixture: `plan --format json`
        against the usual remote, and against one holding every task, each changed (the most a plan
        can diff), `plan` as text, Markdown and JSON and `apply --yes` (on a fresh copy of that
        remote each run). The server's own peak is read apart: it stands in for the platform."""
        path = fixtures.ensure_fixture(FIXTURES, size, "jsonl")
        expected = fixtures.expected_counts(size)["update"]
        found: list[DiffRow] = []
        for label, all_changed, updates, formats in (
            ("half of the tasks remote, a tenth of those changed", False, expected, ("json",)),
            ("every task remote and changed", True, size, ("text", "markdown", "json", "apply")),
        ):
            seed = seed_db(self.work, size, all_changed=all_changed)
            plan_db = self.work / "diffs.sqlite"
            copy_db(seed, plan_db)
            with start_serve(self.work, "--db", str(plan_db)) as serve:
                for fmt in formats:
                    self.log(f"{size} jsonl: {'apply --yes' if fmt == 'apply' else f'plan --format {fmt}'}, {label}")
                    row = DiffRow(label, updates, fmt)

                    def once(fmt: str = fmt) -> Sample:
                        self.reset_project(path.parent)
                        if fmt != "apply":
                            return self.cli(
                                "plan", TASKSET, path.name, "--api-url", serve.url, "--format", fmt, *PATIENCE, cwd=path.parent
                            )
                        db = self.work / "diffs-apply.sqlite"
                        copy_db(seed, db)
                        with start_serve(self.work, "--db", str(db)) as fresh:
                            sample = self.cli(
                                "apply", TASKSET, path.name, "--api-url", fresh.url, "--yes", *PATIENCE, cwd=path.parent
                            )
                            row.server_rss.add(peak_rss_mb(fresh.proc.pid))
                        return sample

                    def check(sample: Sample, fmt: str = fmt) -> None:
                        ok = sample.code == 0
                        if ok and fmt == "json":
                            plan = json.loads(sample.stdout)
                            ok = len(plan["update"]) == updates and all(u["changes"] for u in plan["update"])
                            del plan
                        elif ok:
                            ok = {
                                "text": f"{updates} to update",
                                "markdown": f"{updates} to update",
                                "apply": f"Uploaded {updates} task(s)",
                            }[fmt] in sample.stdout
                        what = f"{fmt} ({updates} updates, each with changes)"
                        _expect(ok, what, sample)

                    for sample in self.repeat(Row(size, "jsonl"), row.what, once, check):
                        row.wall.add(sample.wall)
                        row.rss.add(sample.rss_mb)
                    if fmt != "apply":
                        row.server_rss.add(peak_rss_mb(serve.proc.pid))
                    found.append(row)
            self.reset_project(path.parent)
        return found

    # -- start-up --------------------------------------------------------------------------------

    def startup(self) -> dict[str, Stat]:
        self.log("start-up")
        empty = self.work / "empty"
        empty.mkdir(exist_ok=True)
        found: dict[str, Stat] = {}
        runs = max(self.args.runs, 10)
        for label, argv in (("--version", ("--version",)), ("validate (empty folder)", ("validate", "."))):
            stat = Stat()
            self.cli(*argv, cwd=empty)  # warm the file cache
            for _ in range(runs):
                stat.add(self.cli(*argv, cwd=empty).wall)
            found[label] = stat
        return found

    # -- the server alone ------------------------------------------------------------------------

    def server(self, size: int = 100_000) -> dict[str, Stat]:
        self.log(f"server: storing {size} tasks in batches of {BATCH}, then fetching them")
        db = self.work / "server.sqlite"
        copy_db(self.work / "absent", db)
        found = {
            f"store a {BATCH}-task batch of new tasks (taskset growing to {size:,})": Stat(),
            f"store a {BATCH}-task batch of changed tasks (taskset of {size:,})": Stat(),
            f"fetch {size:,} tasks (tasks-by-id), client": Stat(),
            f"fetch {size:,} tasks (tasks-by-id), server log": Stat(),
        }
        stores_new, stores_changed, fetch, fetch_server = found.values()
        records = [fixtures.remote_record(fixtures.make_task(i), 1) for i in range(size)]
        with start_serve(self.work, "--db", str(db)) as serve:
            client = Client(serve.url)
            upload_all(client, "server-bench", records, stores_new)
            _s, _status, data = client.call("GET", "/tasks/evalset/server-bench")
            taskset_id = json.loads(data)["evalset_id"]
            for run in range(self.args.runs):
                changed = [
                    {**r, "args": {**r["args"], "max_steps": 1000 + run}}
                    for r in records[run * BATCH * 7 : run * BATCH * 7 + BATCH]
                ]
                stores_changed.add(client.upload("server-bench", changed))
            for _ in range(self.args.runs):
                before = len(request_lines(serve))
                seconds, status, data = client.call("GET", f"/tasks/evalsets/{taskset_id}/tasks-by-id")
                if status != 200 or len(json.loads(data)["tasks"]) != size:
                    raise RuntimeError(f"fetch failed: {status}")
                fetch.add(seconds)
                lines = request_lines(serve)[before:]
                fetch_server.add(float(lines[-1].group(4)) / 1000)
            client.close()
        return found


class Failed(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _expect(ok: bool, what: str, sample: Sample) -> None:
    if not ok:
        lines = [line for line in (sample.stderr + sample.stdout).splitlines() if line.strip()]
        raise Failed(
            f"exit {sample.code}: {lines[0][:200] if lines else 'unexpected output'}",
            f"{what} (exit {sample.code}):\n--- stdout\n{sample.stdout[-3000:]}\n--- stderr\n{sample.stderr[-3000:]}",
        )


# -- the report ---------------------------------------------------------------------------------


def machine(bench: Bench) -> list[str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        memory = f"{mem_kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, AttributeError):
        memory = "RAM unknown"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    libs = []
    for name in ("orjson", "yaml", "httpx"):
        try:
            module = __import__(name)
            version = getattr(module, "__version__", "?")
            if name == "yaml":
                version += " (libyaml)" if getattr(module, "__with_libyaml__", False) else " (pure Python)"
            libs.append(f"{name} {version}")
        except ImportError:
            libs.append(f"{name} not installed")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "hud_sync_hook"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    return [
        f"- Machine: {cores} cores ({cpu or platform.machine()}), {memory}, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); {', '.join(libs)}",
        f"- Code: commit {commit or '?'}{' with uncommitted changes in hud_sync_hook/' if dirty else ''}; "
        f"command `{bench.command_shown}`",
    ]


def report(
    bench: Bench,
    rows: list[Row],
    startup: dict[str, Stat] | None,
    server: dict[str, Stat] | None,
    diffs: list[DiffRow] | None = None,
    diff_size: int = 0,
) -> str:
    args = bench.args
    now = _dt.datetime.now().astimezone()
    title = f"## {now:%Y-%m-%d %H:%M %Z}" + (f" — {args.label}" if args.label else "")
    out = [title, "", *machine(bench), ""]
    if rows:
        out += [
            f"Remote: half of the tasks, a tenth of those changed. Runs per row: {args.runs} unless marked. "
            "RSS: peak resident memory of the command (the largest of its process and the children it waits for; "
            "the server is not counted). Requests: as logged by the server. "
            "Bare parse: the same file read with `json`/`yaml` (CSafeLoader)/`runpy` in a bare `python`, "
            "as process wall time, and the parse alone inside it.",
            "",
            "| tasks | format | plan s | plan peak RSS MB | plan requests | plan ÷ bare | apply s | apply requests | bare parse s | parse only s | bare RSS MB |",
            "|---:|---|---|---|---|---:|---|---|---|---|---|",
        ]
        for row in rows:
            marks = []
            if row.runs != args.runs:
                marks.append(f"plan {row.runs} runs")
            if row.apply_runs != args.runs:
                marks.append(f"apply {row.apply_runs} runs")
            fmt = row.fmt + (f" ({', '.join(marks)})" if marks else "")
            ratio = (
                f"{row.plan_wall.median / row.bare_wall.median:.1f}×"
                if row.plan_wall.values and row.bare_wall.values
                else "—"
            )
            out.append(
                f"| {row.size:,} | {fmt} | {row.plan_wall.fmt()} | {row.plan_rss.fmt(0)} | {row.plan_requests.fmt_int()} "
                f"| {ratio} | {row.apply_wall.fmt()} | {row.apply_requests.fmt_int()} "
                f"| {row.bare_wall.fmt()} | {row.bare_parse.fmt()} | {row.bare_rss.fmt(0)} |"
            )
        out.append("")
        notes = [f"- {row.size:,} {row.fmt}: {note}" for row in rows for note in row.notes]
        if notes:
            out += [*notes, ""]
    if diffs:
        out += [
            f"{diff_size:,} JSONL tasks, every update with its changes. Peak RSS: of the command's own process, "
            "as the kernel counts it (`ru_maxrss`: the largest of its process and the children it waits for; started from a fresh "
            "launcher, so that it inherits no other process's peak). "
            "The `serve` standing in for the platform is a separate process, not counted; its own peak "
            "(VmHWM, over all the runs of a row) is shown apart.",
            "",
            "| remote | updates | command | runs | s | peak RSS MB | server peak MB (not counted) |",
            "|---|---:|---|---:|---|---|---|",
        ]
        out += [
            f"| {d.remote} | {d.updates:,} | {d.what} | {len(d.rss.values)} | {d.wall.fmt()} | {d.rss.fmt(0)} "
            f"| {d.server_rss.fmt(0)} |"
            for d in diffs
        ]
        out.append("")
    if startup:
        out += ["| start-up | s |", "|---|---|"]
        out += [f"| `hud-sync-hook {label}` | {stat.fmt(3)} |" for label, stat in startup.items()]
        out.append("")
    if server:
        out += ["| local platform server (`hud-sync-hook serve`) | s |", "|---|---|"]
        out += [f"| {label} | {stat.fmt(3)} |" for label, stat in server.items()]
        out.append("")
    return "\n".join(out) + "\n"


def write_results(section: str) -> None:
    previous = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    earlier = previous[len(RESULTS_HEADER):] if previous.startswith(RESULTS_HEADER) else previous
    RESULTS.write_text(RESULTS_HEADER + "\n" + section + ("\n" + earlier.lstrip("\n") if earlier.strip() else ""), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="task counts (default: 1000,10000,100000)")
    parser.add_argument("--formats", default="jsonl,yaml,py", help="fixture formats (default: jsonl,yaml,py)")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (default: 5)")
    parser.add_argument("--slow", type=float, default=30.0, help="a first run slower than this (s) ...")
    parser.add_argument("--slow-runs", type=int, default=3, help="... gets this many runs in all (default: 3)")
    parser.add_argument("--label", default="", help="a title for this run, e.g. 'before' or 'after'")
    parser.add_argument("--skip", default="", help="parts to leave out: startup,server,tasks,diffs")
    parser.add_argument("--no-write", action="store_true", help="print the table without writing RESULTS.md")
    args = parser.parse_args(argv)
    args.formats = [f for f in args.formats.split(",") if f]
    unknown = set(args.formats) - set(fixtures.FORMATS)
    if unknown:
        parser.error(f"unknown format(s): {', '.join(sorted(unknown))}")
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    skip = set(args.skip.split(","))
    with tempfile.TemporaryDirectory(prefix="hud-sync-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        startup = bench.startup() if "startup" not in skip else None
        rows: list[Row] = []
        if "tasks" not in skip:
            for size in sizes:
                rows += bench.size(size)
        server = bench.server() if "server" not in skip else None
        diffs = bench.diffs(max(sizes)) if "diffs" not in skip and sizes else None
        section = report(bench, rows, startup, server, diffs, max(sizes) if sizes else 0)
    print(section)
    if not args.no_write:
        write_results(section)
        bench.log(f"written to {RESULTS.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
