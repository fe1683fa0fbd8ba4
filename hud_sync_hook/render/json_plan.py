"""The plan as JSON for scripts and for the GitHub Action (`schema_version` documented in the README)."""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator, Sequence

from hud_sync_hook.inert import json_text
from hud_sync_hook.model import Problem, TaskSpec
from hud_sync_hook.plan import SCHEMA_VERSION, Plan


def _task(task: TaskSpec) -> dict[str, Any]:
    return {
        "slug": task.slug,
        "scenario": task.qualified_scenario,
        "file": task.location.file,
        "line": task.location.line,
    }


def _update(plan: Plan, task: TaskSpec) -> dict[str, Any]:
    data = _task(task)
    data["changes"] = [change.as_dict() for change in plan.changes(task)]
    return data


class _Streamed(list):
    """A list the JSON encoder reads one item at a time, each made only as it is written: the
    changes of 100,000 updates are never all held at once. (The encoder used with `indent` asks a
    list only for its length and its items.)"""

    def __init__(self, items: Sequence[Any], make: Callable[[Any], Any]) -> None:
        super().__init__()
        self._items = items
        self._make = make

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return (self._make(item) for item in self._items)


def _problem(problem: Problem) -> dict[str, Any]:
    loc = problem.location
    return {"file": loc.file, "line": loc.line, "column": loc.column, "message": problem.message, "fix": problem.fix}


def plan_dict(plan: Plan, *, streamed: bool = False) -> dict[str, Any]:
    """The JSON plan as a value; `streamed` leaves `create` and `update` to be made as they are
    encoded (for `iter_json`)."""
    tasks: Callable[[Sequence[Any], Callable[[Any], Any]], Any] = (
        _Streamed if streamed else (lambda items, make: [make(item) for item in items])
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "sdk": plan.sdk,
        "sdk_reason": plan.sdk_reason,
        "taskset": {
            "name": plan.taskset_name,
            "id": plan.taskset_id,
            "exists": plan.taskset_exists,
            "switching_from": plan.switching_from,
        },
        "platform": {"url": plan.platform_url, "key_from": plan.key_source},
        "remote_known": plan.remote_known,
        "summary": plan.summary(),
        "counts": plan.counts(),
        "has_changes": plan.has_changes,
        "forced": plan.forced,
        "plan_hash": plan.plan_hash,
        "create": tasks(plan.create, _task),
        "update": tasks(plan.update, lambda t: _update(plan, t)),
        "unchanged": [t.slug for t in plan.unchanged],
        "remote_only": list(plan.remote_only),
        "renames": [{"old": r.old, "new": r.new} for r in plan.renames],
        "skipped": [{"path": s.path, "error": s.error} for s in plan.skipped],
        "problems": [_problem(p) for p in plan.problems],
        "env_mismatches": [
            {
                "slug": m.slug,
                "file": m.location.file,
                "line": m.location.line,
                "local_env": m.local_env,
                "current_env": m.current_env,
            }
            for m in plan.env_mismatches
        ],
        "notes": list(plan.notes),
    }


def iter_json(plan: Plan) -> Iterator[str]:
    """The JSON plan in pieces, as it is encoded: memory stays that of one task's changes."""
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False)
    for piece in encoder.iterencode(plan_dict(plan, streamed=True)):
        yield json_text(piece)  # a piece is whole tokens: the same as escaping the whole text
    yield "\n"


def render_json(plan: Plan) -> str:
    return json_text(json.dumps(plan_dict(plan), indent=2, ensure_ascii=False)) + "\n"
