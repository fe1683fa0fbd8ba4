"""The hooks as pre-commit users run them: `try-repo`, and `pre-commit install` in a consumer repository.

pre-commit installs this repository with pip into an isolated environment (network access to PyPI),
so the hooks run the package as users get it. `try-repo` installs into a fresh store each time; the
consumer tests share one `PRE_COMMIT_HOME` for the module, so their install happens once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.repo import REPO_ROOT, run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.hooks.consumer import Consumer, child_env, git_run, make_consumer, remote_slugs, task, tasks_py
from tests.hooks.v6_project import LABEL as V6_LABEL
from tests.hooks.v6_project import SHAPE_PY, jsonl, row, shaped_py

pytest.importorskip("pre_commit")

KEY = {"HUD_API_KEY": HUD_API_KEY}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pre-commit's home and pip's cache, shared by the module's tests."""
    root = tmp_path_factory.mktemp("pre-commit-store")
    return {"PRE_COMMIT_HOME": str(root / "home"), "PIP_CACHE_DIR": str(root / "pip-cache")}


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(repo, rev) holding this checkout: HEAD plus uncommitted tracked changes, as `try-repo` takes it."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
    }

    def run(*args: str, cwd: Path, extra: dict[str, str] | None = None) -> str:
        return subprocess.run(["git", *args], cwd=cwd, env={**env, **(extra or {})}, check=True,
                              capture_output=True, text=True).stdout.strip()

    head = run("rev-parse", "HEAD", cwd=REPO_ROOT)
    if not run("diff", "HEAD", "--name-only", cwd=REPO_ROOT):
        return str(REPO_ROOT), head
    shadow = tmp_path_factory.mktemp("shadow") / "repo"
    run("clone", "-q", "--no-checkout", str(REPO_ROOT), str(shadow), cwd=REPO_ROOT)
    run("checkout", "-q", head, "-b", "_shadow", cwd=shadow)
    into_shadow = {"GIT_INDEX_FILE": str(shadow / ".git" / "index"), "GIT_OBJECT_DIRECTORY": str(shadow / ".git" / "objects")}
    run("add", "-u", cwd=REPO_ROOT, extra=into_shadow)  # writes only into the shadow's index and objects
    run("commit", "-q", "--no-verify", "-m", "uncommitted changes", cwd=shadow)
    return str(shadow), run("rev-parse", "HEAD", cwd=shadow)


def pre_commit(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH: the hooks must run the copy pre-commit installed, as they do for users.
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=str(cwd), env=child_env({**env, "PYTHONPATH": ""}),
        capture_output=True, text=True, timeout=600,
    )
    result.output = result.stdout + result.stderr  # type: ignore[attr-defined]
    return result


def hook_config(hook_repository: tuple[str, str], plan_args: list[str], validate_args: list[str] | None = None) -> str:
    """A `.pre-commit-config.yaml` using both hooks of this checkout."""
    repo, rev = hook_repository
    validate = {"id": "hud-sync-validate", **({"args": validate_args} if validate_args is not None else {})}
    config = {
        "default_install_hook_types": ["pre-commit", "pre-push"],
        "repos": [{"repo": repo, "rev": rev, "hooks": [validate, {"id": "hud-sync-plan", "args": plan_args}]}],
    }
    return yaml.safe_dump(config, sort_keys=False)


def write_config(consumer: Consumer, hook_repository: tuple[str, str], plan_args: list[str]) -> None:
    (consumer.work / ".pre-commit-config.yaml").write_text(hook_config(hook_repository, plan_args))
    consumer.commit({}, "pre-commit config")
    git_run(consumer.work, "push", "-q", "--no-verify", "origin", "main")


