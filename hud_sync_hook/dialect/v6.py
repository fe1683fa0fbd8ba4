"""The v6 generation (`hud` 0.6.x): flat folder layout, `env`/`id` rows, whole-dump signature, the
`/v2` API and the scoped `.hud/config.json`."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hud_sync_hook.config import ProjectConfig, _shown
from hud_sync_hook.dialect import LABELS, Dialect
from hud_sync_hook.dialect.v6_compose import inline_compose_files
from hud_sync_hook.dialect.v6_model import DIFF_RULES, compact_if_valid, remote_entry, task_from_mapping, validate
from hud_sync_hook.discovery import (
    Discovery,
    Readers,
    _link_path,
    _outside_problem,
    _root_kind,
    dispatch,
    display_path,
    find_project_root,
    outside,
)
from hud_sync_hook.errors import ConfigError, HudSyncError
from hud_sync_hook.model import Location, Problem
from hud_sync_hook.platform.base import is_uuid

#: Stems the v6 SDK skips when it scans a folder (it does scan `env.py`).
SKIP_STEMS = ("conftest", "setup", "__init__", "__main__")
#: Suffixes it reads as data (case-sensitive, as in the SDK), and the YAML hud-sync-hook adds.
DATA_SUFFIXES = (".json", ".jsonl", ".yaml", ".yml")
CHILD = "hud_sync_hook.dialect._v6_child"


def python_groups(directory: Path) -> list[list[Path]]:
    """One group: every `*.py` directly in the folder, sorted, without the skipped stems."""
    return [sorted(p for p in directory.glob("*.py") if p.is_file() and p.stem not in SKIP_STEMS)]


def row_task(row: dict[str, Any], location: Location) -> Any:
    task = task_from_mapping(row, location)
    compact_if_valid(task)
    return task


def _child_task(problems: list[Problem]):
    """Rows reported by the v6 import child; a v5 task object among them is a problem."""

    def make(row: dict[str, Any], location: Location) -> Any:
        if row.get("generation") == "v5":
            problems.append(
                Problem(
                    location,
                    f"task {row.get('slug')!r} is a v5 task (hud-python, with a scenario) in a v6 project",
                    "make it with @env.template(...) of the hud 0.6 SDK, or pass --sdk v5",
                )
            )
            return None
        return row_task(row, location)

    return make


def discover(
    source: str | Path,
    *,
    base: Path | None = None,
    import_timeout: float = 60.0,
    allow_python: bool = True,
) -> Discovery:
    """The v6 SDK's discovery: a `.json`/`.jsonl` (or `.yaml`) file, a `.py` file, or a folder's
    own `*.py` files (no recursion, no data files). Python is imported in the child process."""
    def scan_folder(result: Discovery, path: Path, base: Path, root: Path) -> None:
        for group in python_groups(path):
            if group:
                _import(result, group, base, path, import_timeout, allow_python, root)

    return dispatch(
        source,
        base,
        Readers(
            read_data=lambda result, path, base, root: _read_data(path, base, root, result),
            import_file=lambda result, path, base, root: _import(
                result, [path], base, path.parent, import_timeout, allow_python, root
            ),
            scan_folder=scan_folder,
            files="a .py, .json or .jsonl file",
            use="a .py, .json or .jsonl file (or .yaml)",
            data_suffixes=DATA_SUFFIXES,
            fold_case=False,
        ),
    )


def _read_data(path: Path, base: Path, root: Path, result: Discovery) -> None:
    from hud_sync_hook.discovery.files import read_task_file

    if outside(path, root):
        shown = _link_path(path, base)
        result.files.append(shown)
        result.problems.append(_outside_problem(shown, _root_kind(root), "read"))
        return
    shown = display_path(path, base)
    result.files.append(shown)

    def make_task(row: dict[str, Any], location: Location) -> Any:
        # A Compose file a row names is found next to the rows, as the SDK's JSON loader finds it.
        return row_task(inline_compose_files(row, path.parent, root), location)

    tasks, problems = read_task_file(path, shown, make_task=make_task)
    result.tasks.extend(tasks)
    result.problems.extend(problems)


def _import(
    result: Discovery, files: list[Path], base: Path, directory: Path, timeout: float, allow_python: bool, root: Path
) -> None:
    kept = []
    for p in files:
        if outside(p, root):  # never import code a link points at from elsewhere on the machine
            shown = _link_path(p, base)
            result.files.append(shown)
            result.problems.append(_outside_problem(shown, _root_kind(root), "import"))
        else:
            kept.append(p)
    if not kept:
        return
    if not allow_python:
        result.untrusted_python.extend(display_path(p, base) for p in kept)
        return
    from hud_sync_hook.discovery.python import import_tasks

    problems: list[Problem] = []
    imported = import_tasks(
        kept,
        base=base,
        project_root=find_project_root(directory),
        timeout=timeout,
        child=CHILD,
        make_task=_child_task(problems),
    )
    result.tasks.extend(imported.tasks)
    result.skipped.extend(imported.skipped)
    result.problems.extend(imported.problems + problems)
    result.files.extend(imported.files)


# -- the platform -------------------------------------------------------------------------------


def open_platform(
    api_url: str, api_key: str | None, *, project_root: Any = None, timeout: float = 30.0, inside: Any = None
) -> Any:
    """The `/v2` client for an http(s) URL, or the local store's v6 side for `local`/`local:PATH`
    (the file chosen, and checked, as for v5)."""
    from hud_sync_hook.platform import open_platform as open_v5

    if api_url == "local" or api_url.startswith("local:"):
        from hud_sync_hook.platform.local_v2 import LocalPlatformV2

        v5 = open_v5(api_url, None, project_root=project_root, timeout=timeout, inside=inside)
        v5.close()
        platform = LocalPlatformV2(v5.store.path)
        platform.origin = "local"
        return platform
    from hud_sync_hook.platform.http import retry_options_from_env
    from hud_sync_hook.platform.http_v2 import HttpPlatformV2

    platform = HttpPlatformV2(api_url, api_key, timeout=timeout, **retry_options_from_env())
    platform.origin = origin_of(platform.base_url)
    return platform


def origin_of(url: str) -> str:
    """`scheme://host[:port]` with the default port left out, as the SDK scopes its config."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return f"{parts.scheme}://{parts.hostname}{port}"


