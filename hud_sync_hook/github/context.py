"""What the runner hands the container: `INPUT_*` variables, `GITHUB_*` variables and the event file.

Read once into plain values, so that the entrypoint decides what to do from data, not from the
environment scattered through the code.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from hud_sync_hook.errors import HudSyncError

MODES = ("auto", "plan", "apply", "validate")
ON_PLAN_CHANGE = ("warn", "fail")
DEFAULT_API_URL = "https://api.hud.ai"
DEFAULT_GITHUB_API = "https://api.github.com"
DEFAULT_GITHUB_SERVER = "https://github.com"
PR_PLAN_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review", "edited")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0", "")


def input_value(env: Mapping[str, str], name: str, default: str = "") -> str:
    """An action input as the runner passes it: `INPUT_` + the id upper-cased, hyphens kept.

    The spelling with underscores is accepted too, for people who run the entrypoint by hand.
    """
    upper = name.upper().replace(" ", "_")
    for key in (f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"):
        value = env.get(key)
        if value is not None:
            return value.strip()
    return default


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = input_value(env, name)
    if not raw:
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise HudSyncError(f"input '{name}' must be true or false, got {raw!r}; fix the `with:` block")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = input_value(env, name).lower() or default
    if raw not in choices:
        raise HudSyncError(
            f"input '{name}' must be one of {', '.join(choices)}, got {raw!r}; fix the `with:` block"
        )
    return raw


@dataclass
class Inputs:
    """The action's inputs, validated; empty strings become None."""

    hud_api_key: str | None = None
    hud_api_url: str = DEFAULT_API_URL
    github_token: str | None = None
    source: str = "."
    taskset: str | None = None
    taskset_id: str | None = None
    working_directory: str | None = None
    mode: str = "auto"
    comment: bool = True
    exclude: list[str] = field(default_factory=list)
    force: bool = False
    on_plan_change: str = "warn"
    fail_on_changes: bool = False
    install: str | None = None
    allow_untrusted_code: bool = False
    allow_import_errors: list[str] = field(default_factory=list)
    comment_author: str | None = None
    sdk: str = "auto"

    def __repr__(self) -> str:  # never show the secrets, even in a traceback
        return (
            f"Inputs(mode={self.mode!r}, source={self.source!r}, taskset={self.taskset!r}, "
            f"hud_api_key={'set' if self.hud_api_key else 'not set'}, "
            f"github_token={'set' if self.github_token else 'not set'})"
        )


