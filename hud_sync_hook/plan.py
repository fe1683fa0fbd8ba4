"""The sync plan: local tasks diffed against the remote taskset by slug and signature.

Pure: a `Plan` is a value, and every rendering (terminal, Markdown, JSON, PR comment) reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from hud_sync_hook.diff import V5, Change, RemoteTask, Rules, task_changes, uploads_other_env
from hud_sync_hook.model import Location, Problem, TaskSpec, signature_digest

# 2: each update lists its `changes`.
SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Rename:
    old: str
    new: str


@dataclass(frozen=True)
class EnvMismatch:
    """A local task whose env name differs from the linked environment's current name."""

    slug: str
    location: Location
    local_env: str
    current_env: str


@dataclass
class Plan:
    taskset_name: str | None
    taskset_id: str | None
    taskset_exists: bool
    create: list[TaskSpec] = field(default_factory=list)
    update: list[TaskSpec] = field(default_factory=list)
    unchanged: list[TaskSpec] = field(default_factory=list)
    remote_only: list[str] = field(default_factory=list)
    renames: list[Rename] = field(default_factory=list)
    skipped: list[Any] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    env_mismatches: list[EnvMismatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    switching_from: str | None = None
    forced: bool = False
    remote_known: bool = True
    plan_hash: str = ""
    platform_url: str | None = None  # where the plan was made (shown in every rendering)
    key_source: str | None = None  # where the API key came from, never the key
    #: the HUD SDK generation the tasks were read as: `v5` or `v6`
    sdk: str = "v5"
    #: why that generation: what in the project named it, or the fallback taken
    sdk_reason: str = ""
    # The remote side of each update that changes something, compact; see `changes`.
    remote_tasks: dict[str, RemoteTask] = field(default_factory=dict)
    # How the SDK generation compares a task (the dialect's `diff` rules).
    rules: Rules = field(default=V5, repr=False, compare=False)

    def changes(self, task: TaskSpec) -> list[Change]:
        """What uploading `task` (one of `update`) changes on the platform, field by field."""
        return task_changes(task, self.remote_tasks.get(task.slug), self.rules)

    @property
    def to_upload(self) -> list[TaskSpec]:
        return self.create + self.update

    @property
    def has_changes(self) -> bool:
        return bool(self.create or self.update)

    def counts(self) -> dict[str, int]:
        return {
            "create": len(self.create),
            "update": len(self.update),
            "unchanged": len(self.unchanged),
            "remote_only": len(self.remote_only),
            "renames": len(self.renames),
        }

    def summary(self) -> str:
        """One line: '3 to create, 1 to update, 12 unchanged, 2 remote-only'."""
        if not self.remote_known:
            return f"{len(self.create)} tasks found, plan unavailable"
        parts = [
            f"{len(self.create)} to create",
            f"{len(self.update)} to update",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.remote_only)} remote-only",
        ]
        return ", ".join(parts)


