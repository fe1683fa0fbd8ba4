"""Partial plans, failures and the review record, through the real entrypoint: every failure ends
with an annotation, a summary, outputs and a comment that says so; the comment keeps the reviewed
plan and adds each merge's outcome; GitHub's limits and retries are respected."""

from __future__ import annotations

import json
import os

from hud_sync_hook.github.comments import REVIEWED_LINE, parse_marker, split_body
from hud_sync_hook.github.report import SUMMARY_MAX_BYTES
from tests.github.harness import pr_payload, remote_tasks, run_action, task, tasks_file, uploads, with_key
from tests.helpers.probe import writable_folder
from tests.helpers.repo import commit_all, make_repo, write_files

MERGE_SHA = "abcdef0123456789abcdef0123456789abcdef01"
MERGED = pr_payload(action="closed", merged=True, merge_commit_sha=MERGE_SHA)
BROKEN_PY = "tasks = [\n    {'slug': 'a', 'scenario': 's', 'env': {'name': 'e'}},\n    {'slug': 'b' 'scenario': 's'},\n]\n"


def test_a_task_file_that_fails_to_import_is_an_error_at_its_line(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.py": BROKEN_PY, "task.py": "x = 1\n"})
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 1, result
    [error] = [a for a in result.annotations("error") if a.properties.get("title") == "Task file failed"]
    assert error.properties["file"] == "tasks.py" and error.properties["line"] == "3", error
    assert "SyntaxError" in error.message and "allow-import-errors" in error.message
    assert result.outputs["plan-hash"] == "" and parse_marker(github.comments_on(7)[0]["body"]).plan_hash == ""
    merged = run_action(ws, tmp_path, event="pull_request", payload=MERGED, inputs=with_key(platform.url), github=github)
    assert merged.returncode == 1 and uploads(platform) == 0, merged
    # Listed under allow-import-errors: a warning, and the other files are planned.
    accepted = with_key(platform.url, **{"allow-import-errors": "tasks.py"})
    write_files(ws, {"tasks.py": BROKEN_PY, "extra.py": "tasks = [{'slug': 'ok', 'scenario': 's', 'env': {'name': 'e'}}]\n"})
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=accepted, github=github)
    assert any(a.properties.get("title") == "Task file skipped" and a.properties.get("file") == "tasks.py"
               for a in result.annotations("warning")), result.commands


def test_the_action_also_reads_allow_import_errors_from_the_project_config(tmp_path, github, platform):
    ws = tmp_path / "ws"
    good = "tasks = [{'slug': 'ok', 'scenario': 's', 'env': {'name': 'e'}}]\n"
    make_repo(ws, {"tasks.py": good, "task.py": BROKEN_PY.replace("tasks", "more"),
                   ".hud/config.json": {"allowImportErrors": ["task.py"]}})
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    assert [a.properties.get("file") for a in result.annotations("warning")
            if a.properties.get("title") == "Task file skipped"] == ["task.py"]
    assert not [a for a in result.annotations("error") if a.properties.get("title") == "Task file failed"]
    body = github.comments_on(7)[0]["body"]
    assert "Skipped files (1)" in body and "task.py" in body
    # A pattern that names another file allows nothing.
    write_files(ws, {".hud/config.json": {"allowImportErrors": ["tasks/*.py"]}})
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 1, result
    [error] = [a for a in result.annotations("error") if a.properties.get("title") == "Task file failed"]
    assert error.properties["file"] == "task.py" and error.properties["line"] == "3"
    assert "allow-import-errors or allowImportErrors in .hud/config.json" in error.message


def test_issue_comment_on_a_forks_head_does_not_import_python(tmp_path, github, platform):
    proof = writable_folder(tmp_path) / "ran"
    ws = tmp_path / "ws"
    repo = make_repo(ws, {"tasks.py": f"open({str(proof)!r}, 'w').close()\ntasks = []\n"})
    head = repo.head.commit.hexsha
    github.add_pull(head, 7, merged=False, head_sha=head, head_repo="stranger/tasks")
    payload = {"action": "created", "issue": {"number": 7, "pull_request": {"url": "x"}}, "comment": {"body": "/plan"}}
    result = run_action(ws, tmp_path, event="issue_comment", payload=payload, inputs=with_key(platform.url), github=github)
    assert not proof.exists(), "the fork's tasks.py ran with the secrets"
    assert "pull request #7 from another repository" in result.messages("notice"), result
    assert github.calls("GET", r"/pulls/7$")


