"""The secrets tests hand to the code under test, and the scanner that proves they never leak.

Tests pass `HUD_API_KEY` as the HUD key and `GITHUB_TOKEN` as the GitHub token; the autouse fixture
in `tests/conftest.py` fails any test after which one of them shows up in what the test captured
(its stdout and stderr, `capsys`/`capfd` reads, the output of the subprocesses it ran) or in a file
written under its temporary folders (plans, summaries, outputs, configs, the `serve` log).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

# Each written in two parts, so that this file never holds a secret whole: tests that copy the
# repository (the hooks' pre-commit runs) leave copies of it in their temporary folders.
# (A join, not `+`: Python folds `"a" + "b"` into one constant in the compiled file.)
HUD_API_KEY = "".join(["hud-test-key-", "Q7v2Lm9xR4tZp81K"])
GITHUB_TOKEN = "".join(["ghs_testToken0Xq4", "Vb7Nc2Mz9Lk5Jh3Gf"])

SECRETS: dict[str, str] = {"HUD_API_KEY": HUD_API_KEY, "GITHUB_TOKEN": GITHUB_TOKEN}

# Files a test may write a secret into on purpose, the way a user keeps a key: never scanned.
KEY_FILE_NAMES = frozenset({".env"})
# Git's object store is compressed: a leak would not show there, and it can be large.
SKIPPED_FOLDERS = frozenset({"objects"})
MAX_FILE_BYTES = 256 * 1024 * 1024

_NEEDLES: list[tuple[str, bytes, str]] = [
    (name, value.encode(), value) for name, value in SECRETS.items()
]


def _without_mask_commands(text: str | bytes) -> str | bytes:
    """Drop `::add-mask::VALUE` lines: the one place a GitHub step must print a secret, so the
    runner can hide it everywhere else."""
    if isinstance(text, bytes):
        if b"::add-mask::" not in text:
            return text
        return b"\n".join(line for line in text.split(b"\n") if not line.startswith(b"::add-mask::"))
    if "::add-mask::" not in text:
        return text
    return "\n".join(line for line in text.split("\n") if not line.startswith("::add-mask::"))


def find_in_text(text: str | bytes | None, where: str) -> list[str]:
    """One line per secret found in `text`, naming the secret and `where`, never its value."""
    if not text:
        return []
    text = _without_mask_commands(text)
    found = []
    for name, needle_bytes, needle_text in _NEEDLES:
        hit = needle_bytes in text if isinstance(text, bytes) else needle_text in text
        if hit:
            found.append(f"the test {name} appears in {where}")
    return found


def iter_files(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath).name == ".git":
            dirnames[:] = [d for d in dirnames if d not in SKIPPED_FOLDERS]
        for name in filenames:
            if name not in KEY_FILE_NAMES:
                yield Path(dirpath) / name


def find_in_tree(root: Path, shown_as: str | None = None) -> list[str]:
    """Secrets found in the regular files under `root` (links are not followed)."""
    found: list[str] = []
    if not root.is_dir():
        return found
    for path in iter_files(root):
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        where = f"the file {path.relative_to(root).as_posix()} under {shown_as or root.name}"
        found.extend(find_in_text(data, where))
    return found
