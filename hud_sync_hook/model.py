"""Task values and the content signature that decides whether a remote task is up to date.

Pure: no I/O. The signature and upload record follow the platform contract byte for byte, so a
plan made here agrees with the one `hud sync tasks` would make.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

MAX_SLUG_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Location:
    """Where a task or a problem came from: a path relative to the project, and a 1-based line."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """A validation problem: where, what is wrong, and the one-line fix."""

    location: Location
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        return f"{text} ({self.fix})" if self.fix else text


_DEFAULT_ARGS: Any = object()


class TaskSpec:
    """A task as found locally, normalised to plain data.

    Fields keep what the user wrote (a slug may be missing or of the wrong type) so that
    validation can report it; `signature` is only meaningful once the task validated.

    A validated task can be made compact (`compact()`): its args, validation and agent_config are
    then kept only inside the signature, which is their canonical JSON anyway, and read back from
    it when asked for. A taskset of 100,000 tasks then holds one string per task instead of a tree
    of parsed values, a fifth of the memory.
    """

    __slots__ = ("slug", "scenario", "env", "columns", "location", "refused", "_payload", "_signature")

    def __init__(
        self,
        slug: Any,
        scenario: Any,
        env: Any = None,
        args: Any = _DEFAULT_ARGS,
        validation: Any = None,
        agent_config: Any = None,
        columns: Any = None,
        location: Location | None = None,
    ) -> None:
        self.slug = slug
        self.scenario = scenario
        self.env = env
        self.columns = columns
        self.location = location if location is not None else Location("<unknown>")
        # (message, fix) for each field the task's reader refused; validation reports them.
        self.refused: tuple[tuple[str, str], ...] = ()
        self._payload: tuple[Any, Any, Any] | None = (
            {} if args is _DEFAULT_ARGS else args,
            validation,
            agent_config,
        )
        self._signature: str | None = None

    def _values(self) -> tuple[Any, Any, Any]:
        """(args, validation, agent_config): as given, or read back from a compact task's signature."""
        if self._payload is not None:
            return self._payload
        assert self._signature is not None
        data = json.loads(self._signature[len(short_scenario(self.qualified_scenario)) + 1 :])
        return data["args"], data.get("validation"), data.get("agent_config")

    @property
    def args(self) -> Any:
        return self._values()[0]

    @property
    def validation(self) -> Any:
        return self._values()[1]

    @property
    def agent_config(self) -> Any:
        return self._values()[2]

    @property
    def compacted(self) -> bool:
        return self._payload is None

    def compact(self) -> None:
        """Keep args, validation and agent_config only as the signature's canonical JSON.

        Only for a task that validated: its values are then plain JSON (string keys, finite or
        not, no other types), which read back from the canonical form as equal values.
        """
        if self._payload is not None:
            self.signature  # computed from the values before they are dropped
            self._payload = None

    @property
    def qualified_scenario(self) -> str:
        return qualify_scenario(str(self.scenario), self.env if isinstance(self.env, str) else None)

    @property
    def signature(self) -> str:
        if self._signature is None:
            args, validation, agent_config = self._values()
            self._signature = signature(self.qualified_scenario, args, validation, agent_config, self.columns)
        return self._signature

    def _fields(self) -> tuple[Any, ...]:
        return (self.slug, self.scenario, self.env, *self._values(), self.columns, self.location, self.refused)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TaskSpec):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        names = ("slug", "scenario", "env", "args", "validation", "agent_config", "columns", "location")
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(names, self._fields()))
        return f"TaskSpec({shown})"

    def upload_record(self) -> dict[str, Any]:
        """The task as `POST /tasks/upload` expects it."""
        args, validation, agent_config = self._values()
        record: dict[str, Any] = {
            "slug": self.slug,
            "env": {"name": self.env} if self.env else {},
            "scenario": self.qualified_scenario,
            "args": args,
        }
        if validation is not None:
            record["validation"] = validation
        if agent_config:
            record["agent_config"] = agent_config
        if self.columns:
            record["column_values"] = self.columns
        return record


def shortened(text: str, limit: int = 40) -> str:
    """`text` whole up to `limit` characters, else cut to `limit` with "..." (for problem lines)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_type(value: Any) -> str:
    """A value's JSON kind in words, for messages: 'a number', 'a list', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def qualify_scenario(scenario: str, env: str | None) -> str:
    """`checkout` with env `my-env` becomes `my-env:checkout`; a qualified name stays as it is."""
    if env and ":" not in scenario:
        return f"{env}:{scenario}"
    return scenario


def short_scenario(scenario: str) -> str:
    """The scenario without its environment prefix: renaming the env changes nothing."""
    return scenario.rsplit(":", 1)[-1] if ":" in scenario else scenario


