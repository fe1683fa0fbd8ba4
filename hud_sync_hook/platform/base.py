"""The operations task sync needs from a platform, shared by the HTTP client and the local store."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Callable, Protocol

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_uuid(value: str) -> bool:
    return bool(UUID_RE.match(value or ""))


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: traffic that never leaves the machine.

    Only the name `localhost` itself counts: whether `*.localhost` or `localhost.` (a fully
    qualified name, looked up through DNS search rules) stays on the machine is up to the resolver,
    so a key is not sent over plain http to such names.
    """
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


@dataclass(frozen=True)
class RemoteTaskset:
    id: str
    name: str


@dataclass(frozen=True)
class UploadResult:
    created: int
    updated: int
    taskset_id: str


class Platform(Protocol):
    """What a platform offers task sync. Errors are `PlatformError` with a user-facing message."""

    def find_taskset(self, name: str) -> RemoteTaskset | None:
        """`GET /tasks/evalset/{name}`; None when it does not exist yet (404)."""

    def fetch_tasks(
        self, taskset_id: str, keep: Callable[[dict[str, Any]], Any] | None = None
    ) -> tuple[str | None, list[Any]]:
        """`GET /tasks/evalsets/{id}/tasks-by-id`: (taskset name or None, task records).

        With `keep`, each record is handed to it as it is read and only what it returns is listed
        (None is left out), so a plan need not hold 100,000 parsed records at once.
        A 404 gives (None, []): the taskset has no tasks or does not exist.
        """

    def upload(
        self, name: str, tasks: list[dict[str, Any]], columns: dict[str, Any] | None
    ) -> UploadResult:
        """`POST /tasks/upload`: an idempotent upsert by slug; never deletes."""

    def get_env(self, registry_id: str) -> dict[str, Any] | None:
        """`GET /registry/envs/{id}`; None on 404."""

    def search_envs(self, name: str, limit: int = 5) -> list[dict[str, Any]]:
        """`GET /registry/envs?search=NAME&limit=N`."""

    def env_scenarios(self, env_name: str) -> list[str]:
        """`GET /tasks/environments/{name}/scenarios`: the scenario names an env offers."""

    @property
    def request_count(self) -> int:
        """How many requests (HTTP or store calls) this platform has made; for reports and tests."""

    def close(self) -> None: ...
