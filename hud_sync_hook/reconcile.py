"""Rewrite `Environment("old")` to the linked environment's current name in task files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable


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
