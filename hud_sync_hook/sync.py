"""The steps every front end composes: read the local tasks, resolve the taskset, plan, apply.

Takes a platform and options, returns values; printing and exit codes belong to the callers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from hud_sync_hook.bulk import paused_gc
from hud_sync_hook.config import ProjectConfig, load_project_config, save_config
from hud_sync_hook.dialect import Choice, Dialect, choose
from hud_sync_hook.dialect import get as get_dialect
from hud_sync_hook.discovery import Discovery
from hud_sync_hook.discovery.import_errors import Allowed, split_import_errors
from hud_sync_hook.errors import HudSyncError, PlatformError
from hud_sync_hook.diff import keeper
from hud_sync_hook.model import Problem, TaskSpec, column_definitions, short_scenario
from hud_sync_hook.plan import EnvMismatch, Plan, build_plan, select_tasks
from hud_sync_hook.platform.base import Platform, is_uuid

DEFAULT_BATCH_SIZE = 500


@dataclass
class LocalTasks:
    """What discovery and validation found, before the platform is asked anything."""

    source: Path
    project_root: Path
    config: ProjectConfig
    discovery: Discovery
    problems: list[Problem]
    selected: list[TaskSpec]
    filtered_out: set[str]
    # Task files that failed to import: those the project allows (the others are in `problems`).
    skipped: list[Any] = field(default_factory=list)
    sdk: Choice | None = None

    @property
    def all_tasks(self) -> list[TaskSpec]:
        return self.discovery.tasks

    @property
    def dialect(self) -> Dialect:
        """The SDK generation these tasks were read as (v5 unless chosen otherwise)."""
        return get_dialect(self.sdk.name if self.sdk else "v5")


def source_folder(source: Path) -> Path:
    return source if source.is_dir() else source.parent


def repo_root(start: Path) -> Path | None:
    current = start.resolve()
    while True:
        if (current / ".git").exists():
            return current
        if current.parent == current:
            return None
        current = current.parent


def read_local(
    source: str | Path,
    *,
    base: Path | None = None,
    only: str | None = None,
    exclude: Sequence[str] = (),
    import_timeout: float = 60.0,
    allow_python: bool = True,
    allow_import_errors: Sequence[str] = (),
    allow_name: str = "--allow-import-errors",
    sdk: str | None = "auto",
) -> LocalTasks:
    """Discover and validate; raises only for a source that cannot be read at all (or a config
    that cannot be used).

    `sdk` (`auto`, `v5`, `v6`) picks the HUD SDK generation, before anything is imported. A task
    file that fails to import is a problem at its file and line, unless it matches
    `allow_import_errors` (relative to `base`) or the config's `allowImportErrors` (relative to the
    folder that holds `.hud/`); `allow_name` is how the failure's fix names the setting.
    """
    base = base or Path.cwd()
    source_path = Path(source)
    with paused_gc(freeze=True):
        folder = source_folder(source_path.resolve()) if source_path.exists() else base
        config = load_project_config(folder)
        project_root = config.path.parent.parent  # where `.hud/` lives: the config and the local store
        chosen = choose(sdk, source_path, config_data=config.data, config_shown=config.shown(), base=base)
        dialect = get_dialect(chosen.name)
        config = dialect.adapt_config(config)
        discovery = dialect.discover(source_path, base=base, import_timeout=import_timeout, allow_python=allow_python)
        failures, skipped = split_import_errors(
            discovery.skipped,
            base.resolve().as_posix(),
            [
                Allowed(base.resolve().as_posix(), tuple(allow_import_errors)),
                Allowed(project_root.resolve().as_posix(), config.allow_import_errors),
            ],
            allow=f"{allow_name} or allowImportErrors in {config.shown()}",
        )
        problems = list(discovery.problems) + failures + dialect.validate(discovery.tasks)
        selected, filtered_out = select_tasks(discovery.tasks, only, exclude)
    if not selected and not problems and discovery.tasks:
        if only is not None and all(task.slug != only for task in discovery.tasks):
            raise HudSyncError(f"--task {only!r} matches no local task; check the slug")
        if exclude:
            what = f"--exclude leaves out --task {only!r}" if only is not None else (
                f"--exclude leaves out all {len(discovery.tasks)} local task(s)"
            )
            raise HudSyncError(f"no tasks left after exclusions: {what}; exclude fewer")
    return LocalTasks(
        source=source_path,
        project_root=project_root,
        config=config,
        discovery=discovery,
        problems=problems,
        selected=selected,
        filtered_out=filtered_out,
        skipped=skipped,
        sdk=chosen,
    )


@dataclass
class TasksetRef:
    name: str | None
    id: str | None
    switching_from: str | None = None


def choose_taskset(taskset_arg: str | None, id_flag: str | None, config: ProjectConfig) -> TasksetRef:
    """Which taskset the user means: the argument, else `--id`, else `tasksetId` in the config."""
    stored = config.taskset_id
    if id_flag is not None:
        if not is_uuid(id_flag):
            raise HudSyncError(f"--id {id_flag!r} is not a taskset id (a UUID); pass the name as an argument instead")
        ref = TasksetRef(name=taskset_arg if taskset_arg and not is_uuid(taskset_arg) else None, id=id_flag)
    elif taskset_arg:
        if is_uuid(taskset_arg):
            ref = TasksetRef(name=None, id=taskset_arg)
        else:
            ref = TasksetRef(name=taskset_arg, id=None)
    elif stored:
        name = config.data.get("tasksetName")
        return TasksetRef(name=name if isinstance(name, str) else None, id=stored)
    elif config.taskset_id_problem:
        from hud_sync_hook.errors import ConfigError

        raise ConfigError(config.taskset_id_problem, file=config.shown())
    else:
        raise HudSyncError(
            "no taskset given: pass a taskset name (e.g. `hud-sync-hook plan my-taskset .`) "
            f"or set tasksetId in {config.shown()}"
        )
    return ref


def plan_against(
    platform: Platform,
    local: LocalTasks,
    ref: TasksetRef,
    *,
    force: bool = False,
) -> Plan:
    """Resolve the taskset on the platform and diff the selected local tasks against it."""
    dialect = local.dialect
    dialect.before_plan(platform, local)
    stored = local.config.taskset_id
    records: list[tuple] = []
    # Per remote task only (slug, digest), plus the compact record of each that changed, both
    # read by the generation's rules (v6 signs the whole row, v5 the scenario and its arguments).
    keep = keeper(local.selected, force=force, rules=dialect.diff)
    name = ref.name
    taskset_id = ref.id
    exists = False
    if taskset_id:
        remote_name, records = platform.fetch_tasks(taskset_id, keep=keep)
        if remote_name is None and not records:
            if name is None:
                origin = "tasksetId in " + local.config.shown() if taskset_id == stored else "that id"
                raise HudSyncError(
                    f"taskset {taskset_id} (from {origin}) was not found on the platform "
                    f"({platform_label(platform)}); pass a taskset name to create one there, or fix the id"
                )
            taskset_id = None
        else:
            exists = True
            name = remote_name or name
    else:
        assert name is not None
        found = platform.find_taskset(name)
        if found is not None:
            exists = True
            taskset_id = found.id
            name = found.name or name
            _name, records = platform.fetch_tasks(found.id, keep=keep)
    with paused_gc(freeze=True):
        plan = build_plan(
            local.selected,
            records,
            taskset_name=name,
            taskset_id=taskset_id,
            taskset_exists=exists,
            force=force,
            filtered_out=local.filtered_out,
            rules=dialect.diff,
        )
    plan.sdk = dialect.name
    plan.sdk_reason = local.sdk.reason if local.sdk else ""
    if stored and stored != taskset_id:
        if taskset_id is None and platform.fetch_tasks(stored, keep=_nothing) == (None, []):
            # Not a switch: the stored id belongs to another platform (or another local store).
            plan.notes.append(
                f"tasksetId {stored} in {local.config.shown()} is unknown to {platform_label(platform)}; "
                f"the first upload creates '{name}' there and stores its id instead"
            )
        else:
            plan.switching_from = stored
    plan.skipped = list(local.skipped)
    plan.platform_url = getattr(platform, "url", None)
    plan.key_source = getattr(platform, "key_source", None)
    return plan


def _nothing(_record: Any) -> None:
    return None


def platform_label(platform: Platform) -> str:
    """The platform as the user named it: its URL, or the local store's file."""
    url = getattr(platform, "base_url", None)
    if isinstance(url, str):
        return url
    store = getattr(platform, "store", None)
    path = getattr(store, "path", None)
    if path is not None:
        from hud_sync_hook.discovery import display_path

        return f"the local platform in {display_path(Path(path), Path.cwd())}"
    return "the platform"


