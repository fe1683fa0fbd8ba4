"""What the runner reads back on every event: masks, outputs, summary, annotations, exit codes."""

from __future__ import annotations

import json

import yaml

from tests.github.harness import (
    HUD_KEY,
    REPO_ROOT,
    pr_payload,
    push_payload,
    run_action,
    task,
    tasks_file,
    uploads,
    with_key,
)
from tests.helpers.repo import make_repo

OUTPUT_NAMES = list(yaml.safe_load((REPO_ROOT / "action.yml").read_text())["outputs"])


def test_masks_come_first_and_outputs_use_random_delimiters(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha", "beta")})
    runs = [
        run_action(ws, tmp_path, event="workflow_dispatch", payload={}, inputs=with_key(platform.url), github=github)
        for _ in range(2)
    ]
    for result in runs:
        assert result.returncode == 0, result
        assert result.stdout.splitlines()[:2] == [f"::add-mask::{HUD_KEY}", f"::add-mask::{github.token}"]
        assert list(result.outputs) == OUTPUT_NAMES
    first, second = runs
    assert first.outputs["has-changes"] == "true"
    assert (first.outputs["to-create"], first.outputs["to-update"], first.outputs["unchanged"]) == ("2", "0", "0")
    assert first.outputs["remote-only"] == "0" and first.outputs["renames"] == "0"
    assert len(first.outputs["plan-hash"]) == 64
    plan = json.loads((ws / first.outputs["plan-json"]).read_text())
    assert plan["schema_version"] == 2 and plan["plan_hash"] == first.outputs["plan-hash"]
    assert [t["slug"] for t in plan["create"]] == ["alpha", "beta"]
    delimiters = {line.split("<<", 1)[1] for r in runs for line in r.outputs_text.splitlines() if "<<" in line}
    assert len(delimiters) == 2 * len(OUTPUT_NAMES), "every delimiter is fresh"
    assert (ws / ".hud-sync-hook" / ".gitignore").read_text() == "*\n"


def test_validation_problems_become_annotations_relative_to_the_workspace(tmp_path, github, platform):
    ws = tmp_path / "ws"
    folder = "odd, name: here"
    rows = [task("good"), {"slug": "needs-a-scenario", "env": {"name": "shop"}}, {"scenario": "checkout", "env": {"name": "shop"}}]
    make_repo(ws, {f"{folder}/tasks.json": rows})
    result = run_action(
        ws, tmp_path, event="pull_request", payload=pr_payload(),
        inputs=with_key(platform.url, **{"working-directory": folder}), github=github,
    )
    assert result.returncode == 1, result
    errors = [a for a in result.annotations("error") if a.properties.get("title") == "Invalid task"]
    assert len(errors) == 2
    lines = json.dumps(rows, indent=2).splitlines()
    expected = {i + 1 for i, line in enumerate(lines) if line == "  {"}
    for error in errors:
        assert error.properties["file"] == f"{folder}/tasks.json"
        assert int(error.properties["line"]) in expected
    assert "%2C" in result.stdout and "%3A" in result.stdout, "property values are escaped"
    body = github.comments_on(7)[0]["body"]
    assert "Validation problems (2)" in body
    assert uploads(platform) == 0


def test_repository_text_cannot_forge_workflow_commands(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("::error::forged", "::set-output name=x::y")})
    result = run_action(ws, tmp_path, event="workflow_dispatch", payload={}, inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    assert "::error::forged" in result.stdout, "the slug is printed in the plan log"
    assert not result.annotations("error") and not result.annotations("set-output")


def test_drift_detection_with_fail_on_changes(tmp_path, github, platform):
    ws = tmp_path / "ws"
    head = make_repo(ws, {"tasks.json": tasks_file("alpha")}).head.commit.hexsha
    drift = with_key(platform.url, **{"fail-on-changes": "true"})
    result = run_action(ws, tmp_path, event="schedule", payload={}, inputs=drift, github=github)
    assert result.returncode == 1, result
    assert "differs" in result.messages("error") and uploads(platform) == 0
    applied = run_action(ws, tmp_path, event="workflow_dispatch", payload={}, inputs=with_key(platform.url, mode="apply"), github=github)
    assert applied.returncode == 0, applied
    assert applied.outputs["created"] == "1"
    clean = run_action(ws, tmp_path, event="schedule", payload={}, inputs=drift, github=github)
    assert clean.returncode == 0, clean
    assert clean.outputs["has-changes"] == "false" and clean.outputs["unchanged"] == "1"
    # Each run asks whether the checked-out commit is the head of a pull request from a fork;
    # applying also looks for the pull request of the commit (none here: with warn, a warning).
    paths = [(r.method, r.path) for r in github.requests]
    assert paths.count(("GET", f"/repos/octo/tasks/commits/{head}/pulls")) == 3
    assert ("GET", "/repos/octo/tasks/commits/" + "3" * 40 + "/pulls") in paths
    assert {method for method, _path in paths} == {"GET"}
    assert "no pull request" in applied.messages("warning")


def test_validate_mode_never_contacts_the_platform(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    result = run_action(ws, tmp_path, event="push", payload=push_payload("a" * 40), inputs=with_key(platform.url, mode="validate"), github=github)
    assert result.returncode == 0, result
    assert "validation only" in result.summary
    assert not [line for line in platform.stderr_text().splitlines() if line.startswith(("GET ", "POST "))]


def test_exclude_taskset_id_and_force_inputs(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha", "beta", "gamma")})
    inputs = with_key(platform.url, exclude="beta\n\ngamma\n")
    first = run_action(ws, tmp_path, event="workflow_dispatch", payload={}, inputs={**inputs, "mode": "apply"}, github=github)
    assert first.returncode == 0, first
    assert first.outputs["created"] == "1"
    taskset_id = first.outputs["taskset-id"]
    forced = run_action(
        ws, tmp_path, event="workflow_dispatch", payload={},
        inputs=with_key(platform.url, taskset="", **{"taskset-id": taskset_id, "force": "true", "exclude": "beta\ngamma"}),
        github=github,
    )
    assert forced.returncode == 0, forced
    assert forced.outputs["to-update"] == "1" and forced.outputs["taskset-id"] == taskset_id


def test_bad_inputs_fail_with_one_error_and_still_write_outputs(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    result = run_action(ws, tmp_path, event="workflow_dispatch", payload={}, inputs=with_key(platform.url, mode="yolo"), github=github)
    assert result.returncode == 1, result
    assert "input 'mode' must be one of" in result.messages("error")
    assert "Traceback" not in result.stderr
    assert set(result.outputs) == set(OUTPUT_NAMES)


def test_no_tasks_is_an_error(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"README.md": "nothing here\n"})
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 1, result
    assert "no tasks found" in result.messages("error")


def test_install_runs_pip_before_discovery(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha"), "requirements-tasks.txt": "# nothing to install\n"})
    ok = run_action(
        ws, tmp_path, event="workflow_dispatch", payload={},
        inputs=with_key(platform.url, install="requirements-tasks.txt"), github=github,
    )
    assert ok.returncode == 0, ok
    assert [a.message for a in ok.annotations("group")][0] == "pip install -r requirements-tasks.txt"
    broken = run_action(
        ws, tmp_path, event="workflow_dispatch", payload={},
        inputs=with_key(platform.url, install="--no-index --find-links . hud-sync-hook-no-such-package"), github=github,
    )
    assert broken.returncode == 1, broken
    assert "pip install" in broken.messages("error") and "failed" in broken.messages("error")


def test_platform_refusing_the_key_fails_without_showing_it(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    wrong = "hud_wrong_key_0000000000"
    result = run_action(
        ws, tmp_path, event="pull_request", payload=pr_payload(),
        inputs={**with_key(platform.url), "hud-api-key": wrong}, github=github,
    )
    assert result.returncode == 1, result
    assert "refused the API key" in result.messages("error")
    assert result.stdout.splitlines()[0] == f"::add-mask::{wrong}"
    assert wrong not in "\n".join(result.stdout.splitlines()[1:]) + result.summary + result.outputs_text
    assert "plan failed" in github.comments_on(7)[0]["body"]
