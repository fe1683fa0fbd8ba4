"""What an update changes, field by field: scenario, environment, each args key, validation,
agent_config and columns (v6 rows: id, env, args, ..., runtime_config, verifier), old → new.

Pure: no I/O. A streamed fetch keeps, for each slug it will update, only the remote side of what
changes (`Diffed`: the old value of each changed field or key, as JSON, compressed when long); the
local side is read again from the local task when the plan is shown. So a plan of 100,000 updates
holds no remote record, only what differs. What is compared depends on the SDK generation: each
dialect brings its `Rules`.
"""

from __future__ import annotations

import json
import re
import sys
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from hud_sync_hook.inert import text as inert_text
from hud_sync_hook.model import TaskSpec, canonical_json, remote_signature, remote_slug, short_scenario, signature_digest

# Fields in the order a reviewer reads them; the keyed ones are compared key by key.
KEYED_FIELDS = ("args", "agent_config", "columns")
BODY_FIELDS = ("args", "validation", "agent_config", "columns")


class _Absent:
    """A value that is not there: the key was added (old) or removed (new)."""

    _instance: "_Absent | None" = None

    def __new__(cls) -> "_Absent":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()


@dataclass(frozen=True, slots=True)
class RemoteTask:
    """What the diff of one update needs of a task, as three strings: the scenario and environment
    names as stored (v5; empty for a generation whose signature holds them), and the signature's
    canonical JSON (v5: args, validation, agent_config, columns; v6: the whole row but its slug).
    A local task is put in the same form to be compared with it."""

    scenario: str
    env: str | None
    body: str

    def values(self) -> dict[str, Any]:
        return _body_values(self.body)


# The remote sides of a task's changes are compressed when their JSON is longer than this, with a
# 4 KiB window and a small hash table: one short text is compressed about as well as with zlib's
# defaults, and in a tenth of the time, which for zlib's defaults goes mostly to setting up 256 KiB.
_COMPRESS_FROM = 120
_WINDOW_BITS = 12
_MEM_LEVEL = 3


def _packed(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, _WINDOW_BITS, _MEM_LEVEL)
    return compressor.compress(data) + compressor.flush()


@dataclass(frozen=True, slots=True)
class Diffed(RemoteTask):
    """A remote task once diffed with its local task, as a plan keeps it: the scenario and
    environment names (shared, interned) and, instead of the whole record, the remote side of
    each change, in order, as JSON (`[field, key, 1, old]`, or `[field, key, 0]` when the remote
    side is absent), compressed when long. The local side is read again from the local task, so
    the changes come out equal to those of the whole record."""

    old: bytes = b""

    def values(self) -> dict[str, Any]:
        raise TypeError("a Diffed keeps only the changes; read them with `changes`")

    def changes(self, task: Any, rules: "Rules") -> list["Change"]:
        # A zlib stream never starts with "[" (its first byte names the method, 8, and the window).
        data = self.old if self.old[:1] == b"[" else zlib.decompress(self.old, _WINDOW_BITS)
        new_values = rules.fields(rules.local_task(task))
        changes = []
        for field, key, present, *old in json.loads(data):
            new = new_values.get(field, ABSENT)
            if key is not None:
                new = new.get(key, ABSENT) if isinstance(new, dict) else ABSENT
            changes.append(Change(field, key, old[0] if present else ABSENT, new))
        return changes


def diffed(task: Any, remote: RemoteTask, rules: "Rules") -> Diffed:
    """`remote` reduced to what `task` changes in it (see `Diffed`)."""
    sides = [
        [change.field, change.key, 0] if change.old is ABSENT else [change.field, change.key, 1, change.old]
        for change in task_changes(task, remote, rules)
    ]
    # Default `json.dumps` (ASCII, NaN allowed, key order kept) reads back as equal values.
    data = json.dumps(sides, separators=(",", ":")).encode("ascii")
    if len(data) >= _COMPRESS_FROM:
        packed = _packed(data)
        data = packed if len(packed) < len(data) else data
    return Diffed(scenario=remote.scenario, env=remote.env, body="", old=data)


