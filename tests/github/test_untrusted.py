"""Code from outside the repository is not run with the workflow's secrets."""

from __future__ import annotations

from pathlib import Path

from hud_sync_hook.github.comments import parse_marker
from tests.github.harness import HUD_KEY, pr_payload, remote_tasks, run_action, tasks_file, uploads, with_key
from tests.helpers.probe import writable_folder
from tests.helpers.repo import make_repo


def tasks_py(proof: Path) -> str:
    """A task file that leaves proof of having run, including what secrets it could see."""
    return (
        "import os, pathlib\n"
        f"pathlib.Path({str(proof)!r}).write_text(repr(dict(os.environ)))\n"
        "tasks = [{'slug': 'from-python', 'scenario': 'checkout', 'env': {'name': 'shop'}, 'args': {}}]\n"
    )


def untrusted_workspace(tmp_path: Path):
    proof = writable_folder(tmp_path) / "tasks-py-ran"
    ws = tmp_path / "ws"
    repo = make_repo(ws, {"tasks.py": tasks_py(proof), "tasks.json": tasks_file("json-one", "json-two")})
    return ws, repo, proof


def test_pull_request_target_with_the_head_checked_out_does_not_import_python(tmp_path, github, platform):
    ws, _repo, proof = untrusted_workspace(tmp_path)
    payload = pr_payload(base_sha="2" * 40)  # the workspace HEAD is not the base commit
    result = run_action(ws, tmp_path, event="pull_request_target", payload=payload, inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    assert not proof.exists(), "tasks.py was imported: untrusted code ran with the secrets"
    # Discovery on merge would use tasks.py, not tasks.json: a plan of tasks.json would mislead.
    assert result.outputs["to-create"] == "" and result.outputs["plan-hash"] == ""
    notice = result.messages("notice")
    assert "plan unavailable" in notice and "tasks.py" in notice
    body = github.comments_on(7)[0]["body"]
    assert "Plan unavailable: Python task files were not imported" in body and "tasks.py" in body
    assert "json\\-one" not in body and "json-one" not in body
    assert parse_marker(body).plan_hash == "", "a merge must not take this for a reviewed plan"


def test_pull_request_target_on_the_base_commit_imports_python(tmp_path, github, platform):
    ws, repo, proof = untrusted_workspace(tmp_path)
    payload = pr_payload(base_sha=repo.head.commit.hexsha)
    result = run_action(ws, tmp_path, event="pull_request_target", payload=payload, inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    assert proof.exists()
    seen = proof.read_text()
    assert HUD_KEY not in seen and github.token not in seen, "task files must not see the API key or the token"
    assert result.outputs["to-create"] == "1" and "from-python" in github.comments_on(7)[0]["body"]


def test_fork_pull_request_does_not_import_python(tmp_path, github, platform):
    ws, _repo, proof = untrusted_workspace(tmp_path)
    payload = pr_payload(head_repo="stranger/tasks")
    result = run_action(ws, tmp_path, event="pull_request", payload=payload, inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    assert not proof.exists()
    assert result.outputs["to-create"] == "" and "plan unavailable" in result.messages("notice")


def test_allow_untrusted_code_imports_with_a_warning(tmp_path, github, platform):
    ws, _repo, proof = untrusted_workspace(tmp_path)
    inputs = with_key(platform.url, **{"allow-untrusted-code": "true"})
    result = run_action(ws, tmp_path, event="pull_request_target", payload=pr_payload(), inputs=inputs, github=github)
    assert result.returncode == 0, result
    assert proof.exists() and HUD_KEY not in proof.read_text() and github.token not in proof.read_text()
    assert "allow-untrusted-code" in result.messages("warning")
    assert result.outputs["to-create"] == "1"


def test_install_is_skipped_for_untrusted_code(tmp_path, github, platform):
    ws, _repo, proof = untrusted_workspace(tmp_path)
    inputs = with_key(platform.url, install="--no-index definitely-not-installed-xyz")
    result = run_action(ws, tmp_path, event="pull_request_target", payload=pr_payload(), inputs=inputs, github=github)
    assert result.returncode == 0, result
    assert "not running `pip install`" in result.messages("notice")


def test_merge_of_untrusted_head_refuses_a_partial_upload(tmp_path, github, platform):
    ws, _repo, proof = untrusted_workspace(tmp_path)
    payload = pr_payload(action="closed", merged=True, merge_commit_sha="9" * 40, head_repo="stranger/tasks")
    result = run_action(ws, tmp_path, event="pull_request_target", payload=payload, inputs=with_key(platform.url), github=github)
    assert result.returncode == 1, result
    assert not proof.exists() and uploads(platform) == 0
    assert "partial plan" in result.messages("error")


def test_merged_fork_pr_with_the_merge_commit_checked_out_is_trusted(tmp_path, github, platform):
    ws, repo, proof = untrusted_workspace(tmp_path)
    merge = repo.head.commit.hexsha
    payload = pr_payload(action="closed", merged=True, merge_commit_sha=merge, head_repo="stranger/tasks")
    result = run_action(ws, tmp_path, event="pull_request_target", payload=payload, inputs=with_key(platform.url), github=github)
    assert result.returncode == 0, result
    assert proof.exists()
    assert sorted(remote_tasks(platform.url)) == ["from-python"]
