"""The CLI end to end: real repositories in temporary folders, the local platform and the real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.repo import make_repo, run_cli, write_files
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

KEY = HUD_API_KEY


def rows(*specs) -> str:
    return "\n".join(json.dumps({"slug": s, "env": {"name": "shop"}, "scenario": "checkout", "args": a}) for s, a in specs) + "\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    make_repo(root, {"tasks.jsonl": rows(("a", {"n": 1}), ("b", {"n": 2}), ("c", {"n": 3}))})
    return root


def local_url(root: Path) -> str:
    return f"local:{root / 'platform.sqlite'}"


def test_plan_apply_replan_with_the_local_platform(project):
    url = local_url(project)
    first = run_cli("plan", "demo", ".", "--api-url", url, cwd=project)
    assert first.returncode == 0, first.stderr
    assert "Taskset will be created" in first.stdout and "3 to create" in first.stdout
    refused = run_cli("apply", "demo", ".", "--api-url", url, cwd=project)
    assert refused.returncode == 1
    assert "pass --yes" in refused.stderr
    applied = run_cli("apply", "demo", ".", "--api-url", url, "--yes", cwd=project)
    assert applied.returncode == 0, applied.stderr
    assert "3 created, 0 updated" in applied.stdout
    config = json.loads((project / ".hud" / "config.json").read_text())
    assert config["tasksetName"] == "demo" and len(config["tasksetId"]) == 36
    again = run_cli("plan", "--api-url", url, cwd=project)  # taskset from .hud/config.json
    assert again.returncode == 0
    assert "All tasks up to date" in again.stdout


def test_update_rename_remote_only_and_detailed_exitcode(project):
    url = local_url(project)
    assert run_cli("apply", "demo", ".", "--api-url", url, "--yes", cwd=project).returncode == 0
    (project / "tasks.jsonl").write_text(rows(("a", {"n": 10}), ("b2", {"n": 2}), ("d", {"n": 4})))
    result = run_cli("plan", "--api-url", url, "--detailed-exitcode", "--format", "json", cwd=project)
    assert result.returncode == 2, result.stderr
    data = json.loads(result.stdout)
    assert [t["slug"] for t in data["create"]] == ["b2", "d"]
    assert [t["slug"] for t in data["update"]] == ["a"]
    assert data["remote_only"] == ["b", "c"]
    assert data["renames"] == [{"old": "b", "new": "b2"}]
    assert run_cli("apply", "--api-url", url, "--yes", cwd=project).returncode == 0
    # Never deletes: the remote-only tasks are still there.
    export = run_cli("export", "--out", "all.json", "--api-url", url, cwd=project)
    assert export.returncode == 0, export.stderr
    assert sorted(t["slug"] for t in json.loads((project / "all.json").read_text())) == ["a", "b", "b2", "c", "d"]
    assert run_cli("plan", "--api-url", url, "--detailed-exitcode", cwd=project).returncode == 0


def test_task_exclude_and_force(project):
    url = local_url(project)
    only = run_cli("apply", "demo", ".", "--api-url", url, "--yes", "--task", "b", cwd=project)
    assert only.returncode == 0 and "1 created" in only.stdout
    rest = run_cli("plan", "--api-url", url, "--exclude", "a", "--format", "json", cwd=project)
    data = json.loads(rest.stdout)
    assert [t["slug"] for t in data["create"]] == ["c"] and data["unchanged"] == ["b"]
    forced = run_cli("plan", "--api-url", url, "--force", "--task", "b", "--format", "json", cwd=project)
    assert [t["slug"] for t in json.loads(forced.stdout)["update"]] == ["b"]
    missing = run_cli("plan", "--api-url", url, "--task", "nope", cwd=project)
    assert missing.returncode == 1 and "--task 'nope' matches no local task" in missing.stderr


def test_switching_taskset_is_announced_and_stored(project):
    url = local_url(project)
    run_cli("apply", "first", ".", "--api-url", url, "--yes", cwd=project)
    stored = json.loads((project / ".hud" / "config.json").read_text())["tasksetId"]
    (project / ".hud" / "config.json").write_text(json.dumps({"tasksetId": stored, "registryName": "keep-me"}))
    switched = run_cli("apply", "second", ".", "--api-url", url, "--yes", cwd=project)
    assert f"Switching from previously stored taskset ({stored[:8]}...)" in switched.stdout
    config = json.loads((project / ".hud" / "config.json").read_text())
    assert config["tasksetId"] != stored and config["tasksetName"] == "second" and config["registryName"] == "keep-me"


def test_validation_problems_block_before_any_request(project, tmp_path):
    write_files(project, {"tasks.jsonl": rows(("a", {"n": 1})) + '{"slug": "", "scenario": "s"}\n{"slug": "a", "scenario": "s"}\n'})
    with start_serve(tmp_path, "--api-key", KEY) as server:
        result = run_cli("apply", "demo", ".", "--api-url", server.url, "--yes", cwd=project, env={"HUD_API_KEY": KEY})
        log = server.stderr_text()
    assert result.returncode == 1
    assert "tasks.jsonl:2: slug is empty" in result.stderr
    assert "tasks.jsonl:3: duplicate slug 'a' (first defined at tasks.jsonl:1)" in result.stderr
    assert "nothing was sent to the platform" in result.stderr
    assert "/tasks/" not in log
    assert "Traceback" not in result.stderr


def test_validate_is_offline_and_reports_everything(project):
    ok = run_cli("validate", cwd=project)
    assert ok.returncode == 0 and "3 task(s) valid in 1 file(s)" in ok.stdout
    write_files(project, {"tasks.jsonl": '{"slug": "x"}\n[\n'})
    bad = run_cli("validate", cwd=project)
    assert bad.returncode == 1
    assert "tasks.jsonl:1: task 'x' has no scenario" in bad.stderr
    assert "tasks.jsonl:2:2: invalid JSON" in bad.stderr


def test_no_tasks_and_missing_source_and_no_taskset(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    none = run_cli("validate", cwd=empty)
    assert none.returncode == 1 and "no tasks found in ." in none.stderr
    missing = run_cli("plan", "x", "nowhere", "--api-url", "local", cwd=empty)
    assert missing.returncode == 1 and "nowhere: source path does not exist" in missing.stderr
    write_files(empty, {"tasks.json": [{"slug": "a", "scenario": "s"}]})
    no_taskset = run_cli("plan", "--api-url", "local", cwd=empty)
    assert no_taskset.returncode == 1 and "no taskset given" in no_taskset.stderr
    for result in (none, missing, no_taskset):
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_against_the_real_server_with_batches_and_key(project, tmp_path):
    write_files(project, {"tasks.jsonl": rows(*[(f"t{i:03}", {"i": i}) for i in range(120)])})
    with start_serve(tmp_path, "--api-key", KEY) as server:
        env = {"HUD_API_KEY": KEY}
        applied = run_cli("apply", "big", ".", "--api-url", server.url, "--yes", "--batch-size", "50", cwd=project, env=env)
        assert applied.returncode == 0, applied.stderr
        assert "Uploaded 120 task(s) to 'big' in 3 batch(es): 120 created, 0 updated" in applied.stdout
        uploads = [line for line in server.stderr_text().splitlines() if "POST /tasks/upload" in line]
        assert len(uploads) == 3
        again = run_cli("plan", "--api-url", server.url, cwd=project, env=env)
        assert "All tasks up to date" in again.stdout
        wrong_key = run_cli("plan", "--api-url", server.url, cwd=project, env={"HUD_API_KEY": "wrong-key-123"})
        assert wrong_key.returncode == 1 and "refused the API key" in wrong_key.stderr
        log = server.stderr_text()
    assert KEY not in log and KEY not in applied.stdout + applied.stderr


def test_key_from_dotenv_and_missing_key(project, tmp_path):
    with start_serve(tmp_path, "--api-key", KEY) as server:
        no_key = run_cli("plan", "demo", ".", "--api-url", server.url, cwd=project)
        assert no_key.returncode == 1 and "no HUD API key" in no_key.stderr
        (project / ".env").write_text(f"# local secrets\nexport HUD_API_KEY=\"{KEY}\"\n")
        with_dotenv = run_cli("plan", "demo", ".", "--api-url", server.url, cwd=project)
        assert with_dotenv.returncode == 0, with_dotenv.stderr


def test_a_keyless_serve_on_loopback_needs_no_key(project, tmp_path):
    with start_serve(tmp_path) as server:  # started without --api-key
        applied = run_cli("apply", "demo", ".", "--api-url", server.url, "--yes", cwd=project)
        assert applied.returncode == 0, applied.stderr
        assert "3 created" in applied.stdout
        localhost = server.url.replace("127.0.0.1", "localhost")
        again = run_cli("plan", "--api-url", localhost, cwd=project)
        assert again.returncode == 0 and "All tasks up to date" in again.stdout, again.stderr
    with start_serve(tmp_path, "--api-key", KEY) as server:  # a keyed one still says what is missing
        refused = run_cli("plan", "demo", ".", "--api-url", server.url, cwd=project)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.count("\n") == 1 and "no HUD API key" in refused.stderr and "set HUD_API_KEY" in refused.stderr
    # Not on loopback: refused before any request.
    remote = run_cli("plan", "demo", ".", "--api-url", "https://hud.example.invalid", cwd=project)
    assert remote.returncode == 1 and "no HUD API key: set HUD_API_KEY" in remote.stderr


def test_plain_http_to_a_remote_host_is_refused(project):
    result = run_cli("plan", "demo", ".", "--api-url", "http://hud.example.invalid", cwd=project, env={"HUD_API_KEY": KEY})
    assert result.returncode == 1
    assert "https://" in result.stderr and KEY not in result.stderr


def test_rejected_upload_prints_the_detail_and_exits_1(project, tmp_path):
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps([{"id": "00000000-0000-0000-0000-0000000000aa", "name": "shop", "scenarios": ["refund"]}]))
    with start_serve(tmp_path, "--registry", str(registry)) as server:
        result = run_cli("apply", "demo", ".", "--api-url", server.url, "--yes", cwd=project, env={"HUD_API_KEY": KEY})
        assert result.returncode == 1
        assert "Scenarios not found" in result.stderr and "shop/checkout" in result.stderr
        assert "0 of 3 task(s) landed" in result.stderr
        assert "Traceback" not in result.stderr


def test_retries_through_injected_faults_converge(project, tmp_path):
    write_files(project, {"tasks.jsonl": rows(*[(f"t{i:03}", {"i": i}) for i in range(200)])})
    with start_serve(tmp_path, "--fail-rate", "0.3", "--fail-status", "429,502,503", "--seed", "7") as server:
        env = {"HUD_API_KEY": KEY}
        for _ in range(5):
            applied = run_cli("apply", "flaky", ".", "--api-url", server.url, "--yes", "--batch-size", "20", cwd=project, env=env)
            if applied.returncode == 0:
                break
        assert applied.returncode == 0, applied.stderr
        final = run_cli("plan", "--api-url", server.url, "--format", "json", cwd=project, env=env)
        for _ in range(5):
            if final.returncode == 0:
                break
            final = run_cli("plan", "--api-url", server.url, "--format", "json", cwd=project, env=env)
    data = json.loads(final.stdout)
    assert data["counts"]["unchanged"] == 200 and not data["has_changes"]


def test_env_reconciliation_warns_with_file_and_line(project, tmp_path):
    registry = tmp_path / "registry.json"
    env_id = "00000000-0000-0000-0000-0000000000bb"
    registry.write_text(json.dumps([{"id": env_id, "name": "shop-v2", "scenarios": ["checkout"]}, {"id": "00000000-0000-0000-0000-0000000000cc", "name": "shop-v2-beta", "scenarios": []}]))
    with start_serve(tmp_path, "--registry", str(registry)) as server:
        env = {"HUD_API_KEY": KEY}
        ambiguous = run_cli("link-env", "shop-v2", "--api-url", server.url, cwd=project, env=env)
        assert ambiguous.returncode == 0, ambiguous.stderr  # the exact name wins over substrings
        assert json.loads((project / ".hud" / "config.json").read_text())["registryId"] == env_id
        fuzzy = run_cli("link-env", "shop", "--api-url", server.url, cwd=project, env=env)
        assert fuzzy.returncode == 1 and "matches 2 environments" in fuzzy.stderr
        plan = run_cli("plan", "demo", ".", "--api-url", server.url, cwd=project, env=env)
    assert plan.returncode == 0, plan.stderr
    assert "tasks.jsonl:1: 'a' uses 'shop', the environment is now 'shop-v2'" in plan.stdout


def test_export_formats(project):
    url = local_url(project)
    run_cli("apply", "demo", ".", "--api-url", url, "--yes", cwd=project)
    for name in ("out.json", "out.jsonl", "out.csv"):
        result = run_cli("export", "demo", "--out", name, "--api-url", url, cwd=project)
        assert result.returncode == 0, result.stderr
    assert len((project / "out.jsonl").read_text().splitlines()) == 3
    assert (project / "out.csv").read_text().splitlines()[0] == "slug,scenario,env,arg:n"
    bad = run_cli("export", "demo", "--out", "x.txt", "--api-url", url, cwd=project)
    assert bad.returncode == 1 and "use .json, .jsonl or .csv" in bad.stderr


def test_corrupt_config_is_reported_not_ignored(project):
    (project / ".hud").mkdir()
    (project / ".hud" / "config.json").write_text("{not json")
    result = run_cli("plan", "--api-url", local_url(project), cwd=project)
    assert result.returncode == 1
    assert ".hud/config.json:1: is not valid JSON" in result.stderr
    (project / ".hud" / "config.json").write_text('{"tasksetId": "abc"}')
    result = run_cli("plan", "--api-url", local_url(project), cwd=project)
    assert "tasksetId 'abc' is not a taskset id" in result.stderr


def test_stored_taskset_that_no_longer_exists(project):
    (project / ".hud").mkdir()
    (project / ".hud" / "config.json").write_text('{"tasksetId": "12345678-1234-1234-1234-123456789abc"}')
    result = run_cli("plan", "--api-url", local_url(project), cwd=project)
    assert result.returncode == 1
    assert "was not found on the platform" in result.stderr


def test_version_and_module_entry(tmp_path):
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("hud-sync-hook ")


def test_a_file_that_fails_to_import_fails_the_plan_unless_allowed(tmp_path):
    root = tmp_path / "proj"
    make_repo(root, {"a.py": "raise ValueError('bad value')\n", "b.py": "tasks = [{'slug': 'ok', 'scenario': 's'}]\n"})
    url = f"local:{tmp_path / 'p.sqlite'}"
    result = run_cli("plan", "demo", ".", "--api-url", url, cwd=root)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith("a.py:1: ValueError: bad value (fix the file, or list it in --allow-import-errors")
    assert "nothing was sent to the platform" in result.stderr and "Create" not in result.stdout
    result = run_cli("plan", "demo", ".", "--api-url", url, "--allow-import-errors", "a.py", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "Skipped: a.py: ValueError: bad value (line 1)" in result.stdout and "+ ok" in result.stdout
    (root / "b.py").unlink()
    result = run_cli("plan", "demo", ".", "--api-url", url, "--allow-import-errors", "a.py", cwd=root)
    assert result.returncode == 1
    assert "Skipped: a.py: ValueError: bad value (line 1)" in result.stderr
    assert "no tasks found in ." in result.stderr


def test_the_official_argument_order_and_the_flag_forms(project):
    url = local_url(project)
    write_files(project, {"tasks/tasks.jsonl": rows(("t", {"n": 1}))})
    official = run_cli("plan", "demo", "--api-url", url, cwd=project)  # TASKSET alone, source .
    assert official.returncode == 0, official.stderr
    assert "'demo'" in official.stdout and "3 to create" in official.stdout
    for args in (["demo", "tasks"], ["--taskset", "demo", "--source", "tasks"], ["--source", "tasks", "demo"],
                 ["--taskset", "demo", "tasks"]):
        result = run_cli("plan", *args, "--api-url", url, "--format", "json", cwd=project)
        assert result.returncode == 0, (args, result.stderr)
        data = json.loads(result.stdout)
        assert data["taskset"]["name"] == "demo" and [t["slug"] for t in data["create"]] == ["t"], args
    assert run_cli("apply", "demo", "--api-url", url, "--yes", cwd=project).returncode == 0
    # A lone argument naming an existing path is the source, with the stored taskset; said in one line.
    alone = run_cli("plan", ".", "--api-url", url, cwd=project)
    assert alone.returncode == 0, alone.stderr
    assert "All tasks up to date" in alone.stdout
    assert alone.stderr.strip() == (
        "hud-sync-hook: '.' is an existing path, so it is the SOURCE; the taskset comes from tasksetId in "
        "the project's .hud/config.json"
    )
    write_files(project, {"demo/tasks.jsonl": rows(("d", {"n": 1}))})
    folder = run_cli("plan", "demo", "--api-url", url, cwd=project)
    assert folder.returncode == 0, folder.stderr  # the folder demo/, planned against the stored taskset
    assert "Create (1):\n    + d" in folder.stdout and "Sync plan for 'demo'" in folder.stdout
    assert "(to name a taskset 'demo', pass --taskset demo)" in folder.stderr
    named = run_cli("plan", "--taskset", "demo", "--api-url", url, "--format", "json", cwd=project)
    assert json.loads(named.stdout)["counts"] == {"create": 0, "update": 0, "unchanged": 3, "remote_only": 0, "renames": 0}


@pytest.mark.parametrize(
    "args, message",
    [
        ([".", "demo"], "'.' is a path and 'demo' is not: the arguments are [TASKSET] [SOURCE]"),
        (["tasks/"], "'tasks/' looks like a path, not a taskset name"),
        (["sub/tasks"], "'sub/tasks' looks like a path, not a taskset name"),
        (["..", "."], "'..' looks like a path, not a taskset name"),
        (["tasks.yaml"], "'tasks.yaml' looks like a task file, but there is no such file here"),
        (["--taskset", "."], "'.' looks like a path, not a taskset name"),
        (["--taskset", "demo", "--source", ".", "x"], "unexpected argument 'x'"),
        (["--source", ".", "demo", "x"], "unexpected argument 'x'"),
    ],
)
def test_a_taskset_that_looks_like_a_path_is_refused_before_anything_is_created(project, args, message):
    url = local_url(project)
    result = run_cli("apply", *args, "--api-url", url, "--yes", cwd=project)
    assert result.returncode == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (project / "platform.sqlite").exists() and not (project / ".hud").exists()


def test_dry_run_and_exit_codes(project):
    url = local_url(project)
    dry = run_cli("apply", "demo", ".", "--api-url", url, "--yes", "--dry-run", cwd=project)
    assert dry.returncode == 0, dry.stderr
    assert "3 to create" in dry.stdout and "--dry-run: nothing uploaded" in dry.stdout
    detailed = run_cli("sync", "demo", "--api-url", url, "--dry-run", "--detailed-exitcode", cwd=project)
    assert detailed.returncode == 2 and "3 to create" in detailed.stdout
    assert not (project / ".hud" / "config.json").exists()  # nothing was uploaded, nothing stored
    assert run_cli("apply", "demo", "--api-url", url, "--yes", cwd=project).returncode == 0
    again = run_cli("sync", "--api-url", url, "--dry-run", "--detailed-exitcode", cwd=project)
    assert again.returncode == 0 and "All tasks up to date" in again.stdout
    # A usage error must not read as "has changes" under --detailed-exitcode.
    for args in (["plan", "--detailed-exitcode", "--no-such-flag"], ["plan", "--format", "xml", "--detailed-exitcode"],
                 ["apply", "--batch-size", "many"], ["no-such-command"]):
        usage = run_cli(*args, cwd=project)
        assert usage.returncode == 1, (args, usage.stderr)
        assert "error:" in usage.stderr and "Traceback" not in usage.stderr


def test_excluding_every_task_is_an_error(project):
    url = local_url(project)
    every = run_cli("plan", "demo", "--exclude", "a", "--exclude", "b", "--exclude", "c", "--api-url", url, cwd=project)
    assert every.returncode == 1
    assert "no tasks left after exclusions: --exclude leaves out all 3 local task(s)" in every.stderr
    both = run_cli("apply", "demo", "--task", "b", "--exclude", "b", "--api-url", url, "--yes", cwd=project)
    assert both.returncode == 1
    assert "no tasks left after exclusions: --exclude leaves out --task 'b'" in both.stderr
    assert "matches no local task" not in both.stderr


def test_link_env_like_hud_sync_env_without_a_terminal(tmp_path):
    root = tmp_path / "repo"
    make_repo(root, {"tasks/tasks.py": 'from x import Environment\nENV = Environment("shop")\n'})
    registry = tmp_path / "registry.json"
    first, second = "00000000-0000-0000-0000-0000000000b1", "00000000-0000-0000-0000-0000000000b2"
    registry.write_text(json.dumps([{"id": first, "name": "shop", "scenarios": ["checkout"]},
                                    {"id": second, "name": "shop-v2", "scenarios": []}]))
    env = {"HUD_API_KEY": KEY}
    with start_serve(tmp_path, "--registry", str(registry)) as server:
        linked = run_cli("link-env", "shop", "tasks", "--api-url", server.url, cwd=root, env=env)  # a positional folder
        assert linked.returncode == 0, linked.stderr
        assert "Registered scenarios (1):\n  checkout" in linked.stdout
        assert json.loads((root / ".hud" / "config.json").read_text())["registryId"] == first  # the project's .hud/
        picker = run_cli("link-env", "--api-url", server.url, cwd=root, env=env)
        assert picker.returncode == 1 and "pass an environment NAME or ID (the numbered list needs a terminal)" in picker.stderr
        switch = run_cli("link-env", "shop-v2", "--api-url", server.url, cwd=root / "tasks", env=env)
        assert switch.returncode == 1 and "pass --yes to switch" in switch.stderr
        assert json.loads((root / ".hud" / "config.json").read_text())["registryId"] == first
        switched = run_cli("link-env", "shop-v2", "--dir", "tasks", "--yes", "--api-url", server.url, cwd=root, env=env)
        unknown = run_cli("link-env", "00000000-0000-0000-0000-0000000000ff", "--api-url", server.url, cwd=root, env=env)
    assert switched.returncode == 0, switched.stderr
    assert "registers no scenarios yet" in switched.stderr
    assert "tasks/tasks.py:2: Environment('shop') -> Environment('shop-v2')" in switched.stdout
    assert 'Environment("shop")' in (root / "tasks" / "tasks.py").read_text()  # no terminal: listed, not rewritten
    assert json.loads((root / ".hud" / "config.json").read_text())["registryId"] == second
    assert unknown.returncode == 1 and "no environment with id 00000000-0000-0000-0000-0000000000ff" in unknown.stderr


def test_unregistered_scenarios_are_reported_before_any_upload(project, tmp_path):
    registry = tmp_path / "registry.json"
    env_id = "00000000-0000-0000-0000-0000000000c1"
    registry.write_text(json.dumps([{"id": env_id, "name": "shop", "scenarios": ["shop:refund", "browse"]}]))
    write_files(project, {"tasks.jsonl": rows(("a", {"n": 1})) + json.dumps(
        {"slug": "r", "env": {"name": "shop"}, "scenario": "shop:refund", "args": {}}) + "\n",
        ".hud/config.json": {"registryId": env_id}})
    env = {"HUD_API_KEY": KEY}
    with start_serve(tmp_path, "--registry", str(registry)) as server:
        planned = run_cli("plan", "demo", "--api-url", server.url, cwd=project, env=env)
        applied = run_cli("apply", "demo", "--api-url", server.url, "--yes", cwd=project, env=env)
        log = server.stderr_text()
    assert planned.returncode == 1
    assert ("tasks.jsonl:1: task 'a': scenario 'checkout' is not registered by environment 'shop' "
            "(registered: browse, refund)") in planned.stdout
    assert "tasks.jsonl:2" not in planned.stdout
    assert "1 task(s) would be rejected by the platform (see Problems); fix them before apply" in planned.stderr
    assert applied.returncode == 1 and "nothing was uploaded" in applied.stderr
    assert "POST" not in log


@pytest.mark.parametrize(
    "command",
    ["plan", "apply", "sync", "validate", "export", "link-env", "serve", "pre-push", "install-hook", "github"],
)
def test_every_command_help_has_examples_the_key_and_exit_codes(tmp_path, command):
    shown = run_cli(command, "--help", cwd=tmp_path)
    assert shown.returncode == 0 and not shown.stderr
    text = shown.stdout
    assert "options:" in text
    examples = text.split("examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert 2 <= len([line for line in examples if "hud-sync-hook" in line or "uses:" in line]) <= 3, text
    assert "API key: " in text and "exit codes:\n  0  " in text and "\n  1  " in text
    if command in ("plan", "apply", "sync", "export", "link-env", "pre-push"):
        assert "HUD_API_KEY from the environment, else HUD_API_KEY=... in ./.env" in text and "~/.hud/.env" in text
    if command in ("plan", "apply", "sync"):
        assert "\n  2  only with" in text and "[TASKSET] [SOURCE]" in text and "--dry-run" in text
    for line in text.splitlines():
        assert len(line) <= 100, line


def test_help_texts_say_what_the_flags_do(tmp_path):
    plan = run_cli("plan", "--help", cwd=tmp_path).stdout
    force = plan.split("--force", 2)[2].split("\n  --", 1)[0]
    assert "upload every task" not in force and "treat every selected task as changed" in " ".join(force.split())
    validate = run_cli("validate", "--help", cwd=tmp_path).stdout
    assert "--format {text,json}" in validate
    assert "text: problems as file:line" in " ".join(validate.split("--format {text,json}", 2)[2].split())
    apply = run_cli("apply", "--help", cwd=tmp_path).stdout
    for flag in ("--timeout SECONDS", "--batch-size N", "-y, --yes", "--dry-run", "--taskset NAME|ID", "--source PATH"):
        assert flag in apply


def test_the_github_command_outside_github_actions_says_so(project):
    result = run_cli("github", cwd=project, env={"GITHUB_EVENT_NAME": "push"})
    assert result.returncode == 1
    assert result.stdout == ""  # no ::group:: or other workflow commands
    assert result.stderr == (
        "hud-sync-hook: error: not running in GitHub Actions (GITHUB_ACTIONS is not 'true'): this command is "
        "the Action's entrypoint; run `hud-sync-hook plan` or `hud-sync-hook apply` instead\n"
    )


def test_a_large_json_plan_written_with_out_is_the_one_printed_and_a_failed_write_leaves_nothing(tmp_path):
    from hud_sync_hook import safefs

    root = tmp_path / "big"
    count = 400  # a plan of well over one 64 KiB chunk
    make_repo(root, {"tasks.jsonl": rows(*((f"t{i:03d}", {"text": "é" * 200 + "new"}) for i in range(count)))})
    url = local_url(root)
    remote = tmp_path / "remote"
    make_repo(remote, {"tasks.jsonl": rows(*((f"t{i:03d}", {"text": "é" * 200 + "old"}) for i in range(count)))})
    assert run_cli("apply", "demo", ".", "--api-url", url, "--yes", cwd=remote).returncode == 0
    planned = run_cli("plan", "demo", ".", "--api-url", url, "--format", "json", "--out", "plan.json", cwd=root)
    assert planned.returncode == 0, planned.stderr
    written = (root / "plan.json").read_text(encoding="utf-8")
    assert written == planned.stdout and len(written) > 2 * (1 << 16)
    assert len(json.loads(written)["update"]) == count
    # Chunks are written as they are made; if making one fails, the target is left as it was.

    def chunks():
        yield b"partial"
        raise RuntimeError("stopped while encoding")

    with pytest.raises(RuntimeError):
        safefs.write_bytes(root / "plan.json", chunks())
    assert (root / "plan.json").read_text(encoding="utf-8") == written
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".plan.json")) == []
