"""Errors a user can cause: each carries one line that names the place and says what to do."""

from __future__ import annotations


class HudSyncError(Exception):
    """A problem the user can fix; front ends print `str(err)` on one line and exit 1."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        super().__init__(f"{where}{message}")


class PlatformError(HudSyncError):
    """The platform refused a request or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, detail: str | None = None) -> None:
        self.status = status
        self.detail = detail
        super().__init__(message)


class ConfigError(HudSyncError):
    """`.hud/config.json` is unreadable or holds something unexpected."""