# -- .hud/config.json -----------------------------------------------------------------------------

V6_KEYS = ("taskset_id", "registry_id", "project_id")
V5_KEYS = {"taskset_id": "tasksetId", "registry_id": "registryId", "project_id": "projectId"}


def config_ids(data: dict[str, Any]) -> tuple[Any, Any]:
    return _id(data, "taskset_id"), _id(data, "registry_id")


def _id(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key) or data.get(V5_KEYS[key])
    return value if isinstance(value, str) and value else None


@dataclass
class V6ProjectConfig(ProjectConfig):
    """The config as the v6 SDK reads it: its own keys, else the v5 camelCase ones; and a `scope`
    naming the platform origin and the user and team that wrote it."""

    current_scope: dict[str, str] | None = None
    project_flag: str | None = None

    @property
    def taskset_id(self) -> str | None:
        return _id(self.data, "taskset_id")

    @property
    def registry_id(self) -> str | None:
        return _id(self.data, "registry_id")

    @property
    def project_id(self) -> str | None:
        return _id(self.data, "project_id")

    def check(self) -> None:
        """Shape errors name the file and say how to fix it."""
        shown = self.shown()
        version = self.data.get("version")
        if version is not None and version != 1:
            raise ConfigError(f"has version {version!r}; this tool reads version 1: delete the file and link again", file=shown)
        for key in V6_KEYS:
            value = self.data.get(key)
            if value is not None and not (isinstance(value, str) and is_uuid(value)):
                raise ConfigError(f"{key} {value!r} is not an id (a UUID); fix it or remove the key", file=shown)
        scope = self.data.get("scope")
        if scope is not None and not (
            isinstance(scope, dict) and all(isinstance(scope.get(k), str) for k in ("origin", "user_id", "team_id"))
        ):
            raise ConfigError("scope must be an object with origin, user_id and team_id; delete the file and link again", file=shown)


def as_v6_config(config: ProjectConfig) -> V6ProjectConfig:
    v6 = V6ProjectConfig(path=config.path, data=config.data, exists=config.exists)
    v6.check()
    return v6


def check_scope(config: V6ProjectConfig, platform: Any) -> None:
    """`GET /v2/auth/me`, as the official client does first; a stored scope of another platform
    or other credentials is an error, never silently used."""
    me = platform.auth_me()
    current = {"origin": getattr(platform, "origin", ""), "user_id": me["user_id"], "team_id": me["team_id"]}
    config.current_scope = current
    stored = config.data.get("scope")
    if not isinstance(stored, dict):
        return
    if stored.get("origin") != current["origin"]:
        raise ConfigError(
            f"was linked against {stored.get('origin')}, not {current['origin']}: "
            "use that platform, or delete the file and link again",
            file=config.shown(),
        )
    if (stored.get("user_id"), stored.get("team_id")) != (current["user_id"], current["team_id"]):
        raise ConfigError(
            "was linked with other HUD credentials than the ones in use: switch keys, or delete the file and link again",
            file=config.shown(),
        )


