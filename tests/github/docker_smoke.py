"""Drive the action's image the way the runner does, against a local platform and a fake GitHub.

Used by `.ci/docker-smoke.sh` once the image is built: `python -m tests.github.docker_smoke --image IMAGE`.
The workspace is owned by another user (as on a runner) and mounted at /github/workspace, the
event at /github/workflow/event.json, the output and summary files under /github/file_commands;
`--network host` lets the container reach `serve` and the fake GitHub on 127.0.0.1. Runs: a
pull_request_target plan (its Python task file is imported only if git can read the foreign-owned
workspace; it is a probe that searches every /proc/*/environ and cmdline in the container for the
secrets and tries to ptrace the entrypoint), a `setup.py` probe run by the `install` input, a fork's
run whose workspace holds links into the runner's folders, then the merge, which uploads and
updates the comment.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hud_sync_hook.github.comments import parse_marker
from tests.github.harness import HUD_KEY, action_defaults, parse_commands, parse_outputs, pr_payload, remote_tasks
from tests.helpers.fake_github import FakeGitHub
from tests.helpers.probe import assert_nothing_reachable, probe_source, read_report
from tests.helpers.repo import make_repo
from tests.helpers.serve import start_serve

RUNNER_UID = 1001  # the runner user owns the workspace; the container runs as root

TASKS_PY = """\
tasks = [
    {"slug": "smoke-one", "scenario": "checkout", "env": {"name": "shop"}, "args": {"n": 1}},
    {"slug": "smoke-two", "scenario": "checkout", "env": {"name": "shop"}, "args": {"n": 2}},
]
"""


def chown_tree(root: Path, uid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, uid, uid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)


def docker_run(image: str, tmp: Path, ws: Path, github: FakeGitHub, platform_url: str, event: str, payload: dict, sha: str,
               timeout: float, inputs: dict | None = None):
    run_dir = Path(tempfile.mkdtemp(dir=tmp))
    (run_dir / "workflow").mkdir()
    (run_dir / "file_commands").mkdir()
    (run_dir / "home").mkdir()
    (run_dir / "workflow" / "event.json").write_text(json.dumps(payload))
    for name in ("output", "summary"):
        (run_dir / "file_commands" / name).write_text("")
    values = action_defaults()
    values.update({"hud-api-key": HUD_KEY, "hud-api-url": platform_url, "github-token": github.token, "taskset": "smoke"})
    values.update(inputs or {})
    env = {f"INPUT_{name.upper()}": value for name, value in values.items()}
    env.update(
        {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "HOME": "/github/home",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": "/github/workflow/event.json",
            "GITHUB_WORKSPACE": "/github/workspace",
            "GITHUB_OUTPUT": "/github/file_commands/output",
            "GITHUB_STEP_SUMMARY": "/github/file_commands/summary",
            "GITHUB_REPOSITORY": github.repository,
            "GITHUB_API_URL": github.url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_RUN_ID": "9001",
            "GITHUB_RUN_NUMBER": "5",
            "GITHUB_SHA": sha,
            "GITHUB_REF": "refs/pull/7/merge",
            "ACTIONS_RUNTIME_TOKEN": "runner-runtime-token-value",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-id-token-value",
        }
    )
    command = [
        "docker", "run", "--rm", "--network", "host", "--workdir", "/github/workspace",
        "-v", f"{ws}:/github/workspace",
        "-v", f"{run_dir / 'workflow'}:/github/workflow",
        "-v", f"{run_dir / 'file_commands'}:/github/file_commands",
        "-v", f"{run_dir / 'home'}:/github/home",
        "-v", f"{tmp / 'probe'}:/probe",
    ]
    for name in env:  # values travel in the environment, so the key is not on a command line
        command += ["-e", name]
    command.append(image)
    started = time.monotonic()
    proc = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)
    print(f"docker run ({event}): exit {proc.returncode} in {time.monotonic() - started:.1f}s")
    print(proc.stdout[-4000:])
    if proc.stderr.strip():
        print(proc.stderr[-4000:], file=sys.stderr)
    outputs = parse_outputs((run_dir / "file_commands" / "output").read_text())
    summary = (run_dir / "file_commands" / "summary").read_text()
    for text in (proc.stderr, summary, json.dumps(outputs)):
        assert HUD_KEY not in text and github.token not in text, "a secret was shown"
    return proc, outputs, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per docker run")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="hud-smoke-"))
    os.environ.setdefault("GIT_AUTHOR_NAME", "Smoke Test")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "smoke@example.com")
    os.environ.setdefault("GIT_COMMITTER_NAME", "Smoke Test")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "smoke@example.com")
    ws = tmp / "workspace"
    probe = tmp / "probe"
    probe.mkdir()
    os.chmod(probe, 0o777)
    os.chmod(tmp, 0o755)
    setup_py = probe_source("/probe/setup-py.json", task=False) + "from setuptools import setup\nsetup(name='probe-pkg', version='1.0')\n"
    repo = make_repo(ws, {"tasks.py": probe_source("/probe/task-file.json", task=False) + TASKS_PY, "probe-pkg/setup.py": setup_py})
    head = repo.head.commit.hexsha
    chown_tree(ws, RUNNER_UID)
    (tmp / "platform").mkdir()
    with start_serve(tmp / "platform", "--api-key", HUD_KEY) as platform, FakeGitHub() as github:
        # 1. The plan on the pull request; the base commit is checked out, so the code is trusted
        #    only if git inside the container can read the workspace owned by another user.
        proc, outputs, summary = docker_run(
            args.image, tmp, ws, github, platform.url, "pull_request_target",
            pr_payload(7, head_sha="1" * 40, base_sha=head), head, args.timeout,
        )
        assert proc.returncode == 0, "the plan run failed"
        assert proc.stdout.startswith(f"::add-mask::{HUD_KEY}\n"), "the key must be masked before anything else"
        assert outputs["to-create"] == "2" and outputs["has-changes"] == "true", outputs
        comments = github.comments_on(7)
        assert len(comments) == 1, comments
        header = parse_marker(comments[0]["body"])
        assert header is not None and header.plan_hash == outputs["plan-hash"]
        assert "| smoke-one | shop:checkout | tasks.py" in comments[0]["body"]
        assert "2 to create" in summary
        assert outputs["plan-json"] and (ws / outputs["plan-json"]).is_file()
        assert remote_tasks(platform.url, "smoke") == {}
        # The task file ran as nobody and reached no secret anywhere in the container.
        found = read_report(probe / "task-file.json")
        assert_nothing_reachable(found, expect_other_uid=True, whole_machine=True)
        assert found["uid"] == 65534 and found["entrypoint"] == 1, found
        print(f"probe: read {len(found['environ_read'])} environ and {len(found['cmdline_read'])} cmdline files, "
              f"ptrace {found['ptrace']}, mem {found['mem']}: no secret")

        # 2. A setup.py run by the install input reaches no secret either.
        docker_run(args.image, tmp, ws, github, platform.url, "pull_request_target",
                   pr_payload(7, head_sha="1" * 40, base_sha=head), head, args.timeout,
                   inputs={"install": "--no-index --no-build-isolation ./probe-pkg", "comment": "false"})
        assert_nothing_reachable(read_report(probe / "setup-py.json"), expect_other_uid=True, whole_machine=True)
        print("probe: setup.py run by pip reached no secret")

        # 3. A fork's workspace whose plan folder links into the runner's files: an error, no write.
        fork_ws = tmp / "fork-workspace"
        fork = make_repo(fork_ws, {"tasks.json": [{"slug": "f", "scenario": "s", "env": {"name": "e"}}]})
        os.symlink("/github/workflow", fork_ws / ".hud-sync-hook")
        fork.close()
        chown_tree(fork_ws, RUNNER_UID)
        proc, outputs, summary = docker_run(
            args.image, tmp, fork_ws, github, platform.url, "pull_request_target",
            pr_payload(8, head_sha="1" * 40, base_sha="2" * 40, head_repo="stranger/tasks"), head, args.timeout,
        )
        assert proc.returncode == 1, "a link in the way must fail the run"
        links = [c for c in parse_commands(proc.stdout) if c.kind == "error" and c.properties.get("title") == "Link in the way"]
        assert [c.properties.get("file") for c in links] == [".hud-sync-hook"], proc.stdout[-2000:]
        assert outputs["plan-json"] == ""
        print("links: the plan folder linked to /github/workflow was refused")

        # 4. The merge: upload, then the same comment says so.
        merged = pr_payload(7, action="closed", merged=True, merge_commit_sha=head, head_sha="1" * 40, base_sha="2" * 40)
        proc, outputs, summary = docker_run(args.image, tmp, ws, github, platform.url, "pull_request", merged, head, args.timeout)
        assert proc.returncode == 0, "the merge run failed"
        assert outputs["created"] == "2", outputs
        assert sorted(remote_tasks(platform.url, "smoke")) == ["smoke-one", "smoke-two"]
        comments = github.comments_on(7)
        assert len(comments) == 1 and "Applied in run #5: 2 created, 0 updated" in comments[0]["body"]
        notices = [c.message for c in parse_commands(proc.stdout) if c.kind == "notice"]
        assert any("Applied in run #5" in n for n in notices), notices
        # What the container wrote into the workspace belongs to the workspace's owner, not root.
        for written in (ws / ".hud-sync-hook", ws / outputs["plan-json"], ws / ".hud" / "config.json"):
            assert written.stat().st_uid == RUNNER_UID, f"{written} is owned by uid {written.stat().st_uid}"
        repo.close()
    print("docker smoke test passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
