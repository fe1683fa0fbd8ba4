"""The HUD platform seen through one interface: the real HTTP API or a local SQLite store."""

from __future__ import annotations

from hud_sync_hook.platform.base import Platform, RemoteTaskset, UploadResult

__all__ = ["Platform", "RemoteTaskset", "UploadResult", "open_platform"]


def open_platform(api_url: str, api_key: str | None, *, project_root=None, timeout: float = 30.0):
    """Pick the implementation for `--api-url`: `local`, `local:PATH`, or an http(s) URL."""
    from pathlib import Path

    if api_url == "local" or api_url.startswith("local:"):
        from hud_sync_hook.platform.local import LocalPlatform

        if api_url == "local":
            root = Path(project_root) if project_root else Path.cwd()
            path = root / ".hud" / "local-platform.sqlite"
        else:
            path = Path(api_url[len("local:") :]).expanduser()
        return LocalPlatform(path)
    from hud_sync_hook.platform.http import HttpPlatform, retry_options_from_env

    return HttpPlatform(api_url, api_key, timeout=timeout, **retry_options_from_env())
