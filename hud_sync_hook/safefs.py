"""Reading and writing project files that a repository controls, without being led elsewhere.

A repository under review may hold links (to anywhere on the machine, or in a loop) and special
files (a FIFO that blocks whoever opens it, a device). Reads here take regular files only, through
links only when they stay inside `root` (the repository) when one is given; writes are atomic (a
temporary file beside the target, then a rename), never go through a link, and never replace
anything but a regular file. Every refusal is an `UnsafePath`: one line naming the file.

`write_below` is the strict form for a writer that runs beside code it does not trust (the GitHub
Action): it follows no link at all below a trusted folder, walking from folder descriptors
(`openat` with O_NOFOLLOW), so nothing can swap a component for a link between a check and the write.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import tempfile
from pathlib import Path, PurePosixPath
from typing import IO, Any, Iterable

from hud_sync_hook.errors import HudSyncError

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
}


class UnsafePath(HudSyncError):
    """A path this module refuses to read or write; `reason` is the message without the file."""

    def __init__(self, reason: str, path: Path | str, fix: str) -> None:
        self.reason = reason
        self.fix = fix
        super().__init__(f"{reason}; {fix}", file=shown(path))


def shown(path: Path | str) -> str:
    """`path` for messages: relative to the working folder when inside it (links not followed)."""
    absolute = os.path.abspath(path)
    try:
        return Path(absolute).relative_to(os.getcwd()).as_posix()
    except ValueError:
        return str(path)


class LinkInTheWay(UnsafePath):
    """A link, or anything but a folder or a regular file, where `write_below` was to write."""


def kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def is_loop(path: Path) -> bool:
    """Whether following `path`'s links never ends."""
    try:
        os.stat(path)
    except OSError as err:
        return err.errno == errno.ELOOP
    return False


def resolve(path: Path | str, root: Path | None = None, *, what: str = "read") -> Path:
    """`path` with every link followed; refuses a link loop, and a link leading out of `root`."""
    path = Path(path)
    if is_loop(path):
        raise UnsafePath("is a link loop", path, "point the link at a file, or replace it with one")
    try:
        resolved = path.resolve()
    except (RuntimeError, OSError):  # a loop found while resolving (Python 3.11 raises RuntimeError)
        raise UnsafePath("is a link loop", path, "point the link at a file, or replace it with one") from None
    if root is not None and not resolved.is_relative_to(Path(root).resolve()):
        if Path(os.path.abspath(path)).is_relative_to(Path(os.path.abspath(root))):
            raise UnsafePath(
                f"is a link to a file outside the repository; refusing to {what} it",
                path,
                "replace the link with the file itself",
            )
        raise UnsafePath(f"is outside the repository; refusing to {what} it", path, "use a path inside the repository")
    return resolved


def open_regular(path: Path | str, root: Path | None = None) -> IO[bytes]:
    """Open a regular file for reading (never blocks on a FIFO); OSError when it cannot be opened."""
    resolved = resolve(path, root)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(resolved, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
            raise UnsafePath(f"is {kind(info.st_mode)}, not a regular file", path, "replace it with a file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: Path | str, root: Path | None = None) -> bytes:
    with open_regular(path, root) as handle:
        return handle.read()


def read_text(path: Path | str, root: Path | None = None, encoding: str = "utf-8") -> str:
    return read_bytes(path, root).decode(encoding)


def check_target(path: Path | str, root: Path | None = None) -> Path:
    """Where a write to `path` may go: its folder (resolved, inside `root`) joined with its name.

    Refuses a target that is a link (writes never follow links) or anything but a regular file.
    """
    path = Path(path)
    folder = resolve(path.parent if str(path.parent) else Path("."), root, what="write into")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return folder / path.name
    except OSError as err:
        raise UnsafePath(f"cannot be checked ({err.strerror})", path, "check the path") from None
    if stat.S_ISLNK(info.st_mode):
        raise UnsafePath("is a link; refusing to write through it", path, "remove the link or choose another path")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePath(f"is {kind(info.st_mode)}; refusing to write over it", path, "choose another path")
    return folder / path.name


def ensure_folder(path: Path | str, root: Path | None = None) -> Path:
    """Create folder `path` (and its parents) unless it exists; refuses a link out of `root`."""
    path = Path(path)
    if os.path.lexists(path):
        resolved = resolve(path, root, what="write into")
        if not resolved.is_dir():
            raise UnsafePath("is not a folder", path, "move it away")
        return resolved
    if path.parent != path:
        ensure_folder(path.parent, root)
    path.mkdir(exist_ok=True)
    return resolve(path, root, what="write into")


def _write_all(handle: Any, data: bytes | Iterable[bytes]) -> None:
    """`data` whole, or chunk by chunk as an iterable makes them (a large plan is never one string)."""
    if isinstance(data, (bytes, bytearray)):
        handle.write(data)
        return
    for chunk in data:
        handle.write(chunk)


def write_bytes(
    path: Path | str, data: bytes | Iterable[bytes], root: Path | None = None, *, create_folder: bool = False
) -> None:
    """Write atomically: a temporary file beside the target, flushed to disk, renamed over it; `data`
    may come in chunks, and nothing is left behind if making them fails."""
    path = Path(path)
    if create_folder:
        ensure_folder(path.parent, root)
    target = check_target(path, root)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent))
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_all(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(str(target.parent), os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def write_text(path: Path | str, text: str, root: Path | None = None, *, create_folder: bool = False) -> None:
    write_bytes(path, text.encode("utf-8"), root, create_folder=create_folder)


# -- writing below a trusted folder without following any link ------------------------------------

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


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
                raise LinkInTheWay("is a link or not a folder; refusing to write through it", shown, "remove it from the repository") from None
            raise
    raise LinkInTheWay("keeps changing while it is written; refusing to write through it", shown, "check what else writes there")


def write_below(
    root: Path | str,
    relative: str | PurePosixPath,
    data: bytes | Iterable[bytes],
    *,
    owner: tuple[int, int] | None = None,
    mode: int = 0o644,
    if_missing: bool = False,
) -> bool:
    """Write `data` to `root/relative` without following any link below `root` (which is trusted):
    every folder is opened from its parent's descriptor with O_NOFOLLOW (and created when missing,
    owned by `owner`), the file is written to a new name (O_EXCL | O_NOFOLLOW) and renamed over the
    target. Returns False when `if_missing` and the file exists.

    Raises LinkInTheWay when a link (or anything but a folder or a regular file) is in the way.
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
                raise LinkInTheWay("is a link; refusing to write through it", shown_file, "remove it from the repository")
            if not stat.S_ISREG(existing.st_mode):
                raise LinkInTheWay(f"is {kind(existing.st_mode)}; refusing to write over it", shown_file, "remove it from the repository")
            if if_missing:
                return False
        temp = f".{name}.{secrets.token_hex(8)}.tmp"
        out = os.open(temp, _NEW_FILE_FLAGS, mode, dir_fd=fd)
        try:
            with os.fdopen(out, "wb") as handle:
                _write_all(handle, data)
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