@dataclass(frozen=True)
class Rules:
    """How one SDK generation's tasks are compared: a remote record's slug and signature (the one
    whose digest the plan compares with the local task's `signature`), the compact form of a remote
    record and of a local task, and the fields that form shows, in the order a reviewer reads them.

    Every function is total over what a platform can answer: a wrongly typed value in a record
    makes a signature that differs from any valid local task (the task is shown changed), never an
    exception."""

    remote_slug: Callable[[Mapping[str, Any]], str | None]
    remote_signature: Callable[[Mapping[str, Any]], str]
    #: (record, its signature) -> RemoteTask
    remote_task: Callable[[Mapping[str, Any], str], RemoteTask]
    #: local task -> RemoteTask
    local_task: Callable[[Any], RemoteTask]
    #: RemoteTask -> {field: value}, a field that is not there left out
    fields: Callable[[RemoteTask], dict[str, Any]]
    #: fields in reading order; any other field follows, sorted
    order: Sequence[str]


@dataclass(frozen=True, slots=True)
class Change:
    """One changed field, or one key of `args`, `agent_config` or `columns` (`key` set)."""

    field: str
    key: str | None
    old: Any = ABSENT
    new: Any = ABSENT

    @property
    def kind(self) -> str:
        if self.old is ABSENT:
            return "added"
        if self.new is ABSENT:
            return "removed"
        return "changed"

    def as_dict(self) -> dict[str, Any]:
        """For the JSON plan: full values, `old` left out when added and `new` when removed."""
        data: dict[str, Any] = {"field": self.field}
        if self.key is not None:
            data["key"] = self.key
        data["change"] = self.kind
        if self.old is not ABSENT:
            data["old"] = self.old
        if self.new is not ABSENT:
            data["new"] = self.new
        return data


def _body_values(body: str) -> dict[str, Any]:
    data = json.loads(body)
    return data if isinstance(data, dict) else {}


def _env_name(env: Any, scenario: str) -> str | None:
    """The environment an upload names: the env, else the prefix of a qualified scenario."""
    if isinstance(env, str) and env:
        return env
    return scenario.rsplit(":", 1)[0] if ":" in scenario else None


def remote_task(record: Mapping[str, Any], signature: str | None = None) -> RemoteTask:
    """The compact form of a remote record (its `signature`, when already computed, is reused)."""
    sig = remote_signature(record) if signature is None else signature
    raw = record.get("scenario")
    scenario = raw if isinstance(raw, str) else ""
    env = record.get("env")
    env_name = env.get("name") if isinstance(env, Mapping) else None
    env_name = _env_name(env_name, scenario)
    return RemoteTask(  # a taskset repeats a few scenario and env names: one copy of each
        scenario=sys.intern(scenario),
        env=None if env_name is None else sys.intern(env_name),
        body=sig[len(short_scenario(scenario)) + 1 :],
    )


def _local_env(task: TaskSpec) -> str | None:
    return _env_name(task.env, task.qualified_scenario)


def _local_body(task: TaskSpec) -> str:
    return task.signature[len(short_scenario(task.qualified_scenario)) + 1 :]


def local_task(task: TaskSpec) -> RemoteTask:
    """A v5 task in the compact form of a remote one."""
    return RemoteTask(scenario=task.qualified_scenario, env=_local_env(task), body=_local_body(task))


def v5_fields(compact: RemoteTask) -> dict[str, Any]:
    """The short scenario, the environment an upload names (outside the signature), and the
    signature's own fields."""
    fields: dict[str, Any] = {"scenario": short_scenario(compact.scenario)}
    if compact.env is not None:
        fields["env"] = compact.env
    fields.update(compact.values())
    return fields


V5 = Rules(
    remote_slug=remote_slug,
    remote_signature=remote_signature,
    remote_task=remote_task,
    local_task=local_task,
    fields=v5_fields,
    order=("scenario", "env", *BODY_FIELDS),
)


def uploads_other_env(task: TaskSpec, remote: RemoteTask, rules: Rules = V5) -> bool:
    """Whether uploading `task` would change the remote task's environment where the signature,
    and so the plan, leaves it out (v5: it counts only for a task that is uploaded anyway; a
    generation whose signature holds the environment never gets here with another one)."""
    return rules.local_task(task).env != remote.env


