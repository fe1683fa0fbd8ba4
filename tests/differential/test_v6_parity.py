"""hud-sync-hook and the official `hud sync tasks` of `hud` 0.6.21 agree on every v6 task set: the
v5 differential test (test_v5_parity.py) with the v6 generation of rows, refusals and mutations
(tests/dialect/v6_rows.py), driven by the same long-lived driver in the v6 oracle's interpreter.

Both talk to one real `hud-sync-hook serve`. For each seeded set, written as JSONL, JSON or a
tasks.py of SDK `Task` objects (the official v6 client reads no YAML, so ours reads the same rows as
YAML and must plan them as it plans the JSONL): refused rows are refused by both, at their lines,
with nothing uploaded; (a) the official client uploads and ours finds every task unchanged; (b) ours
uploads and the official dry run has nothing to do, and `serve` holds the same tasks from both
uploads; (c) one mutated field is flagged by both, or by neither when the SDK's model reads it the
same. Every row is also compared one by one: accepted or
refused, and the slug, signature and upload item each tool makes of it, over the sets' rows and
extra rows of random valid and invalid `runtime_config`s.

More sets for hunting: `HUD_DIFF_SETS=1000 HUD_DIFF_SEED=7 python -m pytest tests/differential/test_v6_parity.py`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import httpx
import pytest

from hud_sync_hook.dialect.v6_compose import inline_compose_files
from hud_sync_hook.dialect.v6_model import task_from_mapping, validate_task
from hud_sync_hook.model import Location
from tests.dialect.v6_rows import COMPOSE_FILES, generation, runtime_config
from tests.differential.conftest import SEED, SETS, Oracle
from tests.differential.tasksets import make_set
from tests.differential.test_v5_parity import _check_set
from tests.helpers.oracle_v6 import needs_oracle, oracle_dir
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import ServeProcess, start_serve

pytestmark = needs_oracle
V6 = generation()
SDK = ("--sdk", "v6")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with start_serve(tmp_path_factory.mktemp("serve")) as running:
        yield running


@pytest.fixture(scope="module")
def oracle(server: ServeProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oracle]:
    home = tmp_path_factory.mktemp("oracle-home")
    driver = Oracle(home, server.url, home / "driver.log", oracle_dir() / "bin" / "python", "--sdk", "v6")
    try:
        yield driver
    finally:
        driver.close()


def _rows_to_compare() -> list[Any]:
    rows: list[Any] = []
    for seed in range(SEED, SEED + SETS):
        taskset = make_set(seed, generation=V6)
        rows += taskset["rows"] + (taskset["broken"] or []) + taskset["mutated"]
        rng = random.Random(seed)
        for i in range(10):  # runtime configs of every kind, about a third of them refused
            rows.append({"env": "e", "id": "t", "args": {"i": i}, "runtime_config": runtime_config(rng, p_bad=rng.choice([0.0, 0.2, 0.5]))})
    return rows


def test_every_row_is_refused_or_signed_and_uploaded_as_the_sdk_does(oracle: Oracle, tmp_path: Path):
    rows = _rows_to_compare()
    for name, text in COMPOSE_FILES.items():  # the files rows may name, next to the rows' file
        (tmp_path / name).write_text(text, encoding="utf-8")
    answers = oracle.ask({"op": "rows", "rows": rows, "cwd": str(tmp_path)})["rows"]
    disagreements, refused = [], 0
    for index, (row, theirs) in enumerate(zip(rows, answers)):
        task = task_from_mapping(inline_compose_files(row, tmp_path, tmp_path), Location("tasks.jsonl", index + 1))
        problems = validate_task(task)
        refused += "refused" in theirs
        if "refused" in theirs:
            if not problems:
                disagreements.append(f"official refuses ({theirs['refused']}), ours accepts: {row!r}")
            continue
        if problems:
            disagreements.append(f"ours refuses ({problems[0]}), official accepts: {row!r}")
            continue
        ours = {"slug": task.slug, "signature": task.signature, "record": task.upload_record()}
        task.compact()  # what is uploaded is read back from the signature
        compacted = {"slug": task.slug, "signature": task.signature, "record": task.upload_record()}
        # Read, the upload item has the SDK's order of keys too; compacted (read back from the
        # signature, whose keys are sorted), the same content.
        for what, mine, order in (("read", ours, False), ("compacted", compacted, True)):
            if json.dumps(mine, sort_keys=order) != json.dumps(theirs, sort_keys=order):
                disagreements.append(f"row {row!r} ({what})\n  ours:     {json.dumps(mine)}\n  official: {json.dumps(theirs)}")
    print(f"v6 rows: {len(rows)} rows of {SETS} sets (seeds {SEED}..{SEED + SETS - 1}), {refused} refused by the SDK, {len(disagreements)} disagreements")
    assert len(answers) == len(rows) and len(rows) >= 15 * SETS and refused >= 3 * SETS
    assert not disagreements, f"{len(disagreements)} of {len(rows)} rows differ:\n" + "\n".join(disagreements[:20])


def _exported(url: str, name: str) -> list[Any]:
    """The tasks of a taskset as `serve` exports them, sorted by slug, each with sorted keys."""
    headers = {"Authorization": f"Bearer {HUD_API_KEY}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        found = client.get(f"/v2/tasksets/by-name/{quote(name, safe='')}").raise_for_status().json()
        tasks = client.get(f"/v2/tasksets/{found['taskset_id']}/export").raise_for_status().json()["tasks"]
    return sorted((json.dumps(task, sort_keys=True) for task in tasks))


def test_both_tools_agree_on_seeded_v6_task_sets(oracle: Oracle, server: ServeProcess, tmp_path: Path):
    disagreements: list[str] = []
    tasks = 0
    for seed in range(SEED, SEED + SETS):
        size = len(make_set(seed, generation=V6)["rows"])
        tasks += size
        found = _check_set(seed, oracle, server.url, tmp_path, V6, oracle_dir() / "bin" / "python", SDK)
        if not found:  # both uploaded the set: the platform holds the same tasks from each
            theirs, ours = _exported(server.url, f"official-{seed}"), _exported(server.url, f"ours-{seed}")
            if theirs != ours or len(theirs) != size:
                found.append(f"set {seed}: uploaded tasks differ\n  official: {theirs}\n  ours:     {ours}")
        disagreements += found
    print(f"v6 differential: {SETS} sets (seeds {SEED}..{SEED + SETS - 1}), {tasks} tasks, {len(disagreements)} disagreements")
    assert not disagreements, "\n".join(disagreements[:30])