def test_the_manifest_validates_and_declares_both_hooks():
    result = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"],
                            cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = {h["id"]: h for h in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["hud-sync-validate"]["entry"] == "hud-sync-hook validate"
    assert hooks["hud-sync-validate"]["stages"] == ["pre-commit", "pre-push", "manual"]
    assert hooks["hud-sync-plan"]["entry"] == "hud-sync-hook pre-push"
    assert hooks["hud-sync-plan"]["stages"] == ["pre-push", "manual"] and hooks["hud-sync-plan"]["always_run"]
    assert all(h["minimum_pre_commit_version"] == "3.2.0" and h["pass_filenames"] is False for h in hooks.values())


def test_try_repo_validate_refuses_invalid_staged_tasks(consumer: Consumer, store):
    (consumer.work / "tasks.py").write_text(tasks_py(task("alpha"), task(None)))
    git_run(consumer.work, "add", "tasks.py")
    ran = pre_commit(consumer.work, "try-repo", str(REPO_ROOT), "hud-sync-validate", env=store)
    assert ran.returncode == 1, ran.output
    assert "tasks.py:7: task has no slug" in ran.output and "Traceback" not in ran.output


def test_try_repo_plan_at_the_pre_push_stage(consumer: Consumer, serve, store):
    applied = run_cli("apply", "shop", ".", "--api-url", serve.url, "--yes", cwd=consumer.work, env=child_env(KEY))
    assert applied.returncode == 0, applied.stderr
    old = consumer.commit({}, "link the taskset")  # commits .hud/config.json with tasksetId
    new = consumer.commit({"tasks.py": tasks_py(task("alpha"), task("beta", n=3), task("gamma"))})
    ran = pre_commit(
        consumer.work, "try-repo", str(REPO_ROOT), "hud-sync-plan", "--hook-stage", "pre-push",
        "--from-ref", old, "--to-ref", new, "--remote-name", "origin", "--remote-url", str(consumer.remote),
        "--remote-branch", "refs/heads/main", "--local-branch", "refs/heads/main",
        env={**store, **KEY, "HUD_API_URL": serve.url},
    )
    assert ran.returncode == 0, ran.output
    assert f"plan for {new[:12]} (refs/heads/main)" in ran.output
    assert "Create (1)" in ran.output and "+ gamma" in ran.output and "Update (1)" in ran.output
    assert sorted(remote_slugs(serve.url, "shop")) == ["alpha", "beta"]  # a plan, not an upload


def test_pushes_through_pre_commit_install(consumer: Consumer, serve, store, hook_repository, tmp_path: Path):
    write_config(consumer, hook_repository, ["--taskset", "shop", "--api-url", serve.url, "--apply-on-branch", "main"])
    installed = pre_commit(consumer.work, "install", "--hook-type", "pre-push", env=store)
    assert installed.returncode == 0, installed.output
    env = {**store, **KEY, "PYTHONPATH": ""}

    # No task file: one line from the plan hook, the validate hook has no files to look at.
    consumer.commit({"README.md": "docs only\n"})
    pushed = consumer.push("main", env=env)
    assert pushed.returncode == 0, pushed.output
    assert "no task files changed in this push (1 file(s), refs/heads/main)" in pushed.output
    assert consumer.imports() == 0

    # A valid change on a new branch: the plan, and nothing uploaded.
    git_run(consumer.work, "checkout", "-q", "-b", "feature")
    tip = consumer.commit({"tasks.py": tasks_py(task("alpha"), task("beta"), task("gamma"))})
    pushed = consumer.push("feature", env=env)
    assert pushed.returncode == 0, pushed.output
    assert f"plan for {tip[:12]} (refs/heads/feature)" in pushed.output and "+ gamma" in pushed.output
    assert remote_slugs(serve.url, "shop") == {}

    # An invalid one: refused, with file:line.
    consumer.commit({"tasks.py": tasks_py(task("alpha"), task(None))})
    pushed = consumer.push("feature", env=env)
    assert pushed.returncode != 0 and "tasks.py:7: task has no slug" in pushed.output
    assert consumer.remote_sha("feature") == tip
    git_run(consumer.work, "reset", "-q", "--hard", tip)

    # Uncommitted edits stay out; pushing to main uploads what was committed.
    (consumer.work / "tasks.py").write_text(tasks_py(task("dirty-edit")))
    pushed = consumer.push("feature:main", env=env)
    assert pushed.returncode == 0, pushed.output
    assert "uploaded 3 task(s) to 'shop' for the push to main" in pushed.output
    assert sorted(remote_slugs(serve.url, "shop")) == ["alpha", "beta", "gamma"]

    # A new branch to an empty remote: pre-commit's all-files mode.
    empty = tmp_path / "empty.git"
    git_run(tmp_path, "init", "-q", "--bare", str(empty))
    git_run(consumer.work, "remote", "add", "empty", str(empty))
    pushed = git_run(consumer.work, "push", "empty", "HEAD:refs/heads/main", env=consumer.env(env), check=False)
    output = pushed.stdout + pushed.stderr
    assert pushed.returncode == 0, output
    assert "3 task(s) valid" in output and "Unchanged: 3" in output


def test_commits_are_validated_with_default_install_hook_types(consumer: Consumer, store, hook_repository):
    write_config(consumer, hook_repository, ["--taskset", "shop"])
    installed = pre_commit(consumer.work, "install", env=store)
    assert installed.returncode == 0, installed.output
    assert (consumer.work / ".git" / "hooks" / "pre-commit").exists() and (consumer.work / ".git" / "hooks" / "pre-push").exists()
    (consumer.work / "tasks.py").write_text(tasks_py(task("alpha"), task(None)))
    git_run(consumer.work, "add", "tasks.py")
    committed = git_run(consumer.work, "commit", "-m", "bad tasks", env={**store, "PYTHONPATH": ""}, check=False)
    assert committed.returncode != 0 and "tasks.py:7: task has no slug" in committed.stdout + committed.stderr
    (consumer.work / "tasks.py").write_text(tasks_py(task("alpha"), task("beta"), task("fine")))
    git_run(consumer.work, "add", "tasks.py")
    committed = git_run(consumer.work, "commit", "-m", "good tasks", env={**store, "PYTHONPATH": ""}, check=False)
    assert committed.returncode == 0, committed.stdout + committed.stderr
    pushed = consumer.push("main", env={**store, "PYTHONPATH": ""})
    assert pushed.returncode == 0, pushed.output
    assert "plan skipped" in pushed.output and "no HUD API key" in pushed.output


def write_v6_config(consumer: Consumer, hook_repository: tuple[str, str], validate_args: list[str], plan_args: list[str]) -> None:
    (consumer.work / ".pre-commit-config.yaml").write_text(hook_config(hook_repository, plan_args, validate_args))


def test_a_v6_jsonl_project_with_sdk_auto(tmp_path: Path, serve, store, hook_repository):
    consumer = make_consumer(tmp_path, {"tasks.jsonl": jsonl(row(1), row(2, "two"))})
    write_v6_config(consumer, hook_repository, ["tasks.jsonl"],
                    ["--source", "tasks.jsonl", "--taskset", "letters", "--api-url", serve.url, "--apply-on-branch", "main"])
    consumer.commit({}, "pre-commit config")
    env = {**store, **KEY, "PYTHONPATH": ""}

    # `pre-commit run` on a staged invalid row: refused with file:line.
    (consumer.work / "tasks.jsonl").write_text(jsonl(row(1), {"env": "letters", "args": {"n": 9}}))
    git_run(consumer.work, "add", "tasks.jsonl")
    ran = pre_commit(consumer.work, "run", "hud-sync-validate", env=store)
    assert ran.returncode == 1, ran.output
    assert "tasks.jsonl:2: task has no id (the template id)" in ran.output and "Traceback" not in ran.output

    # Through the installed hooks: the commit is refused, then a fixed one goes in.
    installed = pre_commit(consumer.work, "install", env=store)
    assert installed.returncode == 0, installed.output
    committed = git_run(consumer.work, "commit", "-m", "bad row", env=env, check=False)
    assert committed.returncode != 0 and "tasks.jsonl:2: task has no id" in committed.stdout + committed.stderr
    (consumer.work / "tasks.jsonl").write_text(jsonl(row(1), row(2, "two"), row(3, "three")))
    git_run(consumer.work, "add", "tasks.jsonl")
    committed = git_run(consumer.work, "commit", "-m", "three rows", env=env, check=False)
    assert committed.returncode == 0, committed.stdout + committed.stderr

    # The push plans the rows as v6 against /v2 and uploads them; the next push finds them unchanged.
    pushed = consumer.push("main", env=env)
    assert pushed.returncode == 0, pushed.output
    assert V6_LABEL in pushed.output and "Create (3):" in pushed.output and "+ three" in pushed.output
    assert "uploaded 3 task(s) to 'letters' for the push to main: 3 created, 0 updated" in pushed.output
    assert "POST /v2/tasks/upload" in serve.stderr_text()
    consumer.commit({"tasks.jsonl": jsonl(row(3, "three"), row(2, "two"), row(1))}, "reorder")
    pushed = consumer.push("main", env=env)
    assert pushed.returncode == 0, pushed.output
    assert "0 to create, 0 to update, 3 unchanged" in pushed.output and "push to main: nothing to upload" in pushed.output


def test_a_v6_folder_validated_with_sdk_v6(tmp_path: Path, store, hook_repository):
    files = {"shape.py": SHAPE_PY, "env.py": shaped_py(("from-env", 0)), "tasks.py": shaped_py(("alpha", 1))}
    consumer = make_consumer(tmp_path, files)
    write_v6_config(consumer, hook_repository, ["--sdk", "v6", "."], ["--sdk", "v6", "--taskset", "shapes"])
    git_run(consumer.work, "add", "-A")
    ran = pre_commit(consumer.work, "run", "hud-sync-validate", env=store)
    assert ran.returncode == 0, ran.output
    (consumer.work / "env.py").write_text(shaped_py(("from-env", 0)) + "broken = Task('letters', None, slug='b')\n")
    git_run(consumer.work, "add", "env.py")
    ran = pre_commit(consumer.work, "run", "hud-sync-validate", env=store)
    assert ran.returncode == 1, ran.output
    assert "env.py:4: task 'b': has no id (the template id)" in ran.output and "Traceback" not in ran.output