def write_config(config: V6ProjectConfig, changes: dict[str, Any]) -> bool:
    """Write the v6 schema (the SDK's key order), only when something changes; True if written."""
    current = {key: _id(config.data, key) for key in V6_KEYS}
    updated = {**current, **changes}
    scope = config.current_scope or config.data.get("scope")
    if updated == current and scope == config.data.get("scope") and config.data.get("version") == 1:
        return False
    data = {"version": 1, "scope": scope, "registry_id": updated["registry_id"], "taskset_id": updated["taskset_id"], "project_id": updated["project_id"]}
    path = config.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".config-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(data, indent=2) + "\n")
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot be written ({err.strerror}); check the folder's permissions", file=_shown(path)) from None
    config.data = data
    config.exists = True
    return True


def remember_taskset(local: Any, taskset_id: str | None, name: str | None) -> bool:
    """After an upload: store the taskset id when none was stored and no --project was given (the
    SDK's rule without `--link`)."""
    config = local.config
    if not taskset_id or config.taskset_id or config.project_flag:
        return False
    return write_config(config, {"taskset_id": taskset_id})


def before_plan(platform: Any, local: Any) -> None:
    """auth/me and the scope check, then the project: `--project`, else `project_id` in the config,
    else `HUD_DEFAULT_PROJECT`, else the team's default (none sent)."""
    check_scope(local.config, platform)
    choose_project(platform, local.config)


def choose_project(platform: Any, config: V6ProjectConfig) -> None:
    flag = getattr(platform, "project_ref", None)
    config.project_flag = flag
    for ref, origin in ((flag, "--project"), (config.project_id, config.shown()), (os.environ.get("HUD_DEFAULT_PROJECT"), "HUD_DEFAULT_PROJECT")):
        if not ref:
            continue
        found = platform.resolve_project(ref)
        if not found:
            raise HudSyncError(f"no project {ref!r} on the platform (from {origin}); check the name or id")
        if len(found) > 1:
            ids = ", ".join(str(p.get("id")) for p in found)
            raise HudSyncError(f"{len(found)} projects are named {ref!r} (from {origin}); pass an id instead: {ids}")
        platform.project_id = found[0]["id"]
        capabilities = found[0].get("capabilities")
        platform.project_writable = isinstance(capabilities, dict) and bool(capabilities.get("create", False))
        return


def link_env(config: V6ProjectConfig, platform: Any, env: dict[str, Any]) -> None:
    """`registry_id` in the v6 schema, under the current scope, as `hud sync env` stores it."""
    check_scope(config, platform)
    write_config(config, {"registry_id": env["id"]})


def write_export(records: list[dict[str, Any]], out: Path) -> None:
    """The taskset as the v6 SDK exports it, byte for byte: portable rows (`env`, `id`, `args`,
    `slug`, ...) in .json or .jsonl, or a spreadsheet with one `arg:` column per argument."""
    import csv

    from hud_sync_hook.dialect.v6_model import dump_row, remote_row
    from hud_sync_hook.inert import csv_cell

    rows = [dump_row(remote_row(record), with_slug=True) for record in records]
    suffix = out.suffix.lower()
    if suffix == ".json":
        out.write_text(json.dumps(rows, indent=2, default=str) + "\n", encoding="utf-8")
    elif suffix == ".jsonl":
        out.write_text("".join(json.dumps(row, default=str) + "\n" for row in rows), encoding="utf-8")
    elif suffix == ".csv":
        arg_keys = sorted({key for row in rows for key in row.get("args") or {}})
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["slug", "id", "env", *(f"arg:{k}" for k in arg_keys)])
            writer.writeheader()
            for row in rows:
                args = row.get("args") or {}
                cells = {f"arg:{k}": json.dumps(args[k], default=str) if isinstance(args.get(k), (dict, list)) else args.get(k) for k in arg_keys}
                cells = {"slug": row.get("slug"), "id": row.get("id"), "env": row.get("env"), **cells}
                # A cell a spreadsheet would run as a formula is written as text, as for v5.
                writer.writerow({name: csv_cell(value) for name, value in cells.items()})
    else:
        raise HudSyncError(f"unsupported export format '{suffix or out.name}'; use .json, .jsonl or .csv", file=str(out))


DIALECT = Dialect(
    name="v6",
    label=LABELS["v6"],
    python_groups=python_groups,
    data_names=(),
    discover=discover,
    task_from_mapping=task_from_mapping,
    validate=validate,
    remote_entry=remote_entry,
    diff=DIFF_RULES,
    open_platform=open_platform,
    config_ids=config_ids,
    adapt_config=as_v6_config,
    before_plan=before_plan,
    remember_taskset=remember_taskset,
    write_export=write_export,
    link_env=link_env,
)
