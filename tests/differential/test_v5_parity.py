"""hud-sync-hook and the official `hud sync tasks` (hud-python 0.5.41) agree on every task set.

Both talk to one real `hud-sync-hook serve`. For each seeded random set, written as JSONL, JSON or a
tasks.py of SDK `Task` objects (and, for ours alone, the same rows as YAML):
  (a) the official client uploads, and ours plans every task unchanged;
  (b) ours uploads, and the official `--dry-run` has nothing to do;
  (c) one field of one task is mutated, and both flag exactly that task (or, when the mutation is
      one the SDK's model reads the same, e.g. `3` -> `3.0` in a column, neither flags anything);
and rows the official client refuses are refused by ours, at their lines, with nothing uploaded.
Every row is also compared one by one: the signature and the upload record each tool makes of it.

When the two disagree, hud-sync-hook is what changes. More sets for hunting:
`HUD_DIFF_SETS=1000 HUD_DIFF_SEED=7 python -m pytest tests/differential`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hud_sync_hook.model import Location
from hud_sync_hook.task_row import read_row
from hud_sync_hook.validate import validate_task
from tests.differential.conftest import ORACLE, ORACLE_PYTHON, SEED, SETS, Oracle, oracle_env
from tests.differential.tasksets import V5, Generation, make_set, row_line, write
from tests.helpers.repo import REPO_ROOT
from tests.helpers.secrets import HUD_API_KEY

# tasks.py sets import the SDK in both tools' import child: slower, so every fourth set.
KINDS = ["jsonl", "json", "jsonl", "py"]


def ours(*args: str, cwd: Path, python: str = sys.executable, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Our CLI as a user runs it. Task files that import `hud` need the interpreter that has it."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env["PYTHONPATH"] = str(REPO_ROOT)
    full_env["HUD_API_KEY"] = HUD_API_KEY
    return subprocess.run([python, "-m", "hud_sync_hook", *args], cwd=str(cwd), env=full_env, capture_output=True, text=True, timeout=300)


def our_plan(source: Path, taskset: str, url: str, python: str, env: dict[str, str] | None = None, sdk: tuple[str, ...] = ()) -> dict[str, Any]:
    result = ours("plan", taskset, source.name, *sdk, "--api-url", url, "--format", "json", cwd=source.parent, python=python, env=env)
    assert result.returncode == 0, f"plan of {source} failed:\n{result.stderr}"
    data = json.loads(result.stdout)
    return {
        "create": sorted(t["slug"] for t in data["create"]),
        "update": sorted(t["slug"] for t in data["update"]),
        "unchanged": sorted(data["unchanged"]),
    }


def _sdk_env(oracle: Oracle) -> dict[str, str]:
    """For our CLI importing a tasks.py that imports the SDK: the SDK's switches, not its API URL."""
    return {k: v for k, v in oracle.env.items() if k not in ("HUD_API_URL", "HUD_API_KEY", "PATH")}


def refused_lines(stderr: str, file_name: str) -> set[int]:
    return {int(m.group(1)) for m in re.finditer(rf"^{re.escape(file_name)}:(\d+):", stderr, re.M)}


def test_every_row_signs_and_uploads_as_the_sdk_reads_it(oracle: Oracle):
    rows: list[Any] = []
    for seed in range(SEED, SEED + SETS):
        taskset = make_set(seed)
        rows += taskset["rows"] + (taskset["broken"] or []) + taskset["mutated"]
    answers = oracle.ask({"op": "rows", "rows": rows})["rows"]
    disagreements = []
    for index, (row, theirs) in enumerate(zip(rows, answers)):
        task = read_row(row, Location("tasks.jsonl", index + 1))
        problems = validate_task(task)
        if "refused" in theirs:
            if not problems:
                disagreements.append(f"official refuses ({theirs['refused']}), ours accepts: {row!r}")
        elif problems:
            disagreements.append(f"ours refuses ({problems[0]}), official accepts: {row!r}")
        elif task.signature != theirs["signature"] or task.upload_record() != theirs["record"]:
            disagreements.append(
                f"row {row!r}\n  ours:     {task.signature} {task.upload_record()!r}\n  official: {theirs['signature']} {theirs['record']!r}"
            )
    assert len(answers) == len(rows) and len(rows) >= 5 * SETS
    assert not disagreements, f"{len(disagreements)} of {len(rows)} rows differ:\n" + "\n".join(disagreements[:20])


