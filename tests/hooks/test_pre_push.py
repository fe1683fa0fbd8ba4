"""Real pushes to a local bare remote through the hook `install-hook` writes, and `pre-push` run directly.

The platform is the real `hud-sync-hook serve` on 127.0.0.1; nothing is mocked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.repo import run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.hooks.consumer import (
    Consumer,
    child_env,
    closed_port,
    git_run,
    make_consumer,
    remote_slugs,
    request_count,
    task,
    tasks_py,
)

KEY = {"HUD_API_KEY": HUD_API_KEY}


@pytest.mark.parametrize(
    "path, source, package, expected",
    [
        ("tasks.py", "", False, True),
        ("env.py", "", False, True),  # tasks import it
        ("tasks.jsonl", "", False, True),
        ("other.json", "", False, False),
        ("README.md", "", False, False),
        ("pkg/helpers.py", "", False, False),
        ("pkg/helpers.py", "", True, True),  # a package source imports its modules
        ("suite/deep/task.py", "", False, True),
        ("_private/task.py", "", False, False),
        (".hud/config.json", "", False, True),
        (".hud/deploy.json", "evals", False, True),
        ("evals/.hud/config.json", "evals", False, True),
        ("other/.hud/config.json", "evals", False, False),
        ("evals/tasks.yaml", "evals", False, True),
        ("tasks.py", "evals", False, False),
        ("evals/set.jsonl", "evals/set.jsonl", False, True),
        ("evals/tasks.py", "evals/set.jsonl", False, False),
        ("evals/helpers.py", "evals/suite.py", False, True),
        ("helpers.py", "evals/suite.py", False, False),
    ],
)
def test_which_files_can_change_discovery(path: str, source: str, package: bool, expected: bool):
    from hud_sync_hook.commands.pre_push import affects_discovery

    assert affects_discovery(path, source, lambda: package) is expected


def test_the_fast_path_names_the_same_files_as_discovery_and_config():
    from hud_sync_hook import config, discovery
    from hud_sync_hook.commands import pre_push

    assert pre_push.DATA_NAMES == discovery.DATA_NAMES
    assert set(pre_push.TASK_SUFFIXES) == {".py", *discovery.DATA_SUFFIXES}
    assert pre_push.CONFIG_NAMES == (config.CONFIG_NAME, config.LEGACY_NAME)
    assert pre_push.CONFIG_PATH == f"{config.CONFIG_DIR}/{config.CONFIG_NAME}"


@pytest.mark.parametrize("source, expected", [(".", ""), ("./evals/", "evals"), ("a/../b", "b")])
def test_sources_are_repository_relative(source: str, expected: str):
    from hud_sync_hook.commands.pre_push import normalise_source

    assert normalise_source(source) == expected


@pytest.mark.parametrize("source", ["../elsewhere", "/abs/tasks"])
def test_a_source_outside_the_repository_is_refused(source: str):
    from hud_sync_hook.commands.pre_push import normalise_source
    from hud_sync_hook.errors import HudSyncError

    with pytest.raises(HudSyncError, match="must be a path inside the repository"):
        normalise_source(source)


def install(consumer: Consumer, *hook_args: str) -> None:
    result = run_cli("install-hook", "--", *hook_args, cwd=consumer.work, env=child_env())
    assert result.returncode == 0, result.stderr


def test_a_push_without_task_files_is_one_line_with_no_import_and_no_request(consumer: Consumer, serve):
    install(consumer, "--taskset", "shop", "--api-url", serve.url)
    tip = consumer.commit({"README.md": "changed\n", "docs/notes.py": "x = 1\n"})
    before = request_count(serve)
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    lines = [line for line in pushed.output.splitlines() if line.startswith("hud-sync-hook")]
    assert lines == ["hud-sync-hook: no task files changed in this push (2 file(s), refs/heads/main); nothing to check"]
    assert consumer.imports() == 0
    assert request_count(serve) == before
    assert consumer.remote_sha("main") == tip


def test_the_fast_path_imports_only_what_it_uses(consumer: Consumer):
    old = consumer.head()
    new = consumer.commit({"README.md": "changed\n"})
    probe = (
        "import sys\n"
        "from hud_sync_hook.cli import main\n"
        "status = main(['pre-push', 'origin', 'url'])\n"
        "heavy = ('httpx', 'yaml', 'sqlite3', 'http.server', 'hud_sync_hook.platform', 'hud_sync_hook.sync',\n"
        "         'hud_sync_hook.discovery', 'hud_sync_hook.config', 'hud_sync_hook.render', 'hud_sync_hook.model')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)), status)\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe], cwd=consumer.work, env=child_env(),
                         input=f"refs/heads/main {new} refs/heads/main {old}\n", capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == "[] 0", ran.stdout


def test_a_valid_task_change_prints_the_plan_and_uploads_nothing(consumer: Consumer, serve):
    install(consumer, "--taskset", "shop", "--api-url", serve.url)
    tip = consumer.commit({"tasks.py": tasks_py(task("alpha", n=2), task("beta"), task("gamma"))})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert f"3 task(s) valid in 1 file(s) ({tip[:12]}, refs/heads/main)" in pushed.output
    assert "Sync plan for 'shop'" in pushed.output and "Create (3)" in pushed.output
    assert consumer.imports() >= 1
    assert consumer.remote_sha("main") == tip
    assert remote_slugs(serve.url, "shop") == {}


def test_an_invalid_task_refuses_the_push_with_file_and_line(consumer: Consumer, serve):
    install(consumer, "--taskset", "shop", "--api-url", serve.url)
    before = consumer.remote_sha("main")
    consumer.commit({"tasks.py": tasks_py(task("alpha"), task(None))})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode != 0
    assert "tasks.py:7: task has no slug" in pushed.output
    assert "push refused" in pushed.output and "Traceback" not in pushed.output
    assert consumer.remote_sha("main") == before
    assert request_count(serve) == 0


def test_a_new_branch_is_checked_against_the_default_branch(consumer: Consumer, serve):
    install(consumer, "--taskset", "shop", "--api-url", serve.url)
    git_run(consumer.work, "checkout", "-q", "-b", "feature")
    pushed = consumer.push("feature", env=KEY)  # nothing new against main
    assert pushed.returncode == 0, pushed.output
    assert "no task files changed in this push (0 file(s), refs/heads/feature)" in pushed.output
    tip = consumer.commit({"tasks.py": tasks_py(task("alpha"), task("delta"))})
    pushed = consumer.push("HEAD:refs/heads/feature-2", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert f"plan for {tip[:12]} (refs/heads/feature-2)" in pushed.output
    assert "+ delta" in pushed.output
    assert consumer.remote_sha("feature-2") == tip


def test_deleting_a_branch_checks_nothing(consumer: Consumer):
    install(consumer)
    git_run(consumer.work, "push", "-q", "--no-verify", "origin", "main:doomed")
    consumer.commit({"tasks.py": tasks_py(task(None))})  # an invalid HEAD does not matter to a deletion
    pushed = consumer.push(":doomed")
    assert pushed.returncode == 0, pushed.output
    assert "nothing to check (the push deletes refs or sends no commits)" in pushed.output
    assert consumer.remote_sha("doomed") is None


def test_two_refs_at_once_are_all_checked_and_one_bad_ref_stops_both(consumer: Consumer, serve):
    install(consumer, "--taskset", "shop", "--api-url", serve.url)
    main_before = consumer.remote_sha("main")
    readme = consumer.commit({"README.md": "only docs\n"})
    git_run(consumer.work, "checkout", "-q", "-b", "feature")
    good = consumer.commit({"tasks.py": tasks_py(task("alpha"), task("epsilon"))})
    pushed = consumer.push("main", "feature", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert f"plan for {good[:12]} (refs/heads/feature)" in pushed.output
    assert "refs/heads/main" not in pushed.output.split("plan for")[-1]
    assert consumer.remote_sha("main") == readme and consumer.remote_sha("feature") == good

    git_run(consumer.work, "checkout", "-q", "main")
    main_tip = consumer.commit({"tasks.py": tasks_py(task("alpha"), task("beta"), task("zeta"))})
    git_run(consumer.work, "checkout", "-q", "feature")
    consumer.commit({"tasks.py": tasks_py(task("alpha"), task("bad", n=1), task(None))})
    pushed = consumer.push("main", "feature", env=KEY)
    assert pushed.returncode != 0
    assert "tasks.py:8: task has no slug" in pushed.output and "refs/heads/feature" in pushed.output
    assert f"valid in 1 file(s) ({main_tip[:12]}, refs/heads/main)" in pushed.output
    assert "Sync plan" not in pushed.output  # no plan, let alone an upload, for a refused push
    assert consumer.remote_sha("main") == readme != main_before


def test_uncommitted_task_edits_stay_out_of_the_plan(consumer: Consumer, serve):
    install(consumer, "--taskset", "shop", "--api-url", serve.url)
    consumer.commit({"tasks.py": tasks_py(task("alpha"), task("beta"), task("committed"))})
    (consumer.work / "tasks.py").write_text(tasks_py(task("alpha"), task("beta"), task("dirty-edit"), task(None)))
    (consumer.work / "tasks.json").write_text(json.dumps([task("stray-file")]))
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert "+ committed" in pushed.output
    assert "dirty-edit" not in pushed.output and "stray-file" not in pushed.output
    assert "hud-sync-hook-" not in pushed.output  # no path of the temporary export shows
    assert "dirty-edit" in (consumer.work / "tasks.py").read_text()


def test_an_ignored_config_in_a_clean_work_tree_is_not_the_repository_s(consumer: Consumer, serve):
    install(consumer, "--api-url", serve.url)
    tip = consumer.commit({".gitignore": ".hud/\n", "tasks.py": tasks_py(task("alpha"), task("beta"), task("gamma"))})
    (consumer.work / ".hud").mkdir()
    (consumer.work / ".hud" / "config.json").write_text('{"tasksetName": "mine", "tasksetId": "%s"}' % ("1" * 8 + "-1111-4111-8111-" + "1" * 12))
    assert not git_run(consumer.work, "status", "--porcelain").stdout
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert f"plan skipped for {tip[:12]}: no taskset given" in pushed.output


def test_apply_on_branch_uploads_to_the_served_platform(consumer: Consumer, serve):
    install(consumer, "--taskset", "shop", "--api-url", serve.url, "--apply-on-branch", "main")
    git_run(consumer.work, "checkout", "-q", "-b", "feature")
    consumer.commit({"tasks.py": tasks_py(task("alpha"), task("beta", n=5))})
    pushed = consumer.push("feature", env=KEY)
    assert pushed.returncode == 0 and "uploaded" not in pushed.output
    assert remote_slugs(serve.url, "shop") == {}

    pushed = consumer.push("feature:main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert "uploaded 2 task(s) to 'shop' for the push to main: 2 created, 0 updated" in pushed.output
    landed = remote_slugs(serve.url, "shop")
    assert sorted(landed) == ["alpha", "beta"] and landed["beta"]["args"] == {"n": 5}
    assert "commit tasksetId" in pushed.output
    assert not (consumer.work / ".hud").exists()  # the hook leaves the work tree alone


def test_settings_from_the_repository_config(consumer: Consumer, serve):
    """`prePush` in the pushed commit's .hud/config.json: source, applyOnBranch, timeout, apiUrl."""
    install(consumer)
    config = {"prePush": {"source": "evals", "applyOnBranch": "main", "apiUrl": serve.url, "timeout": 5}}
    consumer.commit({".hud/config.json": config, "evals/tasks.py": tasks_py(task("from-evals"))})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert "1 task(s) valid" in pushed.output
    assert "plan skipped" in pushed.output and "pass --taskset NAME" in pushed.output

    consumer.commit({"evals/tasks.py": tasks_py(task("from-evals"), task(None))})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode != 0 and "evals/tasks.py:7: task has no slug" in pushed.output
    git_run(consumer.work, "reset", "-q", "--hard", "HEAD~1")

    install(consumer, "--taskset", "evals-set")  # arguments and config together
    git_run(consumer.work, "config", "--global", "hud-sync-hook.allowApiUrl", serve.url)  # the user trusts it
    consumer.commit({"evals/tasks.py": tasks_py(task("from-evals"), task("more"))})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert "uploaded 2 task(s) to 'evals-set'" in pushed.output
    assert sorted(remote_slugs(serve.url, "evals-set")) == ["from-evals", "more"]

    # A change outside the configured source triggers nothing.
    consumer.commit({"tasks.py": tasks_py(task("root-task"))})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0 and "no task files changed" in pushed.output


