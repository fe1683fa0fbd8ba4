"""Tasks of the v6 SDK (`hud` 0.6.x) as plain data: rows, default slugs, validation and signature.

Pure: no I/O. Follows `hud.eval.task.Task` and `hud.eval.sync` of the official client: a task is
`env` (a name), `id` (the template), `args`, `slug` and optional metadata; its signature is the
whole dump without the slug, so the environment counts.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any, Iterable, Mapping

from hud_sync_hook.dialect.v6_runtime import dump_runtime_config, read_runtime_config
from hud_sync_hook.diff import RemoteTask, Rules
from hud_sync_hook.model import Location, Problem, canonical_json, describe_type, signature_digest
from hud_sync_hook.validate import validate_each

#: The fields of a v6 task row after `env`, `id`, `args` and `slug`, in the model's order.
OPTIONAL_FIELDS = ("validation", "agent_config", "columns", "runtime_config", "verifier")
DUMP_ORDER = ("env", "id", "args", "slug", *OPTIONAL_FIELDS)
_MISSING: Any = object()


def default_slug(template_id: Any, args: Any) -> str:
    """`id`, or `id-<8 hex>` of the sorted args when there are any: the SDK's default slug."""
    slug = str(template_id if template_id is not None else "")
    if args:
        digest = hashlib.sha1(
            json.dumps(args, sort_keys=True, default=str).encode("utf-8"), usedforsecurity=False
        ).hexdigest()[:8]
        slug += "-" + digest
    return slug


def dump_row(row: Mapping[str, Any], *, with_slug: bool, dumped: bool = False) -> dict[str, Any]:
    """`model_dump(mode="json", exclude_none=True)` of a valid row, optionally without the slug.
    `dumped`: the row is already a dump (read back from a signature), so its `runtime_config` is
    not read again (a dump is not always a fixed point: an infinite cpu is dumped as null)."""
    out: dict[str, Any] = {}
    for key in DUMP_ORDER:
        if key == "slug" and not with_slug:
            continue
        value = row.get(key)
        if value is None:
            continue
        if key == "runtime_config" and not dumped:
            value = dump_runtime_config(value)
        elif key == "verifier" and isinstance(value, dict):
            value = dump_row(value, with_slug=True, dumped=dumped)
        out[key] = value
    return out


def row_signature(row: Mapping[str, Any]) -> str:
    """The official `_task_signature`: sorted, compact JSON of the dump without the slug."""
    return canonical_json(dump_row(row, with_slug=False))


def nested_row(data: Mapping[str, Any]) -> dict[str, Any]:
    """A verifier (itself a task) as a row: known keys only, args defaulting to {}, and its default
    slug, which counts in its parent's signature."""
    row = {key: data[key] for key in DUMP_ORDER if key in data}
    row.setdefault("args", {})
    if "slug" not in row and isinstance(row.get("id"), str) and isinstance(row["args"], dict):
        row["slug"] = default_slug(row["id"], row["args"])
    return row


class V6Task:
    """A v6 task as found locally. Keeps what the user wrote, so validation can report it.

    Offers what the dialect-neutral pipeline reads of a task: `slug`, `scenario` (the template
    id), `env`, `columns`, `location`, `signature`, `upload_record()`, and `compact()`, after which
    the row is kept only as its signature (the dump without the slug, from which it reads back).
    """

    __slots__ = ("slug", "scenario", "env", "columns", "location", "_row", "_signature", "notes")

    def __init__(self, row: dict[str, Any], location: Location, notes: tuple[str, ...] = ()) -> None:
        self._row: dict[str, Any] | None = row
        self.slug = row.get("slug")
        self.scenario = row.get("id")
        self.env = row.get("env")
        self.columns = row.get("columns")
        self.location = location
        self.notes = notes
        self._signature: str | None = None

    @property
    def row(self) -> dict[str, Any]:
        if self._row is not None:
            return self._row
        assert self._signature is not None
        row = json.loads(self._signature)
        row["slug"] = self.slug
        return row

    @property
    def compacted(self) -> bool:
        return self._row is None

    def compact(self) -> None:
        if self._row is not None:
            self.signature  # computed before the row is dropped
            self._row = None

    @property
    def args(self) -> Any:
        return self.row.get("args")

    @property
    def qualified_scenario(self) -> str:
        """`env:template`, as the plan shows it."""
        if isinstance(self.env, str) and self.env:
            return f"{self.env}:{self.scenario}"
        return str(self.scenario)

    @property
    def signature(self) -> str:
        if self._signature is None:
            self._signature = row_signature(self._row or {})
        return self._signature

    def upload_record(self) -> dict[str, Any]:
        """One item of `POST /v2/tasks/upload`: `name`, `env: {name}`, `task_id`, then the rest."""
        row = dump_row(self.row, with_slug=True, dumped=self.compacted)
        return {"name": row.pop("slug"), "env": {"name": row.pop("env")}, "task_id": row.pop("id"), **row}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, V6Task):
            return NotImplemented
        return (self.row, self.location) == (other.row, other.location)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"V6Task({self.row!r}, {self.location})"


