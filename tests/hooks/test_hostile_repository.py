"""A branch written by someone else, pushed through the installed hook: what it may and may not do.

Real `git push`es to a local bare remote, the real hook, and attackers listening on other loopback
addresses. The key lives where a developer keeps it (`~/.hud/.env`), never in the repository.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.helpers.attackers import can_bind, logging_server
from tests.helpers.repo import run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve
from tests.hooks.consumer import Consumer, child_env, git_run, task, tasks_py

TASKSET_ID = "3f2b8c1e-9d4a-4f6b-8c2d-1a2b3c4d5e6f"
OTHER_KEY = "hud-other-account-key-0000"

pytestmark = pytest.mark.skipif(not can_bind("127.0.0.2"), reason="this machine cannot bind 127.0.0.2")


def install(consumer: Consumer, *hook_args: str) -> None:
    result = run_cli("install-hook", "--", *hook_args, cwd=consumer.work, env=child_env())
    assert result.returncode == 0, result.stderr


@pytest.fixture
def key_in_home(isolated_environment: Path) -> None:
    """The developer's key in ~/.hud/.env, and nothing in the environment."""
    (isolated_environment / ".hud").mkdir()
    (isolated_environment / ".hud" / ".env").write_text(f"HUD_API_KEY={HUD_API_KEY}\n")


def hook_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("hud-sync-hook")]


def test_a_committed_api_url_gets_no_key_until_the_user_approves_it(consumer: Consumer, key_in_home, serve):
    with logging_server("127.0.0.2") as attacker:
        install(consumer, "--taskset", "shop")
        tip = consumer.commit({
            ".hud/config.json": {"tasksetId": TASKSET_ID, "prePush": {"apiUrl": attacker.url}},
            "tasks.py": tasks_py(task("alpha"), task("beta"), task("gamma")),
        })
        pushed = consumer.push("main")
        assert pushed.returncode == 0, pushed.output
        assert attacker.seen == [] and attacker.credentials_seen() == []
        skipped = [line for line in hook_lines(pushed.output) if "plan skipped" in line]
        assert skipped == [
            f"hud-sync-hook: plan skipped for {tip[:12]}: .hud/config.json sets prePush.apiUrl to {attacker.url}, "
            "which you have not approved for your HUD API key; if you trust it, run "
            f"`git config --global --add hud-sync-hook.allowApiUrl {attacker.url}` "
            "(or pass --api-url in the hook's arguments)"
        ]
        assert consumer.remote_sha("main") == tip

        # The same URL in the hook's own arguments, or approved by the user, is the user's choice.
        git_run(consumer.work, "config", "--global", "--add", "hud-sync-hook.allowApiUrl", attacker.url + "/")
        consumer.commit({"tasks.py": tasks_py(task("alpha"), task("beta"))})
        pushed = consumer.push("main")
        assert pushed.returncode == 0, pushed.output
        assert attacker.credentials_seen() and set(attacker.credentials_seen()) == {"authorization", "x-api-key"}
        assert f"  Platform: {attacker.url} (API key from ~/.hud/.env)" in pushed.output

    # The plan always names where it was made, and where the key came from.
    install(consumer, "--taskset", "shop", "--api-url", serve.url)
    consumer.commit({"tasks.py": tasks_py(task("alpha"))})
    pushed = consumer.push("main")
    assert pushed.returncode == 0, pushed.output
    assert f"  Platform: {serve.url} (API key from ~/.hud/.env)" in pushed.output


def test_the_approval_is_read_from_the_environment_too(consumer: Consumer, key_in_home):
    with logging_server("127.0.0.2") as attacker:
        install(consumer, "--taskset", "shop")
        consumer.commit({".hud/config.json": {"prePush": {"apiUrl": attacker.url}}, "tasks.py": tasks_py(task("x"))})
        pushed = consumer.push("main", env={"HUD_SYNC_HOOK_ALLOW_API_URL": "https://other.example " + attacker.url})
        assert pushed.returncode == 0, pushed.output
        assert len(attacker.seen) >= 1 and "authorization" in attacker.credentials_seen()