def _check_set(
    seed: int, oracle: Oracle, url: str, root: Path, generation: Generation = V5, sdk_python: Path = ORACLE_PYTHON, sdk: tuple[str, ...] = ()
) -> list[str]:
    """Run (refusals), (a), (b), (c) for one set of `generation`; returns what disagreed. A tasks.py
    is run with `sdk_python`, where that generation's SDK is installed; `sdk` is our `--sdk` option."""
    kind = KINDS[seed % len(KINDS)]
    taskset = make_set(seed, generation=generation)
    rows = taskset["rows"]
    slugs = sorted(generation.slug(row) for row in rows)
    python = str(sdk_python) if kind == "py" else sys.executable
    env = _sdk_env(oracle) if kind == "py" else None
    folder = root / f"set-{seed}"
    problems: list[str] = []

    def expect(what: str, got: Any, wanted: Any) -> None:
        if got != wanted:
            problems.append(f"set {seed} ({kind}): {what}: got {got!r}, wanted {wanted!r}")

    if taskset["broken"] is not None and kind != "py":
        source = write(taskset["broken"], folder, kind, generation)
        answers = oracle.ask({"op": "rows", "rows": taskset["broken"]})["rows"]
        official = {row_line(kind, i) for i, answer in enumerate(answers) if "refused" in answer}
        expect("rows the official client refuses", official, {row_line(kind, i) for i in taskset["refused"]})
        result = ours("apply", f"refused-{seed}", source.name, *sdk, "--api-url", url, "--yes", cwd=folder)
        expect("our exit status on refused rows", result.returncode, 1)
        expect("rows ours refuses", refused_lines(result.stderr, source.name), official)
        synced = oracle.ask({"op": "sync", "cwd": str(folder), "taskset": f"refused-{seed}", "source": source.name, "dry_run": False})
        expect("official exit status on refused rows", synced["exit"] != 0, True)
        expect("official upload despite refused rows", synced["uploaded"], [])

    # (a) the official client uploads; ours then finds every task unchanged.
    source = write(rows, folder, kind, generation)
    up = oracle.ask({"op": "sync", "cwd": str(folder), "taskset": f"official-{seed}", "source": source.name, "dry_run": False})
    expect("official upload", (up["exit"], up["uploaded"], up.get("error")), (0, slugs, None))
    expect("(a) our plan after the official upload", our_plan(source, f"official-{seed}", url, python, env, sdk), {"create": [], "update": [], "unchanged": slugs})
    if kind == "jsonl":
        yaml_source = write(rows, root / f"set-{seed}-yaml", "yaml", generation)
        expect("(a) our plan of the YAML copy", our_plan(yaml_source, f"official-{seed}", url, python, None, sdk), {"create": [], "update": [], "unchanged": slugs})

    # (b) ours uploads; the official dry run then has nothing to do.
    applied = ours("apply", f"ours-{seed}", source.name, *sdk, "--api-url", url, "--yes", cwd=folder, python=python, env=env)
    expect("our upload", (applied.returncode, applied.stderr if applied.returncode else ""), (0, ""))
    dry = oracle.ask({"op": "sync", "cwd": str(folder), "taskset": f"ours-{seed}", "source": source.name, "dry_run": True})
    expect("(b) official dry run after our upload", (dry["exit"], dry["create"], dry["update"], dry["unchanged"], dry["uploaded"]), (0, [], [], slugs, []))

    # (c) one mutated field: both flag exactly that task, or nothing when the model reads it the same.
    mutation = taskset["mutation"]
    flagged = [mutation["slug"]] if mutation["changes_signature"] else []
    unchanged = sorted(set(slugs) - set(flagged))
    source = write(taskset["mutated"], folder, kind, generation)
    for uploaded_by in ("official", "ours") if kind != "py" else ("official",):
        name = f"{uploaded_by}-{seed}"
        what = f"(c) {mutation['field']} of {mutation['slug']} mutated, against the {uploaded_by} upload"
        expect(f"{what}: our plan", our_plan(source, name, url, python, env, sdk), {"create": [], "update": flagged, "unchanged": unchanged})
        dry = oracle.ask({"op": "sync", "cwd": str(folder), "taskset": name, "source": source.name, "dry_run": True})
        expect(f"{what}: official dry run", (dry["exit"], dry["create"], dry["update"], dry["unchanged"]), (0, [], flagged, unchanged))
    return problems


