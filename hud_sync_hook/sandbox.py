"""Keep secrets out of reach of the repository's code that the action runs.

The entrypoint reads the HUD API key and the GitHub token, then re-executes itself with an
environment that holds neither (nor the runner's `ACTIONS_*` tokens) and receives them over a pipe:
`/proc/<pid>/environ` shows a process's initial environment, so deleting variables is not enough.
The process that holds them is made non-dumpable (`PR_SET_DUMPABLE` 0): other processes cannot
ptrace it or read its `/proc/<pid>/environ`, `mem` or open files. Task-file imports and `pip
install` run in child processes started through `configure()`: with a scrubbed environment, a
private HOME, and, when the action runs as root, as an unprivileged user.

Standard library only: the discovery child's launcher imports this module.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Mapping

SECRETS_FD = "HUD_SYNC_HOOK_SECRETS_FD"
# Where the two secrets can arrive, by the runner's spelling of the inputs or as plain variables.
SECRET_SOURCES = {
    "hud-api-key": ("INPUT_HUD-API-KEY", "INPUT_HUD_API_KEY", "HUD_API_KEY"),
    "github-token": ("INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN", "GITHUB_TOKEN"),
}
# Runner files a child could use to change later steps of the job.
RUNNER_FILES = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY")
UNPRIVILEGED_UID = 65534  # nobody
UNPRIVILEGED_GID = 65534  # nogroup
MAX_PAYLOAD = 60_000  # below a pipe's buffer, so writing it never blocks
PR_SET_DUMPABLE = 4


def set_non_dumpable() -> bool:
    """prctl(PR_SET_DUMPABLE, 0): no ptrace, and no /proc/<pid>/environ, mem or fd for other processes."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def read_secrets(env: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, sources in SECRET_SOURCES.items():
        for variable in sources:
            value = (env.get(variable) or "").strip()
            if value:
                found[name] = value
                break
    return found


def _secret_variables(env: Mapping[str, str], values: list[str]) -> list[str]:
    names = {v for sources in SECRET_SOURCES.values() for v in sources}
    return [
        name for name, value in env.items()
        if name in names or name.startswith("ACTIONS_") or any(secret in value for secret in values)
    ]


class SecretsError(Exception):
    pass


def take_secrets(argv: list[str] | None = None) -> dict[str, str]:
    """The secrets of this run, with the process's own environment (initial one included) free of them.

    The first call re-executes the process (`python -m hud_sync_hook ARGS`) and does not return;
    in the new process it reads the secrets from the inherited pipe.
    """
    set_non_dumpable()
    raw_fd = os.environ.pop(SECRETS_FD, None)
    if raw_fd is not None:
        try:
            fd = int(raw_fd)
            chunks = []
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
            os.close(fd)
            data = json.loads(b"".join(chunks))
        except (ValueError, OSError) as err:
            raise SecretsError(f"could not receive the secrets from the starting process ({type(err).__name__})") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise SecretsError("could not receive the secrets from the starting process")
        return data
    secrets = read_secrets(os.environ)
    dirty = _secret_variables(os.environ, list(secrets.values()))
    if not dirty:
        return secrets
    clean = {name: value for name, value in os.environ.items() if name not in dirty}
    payload = json.dumps(secrets).encode()
    if len(payload) > MAX_PAYLOAD:
        raise SecretsError("the hud-api-key and github-token inputs are too long to be secrets; check them")
    read_end, write_end = os.pipe()
    os.write(write_end, payload)
    os.close(write_end)
    os.set_inheritable(read_end, True)
    clean[SECRETS_FD] = str(read_end)
    args = list(sys.argv[1:] if argv is None else argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "hud_sync_hook", *args], clean)
    raise AssertionError("unreachable")  # pragma: no cover


# -- children that run repository code ------------------------------------------------------------


@dataclass
class Launch:
    """How children that run repository code are started."""

    user: int | None = None  # setuid to this user (only when running as root)
    group: int | None = None
    home: str | None = None  # a private HOME the child may write
    site: str | None = None  # where `pip install` puts packages; on the child's PYTHONPATH
    secrets: list[str] = field(default_factory=list)  # values no child variable may contain

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        names = set(_secret_variables(base, self.secrets)) | set(RUNNER_FILES)
        env = {name: value for name, value in base.items() if name not in names and not name.startswith("INPUT_")}
        if self.home:
            env["HOME"] = self.home
        if self.site:
            env["PYTHONPATH"] = self.site + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PIP_NO_CACHE_DIR"] = "1"
        return env

    def popen_options(self) -> dict[str, object]:
        if self.user is None:
            return {}
        return {"user": self.user, "group": self.group, "extra_groups": [], "umask": 0o022}


_launch: Launch | None = None


def configure(launch: Launch | None) -> None:
    """From now on, children that run repository code start as `launch` says."""
    global _launch
    _launch = launch


def current() -> Launch | None:
    return _launch


def child_env(base: Mapping[str, str]) -> dict[str, str]:
    return _launch.env(base) if _launch is not None else dict(base)


def popen_options() -> dict[str, object]:
    return _launch.popen_options() if _launch is not None else {}


def prepare(secrets: list[str], make_temp) -> Launch:
    """A `Launch` for this process: as `nobody` when running as root, with a private HOME and site folder.

    `make_temp()` returns a new private folder (it is handed to the unprivileged user).
    """
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    base = make_temp()
    home = os.path.join(base, "home")
    site = os.path.join(base, "site")
    for folder in (home, site):
        os.mkdir(folder, 0o700)
    if root:
        for folder in (base, home, site):
            os.chown(folder, UNPRIVILEGED_UID, UNPRIVILEGED_GID)
        os.chmod(base, 0o700)
        return Launch(user=UNPRIVILEGED_UID, group=UNPRIVILEGED_GID, home=home, site=site, secrets=secrets)
    return Launch(home=home, site=site, secrets=secrets)
