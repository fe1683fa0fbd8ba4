"""Field-level changes of a v6 project against the real `serve`: the v6 rules (the whole row but
its slug, the environment included) decide what changed and what each update shows."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.repo import make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

BEFORE = [
    {"env": "letters", "id": "count", "slug": "a", "args": {"sentence": "strawberry", "letter": "r"}},
    {"env": "letters", "id": "count", "slug": "b", "args": {"n": 1}},
    {"env": "letters", "id": "count", "slug": "c", "args": {"n": 2}, "validation": [{"name": "x"}]},
    {"env": "letters", "id": "count", "slug": "d", "args": {"n": 3}},
]
AFTER = [
    {**BEFORE[0], "args": {"sentence": "strawberry", "letter": "s"}},
    {**BEFORE[1], "env": "words"},
    BEFORE[2],
    {**BEFORE[3], "id": "spell", "columns": {"level": "hard"}},
]


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def test_a_v6_update_lists_the_rows_own_fields_and_an_unchanged_task_stays_unchanged(tmp_path: Path):
    project = tmp_path / "proj"
    make_repo(project, {"tasks.jsonl": jsonl(BEFORE)})
    env = {"HUD_API_KEY": HUD_API_KEY}
    with start_serve(tmp_path, "--api-key", HUD_API_KEY) as server:
        applied = run_cli("apply", "letters-set", "tasks.jsonl", "--api-url", server.url, "--yes", cwd=project, env=env)
        assert applied.returncode == 0, applied.stderr
        same = json.loads(run_cli("plan", "letters-set", "tasks.jsonl", "--api-url", server.url, "--format", "json",
                                  cwd=project, env=env).stdout)
        assert same["sdk"] == "v6"
        assert same["update"] == [] and same["unchanged"] == ["a", "b", "c", "d"]

        (project / "tasks.jsonl").write_text(jsonl(AFTER))
        proc = run_cli("plan", "letters-set", "tasks.jsonl", "--api-url", server.url, "--format", "json", cwd=project, env=env)
        assert proc.returncode == 0, proc.stderr
        plan = json.loads(proc.stdout)
        assert plan["unchanged"] == ["c"]
        changes = {task["slug"]: task["changes"] for task in plan["update"]}
        assert changes == {
            "a": [{"field": "args", "key": "letter", "change": "changed", "old": "r", "new": "s"}],
            # The v6 signature holds the environment: renaming it is a change like any other.
            "b": [{"field": "env", "change": "changed", "old": "letters", "new": "words"}],
            "d": [
                {"field": "id", "change": "changed", "old": "count", "new": "spell"},
                {"field": "columns", "key": "level", "change": "added", "new": "hard"},
            ],
        }
        text = run_cli("plan", "letters-set", "tasks.jsonl", "--api-url", server.url, cwd=project, env=env)
        assert text.returncode == 0, text.stderr
        assert '~ args.letter: "r" → "s"' in text.stdout
        assert '~ env: "letters" → "words"' in text.stdout
        assert '+ columns.level: "hard"' in text.stdout
        assert "    ~ c" not in text.stdout


def test_the_v6_rules_keep_only_what_changed_and_a_forced_identical_task_shows_nothing():
    from hud_sync_hook.diff import keeper
    from hud_sync_hook.dialect import get
    from hud_sync_hook.dialect.v6_model import task_from_mapping
    from hud_sync_hook.model import Location
    from hud_sync_hook.plan import build_plan

    rules = get("v6").diff
    tasks = [task_from_mapping(row, Location("tasks.jsonl", i)) for i, row in enumerate(AFTER, 1)]
    records = [{"name": row["slug"], "env": row["env"], "scenario": row["id"], "args": row["args"],
                **({"validation": row["validation"]} if "validation" in row else {})} for row in BEFORE]
    kept = {item[0]: item for item in map(keeper(tasks, force=True, rules=rules), records)}
    # (slug, digest) for the unchanged task, and the compact remote record only for the changed ones
    assert {slug: len(item) for slug, item in kept.items()} == {"a": 3, "b": 3, "c": 2, "d": 3}
    forced = build_plan(tasks, list(kept.values()), taskset_name="ts", taskset_id=None, taskset_exists=True,
                        force=True, rules=rules)
    assert [t.slug for t in forced.update] == ["a", "b", "c", "d"]
    by_slug = {t.slug: t for t in forced.update}
    assert forced.changes(by_slug["c"]) == []
    assert [c.field for c in forced.changes(by_slug["d"])] == ["id", "columns"]
    # Full records give the same plan as the kept entries.
    full = build_plan(tasks, records, taskset_name="ts", taskset_id=None, taskset_exists=True, rules=rules)
    assert [t.slug for t in full.unchanged] == ["c"]
    assert [c.as_dict() for c in full.changes(by_slug["b"])] == [
        {"field": "env", "change": "changed", "old": "letters", "new": "words"}
    ]