def test_both_tools_agree_on_seeded_task_sets(oracle: Oracle, server, tmp_path: Path):
    disagreements: list[str] = []
    tasks = 0
    for seed in range(SEED, SEED + SETS):
        tasks += len(make_set(seed)["rows"])
        disagreements += _check_set(seed, oracle, server.url, tmp_path)
    print(f"differential: {SETS} sets (seeds {SEED}..{SEED + SETS - 1}), {tasks} tasks, {len(disagreements)} disagreements")
    assert not disagreements, "\n".join(disagreements[:30])


def _official_cli(*args: str, cwd: Path, home: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ORACLE / "bin" / "hud"), "sync", "tasks", *args],
        cwd=str(cwd),
        env=oracle_env(home, url),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _listed(output: str, mark: str) -> list[str]:
    return sorted(m.group(1) for m in re.finditer(rf"^\s+{re.escape(mark)} (\S+)\s*$", output, re.M))


@pytest.mark.parametrize("kind", ["jsonl", "py"])
def test_the_official_command_line_agrees(kind: str, oracle: Oracle, server, tmp_path: Path):
    """The same round trip through the real `hud sync tasks` command, not its functions."""
    seed = 9000 + (kind == "py")
    taskset = make_set(seed)
    slugs = sorted(row["slug"].strip() for row in taskset["rows"])
    python = str(ORACLE_PYTHON) if kind == "py" else sys.executable
    env = _sdk_env(oracle) if kind == "py" else None
    home = tmp_path / "home"
    home.mkdir()
    source = write(taskset["rows"], tmp_path / "set", kind)

    uploaded = _official_cli(f"cli-{kind}", source.name, "--yes", cwd=source.parent, home=home, url=server.url)
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    assert _listed(uploaded.stdout + uploaded.stderr, "+") == slugs, uploaded.stdout + uploaded.stderr
    assert our_plan(source, f"cli-{kind}", server.url, python, env) == {"create": [], "update": [], "unchanged": slugs}

    applied = ours("apply", f"cli-ours-{kind}", source.name, "--api-url", server.url, "--yes", cwd=source.parent, python=python, env=env)
    assert applied.returncode == 0, applied.stderr
    dry = _official_cli(f"cli-ours-{kind}", source.name, "--dry-run", cwd=source.parent, home=home, url=server.url)
    assert dry.returncode == 0 and "All tasks up to date" in dry.stdout + dry.stderr, dry.stdout + dry.stderr

    mutation = taskset["mutation"]
    flagged = [mutation["slug"]] if mutation["changes_signature"] else []
    source = write(taskset["mutated"], tmp_path / "set", kind)
    dry = _official_cli(f"cli-{kind}", source.name, "--dry-run", cwd=source.parent, home=home, url=server.url)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert _listed(dry.stdout + dry.stderr, "~") == flagged, dry.stdout + dry.stderr
    assert our_plan(source, f"cli-{kind}", server.url, python, env)["update"] == flagged
