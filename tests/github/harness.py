"""Run `hud-sync-hook github` the way the runner runs the container, and read back what it left.

The runner passes every input as `INPUT_<ID>` (hyphens kept, defaults from action.yml included),
the `GITHUB_*` variables, the event file, and the `GITHUB_OUTPUT`/`GITHUB_STEP_SUMMARY` files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from tests.helpers.fake_github import FakeGitHub
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.unprivileged import action_python

REPO_ROOT = Path(__file__).resolve().parents[2]
HUD_KEY = HUD_API_KEY  # the shared test key, so the suite-wide leak scan covers these runs
RUN_ID = "424242"
RUN_NUMBER = "17"
SERVER_URL = "https://github.example"
_OUTPUT_START = re.compile(r"^([A-Za-z0-9_-]+)<<(ghadelimiter_[0-9a-f]{32})$")


def action_defaults() -> dict[str, str]:
    data = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    return {name: str(spec.get("default", "")) for name, spec in data["inputs"].items()}


def parse_outputs(text: str) -> dict[str, str]:
    """The `name<<DELIMITER` format, strictly: every value closed by its own random delimiter."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    assert lines[-1] == "", "the outputs file must end with a newline"
    i = 0
    delimiters = set()
    while i < len(lines) - 1:
        match = _OUTPUT_START.match(lines[i])
        assert match, f"unexpected line in the outputs file: {lines[i]!r}"
        name, delimiter = match.groups()
        assert delimiter not in delimiters, "each output needs its own delimiter"
        delimiters.add(delimiter)
        end = lines.index(delimiter, i + 1)
        values[name] = "\n".join(lines[i + 1 : end])
        i = end + 1
    return values


@dataclass
class Annotation:
    kind: str
    properties: dict[str, str]
    message: str


def _unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_commands(stdout: str) -> list[Annotation]:
    """Workflow commands as the runner reads them, honouring `::stop-commands::`."""
    found: list[Annotation] = []
    stop_token: str | None = None
    for line in stdout.split("\n"):  # the runner splits on line feeds only
        if stop_token is not None:
            if line == f"::{stop_token}::":
                stop_token = None
            continue
        match = re.match(r"^::([a-z-]+)(?: ([^:]*))?::(.*)$", line)
        if not match:
            continue
        kind, props, message = match.groups()
        if kind == "stop-commands":
            stop_token = message
            continue
        properties = {}
        for part in (props or "").split(","):
            if "=" in part:
                key, value = part.split("=", 1)
                properties[key] = _unescape(value)
        found.append(Annotation(kind, properties, _unescape(message)))
    return found


@dataclass
class ActionResult:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    outputs_text: str
    summary: str
    commands: list[Annotation] = field(default_factory=list)

    def annotations(self, kind: str) -> list[Annotation]:
        return [c for c in self.commands if c.kind == kind]

    def messages(self, kind: str) -> str:
        return "\n".join(a.message for a in self.annotations(kind))

    @property
    def log(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def pr_payload(
    number: int = 7,
    *,
    action: str = "opened",
    head_sha: str = "1" * 40,
    base_sha: str = "2" * 40,
    head_repo: str = "octo/tasks",
    base_repo: str = "octo/tasks",
    merged: bool = False,
    merge_commit_sha: str | None = None,
) -> dict[str, Any]:
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "state": "closed" if action == "closed" else "open",
            "merged": merged,
            "merge_commit_sha": merge_commit_sha,
            "draft": False,
            "head": {"ref": "feature", "sha": head_sha, "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "sha": base_sha, "repo": {"full_name": base_repo}},
        },
        "repository": {"full_name": base_repo, "default_branch": "main"},
    }


def push_payload(after: str, *, ref: str = "refs/heads/main", before: str = "0" * 40) -> dict[str, Any]:
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "commits": [],
        "head_commit": {"id": after},
        "repository": {"full_name": "octo/tasks", "default_branch": "main"},
    }


