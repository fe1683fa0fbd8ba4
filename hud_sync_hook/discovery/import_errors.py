"""Task files that failed to import: which are errors, which the project allows, and at which line.

Pure: strings in, values out; shared by the CLI, the hooks and the GitHub Action so that
`--allow-import-errors`, the action's `allow-import-errors` input and `allowImportErrors` in
`.hud/config.json` mean the same everywhere.

A pattern is a path or an `fnmatch` glob relative to a folder (`*` also matches `/`, so `tasks/*.py`
covers `tasks/a/b.py`); a failed file is allowed when its path, relative to that folder, matches. A
pattern that leads out of its folder (`../x.py`) matches nothing.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Iterable, Sequence

from hud_sync_hook.model import Location, Problem

# The discovery child ends an import error with the line in the task file it happened at.
_LINE_IN_ERROR = re.compile(r"\s*\(line (\d+)\)\s*$")
FIX = "fix the file, or list it in {allow} to plan without its tasks"


@dataclass(frozen=True)
class ImportFailure(Problem):
    """A task file that could not be read or imported and is not allowed to fail: a problem at the
    file (and line), so that nothing is planned or uploaded without its tasks."""


@dataclass(frozen=True)
class Allowed:
    """Patterns, and the folder (absolute, with forward slashes) they are relative to."""

    folder: str
    patterns: tuple[str, ...]


def error_line(error: str) -> tuple[str, int | None]:
    """The message without its trailing `(line N)`, and N (None when the error names no line)."""
    match = _LINE_IN_ERROR.search(error)
    if match is None or int(match.group(1)) < 1:
        return error, None
    return error[: match.start()], int(match.group(1))


def _inside(path: str, folder: str) -> str | None:
    """`path` relative to `folder` (both absolute and normalised), or None when it is not inside."""
    if folder == "/":
        return path[1:]
    if path.startswith(folder + "/"):
        return path[len(folder) + 1 :]
    return None


def is_allowed(path: str, allowed: Iterable[Allowed]) -> bool:
    """Whether the file at `path` (absolute, forward slashes) matches a pattern of `allowed`."""
    path = posixpath.normpath(path)
    for rule in allowed:
        folder = posixpath.normpath(rule.folder)
        relative = _inside(path, folder)
        if relative is None:
            continue
        for pattern in rule.patterns:
            pattern = pattern.strip()
            if not pattern:
                continue
            anchored = _inside(posixpath.normpath(posixpath.join(folder, pattern)), folder)
            if anchored is not None and fnmatchcase(relative, anchored):
                return True
    return False


def split_import_errors(
    skipped: Sequence, base: str, allowed: Iterable[Allowed], *, allow: str = "--allow-import-errors"
) -> tuple[list[ImportFailure], list]:
    """(the failures, the allowed skips) of `skipped` (items with `path` relative to `base`, or
    absolute, and `error`); `allow` names the setting in each failure's fix."""
    rules = list(allowed)
    failures: list[ImportFailure] = []
    accepted = []
    for item in skipped:
        if is_allowed(posixpath.join(base, item.path), rules):
            accepted.append(item)
            continue
        message, line = error_line(item.error)
        failures.append(ImportFailure(Location(item.path, line), message, FIX.format(allow=allow)))
    return failures, accepted
