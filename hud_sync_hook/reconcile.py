"""Rewrite `Environment("old")` to the linked environment's current name in task files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

# `Environment("name"` or `Environment('name'`, with or without further arguments.
_REFERENCE = re.compile(r"""Environment\(\s*(["'])([^"'\\\n]+)\1""")


@dataclass(frozen=True)
class EnvReference:
    path: Path
    line: int
    name: str


def find_env_references(folder: Path) -> list[EnvReference]:
    """`Environment("...")` in the folder's `*.py` and `*/*.py` files (where `hud sync env` looks);
    links are not followed."""
    found: list[EnvReference] = []
    for path in sorted([*folder.glob("*.py"), *folder.glob("*/*.py")]):
        if path.is_symlink() or path.parent.is_symlink() or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            found.extend(EnvReference(path, number, m.group(2)) for m in _REFERENCE.finditer(line))
    return found


def rewrite_source(text: str, old_names: Iterable[str], new_name: str) -> str:
    """`Environment("old")` / `Environment('old', ...)` become `Environment("new"...)`; nothing else changes."""
    for old in old_names:
        pattern = re.compile(r"(Environment\(\s*)([\"'])" + re.escape(old) + r"\2")
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{new_name}{m.group(2)}", text)
    return text


def rewrite_env_names(files: Iterable[Path], old_names: Iterable[str], new_name: str) -> int:
    olds = list(old_names)
    changed = 0
    for path in files:
        original = path.read_text(encoding="utf-8")
        updated = rewrite_source(original, olds, new_name)
        if updated != original:
            path.write_text(updated, encoding="utf-8")
            changed += 1
    return changed
