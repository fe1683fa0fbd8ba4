"""`.hud/config.json` (the project's link to its taskset and environment) and the API key lookup.

Unknown keys are preserved on write, writes are atomic, and a corrupt file is an error that says
how to fix it rather than being silently treated as empty.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hud_sync_hook.errors import ConfigError
from hud_sync_hook.platform.base import is_uuid

CONFIG_DIR = ".hud"
CONFIG_NAME = "config.json"
LEGACY_NAME = "deploy.json"


@dataclass
class ProjectConfig:
    path: Path
    data: dict[str, Any] = field(default_factory=dict)
    exists: bool = False
    root: Path | None = None  # the repository (or project) the file must stay inside

    @property
    def taskset_id(self) -> str | None:
        """The stored taskset id; None when there is none, or it is not a UUID (see `taskset_id_problem`)."""
        value = self.data.get("tasksetId")
        return value if isinstance(value, str) and is_uuid(value) else None

    @property
    def taskset_id_problem(self) -> str | None:
        """Why the stored tasksetId cannot be used; reported only when a command needs it, so a
        bad id never blocks an offline command."""
        value = self.data.get("tasksetId")
        if value is None or (isinstance(value, str) and is_uuid(value)):
            return None
        return f"tasksetId {value!r} is not a taskset id (a UUID); remove the key or pass a taskset name"

    @property
    def allow_import_errors(self) -> tuple[str, ...]:
        """`allowImportErrors`: task files (paths or globs relative to the folder that holds `.hud/`)
        whose import errors are not errors; a path or a list of them."""
        value = self.data.get("allowImportErrors", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(
                "allowImportErrors must be a path or glob, or a list of them (e.g. [\"tasks/broken.py\"]); "
                "fix it or remove the key",
                file=self.shown(),
            )
        return tuple(value)

    @property
    def registry_id(self) -> str | None:
        value = self.data.get("registryId")
        return value if isinstance(value, str) and value else None

    def shown(self) -> str:
        return _shown(self.path)


# What makes a folder a project root, for where `.hud/` goes when no folder has a config yet.
ROOT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


def _has_config(folder: Path) -> bool:
    return any(
        (folder / CONFIG_DIR / name).exists() or (folder / CONFIG_DIR / name).is_symlink()
        for name in (CONFIG_NAME, LEGACY_NAME)
    )


def project_dir(start: Path, *, cwd: Path | None = None) -> Path:
    """The folder whose `.hud/` holds the project's `config.json` and the local platform's store.

    From `start` (the source folder) upward, up to a boundary: the repository root (nearest `.git`),
    else the nearest folder with `pyproject.toml`, `setup.py` or `setup.cfg`, else the working
    directory when `start` is inside it (where `hud sync` reads and writes), else `start` itself:
    1. the nearest folder that already has `.hud/config.json` (or the legacy `deploy.json`), the home
       folder excepted (its `.hud/` holds the user's settings), unless it is `start`;
    2. else the nearest folder with one of `ROOT_MARKERS`;
    3. else the boundary.
    """
    start = start.resolve()
    chain = [start, *start.parents][:64]
    boundary = next((i for i, folder in enumerate(chain) if (folder / ".git").exists()), None)
    if boundary is None:
        boundary = next(
            (i for i, folder in enumerate(chain) if any((folder / m).exists() for m in ROOT_MARKERS)), None
        )
    if boundary is None:
        here = (cwd or Path.cwd()).resolve()
        boundary = chain.index(here) if here in chain else 0
    chain = chain[: boundary + 1]
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError):  # no home folder known
        home = None
    for folder in chain:
        if (folder != home or folder == start) and _has_config(folder):
            return folder
    return next((f for f in chain if any((f / m).exists() for m in ROOT_MARKERS)), chain[-1])


def load_project_config(start: Path) -> ProjectConfig:
    """The config of the project around `start` (see `project_dir`); empty when it has none yet."""
    folder = project_dir(start)
    repo = next((f for f in (folder, *folder.parents) if (f / ".git").exists()), None)
    return load_config(folder, stop=repo or folder)


def find_config(start: Path, stop: Path | None = None) -> Path | None:
    """The nearest `.hud/config.json` (or legacy `.hud/deploy.json`) at or above `start`, not above `stop`."""
    current = start.resolve()
    stop = stop.resolve() if stop else None
    for _ in range(64):
        for name in (CONFIG_NAME, LEGACY_NAME):
            candidate = current / CONFIG_DIR / name
            if candidate.exists() or candidate.is_symlink():  # a broken link is reported, not skipped
                return candidate
        if current == stop or current.parent == current:
            return None
        current = current.parent
    return None


def load_config(directory: Path, *, stop: Path | None = None) -> ProjectConfig:
    """Load the config that applies to `directory`; a missing file gives an empty config there."""
    found = find_config(directory, stop)
    if found is None:
        root = (stop or directory).resolve()
        return ProjectConfig(path=directory.resolve() / CONFIG_DIR / CONFIG_NAME, root=root)
    boundary = (stop or found.parent.parent).resolve()
    data = read_config_file(found, boundary)
    target = found.parent / CONFIG_NAME
    if found.name == LEGACY_NAME:
        # Migrate the legacy file: its keys move to config.json on the next write.
        return ProjectConfig(path=target, data=data, exists=False, root=boundary)
    return ProjectConfig(path=target, data=data, exists=True, root=boundary)


def _shown(path: Path) -> str:
    try:
        # The folder resolved, the name kept: a link shows as itself, not as what it points at.
        return (path.parent.resolve() / path.name).relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, RuntimeError, OSError):
        pass
    try:  # a `.hud` folder that links elsewhere: shown where it is, too
        return Path(os.path.abspath(path)).relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def read_config_file(path: Path, root: Path | None = None) -> dict[str, Any]:
    """The config's data; `root` is the folder neither the file nor its `.hud` may lead out of."""
    from hud_sync_hook import safefs

    shown = _shown(path)
    try:
        text = safefs.read_text(path, root, encoding="utf-8-sig")
    except safefs.UnsafePath as err:
        raise ConfigError(f"{err.reason}; {err.fix}", file=shown) from None
    except IsADirectoryError:
        raise ConfigError("is a folder, expected a JSON file; remove it", file=shown) from None
    except UnicodeDecodeError:
        raise ConfigError("is not UTF-8 text; fix it or delete it and link again", file=shown) from None
    except OSError as err:
        if path.is_symlink() and not path.exists():
            raise ConfigError("is a link to a file that does not exist; fix the link or remove it", file=shown) from None
        raise ConfigError(
            f"cannot be read ({err.strerror or type(err).__name__}); check its permissions", file=shown
        ) from None
    if not text.strip():
        raise ConfigError("is empty; write {} into it or delete it", file=shown)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"is not valid JSON ({err.msg}, column {err.colno}); fix it or delete it", file=shown, line=err.lineno
        ) from None
    if not isinstance(data, dict):
        raise ConfigError("must hold a JSON object like {\"tasksetId\": \"...\"}; fix it or delete it", file=shown)
    for key in ("registryId", "registryName", "tasksetName"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{key} must be a string; fix it or remove the key", file=shown)
    return data


def save_config(config: ProjectConfig, updates: dict[str, Any]) -> None:
    """Merge `updates` into the file atomically (temp file, fsync, rename); other keys are kept."""
    from hud_sync_hook import safefs

    if os.path.lexists(config.path):
        current = read_config_file(config.path, config.root)
    else:
        current = dict(config.data)
    current.update(updates)
    text = json.dumps(current, indent=2) + "\n"
    try:
        # Atomic, never through a link, never out of the repository (not even through `.hud`).
        safefs.write_text(config.path, text, config.root, create_folder=True)
    except safefs.UnsafePath as err:
        raise ConfigError(f"{err.reason}; {err.fix}", file=config.shown()) from None
    config.data = current
    config.exists = True


def find_api_key(cwd: Path | None = None) -> str | None:
    """`HUD_API_KEY` from the environment, else an untracked `./.env`, else `~/.hud/.env`."""
    from hud_sync_hook.trust import find_api_key as find

    return find(cwd).value