def task_from_mapping(data: Mapping[str, Any], location: Location) -> V6Task:
    """A v6 row (JSON/YAML, or a task the import child dumped) as a task; unknown keys are ignored,
    as the SDK does, but v5 keys are remembered to suggest the rename."""
    row: dict[str, Any] = {}
    for key in DUMP_ORDER:
        if key in data:
            row[key] = data[key]
    if "args" not in row:
        row["args"] = {}
    for key in ("env", "id"):
        if isinstance(row.get(key), str):
            row[key] = sys.intern(row[key])
    if "slug" not in row and isinstance(row.get("id"), str) and isinstance(row["args"], dict):
        row["slug"] = default_slug(row["id"], row["args"])
    if isinstance(row.get("verifier"), Mapping):
        row["verifier"] = nested_row(row["verifier"])
    notes = tuple(key for key in ("scenario", "column_values") if key in data)
    return V6Task(row, location, notes)


# -- validation -----------------------------------------------------------------------------------

SLUG_FIX = "set a unique, non-empty slug, e.g. slug='count-banana'"


def _label(task: V6Task) -> str:
    slug = task.slug
    return f"task {slug!r}" if isinstance(slug, str) and slug and slug.isprintable() else "task"


def _row_problems(row: Mapping[str, Any], where: str, notes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(message, fix) for every way `row` is not a valid `hud.eval.Task`."""
    found: list[tuple[str, str]] = []

    def add(message: str, fix: str) -> None:
        found.append((f"{where}{message}", fix))

    env = row.get("env", _MISSING)
    if env is _MISSING or env is None:
        add("has no env", "set env to the environment's name, e.g. \"env\": \"letters\"")
    elif isinstance(env, dict):
        add("env is an object, the v6 SDK takes the environment's name", 'write env as a string: "env": "' + str(env.get("name", "my-env")) + '"')
    elif not isinstance(env, str):
        add(f"env must be a string, found {describe_type(env)}", "write the environment's name as a string")
    elif not env:
        add("env is empty", "set env to the environment's name")
    template = row.get("id", _MISSING)
    if template is _MISSING or template is None:
        if "scenario" in notes:
            add("has 'scenario' but no 'id' (v5 rows name the scenario, v6 rows the template id)", "rename the key 'scenario' to 'id' (without the 'env:' prefix)")
        else:
            add("has no id (the template id)", "set id to the template's id, e.g. \"id\": \"count\"")
    elif not isinstance(template, str):
        add(f"id must be a string, found {describe_type(template)}", "write the template id as a string")
    elif not template:
        add("id is empty", "set id to the template's id")
    args = row.get("args")
    if not isinstance(args, dict):  # its keys are strings: rows come from JSON, or YAML made plain
        add(f"args must be an object, found {describe_type(args)}", "write args as an object of named arguments, or leave it out")
    if "slug" in row:
        slug = row["slug"]
        if not isinstance(slug, str):
            add(f"slug must be a string, found {describe_type(slug)}", SLUG_FIX)
        elif not slug:
            add("slug is empty", SLUG_FIX)
        elif not slug.isprintable():
            add(f"slug {slug!r} contains a control character or line break", SLUG_FIX)
    validation = row.get("validation")
    if validation is not None:
        if not isinstance(validation, list):
            add(f"validation must be a list of objects, found {describe_type(validation)}", "write validation as a list of objects")
        elif any(not isinstance(c, dict) for c in validation):
            add("every validation entry must be an object", "write validation as a list of objects")
    for key in ("agent_config", "columns"):
        value = row.get(key)
        if value is not None and not isinstance(value, dict):
            add(f"{key} must be an object, found {describe_type(value)}", f"write {key} as an object")
    if "column_values" in notes and row.get("columns") is None:
        add("has 'column_values' (v5); v6 rows call them 'columns'", "rename the key 'column_values' to 'columns'")
    found.extend((f"{where}{m}", f) for m, f in _runtime_problems(row.get("runtime_config")))
    return found


def _runtime_problems(config: Any) -> list[tuple[str, str]]:
    """Every way `runtime_config` breaks the SDK's models (`hud.eval.runtime`)."""
    return [(str(problem), problem.fix) for problem in read_runtime_config(config)[1]]


def validate_task(task: V6Task) -> list[Problem]:
    if task.compacted:  # only a task that validated is made compact
        return []
    row = task.row
    label = _label(task)
    found = _row_problems(row, f"{label}: " if label != "task" else "task ", task.notes)
    verifier = row.get("verifier")
    if verifier is not None:
        if not isinstance(verifier, dict):
            found.append((f"{label}: verifier must be a task object, found {describe_type(verifier)}", "write verifier as a task row"))
        else:
            found.extend(_row_problems(verifier, f"{label}: verifier ", ()))
            if verifier.get("verifier") is not None:
                found.append((f"{label}: verifier has its own verifier", "nested verifier tasks are not supported; remove the inner one"))
    problems = [Problem(task.location, message, fix) for message, fix in found]
    if not problems:
        from hud_sync_hook.validate import _LONE_SURROGATE, _non_finite, _surrogate

        text = task.signature
        if "NaN" in text or "Infinity" in text:
            for key in ("args", *OPTIONAL_FIELDS):
                bad = _non_finite(row.get(key), key)
                if bad:
                    problems.append(Problem(task.location, f"{label}: {bad} is NaN or Infinity, which JSON cannot hold", "use a finite number, a string or null"))
        if _LONE_SURROGATE.search(text):
            for key in ("args", *OPTIONAL_FIELDS):
                bad = _surrogate(row.get(key), key)
                if bad:
                    problems.append(Problem(task.location, f"{label}: {bad} holds half of a UTF-16 surrogate pair, which is not text", "write the character itself"))
    return problems


def compact_if_valid(task: V6Task) -> None:
    if not validate_task(task):
        task.compact()


def validate(tasks: Iterable[V6Task]) -> list[Problem]:
    """Every problem of every task, then duplicate slugs (the default slug leaves out the env, so
    one template with the same args in two environments collides, as in the SDK)."""
    return validate_each(tasks, validate_task, "give each task its own slug=")


# -- the remote side ------------------------------------------------------------------------------


def remote_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """An export record (`name`, `env` string, `scenario`) as a task row, as the SDK maps it."""
    row: dict[str, Any] = {
        "env": record.get("env"),
        "id": record.get("scenario") or "",
        "args": record.get("args") or {},
        "slug": record.get("name"),
    }
    for key in OPTIONAL_FIELDS:
        row[key] = record.get(key)
    if isinstance(row.get("verifier"), Mapping):
        row["verifier"] = nested_row(row["verifier"])
    return row


def remote_slug(record: Mapping[str, Any]) -> str | None:
    """An export record's slug: its `name`; None when that is not a non-empty string."""
    slug = record.get("name")
    return slug if isinstance(slug, str) and slug else None


def remote_signature(record: Mapping[str, Any]) -> str:
    """The signature of an export record as the SDK computes it. Total over what a platform can
    send: a value of the wrong type is written as it came, so the task shows as changed."""
    return row_signature(remote_row(record))


def remote_entry(record: Mapping[str, Any]) -> tuple[str, bytes] | None:
    """(slug, signature digest) of an export record; None without a name."""
    slug = remote_slug(record)
    if slug is None:
        return None
    return slug, signature_digest(remote_signature(record))


# -- field-level changes ------------------------------------------------------------------------

def _compact_remote(record: Mapping[str, Any], signature: str) -> RemoteTask:
    # The signature holds everything compared, the environment and the template id included.
    return RemoteTask(scenario="", env=None, body=signature)


def _compact_local(task: V6Task) -> RemoteTask:
    return RemoteTask(scenario="", env=None, body=task.signature)


def _fields(compact: RemoteTask) -> dict[str, Any]:
    return compact.values()


#: What a v6 update shows: every field of the row but the slug, by the row's own names.
DIFF_RULES = Rules(
    remote_slug=remote_slug,
    remote_signature=remote_signature,
    remote_task=_compact_remote,
    local_task=_compact_local,
    fields=_fields,
    order=("id", "env", "args", *OPTIONAL_FIELDS),
)
