"""The `/v2` HUD platform API of the v6 SDK (`hud` 0.6.x), over the v5 client's request machinery.

Same transport as `HttpPlatform` (retries, deadline, size and key-safety rules, messages); what
differs is the paths, the shapes, and that only a Bearer header is sent.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import quote

from hud_sync_hook.platform.base import RemoteTaskset, UploadResult, is_uuid
from hud_sync_hook.platform.http import HttpPlatform, _detail
from hud_sync_hook.platform.local_v2 import normalize_name

LIST_LIMIT = 500


class HttpPlatformV2(HttpPlatform):
    """`Platform` over `<origin>/v2`. Remembers the id of every taskset it resolved, so that an
    upload to an existing taskset names it (`taskset_id`) as the official client does."""

    def __init__(self, base_url: str, api_key: str | None, **options: Any) -> None:
        super().__init__(base_url, api_key, **options)
        self._client.base_url = self.base_url + "/v2"
        self._client.headers.pop("X-API-Key", None)
        self.project_id: str | None = None
        self.project_ref: str | None = None
        self.project_writable = True
        self._known_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"HttpPlatformV2({self.base_url!r}, api_key={'set' if self._api_key else 'not set'})"

    def auth_me(self) -> dict[str, str]:
        """`GET /v2/auth/me`: the user and team the key belongs to."""
        data = self._get("/auth/me")
        if not isinstance(data, dict) or not all(is_uuid(str(data.get(k, ""))) for k in ("user_id", "team_id")):
            raise self._shape_error("GET", "/v2/auth/me", "an object with 'user_id' and 'team_id'")
        return {"user_id": data["user_id"], "team_id": data["team_id"]}

    def find_taskset(self, name: str) -> RemoteTaskset | None:
        path = f"/tasksets/by-name/{quote(name, safe='')}"
        data = self._get(path, allow_404=True)
        if data is None:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("taskset_id"), str) or not data["taskset_id"]:
            raise self._shape_error("GET", "/v2" + path, "an object with 'taskset_id'")
        found = data.get("name") if isinstance(data.get("name"), str) else name
        self._known_ids[name] = self._known_ids[found] = data["taskset_id"]
        return RemoteTaskset(id=data["taskset_id"], name=found)

    def get_taskset(self, taskset_id: str) -> RemoteTaskset | None:
        """`GET /v2/tasksets/{id}`; None on 404."""
        path = f"/tasksets/{quote(taskset_id, safe='')}"
        data = self._get(path, allow_404=True)
        if data is None:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise self._shape_error("GET", "/v2" + path, "an object with 'id' and 'name'")
        self._known_ids[data["name"]] = taskset_id
        return RemoteTaskset(id=taskset_id, name=data["name"])

    def fetch_tasks(
        self, taskset_id: str, keep: Callable[[dict[str, Any]], Any] | None = None
    ) -> tuple[str | None, list[Any]]:
        """`GET /v2/tasksets/{id}` then its export: (name, records); (None, []) when the taskset
        does not exist. The export is read as it arrives, each record handed to `keep`."""
        taskset = self.get_taskset(taskset_id)
        if taskset is None:
            return None, []
        path = f"/tasksets/{quote(taskset_id, safe='')}/export"
        shown = "/v2" + path
        response, read = self._exchange("GET", path, lambda answer: self._read_tasks(answer, shown, keep))
        if response.status_code == 404:
            return taskset.name, []
        self._check(response, "GET", shown)
        data, kept = read
        if not isinstance(data, dict) or not isinstance(data.get("tasks"), list):
            raise self._shape_error("GET", shown, "an object with a 'tasks' list")
        return taskset.name, kept

    def upload(self, name: str, tasks: list[dict[str, Any]], columns: dict[str, Any] | None) -> UploadResult:
        """`POST /v2/tasks/upload`; column definitions are not part of v6 (each task has `columns`)."""
        path = "/tasks/upload"
        payload: dict[str, Any] = {"taskset_name": name, "tasks": tasks}
        if self.project_id:
            if not self.project_writable:
                raise self._error(f"you may not create tasksets in the project {self.project_id}; pick another with --project")
            payload["project_id"] = self.project_id
        if name in self._known_ids:
            payload["taskset_id"] = self._known_ids[name]
        response = self._request("POST", path, json=payload)
        if response.status_code in (400, 422):
            detail = _detail(response)
            raise self._error(f"upload rejected by the platform: {detail}", status=response.status_code, detail=detail)
        self._check(response, "POST", "/v2" + path)
        data = self._json(response, "POST", "/v2" + path)
        # The v5 client's checks (every task counted, the taskset named by a UUID), on the v6 names;
        # a v5 answer (`evalset_id`) is refused, as the official v6 client does.
        if not isinstance(data, dict) or not isinstance(data.get("taskset_id"), str):
            raise self._shape_error("POST", "/v2" + path, "an object with 'taskset_id', 'tasks_created' and 'tasks_updated'")
        result = self._upload_result({**data, "evalset_id": data["taskset_id"]}, "/v2" + path, len(tasks))
        self._known_ids[name] = result.taskset_id
        return result

    def get_env(self, registry_id: str) -> dict[str, Any] | None:
        path = f"/registry/{quote(registry_id, safe='')}"
        data = self._get(path, allow_404=True)
        if data is None:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise self._shape_error("GET", "/v2" + path, "an environment object with 'id' and 'name'")
        return data

    def _items(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        data = self._get(path, params=params)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
            raise self._shape_error("GET", "/v2" + path, "an object with an 'items' list")
        return items

    def search_envs(self, name: str, limit: int = 5) -> list[dict[str, Any]]:
        """Environments whose normalised name equals `name`'s, as `hud sync env NAME` finds them."""
        wanted = normalize_name(name)
        items = self._items("/registry", {"search": wanted, "limit": LIST_LIMIT})
        exact = [env for env in items if env["name"] == wanted]
        return (exact or items)[:limit]

    def env_scenarios(self, env_name: str) -> list[str]:
        """The v6 API has no template listing: the platform checks `(env, task_id)` on upload."""
        return []

    def resolve_project(self, ref: str) -> list[dict[str, Any]]:
        """The projects `--project REF` names: by id, or by exact normalised name."""
        if is_uuid(ref):
            data = self._get(f"/projects/{quote(ref, safe='')}", allow_404=True)
            return [data] if isinstance(data, dict) and isinstance(data.get("id"), str) else []
        wanted = normalize_name(ref)
        return [p for p in self._items("/projects", {"search": wanted, "limit": LIST_LIMIT}) if p["name"] == wanted]