def test_the_comment_keeps_the_reviewed_plan_and_adds_each_outcome(tmp_path, github, platform):
    ws = tmp_path / "ws"
    repo = make_repo(ws, {"tasks.json": tasks_file("alpha", "beta")})
    review = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    reviewed_hash = review.outputs["plan-hash"]
    _outcomes, reviewed_text = split_body(github.comments_on(7)[0]["body"])
    write_files(ws, {"tasks.json": tasks_file("alpha", "beta", "late")})
    commit_all(repo, "after the review")
    fail = with_key(platform.url, **{"on-plan-change": "fail"})
    for run_number in ("17", "18"):
        result = run_action(ws, tmp_path, event="pull_request", payload=MERGED, inputs=fail, github=github,
                            env={"GITHUB_RUN_NUMBER": run_number})
        assert result.returncode == 1, result
    body = github.comments_on(7)[0]["body"]
    outcomes, kept = split_body(body)
    assert kept == reviewed_text, "the reviewed plan stays as it was reviewed"
    assert [o.split(":")[0] for o in outcomes] == ["**Not applied in run #17", "**Not applied in run #18"]
    assert parse_marker(body).plan_hash == reviewed_hash and parse_marker(body).summary.startswith("2 to create")
    assert "open a pull request whose plan shows these changes" in body
    # A reviewed plan applied, then the job re-run: both outcomes stay.
    write_files(ws, {"tasks.json": tasks_file("alpha", "beta")})
    commit_all(repo, "back to what was reviewed")
    for run_number in ("19", "20"):
        result = run_action(ws, tmp_path, event="pull_request", payload=MERGED, inputs=fail, github=github,
                            env={"GITHUB_RUN_NUMBER": run_number})
        assert result.returncode == 0, result
    outcomes, kept = split_body(github.comments_on(7)[0]["body"])
    assert kept == reviewed_text
    assert outcomes[-2:] == ["**Applied in run #19: 2 created, 0 updated**",
                             "**Nothing to apply in run #20:** the taskset already matches the repository."]


def test_a_corrupt_config_fails_with_its_file_and_line_everywhere(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha"), ".hud/config.json": '{\n  "tasksetId": "x",\n  oops\n}\n'})
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url, taskset=""), github=github)
    assert result.returncode == 1, result
    [error] = result.annotations("error")
    assert error.properties.get("file") == ".hud/config.json" and error.properties.get("line") == "3", error
    assert "not valid JSON" in error.message
    assert "not valid JSON" in result.summary
    assert result.outputs["plan-json"].startswith(".hud-sync-hook/plan-")
    plan = json.loads((ws / result.outputs["plan-json"]).read_text())
    assert any("not valid JSON" in note for note in plan["notes"])
    body = github.comments_on(7)[0]["body"]
    assert parse_marker(body).status == "failed" and "not valid JSON" in body


def test_a_link_loop_is_an_invalid_task_file_not_a_crash(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"README": "x"})
    os.symlink("b.json", ws / "tasks.json")
    os.symlink("tasks.json", ws / "b.json")
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github)
    assert result.returncode == 1, result
    assert not [a for a in result.annotations("error") if a.properties.get("title") == "Internal error"]
    assert [a.properties.get("file") for a in result.annotations("error")] == ["tasks.json"]
    assert "link loop" in result.summary and result.outputs["plan-json"]
    assert parse_marker(github.comments_on(7)[0]["body"]).status == "failed"


def test_the_taskset_name_in_the_config_is_the_one_planned(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha"), ".hud/config.json": {"tasksetName": "named-in-config"}})
    result = run_action(ws, tmp_path, event="pull_request", payload=MERGED, inputs=with_key(platform.url, taskset=""), github=github)
    assert result.returncode == 0, result
    assert sorted(remote_tasks(platform.url, "named-in-config")) == ["alpha"]
    assert json.loads((ws / ".hud" / "config.json").read_text())["tasksetId"] == result.outputs["taskset-id"]


def test_the_job_summary_fits_githubs_limit_in_bytes(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": [task("🦄" * 20 + f"-{i}") for i in range(5000)]})
    result = run_action(ws, tmp_path, event="workflow_dispatch", payload={}, inputs=with_key(platform.url), github=github, timeout=300)
    assert result.returncode == 0, result
    size = len(result.summary.encode("utf-8"))
    assert 500_000 < size <= SUMMARY_MAX_BYTES, size
    assert "5000 to create" in result.summary


def test_a_comment_stored_before_a_502_is_not_posted_again(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    github.inject(502, method="POST", path=r"/issues/7/comments$", after=True)
    result = run_action(ws, tmp_path, event="pull_request", payload=pr_payload(), inputs=with_key(platform.url), github=github,
                        env={"HUD_SYNC_HOOK_BACKOFF_SECONDS": "0.01"})
    assert result.returncode == 0, result
    assert len(github.comments_on(7)) == 1 and len(github.calls("POST", r"/comments$")) == 1
    assert REVIEWED_LINE in github.comments_on(7)[0]["body"]
    assert "not posting it again" in result.stdout