def _lines(env: Mapping[str, str], name: str) -> list[str]:
    lines = [line.strip() for line in input_value(env, name).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def read_inputs(env: Mapping[str, str], secrets: Mapping[str, str]) -> Inputs:
    """The inputs from the runner's variables; the two secrets come separately (see `sandbox`)."""
    return Inputs(
        hud_api_key=secrets.get("hud-api-key") or None,
        hud_api_url=input_value(env, "hud-api-url") or env.get("HUD_API_URL", "").strip() or DEFAULT_API_URL,
        github_token=secrets.get("github-token") or None,
        source=input_value(env, "source") or ".",
        taskset=input_value(env, "taskset") or None,
        taskset_id=input_value(env, "taskset-id") or None,
        working_directory=input_value(env, "working-directory") or None,
        mode=_choice(env, "mode", MODES, "auto"),
        comment=_flag(env, "comment", True),
        exclude=_lines(env, "exclude"),
        force=_flag(env, "force", False),
        on_plan_change=_choice(env, "on-plan-change", ON_PLAN_CHANGE, "warn"),
        fail_on_changes=_flag(env, "fail-on-changes", False),
        install=input_value(env, "install") or None,
        allow_untrusted_code=_flag(env, "allow-untrusted-code", False),
        allow_import_errors=_lines(env, "allow-import-errors"),
        comment_author=input_value(env, "comment-author") or None,
        sdk=_choice(env, "sdk", ("auto", "v5", "v6"), "auto"),
    )


def install_command(spec: str, folder: Path) -> list[str]:
    """`pip install` arguments for the `install` input: a requirements file, or pip arguments."""
    candidate = folder / spec
    if "\n" not in spec and " " not in spec.strip() and candidate.is_file():
        return ["-r", spec]
    try:
        return shlex.split(spec)
    except ValueError as err:
        raise HudSyncError(f"input 'install' cannot be split into pip arguments ({err}); quote it properly") from None


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class PullRequest:
    number: int
    head_sha: str | None = None
    base_sha: str | None = None
    head_repo: str | None = None
    base_repo: str | None = None
    merged: bool = False
    merge_commit_sha: str | None = None

    @property
    def from_fork(self) -> bool:
        return bool(self.head_repo and self.base_repo and self.head_repo != self.base_repo)

    @classmethod
    def from_payload(cls, pr: Mapping[str, Any]) -> "PullRequest | None":
        number = pr.get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            return None
        return cls(
            number=number,
            head_sha=_str(_get(pr, "head", "sha")),
            base_sha=_str(_get(pr, "base", "sha")),
            head_repo=_str(_get(pr, "head", "repo", "full_name")),
            base_repo=_str(_get(pr, "base", "repo", "full_name")),
            merged=pr.get("merged") is True,
            merge_commit_sha=_str(pr.get("merge_commit_sha")),
        )


@dataclass
class Event:
    """The run's event and the runner's variables that matter here."""

    name: str
    payload: dict[str, Any]
    repository: str | None
    api_url: str
    server_url: str
    run_id: str | None
    run_number: str | None
    sha: str | None
    ref: str | None
    workspace: Path
    actor: str | None = None
    graphql_url: str | None = None

    @property
    def issue_pull_number(self) -> int | None:
        """On `issue_comment` (and other issue events) of a pull request: its number."""
        issue = self.payload.get("issue")
        if isinstance(issue, Mapping) and isinstance(issue.get("pull_request"), Mapping):
            number = issue.get("number")
            if isinstance(number, int) and not isinstance(number, bool):
                return number
        return None

    @property
    def action(self) -> str | None:
        return _str(self.payload.get("action"))

    @property
    def pull_request(self) -> PullRequest | None:
        pr = self.payload.get("pull_request")
        if isinstance(pr, Mapping):
            found = PullRequest.from_payload(pr)
            if found is not None:
                return found
        return None

    @property
    def is_pr_event(self) -> bool:
        return self.name in ("pull_request", "pull_request_target")

    @property
    def default_branch(self) -> str | None:
        return _str(_get(self.payload, "repository", "default_branch"))

    @property
    def pushed_to_default_branch(self) -> bool:
        branch = self.default_branch
        return self.name == "push" and branch is not None and (self.ref or "") == f"refs/heads/{branch}"

    @property
    def head_sha(self) -> str | None:
        """The commit the plan describes: the PR head on PR events, the pushed commit otherwise."""
        pr = self.pull_request
        if pr is not None and pr.head_sha:
            return pr.head_sha
        return _str(self.payload.get("after")) or self.sha

    @property
    def read_only_token(self) -> bool:
        """GitHub hands this run a read-only token: a `pull_request` from a fork, or one by Dependabot."""
        pr = self.pull_request
        if self.name != "pull_request" or pr is None:
            return False
        return pr.from_fork or self.actor == "dependabot[bot]"

    @property
    def run_url(self) -> str | None:
        if not (self.repository and self.run_id):
            return None
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"

    @property
    def run_label(self) -> str:
        """`#17`: the run number (or id) as the Actions page shows it; digits only, safe in Markdown."""
        for value in (self.run_number, self.run_id):
            if value and value.isdigit():
                return f"#{value}"
        return "#?"


def read_event(env: Mapping[str, str]) -> Event:
    name = env.get("GITHUB_EVENT_NAME", "").strip() or "workflow_dispatch"
    path = env.get("GITHUB_EVENT_PATH", "").strip()
    payload: dict[str, Any] = {}
    if path:
        try:
            loaded = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise HudSyncError("the event file does not exist; is this running in GitHub Actions?", file=path) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise HudSyncError(f"the event file cannot be read as JSON ({err})", file=path) from None
        if isinstance(loaded, dict):
            payload = loaded
    workspace = Path(env.get("GITHUB_WORKSPACE", "").strip() or os.getcwd())
    return Event(
        name=name,
        payload=payload,
        repository=env.get("GITHUB_REPOSITORY", "").strip() or _str(_get(payload, "repository", "full_name")),
        api_url=(env.get("GITHUB_API_URL", "").strip() or DEFAULT_GITHUB_API).rstrip("/"),
        server_url=(env.get("GITHUB_SERVER_URL", "").strip() or DEFAULT_GITHUB_SERVER).rstrip("/"),
        run_id=env.get("GITHUB_RUN_ID", "").strip() or None,
        run_number=env.get("GITHUB_RUN_NUMBER", "").strip() or None,
        sha=env.get("GITHUB_SHA", "").strip() or None,
        ref=env.get("GITHUB_REF", "").strip() or None,
        workspace=workspace,
        actor=env.get("GITHUB_ACTOR", "").strip() or _str(_get(payload, "sender", "login")),
        graphql_url=env.get("GITHUB_GRAPHQL_URL", "").strip() or None,
    )


def workspace_head(workspace: Path) -> str | None:
    """The commit checked out in the workspace, or None when it is not a git repository."""
    try:
        import git
    except ImportError:  # pragma: no cover - GitPython is a dependency
        return None
    try:
        repo = git.Repo(workspace, search_parent_directories=True)
        try:
            return repo.head.commit.hexsha
        finally:
            repo.close()
    except (git.exc.GitError, ValueError, OSError):
        return None
