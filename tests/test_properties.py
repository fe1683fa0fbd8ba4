"""Property-based tests of the sync core: signature, plan convergence, plan hash, renderings.

Example counts are bounded so that the file runs in well under a minute.
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hud_sync_hook.config import ProjectConfig
from hud_sync_hook.discovery import Discovery
from hud_sync_hook.model import Location, TaskSpec, canonical_json, task_from_mapping
from hud_sync_hook.plan import build_plan
from hud_sync_hook.platform.local import LocalPlatform
from hud_sync_hook.render.json_plan import render_json
from hud_sync_hook.render.markdown import render_markdown
from hud_sync_hook.sync import LocalTasks, apply_plan
from hud_sync_hook.validate import validate

REPO_ROOT = Path(__file__).resolve().parents[1]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ---------------------------------------------------------------------------------

# Text a task may hold: anything but lone surrogates, which validation refuses.
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | text | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
arg_dicts = st.dictionaries(text, json_values, max_size=5)
# A slug as validation accepts it: 1 to 100 printable characters, no surrounding whitespace.
slug_chars = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))
slugs = st.text(alphabet=slug_chars, min_size=1, max_size=100).map(str.strip).filter(bool)
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=8)


@st.composite
def task_data(draw, slug=None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": slug if slug is not None else draw(slugs),
        "scenario": draw(names),
        "env": {"name": draw(names)},
        "args": draw(arg_dicts),
    }
    if draw(st.booleans()):
        data["validation"] = draw(st.lists(st.fixed_dictionaries({"name": names, "arguments": arg_dicts}), min_size=1, max_size=2))
    if draw(st.booleans()):
        data["agent_config"] = draw(st.dictionaries(names, json_values, min_size=1, max_size=2))
    if draw(st.booleans()):
        data["columns"] = draw(st.dictionaries(names, st.integers(0, 9) | names | st.lists(names, max_size=2), min_size=1, max_size=2))
    return data


def make_task(data: dict[str, Any], line: int = 1) -> TaskSpec:
    return task_from_mapping(data, Location("tasks.json", line))


def upload_record(data: dict[str, Any]) -> dict[str, Any]:
    return make_task(data).upload_record()


@st.composite
def local_and_remote(draw) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Local tasks (unique slugs) and remote records: some slugs shared (same or other content)."""
    pool = draw(st.lists(slugs, min_size=1, max_size=12, unique=True))
    local_slugs = draw(st.lists(st.sampled_from(pool), max_size=len(pool), unique=True))
    remote_slugs = draw(st.lists(st.sampled_from(pool), max_size=len(pool), unique=True))
    local = [draw(task_data(slug=s)) for s in local_slugs]
    by_slug = {t["slug"]: t for t in local}
    remote = []
    for s in remote_slugs:
        if s in by_slug and draw(st.booleans()):
            remote.append(upload_record(by_slug[s]))  # already up to date
        else:
            remote.append(upload_record(draw(task_data(slug=s))))
    return local, remote


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same value with every mapping's keys in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


# -- the signature ------------------------------------------------------------------------------


@FAST
@given(task_data(), st.randoms(use_true_random=False))
def test_the_signature_ignores_key_order(data, rng):
    assert make_task(shuffled(data, rng)).signature == make_task(data).signature


SIGNATURES_IN_A_FRESH_PROCESS = """
import json, random, sys
from hud_sync_hook.model import Location, task_from_mapping

def shuffled(value, rng):
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value

rng = random.Random(int(sys.argv[1]))
tasks = json.loads(sys.stdin.read())
print(json.dumps([task_from_mapping(shuffled(t, rng), Location("x")).signature for t in tasks]))
"""


@settings(max_examples=6, deadline=None)
@given(st.lists(task_data(), min_size=1, max_size=25), st.integers(0, 2**32 - 1))
def test_the_signature_is_the_same_in_a_fresh_process(tasks, seed):
    here = [make_task(t).signature for t in tasks]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONHASHSEED": str(seed % 4_000_000_000)}
    result = subprocess.run(
        [sys.executable, "-c", SIGNATURES_IN_A_FRESH_PROCESS, str(seed)],
        input=json.dumps(tasks), capture_output=True, text=True, env=env, timeout=60, check=True,
    )
    assert json.loads(result.stdout) == here


# -- plans converge -----------------------------------------------------------------------------


def local_tasks(tasks: list[TaskSpec], folder: Path) -> LocalTasks:
    return LocalTasks(
        source=folder, project_root=folder, config=ProjectConfig(path=folder / ".hud" / "config.json"),
        discovery=Discovery(tasks=list(tasks)), problems=[], selected=list(tasks), filtered_out=set(),
    )