def keeper(
    local: Iterable[TaskSpec], *, force: bool = False, rules: Rules = V5
) -> Callable[[Mapping[str, Any]], Any]:
    """A `keep` function for a streamed fetch: (slug, digest) for every remote task, and a third
    item only for a slug the plan will update and show a change for (a local task with another
    signature or, forced, another environment): the remote task reduced to what changes in it
    (`Diffed`), the record itself dropped as soon as it is diffed. Memory then grows with what
    changed, not with the taskset. `rules` are the SDK generation's (its dialect's `diff`)."""
    by_slug = {task.slug: task for task in local}

    def keep(record: Mapping[str, Any]) -> tuple[Any, ...] | None:
        slug = rules.remote_slug(record)
        if slug is None:
            return None
        sig = rules.remote_signature(record)
        digest = signature_digest(sig)
        task = by_slug.get(slug)
        if task is None:
            return slug, digest
        slug = task.slug  # one string for both sides
        if digest != signature_digest(task.signature):
            return slug, digest, diffed(task, rules.remote_task(record, sig), rules)
        if force:
            compact = rules.remote_task(record, sig)
            if uploads_other_env(task, compact, rules):
                return slug, digest, diffed(task, compact, rules)
        return slug, digest

    return keep


def _keyed(field: str, old: Any, new: Any) -> list[Change]:
    """Key by key when both sides are objects (or absent); the whole value otherwise."""
    old_map = {} if old is ABSENT else old
    new_map = {} if new is ABSENT else new
    if not isinstance(old_map, dict) or not isinstance(new_map, dict):
        return [Change(field, None, old, new)]
    changes = []
    for key in sorted(set(old_map) | set(new_map)):
        before = old_map.get(key, ABSENT)
        after = new_map.get(key, ABSENT)
        if before is ABSENT or after is ABSENT or canonical_json(before) != canonical_json(after):
            changes.append(Change(field, key, before, after))
    return changes


def task_changes(task: TaskSpec, remote: RemoteTask | None, rules: Rules = V5) -> list[Change]:
    """What uploading `task` changes in `remote`, under the generation's `rules`; empty without a
    remote record (a forced update of an identical task)."""
    if remote is None:
        return []
    if isinstance(remote, Diffed):
        return remote.changes(task, rules)
    changes: list[Change] = []
    old_values = rules.fields(remote)
    new_values = rules.fields(rules.local_task(task))
    known = set(rules.order)
    others = sorted((set(old_values) | set(new_values)) - known)
    for field in (*rules.order, *others):
        before = old_values.get(field, ABSENT)
        after = new_values.get(field, ABSENT)
        if before is ABSENT and after is ABSENT:
            continue
        if field in KEYED_FIELDS:
            changes.extend(_keyed(field, before, after))
        elif before is ABSENT or after is ABSENT or canonical_json(before) != canonical_json(after):
            changes.append(Change(field, None, before, after))
    return changes


# -- showing a change ---------------------------------------------------------------------------

def show_value(value: Any) -> str:
    """A value as one line of JSON, inert: JSON escapes C0 controls, `inert.text` the rest (DEL,
    C1, separators, bidirectional overrides)."""
    if value is ABSENT:
        return ""
    return inert_text(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def field_label(change: Change) -> str:
    """`args.difficulty`, `args["two words"]`, or the field's name."""
    if change.key is None:
        return change.field
    if _PLAIN_KEY.match(change.key):
        return f"{change.field}.{change.key}"
    return f"{change.field}[{show_value(change.key)}]"


def shorten(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: max(1, width - 1)] + "…"


def shorten_pair(old: str, new: str, width: int = 70, context: int = 20) -> tuple[str, str]:
    """Both values cut to about `width` characters around where they differ, with the same
    amount of common text kept before it, so that the change stays in view."""
    if len(old) <= width and len(new) <= width:
        return old, new
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    start = max(0, prefix - context)

    def window(text: str) -> str:
        end = min(len(text), len(text) - suffix + context)
        if end - start > width:
            end = start + width
        shown = text[start:end]
        return ("…" if start > 0 else "") + shown + ("…" if end < len(text) else "")

    return window(old), window(new)


def shown_pair(change: Change, width: int = 70) -> tuple[str, str]:
    """(old, new) as shown to a person: inert JSON, long ones shortened around the change;
    an empty string for a side that is absent."""
    old, new = show_value(change.old), show_value(change.new)
    if change.old is ABSENT:
        return "", shorten(new, width)
    if change.new is ABSENT:
        return shorten(old, width), ""
    return shorten_pair(old, new, width)