@pytest.mark.parametrize("where", ["outside-new", "outside-app", "inside-empty", "inside-app", "dot-dot", "home"])
def test_a_committed_local_path_never_touches_a_file_that_is_not_a_store(tmp_path: Path, consumer: Consumer, where: str):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    app = outside / "app.sqlite"
    with sqlite3.connect(app) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
    conn.close()
    (consumer.work / "data").mkdir()
    inside_app = consumer.work / "data" / "app.sqlite"
    inside_app.write_bytes(app.read_bytes())
    (consumer.work / "empty.conf").write_bytes(b"")
    path = {
        "outside-new": f"{outside}/new/dir/x.db",
        "outside-app": str(app),
        "inside-empty": "empty.conf",
        "inside-app": "data/app.sqlite",
        "dot-dot": "../elsewhere/y.db",
        "home": "~/x.db",
    }[where]
    before = {p: p.read_bytes() for p in (app, inside_app, consumer.work / "empty.conf")}
    install(consumer, "--taskset", "shop", "--apply-on-branch", "main")
    tip = consumer.commit({".hud/config.json": {"prePush": {"apiUrl": f"local:{path}"}},
                           "tasks.py": tasks_py(task("alpha"))})
    pushed = consumer.push("main")
    assert pushed.returncode == 0, pushed.output
    assert f"plan skipped for {tip[:12]}:" in pushed.output and "nothing was uploaded" in pushed.output
    reason = "not a hud-sync-hook local platform" if where.startswith("inside") else "outside the repository"
    assert reason in pushed.output
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(p.name for p in outside.rglob("*")) == ["app.sqlite"]
    assert not list(consumer.work.glob("*-wal")) and not (consumer.work / "data" / "app.sqlite-wal").exists()


def test_a_committed_local_path_inside_the_repository_is_a_store_there(consumer: Consumer):
    install(consumer, "--taskset", "shop", "--apply-on-branch", "main")
    consumer.commit({".hud/config.json": {"prePush": {"apiUrl": "local:store/platform.db"}},
                     "tasks.py": tasks_py(task("alpha"))})
    pushed = consumer.push("main")
    assert pushed.returncode == 0, pushed.output
    assert "uploaded 1 task(s) to 'shop'" in pushed.output
    assert (consumer.work / "store" / "platform.db").is_file()


def test_a_committed_dotenv_never_replaces_the_developer_s_key(tmp_path: Path, consumer: Consumer, key_in_home):
    """The branch carries a `.env` with another account's key: ignored with a warning, never sent
    (the platform accepts only the developer's key, so an upload proves which key was used)."""
    (tmp_path / "keyed").mkdir()
    with start_serve(tmp_path / "keyed", "--api-key", HUD_API_KEY) as serve:
        _push_with_a_committed_dotenv(consumer, serve)


def _push_with_a_committed_dotenv(consumer: Consumer, serve) -> None:
    install(consumer, "--taskset", "shop", "--api-url", serve.url, "--apply-on-branch", "main")
    consumer.commit({".env": f"HUD_API_KEY={OTHER_KEY}\n", "tasks.py": tasks_py(task("alpha"), task("gamma"))})
    pushed = consumer.push("main")
    assert pushed.returncode == 0, pushed.output
    assert (
        "hud-sync-hook: warning: ignoring HUD_API_KEY in ./.env: git tracks that file, so it came with the "
        "repository; keep your key in HUD_API_KEY or ~/.hud/.env"
    ) in pushed.output
    assert "(API key from ~/.hud/.env)" in pushed.output
    assert OTHER_KEY not in pushed.output
    assert "uploaded 2 task(s) to 'shop'" in pushed.output


def test_an_untracked_dotenv_is_the_developer_s_own(tmp_path: Path, serve):
    """`plan` in a repository whose `.env` git does not track (ignored) uses it and says so."""
    from tests.helpers.repo import make_repo

    project = tmp_path / "p"
    make_repo(project, {"tasks.json": [task("one")], ".gitignore": ".env\n"})
    (project / ".env").write_text(f"HUD_API_KEY={HUD_API_KEY}\n")
    ran = run_cli("plan", "shop", ".", "--api-url", serve.url, cwd=project, env=child_env())
    assert ran.returncode == 0, ran.stderr
    assert f"  Platform: {serve.url} (API key from ./.env)" in ran.stdout
    (project / ".env").unlink()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / ".env").write_text(f"HUD_API_KEY={HUD_API_KEY}\n")
    (project / ".env").symlink_to(tmp_path / "elsewhere" / ".env")  # a link out of the repository
    # A server that wants the key (a keyless one on loopback is used without any).
    (tmp_path / "keyed").mkdir()
    with start_serve(tmp_path / "keyed", "--api-key", HUD_API_KEY) as keyed:
        ran = run_cli("plan", "shop", ".", "--api-url", keyed.url, cwd=project, env=child_env())
    assert ran.returncode == 1 and "no HUD API key" in ran.stderr


@pytest.mark.parametrize("value", ["Infinity", "1e300", "NaN", "0"])
def test_a_committed_timeout_out_of_range_is_one_line_naming_the_file(consumer: Consumer, value: str):
    install(consumer, "--taskset", "shop")
    (consumer.work / ".hud").mkdir()
    (consumer.work / ".hud" / "config.json").write_text('{"prePush": {"timeout": %s}}' % value)
    consumer.commit({"tasks.py": tasks_py(task("alpha"), task("new"))})
    pushed = consumer.push("main")
    assert pushed.returncode != 0
    assert hook_lines(pushed.output) == [
        "hud-sync-hook: error: .hud/config.json: prePush.timeout must be a number of seconds above 0 and at most 3600; "
        "fix it or remove the key"
    ]