def test_a_bad_setting_names_the_config_file(consumer: Consumer):
    install(consumer)
    consumer.commit({".hud/config.json": {"prePush": {"applyOnBranch": 3}}})
    pushed = consumer.push("main")
    assert pushed.returncode != 0
    assert "hud-sync-hook: error: .hud/config.json: prePush.applyOnBranch must be a branch name or a list of them" in pushed.output
    consumer.commit({".hud/config.json": {"prePush": {"timeout": -1}}})
    pushed = consumer.push("main")
    assert pushed.returncode != 0
    assert "hud-sync-hook: error: .hud/config.json: prePush.timeout must be a number of seconds above 0" in pushed.output


def test_no_key_skips_the_plan_and_lets_the_push_through(consumer: Consumer):
    install(consumer, "--taskset", "shop", "--apply-on-branch", "main")
    tip = consumer.commit({"tasks.py": tasks_py(task("alpha"), task("beta"), task("new"))})
    pushed = consumer.push("main")
    assert pushed.returncode == 0, pushed.output
    assert f"plan skipped for {tip[:12]}: no HUD API key" in pushed.output
    assert "nothing was uploaded" in pushed.output
    assert consumer.remote_sha("main") == tip


def test_an_unreachable_platform_skips_the_plan_quickly(consumer: Consumer):
    url = f"http://127.0.0.1:{closed_port()}"
    install(consumer, "--taskset", "shop", "--api-url", url, "--timeout", "2")
    tip = consumer.commit({"tasks.py": tasks_py(task("alpha"), task("beta"), task("new"))})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    # One retry, then the push goes on (the hook never retries for minutes like plan does).
    assert f"plan skipped for {tip[:12]}: cannot reach the HUD platform at {url} after 2 attempts" in pushed.output
    assert KEY["HUD_API_KEY"] not in pushed.output
    assert consumer.remote_sha("main") == tip


