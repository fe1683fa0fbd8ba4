"""Write files below a trusted folder without following a link anywhere below it.

Every component under `root` is opened from its parent's descriptor with `O_NOFOLLOW`, the file is
written to a new temporary name in its folder (`O_EXCL | O_NOFOLLOW`) and renamed over the target,
so a link planted by the repository (a folder, the file itself, or a component in between) is an
error naming it, never a write somewhere else. `root` itself is trusted (the workspace, a temp dir).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path, PurePosixPath

from hud_sync_hook.errors import HudSyncError

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class LinkInTheWay(HudSyncError):
    """A link, or something that is not a folder or regular file, where a file was to be written."""


def _parts(relative: str | PurePosixPath) -> list[str]:
    parts = [p for p in PurePosixPath(relative).parts if p not in ("", ".")]
    if not parts or any(p == ".." or "/" in p for p in parts) or PurePosixPath(relative).is_absolute():
        raise ValueError(f"not a relative path inside the folder: {relative!r}")
    return parts


def _open_dir(parent_fd: int, name: str, shown: str, *, create: bool, owner: tuple[int, int] | None) -> int:
    for _ in range(2):
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            if not create:
                raise
            try:
                os.mkdir(name, 0o755, dir_fd=parent_fd)
            except FileExistsError:
                continue  # made meanwhile: open it (still without following a link)
            if owner is not None:
                os.chown(name, *owner, dir_fd=parent_fd, follow_symlinks=False)
        except OSError as err:
            if err.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                raise LinkInTheWay(
                    "is a link or not a folder; refusing to write through it (remove it from the repository)",
                    file=shown,
                ) from None
            raise
    raise LinkInTheWay("keeps changing while it is written; refusing to write through it", file=shown)


def write_file(
    root: Path | str,
    relative: str | PurePosixPath,
    data: bytes,
    *,
    owner: tuple[int, int] | None = None,
    mode: int = 0o644,
    if_missing: bool = False,
) -> bool:
    """Write `data` to `root/relative`, creating folders; returns False when `if_missing` and it exists.

    Raises LinkInTheWay when a link (or a special file) is in the way; other OSErrors as they come.
    """
    parts = _parts(relative)
    fd = os.open(str(root), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        shown = []
        for name in parts[:-1]:
            shown.append(name)
            next_fd = _open_dir(fd, name, "/".join(shown), create=True, owner=owner)
            os.close(fd)
            fd = next_fd
        name = parts[-1]
        shown_file = "/".join(parts)
        try:
            existing = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        if existing is not None:
            if stat.S_ISLNK(existing.st_mode):
                raise LinkInTheWay("is a link; refusing to write through it (remove it from the repository)", file=shown_file)
            if not stat.S_ISREG(existing.st_mode):
                raise LinkInTheWay("is not a regular file; refusing to replace it", file=shown_file)
            if if_missing:
                return False
        temp = f".{name}.{secrets.token_hex(8)}.tmp"
        out = os.open(temp, _NEW_FILE_FLAGS, mode, dir_fd=fd)
        try:
            with os.fdopen(out, "wb") as handle:
                handle.write(data)
                handle.flush()
                if owner is not None:
                    os.fchown(handle.fileno(), *owner)
                os.fsync(handle.fileno())
            os.rename(temp, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            try:
                os.unlink(temp, dir_fd=fd)
            except OSError:
                pass
            raise
        return True
    finally:
        os.close(fd)