def plan_with(platform: LocalPlatform, local: list[TaskSpec], name: str):
    found = platform.find_taskset(name)
    records = platform.fetch_tasks(found.id)[1] if found else []
    return build_plan(local, records, taskset_name=name, taskset_id=found.id if found else None, taskset_exists=bool(found))


@settings(max_examples=80, deadline=None)
@given(local_and_remote(), st.integers(1, 5))
def test_applying_the_plan_then_planning_again_finds_nothing_to_do(sets, batch_size):
    local_data, remote = sets
    local = [make_task(t, line) for line, t in enumerate(local_data, 1)]
    assert validate(local) == []
    with tempfile.TemporaryDirectory() as folder:
        platform = LocalPlatform(Path(folder) / "platform.sqlite")
        if remote:
            platform.upload("ts", remote, None)
        first = plan_with(platform, local, "ts")
        outcome = apply_plan(platform, first, local_tasks(local, Path(folder)), batch_size=batch_size)
        assert outcome.error is None and outcome.tasks_sent == len(first.to_upload)
        second = plan_with(platform, local, "ts")
    assert not second.has_changes
    assert sorted(t.slug for t in second.unchanged) == sorted(t.slug for t in local)
    local_slugs = {t.slug for t in local}
    assert second.remote_only == sorted(r["slug"] for r in remote if r["slug"] not in local_slugs)  # never deleted


# -- the plan hash ------------------------------------------------------------------------------


def uploaded(plan) -> tuple:
    """What applying `plan` sends, and to which taskset: the value the hash must stand for."""
    identity = plan.taskset_id or f"name:{plan.taskset_name}"
    actions = [("create", t) for t in plan.create] + [("update", t) for t in plan.update]
    return identity, frozenset((t.slug, action, canonical_json(t.upload_record())) for action, t in actions)


MUTATIONS = (
    "nothing", "reorder local tasks", "reorder keys", "move a task to another line", "change an arg",
    "change the env name", "change the scenario", "drop a local task", "add a local task",
    "change a remote task", "drop a remote task", "add a remote-only task", "rename the taskset",
)


@st.composite
def mutated(draw):
    local, remote = draw(local_and_remote())
    rng = draw(st.randoms(use_true_random=False))
    what = draw(st.sampled_from(MUTATIONS))
    new_local, new_remote = [dict(t) for t in local], [dict(r) for r in remote]
    name, lines = "ts", list(range(1, len(local) + 1))
    if what == "reorder local tasks":
        rng.shuffle(new_local)
    elif what == "reorder keys":
        new_local = [shuffled(t, rng) for t in new_local]
    elif what == "move a task to another line" and new_local:
        lines[rng.randrange(len(lines))] += 100
    elif what in ("change an arg", "change the env name", "change the scenario", "drop a local task") and new_local:
        i = rng.randrange(len(new_local))
        if what == "change an arg":
            new_local[i]["args"] = {**new_local[i]["args"], "changed": draw(json_values)}
        elif what == "change the env name":
            new_local[i]["env"] = {"name": draw(names)}
        elif what == "change the scenario":
            new_local[i]["scenario"] = draw(names)
        else:
            del new_local[i]
            lines.pop()
    elif what == "add a local task":
        taken = {t["slug"] for t in new_local}
        extra = draw(task_data(slug=draw(slugs.filter(lambda s: s not in taken))))
        new_local.append(extra)
        lines.append(len(lines) + 1)
    elif what in ("change a remote task", "drop a remote task") and new_remote:
        i = rng.randrange(len(new_remote))
        if what == "change a remote task":
            new_remote[i] = upload_record(draw(task_data(slug=new_remote[i]["slug"])))
        else:
            del new_remote[i]
    elif what == "add a remote-only task":
        taken = {t["slug"] for t in new_local} | {r["slug"] for r in new_remote}
        new_remote.append(upload_record(draw(task_data(slug=draw(slugs.filter(lambda s: s not in taken))))))
    elif what == "rename the taskset":
        name = "ts-" + draw(names)
    return (local, remote, "ts", list(range(1, len(local) + 1))), (new_local, new_remote, name, lines)


def plan_of(local, remote, name, lines):
    tasks = [make_task(t, line) for t, line in zip(local, lines)]
    return build_plan(tasks, remote, taskset_name=name, taskset_id=None, taskset_exists=bool(remote))


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_the_plan_hash_changes_if_and_only_if_what_would_be_uploaded_changes(pair):
    before, after = plan_of(*pair[0]), plan_of(*pair[1])
    same_upload = uploaded(before) == uploaded(after)
    assert (before.plan_hash == after.plan_hash) == same_upload, (uploaded(before), uploaded(after))