def env_mismatches(platform: Platform, local: LocalTasks) -> tuple[list[EnvMismatch], str | None]:
    """Tasks whose env differs from the linked environment's current name; and a warning, if any."""
    mismatches, warning, _current = check_linked_env(platform, local)
    return mismatches, warning


def check_linked_env(platform: Platform, local: LocalTasks) -> tuple[list[EnvMismatch], str | None, str | None]:
    """`env_mismatches`, plus the linked environment's current name (None when there is none)."""
    registry_id = local.config.registry_id
    if not registry_id:
        return [], None, None
    env = platform.get_env(registry_id)
    if env is None:
        return [], (
            f"the environment linked in {local.config.shown()} (registryId {registry_id}) no longer exists; "
            "run `hud-sync-hook link-env NAME` to link another"
        ), None
    current = env.get("name")
    if not isinstance(current, str) or not current:
        return [], None, None
    found = [
        EnvMismatch(slug=t.slug, location=t.location, local_env=t.env, current_env=current)
        for t in local.selected
        if isinstance(t.env, str) and t.env and t.env != current
    ]
    return found, None, current


def unregistered_scenarios(platform: Platform, local: LocalTasks, env_name: str) -> list[Problem]:
    """Tasks of the linked environment whose scenario it does not register (when it lists any): the
    platform would reject their upload with "Scenarios not found"."""
    registered = {short_scenario(name) for name in platform.env_scenarios(env_name)}
    if not registered:
        return []
    shown = ", ".join(sorted(registered)[:10]) + (", ..." if len(registered) > 10 else "")
    return [
        Problem(
            task.location,
            f"task '{task.slug}': scenario '{short_scenario(task.scenario)}' is not registered by environment "
            f"'{env_name}' (registered: {shown})",
            "fix the scenario name, or deploy the environment with it (`hud deploy`)",
        )
        for task in local.selected
        if task.env == env_name and isinstance(task.scenario, str)
        and short_scenario(task.scenario) not in registered
    ]


