"""A HUD platform kept in one SQLite file, so that sync can be tried and tested without an account."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from hud_sync_hook.bulk import paused_gc
from hud_sync_hook.errors import HudSyncError, PlatformError
from hud_sync_hook.model import short_scenario
from hud_sync_hook.platform.base import RemoteTaskset, UploadResult, is_uuid

BUSY_TIMEOUT_MS = 30_000
_IN_CHUNK = 500  # slugs per `IN (...)` look-up, well under SQLite's variable limit
_RECORD_KEYS = ("slug", "scenario", "env", "args", "validation", "agent_config", "column_values")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS evalsets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    columns TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    evalset_id TEXT NOT NULL REFERENCES evalsets(id),
    slug TEXT NOT NULL,
    record TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (evalset_id, slug)
);
CREATE INDEX IF NOT EXISTS tasks_by_evalset ON tasks (evalset_id);
CREATE INDEX IF NOT EXISTS tasks_by_slug ON tasks (slug);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def rejected(detail: str, status: int = 400) -> PlatformError:
    """The error both the store and the server use for a refused request."""
    return PlatformError(f"upload rejected by the platform: {detail}", status=status, detail=detail)


def load_registry(path: str | Path) -> list[dict[str, Any]]:
    """Read a registry file: a JSON list of `{"id", "name", "scenarios", ...}` environments."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise HudSyncError(f"cannot read the registry file: {err.strerror}", file=str(path)) from None
    except ValueError as err:
        raise HudSyncError(f"the registry file is not valid JSON ({err})", file=str(path)) from None
    if not isinstance(data, list):
        raise HudSyncError("the registry must be a JSON list of environments", file=str(path))
    for index, env in enumerate(data):
        ok = (
            isinstance(env, dict)
            and isinstance(env.get("id"), str)
            and isinstance(env.get("name"), str)
            and isinstance(env.get("scenarios", []), list)
            and all(isinstance(s, str) for s in env.get("scenarios", []))
        )
        if not ok:
            raise HudSyncError(
                f"registry entry {index} needs a string 'id', a string 'name' and a list of "
                "scenario names in 'scenarios'",
                file=str(path),
            )
    return data


# Marks a SQLite file as a hud-sync-hook store ("HUDS"), so that no other file is ever written to.
APPLICATION_ID = 0x48554453
_OWN_OBJECTS = {"evalsets", "tasks", "tasks_by_evalset", "tasks_by_slug"}


def check_store_file(path: Path) -> bool:
    """Refuse any existing file that is not a hud-sync-hook store; True when there is none yet.

    Checked before the store is opened for writing, so a refused file is left exactly as it was:
    only its type is looked at, then SQLite reads it read-only and immutable (no lock, no journal).
    No file descriptor of this process is opened on it here: closing one would drop the locks
    SQLite holds through other connections to the same file. A store made before stores were
    marked (application id 0, holding only this store's tables) is accepted.
    """
    import stat

    from hud_sync_hook import safefs

    try:
        info = os.stat(path)
    except FileNotFoundError:
        return True
    not_store = HudSyncError(
        "is not a hud-sync-hook local platform; refusing to write to it; choose another path "
        "(a new file is created there)",
        file=str(path),
    )
    if not stat.S_ISREG(info.st_mode):
        raise safefs.UnsafePath(f"is {safefs.kind(info.st_mode)}, not a regular file", path, "replace it with a file")
    if info.st_size == 0:
        raise not_store
    application_id, names = _read_marks(path, not_store)
    if application_id == APPLICATION_ID:
        return False
    names = {n for n in names if not n.startswith("sqlite_")}
    if application_id == 0 and {"evalsets", "tasks"} <= names <= _OWN_OBJECTS:
        return True  # an unmarked store of ours: marked now
    raise not_store


