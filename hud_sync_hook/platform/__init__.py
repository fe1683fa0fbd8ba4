"""The HUD platform seen through one interface: the real HTTP API or a local SQLite store."""

from __future__ import annotations

from hud_sync_hook.platform.base import Platform, RemoteTaskset, UploadResult

__all__ = ["Platform", "RemoteTaskset", "UploadResult", "open_platform"]


def open_platform(api_url: str, api_key: str | None, *, project_root=None, timeout: float = 30.0, inside=None):
    """Pick the implementation for `--api-url`: `local`, `local:PATH`, or an http(s) URL.

    `inside`: a folder a `local:PATH` must stay in (a path a repository chose, not the user).
    """
    from pathlib import Path

    if api_url == "local" or api_url.startswith("local:"):
        from hud_sync_hook import safefs
        from hud_sync_hook.platform.local import LocalPlatform

        if api_url == "local":
            # The project's own store: neither `.hud` nor the file may lead out of the project.
            root = Path(project_root) if project_root else Path.cwd()
            safefs.ensure_folder(root / ".hud", root)
            path = safefs.check_target(root / ".hud" / "local-platform.sqlite", root)
        elif inside is not None:
            raw = api_url[len("local:") :]
            if not raw or raw.startswith("~"):
                raise safefs.UnsafePath(
                    "names a local platform outside the repository", raw or api_url, "use a path inside the repository"
                )
            path = Path(inside) / raw
            safefs.ensure_folder(path.parent, inside)
            path = safefs.check_target(path, inside)
        else:
            path = Path(api_url[len("local:") :]).expanduser()
        return LocalPlatform(path)
    from hud_sync_hook.platform.http import HttpPlatform, retry_options_from_env

    return HttpPlatform(api_url, api_key, timeout=timeout, **retry_options_from_env())
