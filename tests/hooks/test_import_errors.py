"""A task file that fails to import refuses the commit and the push, unless the project allows it.

Real pushes to a local bare remote through the hook `install-hook` writes, and a real `pre-commit
run` of both hooks with `--allow-import-errors` in their `args:`; the platform is the real `serve`.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.helpers.repo import run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.hooks.consumer import Consumer, child_env, git_run, remote_slugs, request_count, task, tasks_py
from tests.hooks.test_pre_commit import hook_repository, pre_commit, store  # noqa: F401 - fixtures

KEY = {"HUD_API_KEY": HUD_API_KEY}
# task.py is discovered with tasks.py; line 3 lacks a comma.
BROKEN = "import os\ntasks = [\n    {'slug': 'lost' 'scenario': 'checkout'},\n]\n"
ALLOW_HINT = "fix the file, or list it in --allow-import-errors or allowImportErrors in .hud/config.json"


def install(consumer: Consumer, *hook_args: str) -> None:
    result = run_cli("install-hook", "--force", "--", *hook_args, cwd=consumer.work, env=child_env())
    assert result.returncode == 0, result.stderr


def test_a_push_with_a_broken_task_file_is_refused_and_uploads_nothing(consumer: Consumer, serve):
    install(consumer, "--taskset", "shop", "--api-url", serve.url, "--apply-on-branch", "main")
    before = consumer.remote_sha("main")
    consumer.commit({"task.py": BROKEN})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode != 0
    [line] = [line for line in pushed.output.splitlines() if line.startswith("task.py")]
    assert line.startswith("task.py:3: SyntaxError: ") and ALLOW_HINT in line
    assert "push refused" in pushed.output and "Traceback" not in pushed.output
    assert consumer.remote_sha("main") == before
    assert request_count(serve) == 0 and remote_slugs(serve.url, "shop") == {}


def test_allowed_by_the_hooks_argument_or_the_committed_config_the_push_goes_on(consumer: Consumer, serve):
    install(consumer, "--taskset", "shop", "--api-url", serve.url, "--allow-import-errors", "task.py")
    tip = consumer.commit({"task.py": BROKEN})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert "Skipped: task.py: SyntaxError: " in pushed.output and "(line 3)" in pushed.output
    assert f"2 task(s) valid in 2 file(s) ({tip[:12]}, refs/heads/main)" in pushed.output
    assert consumer.remote_sha("main") == tip and remote_slugs(serve.url, "shop") == {}  # a plan, no upload

    # The same file allowed by the pushed commit's .hud/config.json, and uploaded to main.
    install(consumer, "--taskset", "shop", "--api-url", serve.url, "--apply-on-branch", "main")
    broken_again = consumer.commit({"task.py": BROKEN + "raise RuntimeError('still broken')\n"})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode != 0 and consumer.remote_sha("main") == tip  # the config is not committed yet
    tip = consumer.commit({".hud/config.json": {"allowImportErrors": ["task.py"]}})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert consumer.remote_sha("main") == tip != broken_again
    assert "uploaded 2 task(s) to 'shop' for the push to main" in pushed.output
    assert sorted(remote_slugs(serve.url, "shop")) == ["alpha", "beta"]


def test_pre_commit_runs_both_hooks_with_allow_import_errors_in_args(
    consumer: Consumer, serve, store, hook_repository, tmp_path: Path  # noqa: F811
):
    repo, rev = hook_repository
    config_path = consumer.work / ".pre-commit-config.yaml"

    def configure(extra: list[str]) -> None:
        config_path.write_text(yaml.safe_dump({"repos": [{"repo": repo, "rev": rev, "hooks": [
            {"id": "hud-sync-validate", "args": extra},
            {"id": "hud-sync-plan", "args": ["--taskset", "shop", "--api-url", serve.url, *extra]},
        ]}]}, sort_keys=False))

    configure([])
    old = consumer.commit({}, "pre-commit config")
    (consumer.work / "task.py").write_text(BROKEN)
    git_run(consumer.work, "add", "-A")
    ran = pre_commit(consumer.work, "run", "hud-sync-validate", env=store)
    assert ran.returncode == 1, ran.output
    assert "task.py:3: SyntaxError: " in ran.output and ALLOW_HINT in ran.output and "Traceback" not in ran.output

    new = consumer.commit({}, "a broken task file")
    push_stage = ["--hook-stage", "pre-push", "--from-ref", old, "--to-ref", new, "--remote-name", "origin",
                  "--remote-url", str(consumer.remote), "--remote-branch", "refs/heads/main",
                  "--local-branch", "refs/heads/main"]
    ran = pre_commit(consumer.work, "run", "hud-sync-plan", *push_stage, env={**store, **KEY})
    assert ran.returncode == 1, ran.output
    assert "task.py:3: SyntaxError: " in ran.output and "push refused" in ran.output

    configure(["--allow-import-errors", "task.py"])
    git_run(consumer.work, "add", "-A")
    ran = pre_commit(consumer.work, "run", "hud-sync-validate", "--all-files", env=store)
    assert ran.returncode == 0, ran.output
    new = consumer.commit({}, "allow it")
    push_stage[push_stage.index("--to-ref") + 1] = new
    ran = pre_commit(consumer.work, "run", "hud-sync-plan", *push_stage, env={**store, **KEY})
    assert ran.returncode == 0, ran.output
    assert "Skipped: task.py: SyntaxError: " in ran.output and "Create (2)" in ran.output
    assert remote_slugs(serve.url, "shop") == {}