def plan_hash(taskset: str, entries: Iterable[tuple[str, str, str]], *, presorted: bool = False) -> str:
    """SHA-256 over the taskset identity and the sorted (slug, action, signature) to upload.

    With `presorted`, `entries` already come in that order and are hashed as they are made.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps({"taskset": taskset}, sort_keys=True).encode())
    for slug, action, sig in entries if presorted else sorted(entries):
        digest.update(b"\n")
        digest.update(json.dumps([slug, action, sig], ensure_ascii=False).encode())
    return digest.hexdigest()


def select_tasks(
    tasks: Sequence[TaskSpec], only: str | None = None, exclude: Iterable[str] = ()
) -> tuple[list[TaskSpec], set[str]]:
    """Apply `--task` and `--exclude`; returns the kept tasks and the slugs filtered out."""
    excluded = set(exclude)
    kept: list[TaskSpec] = []
    dropped: set[str] = set()
    for task in tasks:
        slug = task.slug
        if (only is not None and slug != only) or slug in excluded:
            dropped.add(slug)
        else:
            kept.append(task)
    return kept, dropped


def build_plan(
    local: Sequence[TaskSpec],
    remote: Iterable[Mapping[str, Any] | tuple[Any, ...]],
    *,
    taskset_name: str | None,
    taskset_id: str | None,
    taskset_exists: bool,
    force: bool = False,
    filtered_out: Iterable[str] = (),
    rules: Rules = V5,
) -> Plan:
    """Diff `local` (already validated and filtered) against the remote taskset.

    `remote` holds task records as the platform returns them, or what `diff.keeper` keeps of them
    (a streamed fetch keeps only that): (slug, digest), with the compact remote task as a third
    item for the slugs whose changes are shown. `rules` are the SDK generation's (its dialect's
    `diff`): how a record's slug and signature are read, and how a change is shown.
    """
    local_sorted = sorted(local, key=lambda t: t.slug)
    by_slug = {t.slug: t for t in local_sorted}
    remote_by_slug: dict[str, bytes] = {}
    remote_tasks: dict[str, RemoteTask] = {}
    for item in remote:
        if isinstance(item, Mapping):
            slug = rules.remote_slug(item)
            if slug is None:
                continue
            sig = rules.remote_signature(item)
            digest = signature_digest(sig)
            # Full records (tests, small tasksets): keep the compact form only for a local slug.
            kept: RemoteTask | None = rules.remote_task(item, sig) if slug in by_slug else None
        else:
            slug, digest = item[0], item[1]
            kept = item[2] if len(item) > 2 else None
        remote_by_slug[slug] = digest
        if kept is None:
            remote_tasks.pop(slug, None)  # a repeated slug: the last record counts, as for the digest
        else:
            remote_tasks[slug] = kept
    plan = Plan(
        taskset_name=taskset_name, taskset_id=taskset_id, taskset_exists=taskset_exists, forced=force, rules=rules
    )
    for task in local_sorted:
        existing = remote_by_slug.pop(task.slug, None)
        if existing is None:
            plan.create.append(task)
        elif existing != signature_digest(task.signature):
            plan.update.append(task)
            if task.slug in remote_tasks:
                plan.remote_tasks[task.slug] = remote_tasks[task.slug]
        elif force:
            plan.update.append(task)
            compact = remote_tasks.get(task.slug)
            if compact is not None and uploads_other_env(task, compact, rules):
                plan.remote_tasks[task.slug] = compact
        else:
            plan.unchanged.append(task)
    remote_tasks.clear()
    hidden = set(filtered_out)
    remote_only = {slug: digest for slug, digest in remote_by_slug.items() if slug not in hidden}
    plan.remote_only = sorted(remote_only)
    plan.renames = detect_renames(plan.create, remote_only)
    identity = taskset_id or f"name:{taskset_name}"
    # Upload slugs are unique, so ordering by (slug, action) is the sorted order, and each
    # task's uploaded content is made only when hashed (100,000 of them would be 75 MB at once).
    uploads = sorted(
        [(t.slug, "create", t) for t in plan.create] + [(t.slug, "update", t) for t in plan.update],
        key=lambda entry: entry[:2],
    )
    plan.plan_hash = plan_hash(
        identity, ((slug, action, uploaded_content(t)) for slug, action, t in uploads), presorted=True
    )
    return plan


def uploaded_content(task: TaskSpec) -> str:
    """Everything of a task that an upload sends: the signature leaves out the environment, which
    the upload record carries (as `env` and as the scenario's prefix), so it is added here."""
    return f"{task.env or ''}|{task.qualified_scenario}|{task.signature}"


def detect_renames(created: Sequence[TaskSpec], remote_only: Mapping[str, bytes]) -> list[Rename]:
    """A new local slug whose signature equals a remote-only task's: probably a rename.

    `remote_only` maps slug to signature digest. Remote-only tasks are indexed by digest once, so
    this is linear in the task count.
    """
    if not created or not remote_only:
        return []
    by_signature: dict[bytes, deque[str]] = {}
    for slug in sorted(remote_only):
        by_signature.setdefault(remote_only[slug], deque()).append(slug)
    renames: list[Rename] = []
    for task in created:
        candidates = by_signature.get(signature_digest(task.signature))
        if candidates:
            renames.append(Rename(old=candidates.popleft(), new=task.slug))
    return renames


def offline_plan(local: Sequence[TaskSpec], *, taskset_name: str | None) -> Plan:
    """A plan without the remote side: every local task listed, nothing known about the platform."""
    plan = Plan(taskset_name=taskset_name, taskset_id=None, taskset_exists=False, remote_known=False)
    plan.create = sorted(local, key=lambda t: t.slug)
    return plan
