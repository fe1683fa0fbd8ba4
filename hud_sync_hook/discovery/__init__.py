"""Find task definitions under a source path, following the documented `hud sync tasks` rules.

Directory scan, first group that finds tasks wins: the package itself (when the folder has an
`__init__.py`), then `tasks.py`/`task.py` in the root, then `task.py` in subfolders, then every other
root `.py`; only when no Python group finds tasks, `tasks.json|jsonl|yaml|yml` in the root.
Python files are imported in a child process (see `python.py`), data files are parsed here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hud_sync_hook.errors import HudSyncError
from hud_sync_hook.model import Location, Problem, TaskSpec

DATA_SUFFIXES = (".json", ".jsonl", ".yaml", ".yml")
DATA_NAMES = tuple(f"tasks{suffix}" for suffix in DATA_SUFFIXES)
ROOT_SKIP = {"env.py", "conftest.py", "setup.py", "__init__.py", "__main__.py"}
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "env.py")
PROJECT_DIR_MARKERS = (".hud", ".git")


@dataclass(frozen=True)
class Skipped:
    """A file that could not be read or imported; the rest of discovery went on without it."""

    path: str
    error: str

    def __str__(self) -> str:
        return f"{self.path}: {self.error}"


@dataclass
class Discovery:
    tasks: list[TaskSpec] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    untrusted_python: list[str] = field(default_factory=list)


def find_project_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` that looks like a project root."""
    current = start.resolve()
    for _ in range(64):
        if any((current / m).exists() for m in PROJECT_MARKERS) or any(
            (current / d).is_dir() for d in PROJECT_DIR_MARKERS
        ):
            return current
        if current.parent == current:
            return None
        current = current.parent
    return None


