"""The v6 SDK's tasksets (`/v2` API) in the same SQLite file as the v5 ones, in tables of their own.

A v6 task is stored as its export record (`name`, `env` as a string, `scenario` = the template id,
then the optional fields as uploaded), which is what `GET /v2/tasksets/{id}/export` returns.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any, Iterator, Sequence

from hud_sync_hook.platform.base import RemoteTaskset, UploadResult
from hud_sync_hook.platform.local import (
    BUSY_TIMEOUT_MS,
    LocalStore,
    TaskTable,
    _dumps,
    _now,
    rejected,
    upsert_tasks,
)

V2_TASKS = TaskTable("v2_tasks", "taskset_id", "name", id_in_record=False)
OPTIONAL_FIELDS = ("validation", "agent_config", "columns", "runtime_config", "verifier")
#: The identity the local platform answers `GET /v2/auth/me` with: one user in one team.
LOCAL_USER_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "hud-sync-hook:local-user"))
LOCAL_TEAM_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "hud-sync-hook:local-team"))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS v2_tasksets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS v2_tasks (
    id TEXT PRIMARY KEY,
    taskset_id TEXT NOT NULL REFERENCES v2_tasksets(id),
    name TEXT NOT NULL,
    record TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (taskset_id, name)
);
CREATE INDEX IF NOT EXISTS v2_tasks_by_taskset ON v2_tasks (taskset_id);
"""