# `json.dumps` with these options, made once: `dumps` builds a new encoder on every call, which is
# most of the cost of encoding the small values a diff compares (a dozen or more per update).
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, non-JSON values rendered with `str`: the contract's form."""
    return _CANONICAL.encode(value)


def signature(
    scenario: str,
    args: Any,
    validation: Any,
    agent_config: Any,
    columns: Any,
) -> str:
    data: dict[str, Any] = {"args": args}
    if validation is not None:
        data["validation"] = validation
    if agent_config:
        data["agent_config"] = agent_config
    if columns:
        data["columns"] = columns
    return f"{short_scenario(scenario)}|" + canonical_json(data)


def remote_slug(record: Mapping[str, Any]) -> str | None:
    slug = record.get("slug") or record.get("external_id")
    return slug if isinstance(slug, str) and slug else None


def remote_signature(record: Mapping[str, Any]) -> str:
    """Signature of a task record as the platform returns it (columns come from `column_values`).

    Total over what a platform can send, as for `args`: a scenario that is not a string reads as
    none, so the record differs from every valid local task and is shown as changed (and replaced
    by the upload), never a crash."""
    raw_args = record.get("args")
    raw_scenario = record.get("scenario")
    return signature(
        raw_scenario if isinstance(raw_scenario, str) else "",
        raw_args if isinstance(raw_args, dict) else {},
        record.get("validation"),
        record.get("agent_config") or None,
        record.get("column_values") or None,
    )


def signature_digest(sig: str) -> bytes:
    """A 16-byte digest standing in for a signature: a remote taskset is indexed by these, not by
    the signatures themselves, which are as long as the tasks."""
    return hashlib.blake2b(sig.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def remote_entry(record: Mapping[str, Any]) -> tuple[str, bytes] | None:
    """What a plan needs of a remote task record: (slug, signature digest); None without a slug."""
    slug = remote_slug(record)
    return None if slug is None else (slug, signature_digest(remote_signature(record)))


def column_definitions(tasks: Iterable[TaskSpec]) -> dict[str, dict[str, Any]] | None:
    """Infer the taskset's column types from every local task, as the platform client does.

    Any list value makes a column `multi-select` (options: the sorted union), all-numeric values
    make it `number`, anything else `text`.
    """
    values: dict[str, list[Any]] = {}
    for task in tasks:
        if isinstance(task.columns, dict):
            for name, value in task.columns.items():
                values.setdefault(name, []).append(value)
    if not values:
        return None
    definitions: dict[str, dict[str, Any]] = {}
    for name, seen in values.items():
        present = [v for v in seen if v is not None]
        if any(isinstance(v, list) for v in present):
            options: set[str] = set()
            for v in present:
                if isinstance(v, list):
                    options.update(str(item) for item in v)
                else:
                    options.add(str(v))
            definitions[name] = {"type": "multi-select", "options": sorted(options)}
        elif present and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in present
        ):
            definitions[name] = {"type": "number"}
        else:
            definitions[name] = {"type": "text"}
    return definitions


def task_from_mapping(data: Mapping[str, Any], location: Location) -> TaskSpec:
    """Normalise a task written as a mapping (a JSON/YAML row, or a dict in a Python `tasks` list).

    Keeps wrong types as they are for validation to report; only fills documented defaults.
    """
    slug = data.get("slug")
    if isinstance(slug, str):
        slug = slug.strip()
    env = data.get("env")
    if isinstance(env, Mapping):
        env = env.get("name")
    scenario = data.get("scenario")
    # A taskset repeats a few env and scenario names across many tasks: share one copy of each.
    if isinstance(env, str):
        env = sys.intern(env)
    if isinstance(scenario, str):
        scenario = sys.intern(scenario)
    args = data.get("args")
    if args is None:
        args = {}
    columns = data.get("columns")
    if columns is None:
        columns = data.get("column_values")
    agent_config = data.get("agent_config")
    return TaskSpec(
        slug=slug,
        scenario=scenario,
        env=env,
        args=args,
        validation=normalise_validation(data.get("validation")),
        agent_config=agent_config if agent_config else None,
        columns=columns if columns else None,
        location=location,
    )


def normalise_validation(value: Any) -> Any:
    """`[{name, arguments}]` or None; an empty list counts as none, as in the SDK."""
    if not value:
        return None
    if not isinstance(value, list):
        return value
    calls: list[Any] = []
    for call in value:
        if isinstance(call, Mapping):
            calls.append({"name": call.get("name"), "arguments": call.get("arguments") or {}})
        else:
            calls.append(call)
    return calls