def test_local_platform_path_and_a_sha256_repository(tmp_path: Path):
    consumer = make_consumer(tmp_path, {"tasks.json": [task("one")]}, object_format="sha256")
    store = tmp_path / "store.sqlite"
    install(consumer, "--taskset", "local-set", "--api-url", f"local:{store}", "--apply-on-branch", "main")
    tip = consumer.commit({"tasks.json": [task("one"), task("two")]})
    assert len(tip) == 64
    pushed = consumer.push("main")
    assert pushed.returncode == 0, pushed.output
    assert "uploaded 2 task(s) to 'local-set'" in pushed.output
    git_run(consumer.work, "checkout", "-q", "-b", "other")
    pushed = consumer.push("other", "HEAD:refs/heads/third")
    assert pushed.returncode == 0, pushed.output
    assert pushed.output.count("nothing to check") == 1
    pushed = consumer.push(":other")
    assert pushed.returncode == 0 and "deletes refs" in pushed.output


def test_pre_commit_variables_and_a_run_by_hand(consumer: Consumer, serve):
    """What pre-commit passes (FROM/TO refs, or none in all-files mode), without pre-commit itself."""
    old = consumer.head()
    new = consumer.commit({"tasks.py": tasks_py(task("alpha"), task("beta"), task("by-hand"))})
    env = child_env({**KEY, "PRE_COMMIT": "1", "PRE_COMMIT_FROM_REF": old, "PRE_COMMIT_TO_REF": new,
                     "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/main", "PRE_COMMIT_REMOTE_NAME": "origin"})
    ran = run_cli("pre-push", "--taskset", "shop", "--api-url", serve.url, cwd=consumer.work, env=env, input="")
    assert ran.returncode == 0, ran.stderr
    assert f"plan for {new[:12]} (refs/heads/main)" in ran.stdout and "+ by-hand" in ran.stdout

    # All-files mode (no FROM/TO) and a run by hand: HEAD against the remote's default branch.
    for extra in ({"PRE_COMMIT": "1", "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/main"}, {}):
        ran = run_cli("pre-push", "--taskset", "shop", "--api-url", serve.url, cwd=consumer.work / ".git",
                      env=child_env({**KEY, **extra}))
        assert ran.returncode == 0, ran.stderr
        assert "+ by-hand" in ran.stdout