class V2Store:
    """v6 tasksets next to a `LocalStore`'s v5 ones: same file, same registry, own tables."""

    def __init__(self, store: LocalStore, projects: Sequence[dict[str, Any]] = ()) -> None:
        self.store = store
        self.projects = list(projects)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> "closing[sqlite3.Connection]":
        conn = sqlite3.connect(self.store.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return closing(conn)

    # -- tasksets ------------------------------------------------------------------------------

    def by_name(self, name: str) -> RemoteTaskset | None:
        with self._connect() as conn:
            row = conn.execute("SELECT id, name FROM v2_tasksets WHERE name = ?", (name,)).fetchone()
        return RemoteTaskset(id=row[0], name=row[1]) if row else None

    def by_id(self, taskset_id: str) -> RemoteTaskset | None:
        with self._connect() as conn:
            row = conn.execute("SELECT id, name FROM v2_tasksets WHERE id = ?", (taskset_id,)).fetchone()
        return RemoteTaskset(id=row[0], name=row[1]) if row else None

    def export_json(self, taskset: RemoteTaskset) -> bytes:
        """`{"name", "tasks": [export records]}` built from the stored UTF-8 records."""
        with self._connect() as conn:
            conn.text_factory = bytes
            rows = conn.execute(
                "SELECT record FROM v2_tasks WHERE taskset_id = ? ORDER BY rowid", (taskset.id,)
            ).fetchall()
        head = f'{{"name":{_dumps(taskset.name)},"tasks":['.encode()
        return head + b",".join(record for (record,) in rows) + b"]}"

    def iter_records(self, taskset_id: str) -> Iterator[dict[str, Any]]:
        with self._connect() as conn:
            conn.text_factory = bytes
            for (record,) in conn.execute(
                "SELECT record FROM v2_tasks WHERE taskset_id = ? ORDER BY rowid", (taskset_id,)
            ):
                yield json.loads(record)

    # -- upload --------------------------------------------------------------------------------

    def upload(self, payload: Any) -> UploadResult:
        """`POST /v2/tasks/upload`: check everything, then upsert by task name in one transaction."""
        name, tasks, taskset_id = check_payload(payload)
        self._check_registry(tasks)
        records = [export_record(task) for task in tasks]
        return upsert_tasks(self._connect, V2_TASKS, records, lambda conn: self._get_or_create(conn, name, taskset_id))

    def _get_or_create(self, conn: sqlite3.Connection, name: str, taskset_id: str | None) -> RemoteTaskset:
        if taskset_id is not None:
            row = conn.execute("SELECT id, name FROM v2_tasksets WHERE id = ?", (taskset_id,)).fetchone()
            if row is None:
                raise rejected(f"Taskset {taskset_id} not found", status=404)
            return RemoteTaskset(id=row[0], name=row[1])
        row = conn.execute("SELECT id, name FROM v2_tasksets WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return RemoteTaskset(id=row[0], name=row[1])
        new_id = str(uuid.uuid4())
        now = _now()
        conn.execute(
            "INSERT INTO v2_tasksets (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (new_id, name, now, now),
        )
        return RemoteTaskset(id=new_id, name=name)

    def _check_registry(self, tasks: Sequence[dict[str, Any]]) -> None:
        """With a registry, every `(env, task_id)` must name a known environment and template."""
        registry = self.store.registry
        if registry is None:
            return
        envs = {env["name"]: env for env in registry}
        missing: list[str] = []
        for task in tasks:
            for item in (task, task.get("verifier")):
                if not isinstance(item, dict):
                    continue
                env_name = item["env"]["name"] if isinstance(item.get("env"), dict) else item.get("env")
                template = item.get("task_id", item.get("id"))
                env = envs.get(env_name)
                known = {str(s).rsplit(":", 1)[-1] for s in env.get("scenarios", [])} if env else set()
                if template not in known:
                    label = f"{env_name}/{template}"
                    if label not in missing:
                        missing.append(label)
        if missing:
            raise rejected("Task resolution failed: unknown (env, task_id): " + ", ".join(missing), status=422)

    # -- registry ------------------------------------------------------------------------------

    def registry_page(self, search: str, limit: int, offset: int) -> dict[str, Any]:
        found = [
            {"id": env["id"], "name": env["name"]}
            for env in self.store.registry or []
            if search.lower() in env["name"].lower()
        ]
        return {"items": found[offset : offset + max(limit, 0)], "total": len(found)}

    def project_page(self, search: str, limit: int, offset: int) -> dict[str, Any]:
        found = [project_answer(p) for p in self.projects if search.lower() in p["name"].lower()]
        return {"items": found[offset : offset + max(limit, 0)], "total": len(found)}

    def project(self, project_id: str) -> dict[str, Any] | None:
        return next((project_answer(p) for p in self.projects if p["id"] == project_id), None)

    def registry_env(self, registry_id: str) -> dict[str, Any] | None:
        for env in self.store.registry or []:
            if env["id"] == registry_id:
                return {"id": env["id"], "name": env["name"]}
        return None


def project_answer(project: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": project["id"],
        "name": project["name"],
        "is_default": bool(project.get("is_default", False)),
        "capabilities": {"create": bool(project.get("can_create", True))},
    }


def load_projects(path: str | Path) -> list[dict[str, Any]]:
    """A projects file: a JSON list of `{"id", "name", "can_create"?, "is_default"?}`."""
    from hud_sync_hook.errors import HudSyncError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise HudSyncError(f"cannot read the projects file ({err})", file=str(path)) from None
    if not isinstance(data, list) or not all(
        isinstance(p, dict) and isinstance(p.get("id"), str) and isinstance(p.get("name"), str) for p in data
    ):
        raise HudSyncError('the projects file must be a JSON list of {"id", "name"} objects', file=str(path))
    return data


def normalize_name(name: str) -> str:
    """Environment and project names as the v6 client looks them up: lower-case, spaces and `_`
    to `-`, only `[a-z0-9-]`, no repeated `-`."""
    text = name.strip().lower().replace(" ", "-").replace("_", "-")
    text = re.sub(r"[^a-z0-9-]", "", text)
    return re.sub(r"-+", "-", text).strip("-")


def export_record(task: dict[str, Any]) -> dict[str, Any]:
    """What the export returns for an uploaded item: `env` as its name, `task_id` as `scenario`."""
    record: dict[str, Any] = {"name": task["name"], "env": task["env"]["name"], "scenario": task["task_id"]}
    record["args"] = task.get("args") if task.get("args") is not None else {}
    for key in OPTIONAL_FIELDS:
        if task.get(key) is not None:
            record[key] = task[key]
    return record


def _nonempty(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def check_payload(payload: Any) -> tuple[str, list[dict[str, Any]], str | None]:
    """The checks the platform makes on an upload before writing anything; the first is reported."""
    if not isinstance(payload, dict):
        raise rejected("The request body must be a JSON object with 'taskset_name' and 'tasks'", status=422)
    name = payload.get("taskset_name")
    if not _nonempty(name):
        raise rejected("Field 'taskset_name' is required: a non-empty string", status=422)
    tasks = payload.get("tasks")
    if not isinstance(tasks, list):
        raise rejected("Field 'tasks' must be a list of task objects", status=422)
    taskset_id = payload.get("taskset_id")
    if taskset_id is not None and not _nonempty(taskset_id):
        raise rejected("Field 'taskset_id' must be a string", status=422)
    project_id = payload.get("project_id")
    if project_id is not None and not _nonempty(project_id):
        raise rejected("Field 'project_id' must be a string", status=422)
    seen: set[str] = set()
    dupes: list[str] = []
    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            raise rejected(f"Task {index} must be an object", status=422)
        slug = task.get("name")
        if not _nonempty(slug):
            raise rejected(f"Task {index}: 'name' must be a non-empty string", status=422)
        env = task.get("env")
        if not isinstance(env, dict) or not _nonempty(env.get("name")):
            raise rejected(f"Task '{slug}': 'env' must be an object like {{\"name\": ...}}", status=422)
        if not _nonempty(task.get("task_id")):
            raise rejected(f"Task '{slug}': 'task_id' must be a non-empty string", status=422)
        if task.get("args") is not None and not isinstance(task["args"], dict):
            raise rejected(f"Task '{slug}': 'args' must be an object", status=422)
        for key in ("agent_config", "columns", "runtime_config", "verifier"):
            if task.get(key) is not None and not isinstance(task[key], dict):
                raise rejected(f"Task '{slug}': '{key}' must be an object", status=422)
        validation = task.get("validation")
        if validation is not None and (not isinstance(validation, list) or not all(isinstance(v, dict) for v in validation)):
            raise rejected(f"Task '{slug}': 'validation' must be a list of objects", status=422)
        verifier = task.get("verifier")
        if isinstance(verifier, dict) and not (_nonempty(verifier.get("env")) and _nonempty(verifier.get("id"))):
            raise rejected(f"Task '{slug}': 'verifier' needs 'env' and 'id' strings", status=422)
        if slug in seen and slug not in dupes:
            dupes.append(slug)
        seen.add(slug)
    if dupes:
        raise rejected("Duplicate task names in upload request: " + ", ".join(dupes), status=422)
    return name, tasks, taskset_id


class LocalPlatformV2:
    """The v6 `Platform` straight over a local SQLite file (`--api-url local` for v6 projects)."""

    def __init__(self, path: str | Path, *, registry: Sequence[dict[str, Any]] | None = None) -> None:
        self.store = V2Store(LocalStore(path, registry=registry))
        self.project_id: str | None = None
        self.project_ref: str | None = None
        self._count = 0

    def __repr__(self) -> str:
        return f"LocalPlatformV2({str(self.store.store.path)!r})"

    @property
    def request_count(self) -> int:
        return self._count

    def auth_me(self) -> dict[str, str]:
        self._count += 1
        return {"user_id": LOCAL_USER_ID, "team_id": LOCAL_TEAM_ID}

    def find_taskset(self, name: str) -> RemoteTaskset | None:
        self._count += 1
        return self.store.by_name(name)

    def get_taskset(self, taskset_id: str) -> RemoteTaskset | None:
        self._count += 1
        return self.store.by_id(taskset_id)

    def fetch_tasks(self, taskset_id: str, keep: Any = None) -> tuple[str | None, list[Any]]:
        taskset = self.get_taskset(taskset_id)
        if taskset is None:
            return None, []
        records = self.store.iter_records(taskset.id)
        if keep is None:
            return taskset.name, list(records)
        return taskset.name, [kept for kept in map(keep, records) if kept is not None]

    def upload(self, name: str, tasks: list[dict[str, Any]], columns: dict[str, Any] | None) -> UploadResult:
        self._count += 1
        payload: dict[str, Any] = {"taskset_name": name, "tasks": tasks}
        found = self.store.by_name(name)
        if found is not None:
            payload["taskset_id"] = found.id
        return self.store.upload(payload)

    def get_env(self, registry_id: str) -> dict[str, Any] | None:
        self._count += 1
        return self.store.registry_env(registry_id)

    def search_envs(self, name: str, limit: int = 5) -> list[dict[str, Any]]:
        self._count += 1
        items = self.store.registry_page(normalize_name(name), 500, 0)["items"]
        exact = [env for env in items if env["name"] == normalize_name(name)]
        return (exact or items)[:limit]

    def env_scenarios(self, env_name: str) -> list[str]:
        return []

    def resolve_project(self, ref: str) -> list[dict[str, Any]]:
        """The local platform has no projects."""
        self._count += 1
        return []

    def close(self) -> None:
        """Nothing to release: every store call opens its own connection."""