def run_action(
    workspace: Path,
    tmp_path: Path,
    *,
    event: str,
    payload: Mapping[str, Any],
    inputs: Mapping[str, str] | None = None,
    github: FakeGitHub | None = None,
    sha: str | None = None,
    ref: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    while_running: Callable[[subprocess.Popen], None] | None = None,
) -> ActionResult:
    """Run the entrypoint once; a fresh outputs and summary file per run. `while_running(proc)`
    is called once the process has started, before its output is read."""
    run_dir = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}"
    run_dir.mkdir()
    event_path = run_dir / "event.json"
    event_path.write_text(json.dumps(payload), encoding="utf-8")
    outputs_path = run_dir / "output"
    summary_path = run_dir / "summary.md"
    outputs_path.write_text("", encoding="utf-8")
    summary_path.write_text("", encoding="utf-8")
    full = dict(os.environ)
    full["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + full.get("PYTHONPATH", "")
    values = action_defaults()
    values["github-token"] = github.token if github else ""
    values.update(inputs or {})
    for name, value in values.items():
        full[f"INPUT_{name.upper()}"] = value
    if sha is None:
        sha = str(payload.get("after") or (payload.get("pull_request") or {}).get("head", {}).get("sha") or "3" * 40)
    if ref is None:
        number = payload.get("number")
        ref = str(payload.get("ref") or (f"refs/pull/{number}/merge" if number else "refs/heads/main"))
    full.update(
        {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": "octo/tasks",
            "GITHUB_API_URL": github.url if github else "http://127.0.0.1:9",
            "GITHUB_SERVER_URL": SERVER_URL,
            "GITHUB_RUN_ID": RUN_ID,
            "GITHUB_RUN_NUMBER": RUN_NUMBER,
            "GITHUB_SHA": sha,
            "GITHUB_REF": ref,
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(outputs_path),
            "GITHUB_STEP_SUMMARY": str(summary_path),
        }
    )
    full.update(env or {})
    with subprocess.Popen(
        [action_python(), "-m", "hud_sync_hook", "github"],
        cwd=str(workspace), env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as started:
        try:
            if while_running is not None:
                while_running(started)
            stdout, stderr = started.communicate(timeout=timeout)
        except BaseException:
            started.kill()
            started.communicate()
            raise
    proc = subprocess.CompletedProcess(started.args, started.returncode, stdout, stderr)
    outputs_text = outputs_path.read_text(encoding="utf-8")
    summary_text = summary_path.read_text(encoding="utf-8")
    secrets = [HUD_KEY] + ([github.token] if github else [])
    written = [proc.stderr, outputs_text, summary_text]
    written += [p.read_text(encoding="utf-8") for p in (workspace / ".hud-sync-hook").glob("*.json")]
    for secret in secrets:
        # Only the `::add-mask::` lines may name a secret: that is how the runner learns to hide it.
        shown = [line for line in proc.stdout.splitlines() if secret in line and line != f"::add-mask::{secret}"]
        assert not shown, f"a secret reached the log: {shown[:1]}"
        assert not any(secret in text for text in written), "a secret reached stderr, the outputs, the summary or the plan file"
    if github is not None:
        for comment in github.comments.values():
            assert not any(secret in comment["body"] for secret in secrets), "a secret reached a comment"
    return ActionResult(
        returncode=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        outputs=parse_outputs(outputs_text) if outputs_text else {},
        outputs_text=outputs_text,
        summary=summary_text,
        commands=parse_commands(proc.stdout),
    )


def task(slug: str, scenario: str = "checkout", env: str = "shop", **extra: Any) -> dict[str, Any]:
    return {"slug": slug, "scenario": scenario, "env": {"name": env}, "args": extra or {}}


def tasks_file(*slugs: str, **extra: Any) -> list[dict[str, Any]]:
    return [task(slug, **extra) for slug in slugs]


def with_key(platform_url: str, **more: str) -> dict[str, str]:
    """Inputs for a run that can reach the platform."""
    return {"hud-api-key": HUD_KEY, "hud-api-url": platform_url, "taskset": "demo", **more}


def remote_tasks(platform_url: str, name: str = "demo") -> dict[str, dict[str, Any]]:
    """What reached the platform: the taskset's tasks by slug, read back with the real HTTP client."""
    from hud_sync_hook.platform.http import HttpPlatform

    with HttpPlatform(platform_url, HUD_KEY) as client:
        found = client.find_taskset(name)
        if found is None:
            return {}
        _name, records = client.fetch_tasks(found.id)
    return {r.get("slug"): r for r in records}


def uploads(serve) -> int:
    """How many upload requests the platform received."""
    return sum(1 for line in serve.stderr_text().splitlines() if line.startswith("POST /tasks/upload "))