@dataclass
class ApplyOutcome:
    created: int = 0
    updated: int = 0
    taskset_id: str | None = None
    batches_done: int = 0
    batches_total: int = 0
    tasks_sent: int = 0
    error: PlatformError | None = None
    interrupted: bool = False  # Ctrl-C part-way: the batch in flight may have landed
    seconds: float = 0.0
    detail_lines: list[str] = field(default_factory=list)


def batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def apply_plan(
    platform: Platform,
    plan: Plan,
    local: LocalTasks,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> ApplyOutcome:
    """Upload what the plan says, in batches; each batch is an idempotent upsert.

    Stops at the first rejected batch and reports how far it got; never raises PlatformError.
    """
    if batch_size < 1:
        raise HudSyncError("--batch-size must be at least 1")
    if not plan.taskset_name:
        raise HudSyncError("the taskset's name is unknown; pass it as an argument")
    columns = column_definitions(local.all_tasks)
    chunks = batches(plan.to_upload, batch_size)
    outcome = ApplyOutcome(batches_total=len(chunks), taskset_id=plan.taskset_id)
    started = time.monotonic()
    for index, chunk in enumerate(chunks):
        try:
            # Built per batch: compact tasks are read back from their signatures only now.
            result = platform.upload(plan.taskset_name, [task.upload_record() for task in chunk], columns)
        except PlatformError as err:
            outcome.error = err
            break
        except KeyboardInterrupt:
            outcome.interrupted = True
            break
        except Exception as err:  # noqa: BLE001 - any failure part-way is reported with what landed
            outcome.error = PlatformError(f"the upload failed: {type(err).__name__}: {err}")
            break
        outcome.created += result.created
        outcome.updated += result.updated
        outcome.taskset_id = result.taskset_id or outcome.taskset_id
        outcome.batches_done = index + 1
        outcome.tasks_sent += len(chunk)
        if progress:
            progress(index + 1, len(chunks))
    outcome.seconds = time.monotonic() - started
    return outcome


def landed_message(outcome: ApplyOutcome, plan: Plan, again: str) -> str:
    """How far an upload that stopped part-way got, where, and that running `again` continues."""
    where = f"'{plan.taskset_name}'"
    where += f" (taskset id {outcome.taskset_id})" if outcome.taskset_id else " (its id is not known yet)"
    status = outcome.error.status if outcome.error is not None else None
    # A refused request wrote nothing; a lost answer (Ctrl-C, timeout, 5xx, dropped line) may hide a write.
    rest = (
        "the rest did not"
        if status is not None and 400 <= status < 500 and status != 429
        else "the batch in flight may have landed too, the rest did not"
    )
    return (
        f"upload stopped after {outcome.batches_done} of {outcome.batches_total} batch(es): "
        f"{outcome.tasks_sent} of {len(plan.to_upload)} task(s) landed in {where}, {rest}; "
        f"{again} to continue (uploads are idempotent: what landed shows as unchanged)"
    )


def remember_taskset(local: LocalTasks, taskset_id: str | None, name: str | None) -> bool:
    """Store the taskset in `.hud/config.json` after an upload; True when the file changed."""
    if not taskset_id or not is_uuid(taskset_id):
        return False  # never store an id that was not checked
    config = local.config
    if config.taskset_id == taskset_id and config.data.get("tasksetName") == name:
        return False
    updates: dict[str, Any] = {"tasksetId": taskset_id}
    if name:
        updates["tasksetName"] = name
    save_config(config, updates)
    return True