# -- renderings ---------------------------------------------------------------------------------

_ZERO_WIDTH = re.compile("(?<=@)\u200b|(?<=:)\u200b(?=//)|(?<=www)\u200b(?=\\.)")
_MD_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+!|~])")


def unescape_markdown(cell: str) -> str:
    """Undo `render.markdown.escape`: zero-width breaks, then HTML entities, then backslashes."""
    return _MD_ESCAPED.sub(r"\1", html.unescape(_ZERO_WIDTH.sub("", cell)))


def markdown_lists(body: str) -> dict[str, list[str]]:
    """Section title -> the first cell of each table row, or each list item, un-escaped."""
    sections: dict[str, list[str]] = {}
    current = None
    in_update = False  # inside one update's table of changes
    for line in body.splitlines():
        summary = re.match(r"<details(?: open)?><summary>(.*) \(\d+\)</summary>$", line)
        if summary:
            current = sections.setdefault(summary.group(1), [])
        elif current is None:
            continue
        elif line.startswith("<details") and "<summary><code>" in line:  # one update, folded
            current.append(html.unescape(_ZERO_WIDTH.sub("", line.split("<code>", 1)[1].split("</code>", 1)[0])))
            in_update = True
        elif line == "</details>" and in_update:
            in_update = False
        elif line.startswith("| ") and not in_update and not line.startswith(("| Slug |", "|---")):
            first = line[2:].split(" | ", 1)[0]  # a pipe in a slug is escaped, so never " | "
            current.append(unescape_markdown(first))
        elif line.startswith("- "):
            current.append(unescape_markdown(line[2:]))
    return sections


@settings(max_examples=150, deadline=None)
@given(local_and_remote())
def test_json_and_markdown_plans_round_trip_the_slugs_exactly(sets):
    local_data, remote = sets
    plan = build_plan([make_task(t, i) for i, t in enumerate(local_data, 1)], remote,
                      taskset_name="ts", taskset_id=None, taskset_exists=bool(remote))
    data = json.loads(render_json(plan))
    assert [t["slug"] for t in data["create"]] == [t.slug for t in plan.create]
    assert [t["slug"] for t in data["update"]] == [t.slug for t in plan.update]
    assert data["unchanged"] == [t.slug for t in plan.unchanged] and data["remote_only"] == plan.remote_only
    assert data["renames"] == [{"old": r.old, "new": r.new} for r in plan.renames]

    found = markdown_lists(render_markdown(plan, limit=1_000_000))
    assert found.get("To create", []) == [t.slug for t in plan.create]
    assert found.get("To update", []) == [t.slug for t in plan.update]
    assert found.get("Unchanged", []) == [t.slug for t in plan.unchanged]
    assert found.get("Remote-only, never deleted", []) == plan.remote_only


# -- field-level diffs --------------------------------------------------------------------------


def _apply_changes(body: dict[str, Any], changes) -> dict[str, Any]:
    """The remote values with each change's new value put in: must give the local values."""
    result = json.loads(json.dumps(body))
    for change in changes:
        if change.field in ("scenario", "env"):
            continue
        if change.key is None:
            if change.kind == "removed":
                result.pop(change.field, None)
            else:
                result[change.field] = change.new
        else:
            target = result.setdefault(change.field, {})
            if change.kind == "removed":
                target.pop(change.key, None)
                if not target and change.field != "args":
                    result.pop(change.field)
            else:
                target[change.key] = change.new
    return result


@settings(max_examples=150, deadline=None)
@given(local_and_remote())
def test_the_changes_of_an_update_turn_the_remote_task_into_the_local_one(sets):
    from hud_sync_hook.diff import keeper
    from hud_sync_hook.model import remote_signature, short_scenario

    local_data, remote = sets
    tasks = [make_task(t, i) for i, t in enumerate(local_data, 1)]
    keep = keeper(tasks)
    plan = build_plan(tasks, [keep(r) for r in remote], taskset_name="ts", taskset_id=None, taskset_exists=True)
    records = {r["slug"]: r for r in remote}
    for task in plan.update:
        changes = plan.changes(task)
        assert changes, task.slug  # an update always says what changes
        record = records[task.slug]
        old_short = short_scenario(record["scenario"])
        body = json.loads(remote_signature(record)[len(old_short) + 1 :])
        local_body = json.loads(task.signature[len(short_scenario(task.qualified_scenario)) + 1 :])
        assert canonical_json(_apply_changes(body, changes)) == canonical_json(local_body)
        scenario = [c for c in changes if c.field == "scenario"]
        assert bool(scenario) == (old_short != short_scenario(task.qualified_scenario))