def _read_marks(path: str | Path, not_store: HudSyncError) -> tuple[int, set[str]]:
    """The file's SQLite application id and, unless it is ours, the names in its schema.

    Read immutable first (no lock, no journal, nothing written). That read ignores the write-ahead
    log, so while another process is writing a store it can find the schema half checkpointed and
    report the file malformed; then it is read again the ordinary read-only way, which follows the
    log under SQLite's locks and still writes nothing. Only a file that fails both is refused.
    """
    base = Path(path).resolve().as_uri()
    for query in ("mode=ro&immutable=1", "mode=ro"):
        try:
            with closing(sqlite3.connect(f"{base}?{query}", uri=True)) as conn:
                conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                application_id = conn.execute("PRAGMA application_id").fetchone()[0]
                if application_id == APPLICATION_ID:
                    return application_id, set()
                return application_id, {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError:
            continue
    raise not_store


def _create_store(path: Path) -> None:
    """Make a new store whole beside `path`, marked and with its tables, then put it in place with a
    hard link (which never replaces a file): another process opening the same new path meanwhile
    sees no file, or a complete store, never a half-made one it would refuse."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with closing(sqlite3.connect(temp, isolation_level=None)) as conn:
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process made it first
        except OSError:  # no hard links on this file system: a rename, checked just before
            if not os.path.lexists(path):
                os.replace(temp, path)
    finally:
        for leftover in (temp, temp.with_name(temp.name + "-journal")):
            try:
                os.unlink(leftover)
            except OSError:
                pass


class LocalStore:
    """Tasksets and tasks in SQLite (WAL mode), safe to share between threads and processes.

    Every call opens its own short-lived connection; every upload is one `BEGIN IMMEDIATE`
    transaction, so a batch lands whole or not at all.
    """

    def __init__(self, path: str | Path, *, registry: Sequence[dict[str, Any]] | None = None) -> None:
        self.path = Path(path)
        self.registry: list[dict[str, Any]] | None = list(registry) if registry is not None else None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = check_store_file(self.path)
            if fresh and not os.path.lexists(self.path):
                _create_store(self.path)
                fresh = check_store_file(self.path)  # ours, or a store another process made first
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                if fresh:
                    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        except sqlite3.DatabaseError as err:
            raise HudSyncError(
                f"cannot open the local platform database ({err}); "
                "remove the file or choose another path",
                file=str(self.path),
            ) from None
        except OSError as err:
            raise HudSyncError(
                f"cannot create the local platform database ({err.strerror})", file=str(self.path)
            ) from None

    def __repr__(self) -> str:
        return f"LocalStore({str(self.path)!r})"

    # -- connections ---------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _connect(self) -> "closing[sqlite3.Connection]":
        return closing(self._open())

    # -- tasksets ------------------------------------------------------------------------------

    def find_taskset(self, name_or_id: str) -> RemoteTaskset | None:
        """The taskset with this name, or with this id when a UUID is given."""
        column = "id" if is_uuid(name_or_id) else "name"
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT id, name FROM evalsets WHERE {column} = ?", (name_or_id,)
            ).fetchone()
            if row is None and column == "id":  # a taskset may be named like a UUID
                row = conn.execute(
                    "SELECT id, name FROM evalsets WHERE name = ?", (name_or_id,)
                ).fetchone()
        return RemoteTaskset(id=row[0], name=row[1]) if row else None

    def resolve_taskset(self, name: object) -> tuple[RemoteTaskset, bool]:
        """Get or create the taskset called `name`: (taskset, created)."""
        name = _check_name(name)
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                taskset, created = self._get_or_create(conn, name, None)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return taskset, created

    def _get_or_create(
        self, conn: sqlite3.Connection, name: str, columns: dict[str, Any] | None
    ) -> tuple[RemoteTaskset, bool]:
        row = conn.execute("SELECT id, columns FROM evalsets WHERE name = ?", (name,)).fetchone()
        now = _now()
        if row is None:
            taskset_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO evalsets (id, name, columns, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (taskset_id, name, _dumps(columns or {}), now, now),
            )
            return RemoteTaskset(id=taskset_id, name=name), True
        if columns:
            merged = {**json.loads(row[1] or "{}"), **columns}
            conn.execute(
                "UPDATE evalsets SET columns = ?, updated_at = ? WHERE id = ?",
                (_dumps(merged), now, row[0]),
            )
        return RemoteTaskset(id=row[0], name=name), False

    def taskset_columns(self, taskset_id: str) -> dict[str, Any]:
        with self._connect() as conn:
            row = conn.execute("SELECT columns FROM evalsets WHERE id = ?", (taskset_id,)).fetchone()
        return json.loads(row[0]) if row else {}

    # -- tasks ---------------------------------------------------------------------------------

    def _task_rows(self, taskset_id: str) -> list[tuple[bytes, bytes]]:
        """(id, record) of each task as the stored UTF-8 bytes: answers are joined from them as they
        are, six times faster than decoding 100,000 records into one (often 4-byte-wide) string."""
        with self._connect() as conn:
            conn.text_factory = bytes
            return conn.execute(
                "SELECT id, record FROM tasks WHERE evalset_id = ? ORDER BY rowid", (taskset_id,)
            ).fetchall()

    def tasks_json(self, taskset_id: str) -> bytes:
        """The taskset's tasks as a JSON object keyed by task id (UTF-8), built from the stored text."""
        with paused_gc():
            rows = self._task_rows(taskset_id)
        return b"{" + b",".join([b'"%s":%s' % row for row in rows]) + b"}"

    def tasks_by_id_json(self, taskset: RemoteTaskset) -> bytes | None:
        """The `tasks-by-id` answer as JSON (UTF-8), or None when the taskset has no tasks."""
        tasks = self.tasks_json(taskset.id)
        if tasks == b"{}":
            return None
        head = f'{{"evalset_id":{_dumps(taskset.id)},"evalset_name":{_dumps(taskset.name)},"tasks":'
        return head.encode() + tasks + b"}"

    def tasks(self, taskset_id: str) -> list[dict[str, Any]]:
        with paused_gc():
            rows = self._task_rows(taskset_id)
            if not rows:
                return []
            return list(json.loads(b"[" + b",".join([record for _, record in rows]) + b"]"))

    def iter_tasks(self, taskset_id: str) -> Iterator[dict[str, Any]]:
        """The taskset's task records one at a time, read from the database as they are used."""
        with self._connect() as conn:
            conn.text_factory = bytes
            rows = conn.execute("SELECT record FROM tasks WHERE evalset_id = ? ORDER BY rowid", (taskset_id,))
            for (record,) in rows:
                yield json.loads(record)

    def count_tasks(self, taskset_id: str) -> int:
        with self._connect() as conn:
            return conn.execute(
                "SELECT COUNT(*) FROM tasks WHERE evalset_id = ?", (taskset_id,)
            ).fetchone()[0]

    # -- upload --------------------------------------------------------------------------------

    def upload(self, payload: Any) -> UploadResult:
        """`POST /tasks/upload`: check the payload, then upsert every task by slug in one transaction.

        Raises `PlatformError` (status 400, `.detail` = the platform's detail string) and writes
        nothing when the payload is refused.
        """
        name, tasks, columns = _check_payload(payload)
        self._check_registry(tasks)
        records = [_record(task) for task in tasks]
        return upsert_tasks(self._connect, V5_TASKS, records, lambda conn: self._get_or_create(conn, name, columns)[0])

    # -- registry ------------------------------------------------------------------------------

    def _env_by_name(self) -> dict[str, dict[str, Any]]:
        return {env["name"]: env for env in self.registry or []}

    def _check_registry(self, tasks: list[dict[str, Any]]) -> None:
        if self.registry is None:
            return
        envs = self._env_by_name()
        missing_envs: list[str] = []
        missing_scenarios: list[str] = []
        for task in tasks:
            env_name = _env_name(task)
            if env_name is not None and env_name not in envs:
                if env_name not in missing_envs:
                    missing_envs.append(env_name)
                continue
            scenario = short_scenario(task["scenario"])
            known = {short_scenario(s) for s in envs[env_name].get("scenarios", [])} if env_name else set()
            if scenario not in known:
                label = f"{env_name}/{scenario}" if env_name else scenario
                if label not in missing_scenarios:
                    missing_scenarios.append(label)
        if missing_envs:
            raise rejected("Environments not found or not accessible: " + ", ".join(missing_envs))
        if missing_scenarios:
            raise rejected(
                "Scenario resolution failed:\nScenarios not found: " + ", ".join(missing_scenarios)
            )

    def get_env(self, registry_id: str) -> dict[str, Any] | None:
        for env in self.registry or []:
            if env["id"] == registry_id:
                return _env_summary(env)
        return None

    def search_envs(self, search: str = "", limit: int = 20) -> list[dict[str, Any]]:
        needle = search.lower()
        found = [
            _env_summary(env)
            for env in self.registry or []
            if needle in env["name"].lower() or needle in str(env.get("name_display") or "").lower()
        ]
        return found[: max(limit, 0)]

    def env_scenarios(self, env_name: str) -> list[str] | None:
        env = self._env_by_name().get(env_name)
        return None if env is None else [short_scenario(s) for s in env.get("scenarios", [])]


def _env_summary(env: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": env["id"],
        "name": env["name"],
        "name_display": env.get("name_display") or env["name"],
        "latest_version": env.get("latest_version"),
    }


@dataclass(frozen=True)
class TaskTable:
    """Where one generation stores its tasks: the table, the column naming the taskset, and the
    column (and record key) a task is matched by; v5 records also carry their own id."""

    table: str
    taskset_column: str
    key: str
    id_in_record: bool


V5_TASKS = TaskTable("tasks", "evalset_id", "slug", id_in_record=True)


def upsert_tasks(
    connect: Callable[[], "closing[sqlite3.Connection]"],
    table: TaskTable,
    records: list[dict[str, Any]],
    taskset_of: Callable[[sqlite3.Connection], RemoteTaskset],
) -> UploadResult:
    """Upsert `records` by their key into the taskset `taskset_of` finds or creates, in one
    transaction: a task already there keeps its id and creation time; on any error nothing is
    written."""
    keys = [record[table.key] for record in records]
    with connect() as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            taskset = taskset_of(conn)
            existing = dict(_existing_ids(conn, table, taskset.id, keys))
            now = _now()
            rows = []
            for key, record in zip(keys, records):
                task_id = existing.get(key) or str(uuid.uuid4())
                if table.id_in_record:
                    record["id"] = task_id
                rows.append((task_id, taskset.id, key, _dumps(record), now, now))
            conn.executemany(
                f"INSERT INTO {table.table} (id, {table.taskset_column}, {table.key}, record, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                f"ON CONFLICT ({table.taskset_column}, {table.key}) DO UPDATE SET "
                "record = excluded.record, updated_at = excluded.updated_at",
                rows,
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    updated = sum(1 for key in keys if key in existing)
    return UploadResult(created=len(records) - updated, updated=updated, taskset_id=taskset.id)


def _existing_ids(conn: sqlite3.Connection, table: TaskTable, taskset_id: str, keys: list[str]) -> Iterator[tuple[str, str]]:
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start : start + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        yield from conn.execute(
            f"SELECT {table.key}, id FROM {table.table} WHERE {table.taskset_column} = ? AND {table.key} IN ({marks})",
            (taskset_id, *chunk),
        )


def _env_name(task: dict[str, Any]) -> str | None:
    env = task.get("env")
    if isinstance(env, dict) and isinstance(env.get("name"), str) and env["name"]:
        return env["name"]
    scenario = task["scenario"]
    return scenario.rsplit(":", 1)[0] if ":" in scenario else None


def _record(task: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"id": None}
    for key in _RECORD_KEYS:
        record[key] = task.get(key)
    if record["args"] is None:
        record["args"] = {}
    return record


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise rejected("Field 'name' is required: the taskset name must be a non-empty string")
    return name


def _check_payload(payload: Any) -> tuple[str, list[dict[str, Any]], dict[str, Any] | None]:
    """Shape checks the platform makes before anything else; the first problem is reported."""
    if not isinstance(payload, dict):
        raise rejected("The request body must be a JSON object with 'name' and 'tasks'")
    name = _check_name(payload.get("name"))
    tasks = payload.get("tasks")
    if not isinstance(tasks, list):
        raise rejected("Field 'tasks' must be a list of task objects")
    columns = payload.get("columns")
    if columns is not None and not isinstance(columns, dict):
        raise rejected("Field 'columns' must be an object mapping column names to definitions")
    seen: set[str] = set()
    dupes: list[str] = []
    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            raise rejected(f"Task {index} must be an object")
        slug = task.get("slug")
        if not isinstance(slug, str) or not slug:
            raise rejected(f"Task {index} has no slug: 'slug' must be a non-empty string")
        if not isinstance(task.get("scenario"), str) or not task["scenario"]:
            raise rejected(f"Task '{slug}': 'scenario' must be a non-empty string")
        if "args" in task and task["args"] is not None and not isinstance(task["args"], dict):
            raise rejected(f"Task '{slug}': 'args' must be an object")
        env = task.get("env")
        if env is not None and not isinstance(env, dict):
            raise rejected(f"Task '{slug}': 'env' must be an object like {{\"name\": ...}}")
        for key in ("agent_config", "column_values"):
            if task.get(key) is not None and not isinstance(task[key], dict):
                raise rejected(f"Task '{slug}': '{key}' must be an object")
        if task.get("validation") is not None and not isinstance(task["validation"], list):
            raise rejected(f"Task '{slug}': 'validation' must be a list")
        if slug in seen:
            if slug not in dupes:
                dupes.append(slug)
        seen.add(slug)
    if dupes:
        raise rejected("Duplicate task slugs in upload request: " + ", ".join(dupes))
    return name, tasks, columns


class LocalPlatform:
    """The `Platform` interface straight over a `LocalStore`, with no HTTP in between."""

    def __init__(
        self, path: str | Path, *, registry: str | Path | Sequence[dict[str, Any]] | None = None
    ) -> None:
        if isinstance(registry, (str, Path)):
            registry = load_registry(registry)
        self.store = LocalStore(path, registry=registry)
        self._count = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"local:{self.store.path}"

    def __repr__(self) -> str:
        return f"LocalPlatform({str(self.store.path)!r})"

    def __enter__(self) -> "LocalPlatform":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _counted(self) -> None:
        with self._lock:
            self._count += 1

    @property
    def request_count(self) -> int:
        return self._count

    def find_taskset(self, name: str) -> RemoteTaskset | None:
        self._counted()
        return self.store.find_taskset(name)

    def fetch_tasks(
        self, taskset_id: str, keep: Callable[[dict[str, Any]], Any] | None = None
    ) -> tuple[str | None, list[Any]]:
        self._counted()
        taskset = self.store.find_taskset(taskset_id)
        if taskset is None or not self.store.count_tasks(taskset.id):
            return None, []
        if keep is None:
            return taskset.name, self.store.tasks(taskset.id)
        kept = (keep(record) for record in self.store.iter_tasks(taskset.id))
        return taskset.name, [item for item in kept if item is not None]

    def upload(
        self, name: str, tasks: list[dict[str, Any]], columns: dict[str, Any] | None
    ) -> UploadResult:
        self._counted()
        payload: dict[str, Any] = {"name": name, "tasks": tasks}
        if columns:
            payload["columns"] = columns
        return self.store.upload(payload)

    def get_env(self, registry_id: str) -> dict[str, Any] | None:
        self._counted()
        return self.store.get_env(registry_id)

    def search_envs(self, name: str, limit: int = 5) -> list[dict[str, Any]]:
        self._counted()
        return self.store.search_envs(name, limit)

    def env_scenarios(self, env_name: str) -> list[str]:
        self._counted()
        return self.store.env_scenarios(env_name) or []

    def close(self) -> None:
        """Nothing to release: every store call closes its own connection."""