def display_path(path: Path, base: Path) -> str:
    """`path` relative to `base` when it is inside it, with forward slashes; else as given."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return os.path.normpath(str(path))


def containing_root(source: Path, base: Path) -> Path:
    """The folder discovery may read from: the repository around `source` (the nearest folder with
    `.git`, found without following `source` itself if it is a link), else `base` when `source` is
    inside it, else the source folder. Returned resolved."""
    start = Path(os.path.abspath(source))
    if start.is_symlink() or not start.is_dir():
        start = start.parent
    current = start
    for _ in range(64):
        if (current / ".git").exists():
            return current.resolve()
        if current.parent == current:
            break
        current = current.parent
    base_abs = Path(os.path.abspath(base))
    if start == base_abs or base_abs in start.parents:
        return base_abs.resolve()
    return start.resolve()


def outside(path: Path, root: Path) -> bool:
    """Whether `path`, with every link followed, lies outside `root` (a resolved folder); a link
    loop leads nowhere inside it."""
    try:
        return not path.resolve().is_relative_to(root)
    except (RuntimeError, OSError):
        return True



def _link_path(path: Path, base: Path) -> str:
    """A link's own path for messages (its folder resolved, its name kept), not its target's."""
    try:
        return (path.parent.resolve() / path.name).relative_to(base.resolve()).as_posix()
    except ValueError:
        return os.path.normpath(str(path))


def _outside_problem(shown: str, root_kind: str, what: str) -> Problem:
    return Problem(
        Location(shown),
        f"is a link to a file outside {root_kind}; refusing to {what} it",
        "replace the link with a copy of the file, or pass the file itself as the source",
    )


def discover(
    source: str | Path,
    *,
    base: Path | None = None,
    import_timeout: float = 60.0,
    allow_python: bool = True,
) -> Discovery:
    """Discover the tasks under `source`; `base` is what reported paths are relative to.

    `allow_python=False` never imports Python files (untrusted code): they are listed in
    `untrusted_python` and only data files are read.
    """
    return dispatch(
        source,
        base,
        Readers(
            read_data=lambda result, path, base, root: _read_data_file(path, base, result, root),
            import_file=lambda result, path, base, root: _import_python(
                result, [path], base, path.parent, import_timeout, allow_python, root=root
            ),
            scan_folder=lambda result, path, base, root: _scan_directory(
                path, base, result, import_timeout, allow_python, root
            ),
            files="a .py, .json, .jsonl, .yaml or .yml file",
            data_suffixes=DATA_SUFFIXES,
            fold_case=True,
        ),
    )


@dataclass(frozen=True)
class Readers:
    """How one SDK generation reads each kind of source; each reader is (result, path, base, root)."""

    read_data: Callable[[Discovery, Path, Path, Path], None]
    import_file: Callable[[Discovery, Path, Path, Path], None]
    scan_folder: Callable[[Discovery, Path, Path, Path], None]
    #: the task files it reads, for messages: "a .py, .json or .jsonl file"
    files: str
    data_suffixes: tuple[str, ...]
    #: whether a file's suffix is read case-insensitively (`TASKS.JSON`)
    fold_case: bool
    #: what an unsupported file is told to use instead (default: `files`)
    use: str | None = None


def dispatch(source: str | Path, base: Path | None, readers: Readers) -> Discovery:
    """A data file, a Python file or a folder, each to its reader; anything else is an error naming
    the source. Paths are reported relative to `base` (default: the working directory)."""
    base = Path(base) if base else Path.cwd()
    path = Path(source)
    if not path.exists():
        raise HudSyncError(f"source path does not exist; pass a folder, or {readers.files}", file=str(source))
    result = Discovery()
    root = containing_root(path, base)
    if path.is_file():
        suffix = path.suffix.lower() if readers.fold_case else path.suffix
        if suffix in readers.data_suffixes:
            readers.read_data(result, path, base, root)
        elif suffix == ".py":
            readers.import_file(result, path, base, root)
        else:
            raise HudSyncError(
                f"unsupported task file type '{suffix or path.name}'; use {readers.use or readers.files}, or a folder",
                file=str(source),
            )
        return result
    if not path.is_dir():
        raise HudSyncError("source is neither a file nor a folder", file=str(source))
    readers.scan_folder(result, path, base, root)
    return result


def python_groups(directory: Path) -> list[list[Path]]:
    """The Python file groups of a folder, in the order they are tried."""
    groups: list[list[Path]] = []
    root_named = [directory / n for n in ("tasks.py", "task.py") if (directory / n).is_file()]
    groups.append(root_named)
    nested: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        if Path(dirpath) != directory and "task.py" in filenames:
            nested.append(Path(dirpath) / "task.py")
    groups.append(sorted(nested))
    others = sorted(
        p
        for p in directory.glob("*.py")
        if p.is_file() and p.name not in ROOT_SKIP and p.name not in ("tasks.py", "task.py")
    )
    groups.append(others)
    return groups


def _scan_directory(
    directory: Path, base: Path, result: Discovery, timeout: float, allow_python: bool, root: Path
) -> None:
    if (directory / "__init__.py").is_file():
        found = _import_python(
            result, [], base, directory, timeout, allow_python, package=directory, quiet=True, root=root
        )
        if found:
            return
    for group in python_groups(directory):
        if group and _import_python(result, group, base, directory, timeout, allow_python, root=root):
            return
    for name in DATA_NAMES:
        candidate = directory / name
        if candidate.exists() or candidate.is_symlink():
            _read_data_file(candidate, base, result, root)
            if result.tasks:
                return


def _import_python(
    result: Discovery,
    files: list[Path],
    base: Path,
    directory: Path,
    timeout: float,
    allow_python: bool,
    *,
    package: Path | None = None,
    quiet: bool = False,
    root: Path | None = None,
) -> bool:
    if root is not None:
        # Never import code that a link in the repository points at from elsewhere on the machine.
        kind = _root_kind(root)
        if package is not None and outside(package / "__init__.py", root):
            result.problems.append(_outside_problem(_link_path(package / "__init__.py", base), kind, "import"))
            package = None
            if not files:
                return False
        refused = [p for p in files if outside(p, root)]
        for p in refused:
            shown = _link_path(p, base)
            result.files.append(shown)
            result.problems.append(_outside_problem(shown, kind, "import"))
        if refused:
            files = [p for p in files if p not in refused]
            if not files and package is None:
                return False
    if not allow_python:
        targets = [package / "__init__.py"] if package else files
        result.untrusted_python.extend(display_path(p, base) for p in targets)
        return False
    from hud_sync_hook.discovery.python import import_tasks

    project_root = find_project_root(directory)
    imported = import_tasks(
        files, base=base, project_root=project_root, timeout=timeout, package=package
    )
    if not quiet or imported.tasks:
        result.skipped.extend(imported.skipped)
    result.tasks.extend(imported.tasks)
    result.problems.extend(imported.problems)
    result.files.extend(imported.files)
    return bool(imported.tasks)


def _root_kind(root: Path) -> str:
    return "the repository" if (root / ".git").exists() else "the project folder"


def _read_data_file(path: Path, base: Path, result: Discovery, root: Path | None = None) -> None:
    from hud_sync_hook import safefs
    from hud_sync_hook.discovery.files import read_task_file

    if safefs.is_loop(path):
        shown = _link_path(path, base)
        result.files.append(shown)
        result.problems.append(Problem(Location(shown), "is a link loop", "point the link at a file, or replace it with one"))
        return
    if root is not None and (path.is_symlink() or path.exists()) and outside(path, root):
        shown = _link_path(path, base)
        result.files.append(shown)
        result.problems.append(_outside_problem(shown, _root_kind(root), "read"))
        return
    shown = display_path(path, base)
    result.files.append(shown)
    tasks, problems = read_task_file(path, shown)
    result.tasks.extend(tasks)
    result.problems.extend(problems)
