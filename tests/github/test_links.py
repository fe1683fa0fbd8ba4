"""Files the action writes never follow a link the repository planted: a link in the way is an
error annotation naming it, and nothing is written through it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hud_sync_hook.safefs import LinkInTheWay, write_below
from tests.github.harness import pr_payload, remote_tasks, run_action, tasks_file, with_key
from tests.helpers.repo import make_repo

PLAN_NAME = "plan-" + hashlib.sha256(b".\0demo").hexdigest()[:12] + ".json"
FORK = pr_payload(head_repo="stranger/tasks", base_sha="2" * 40)


def victim_folder(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "event.json").write_text('{"original": true}')
    return victim


def link_error(result, shown: str) -> None:
    assert result.returncode == 1, result
    errors = [a for a in result.annotations("error") if a.properties.get("title") == "Link in the way"]
    assert len(errors) == 1 and errors[0].properties["file"] == shown, result.commands
    assert result.outputs["plan-json"] == ""


@pytest.mark.parametrize("planted", ["folder", "plan file", "gitignore"])
def test_links_in_the_plan_folder_are_refused(tmp_path, github, platform, planted):
    victim = victim_folder(tmp_path)
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha")})
    if planted == "folder":
        os.symlink(victim, ws / ".hud-sync-hook")
        shown = ".hud-sync-hook"
    else:
        (ws / ".hud-sync-hook").mkdir()
        if planted == "plan file":
            os.symlink(victim / "event.json", ws / ".hud-sync-hook" / PLAN_NAME)
            shown = f".hud-sync-hook/{PLAN_NAME}"
        else:
            os.symlink(victim / "bashrc", ws / ".hud-sync-hook" / ".gitignore")
            shown = ".hud-sync-hook/.gitignore"
    result = run_action(ws, tmp_path, event="pull_request_target", payload=FORK, inputs=with_key(platform.url), github=github)
    link_error(result, shown)
    assert (victim / "event.json").read_text() == '{"original": true}'
    assert sorted(p.name for p in victim.iterdir()) == ["event.json"], "nothing written through the link"
    # The run still reports: the comment and the summary say what failed.
    assert "Link in the way" in result.messages("error") or result.annotations("error")
    assert result.summary


def test_config_written_after_a_merge_does_not_follow_a_link(tmp_path, github, platform):
    ws = tmp_path / "ws"
    make_repo(ws, {"tasks.json": tasks_file("alpha"), "conf/keep": ""})
    os.symlink("conf", ws / ".hud")  # a link inside the repository: reading through it is allowed
    payload = pr_payload(action="closed", merged=True, merge_commit_sha="abcdef0123456789abcdef0123456789abcdef01")
    result = run_action(ws, tmp_path, event="pull_request", payload=payload, inputs=with_key(platform.url), github=github)
    assert result.returncode == 1, result
    assert sorted(remote_tasks(platform.url)) == ["alpha"], "the upload itself happened"
    errors = [a for a in result.annotations("error") if a.properties.get("title") == "Link in the way"]
    assert [e.properties["file"] for e in errors] == [".hud"]
    assert not (ws / "conf" / "config.json").exists()


def test_write_below_writes_inside_and_refuses_every_kind_of_link(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    assert write_below(root, "a/b/c.json", b"x")
    assert (root / "a" / "b" / "c.json").read_bytes() == b"x"
    assert not write_below(root, "a/b/c.json", b"y", if_missing=True)
    assert write_below(root, "a/b/c.json", b"z") and (root / "a" / "b" / "c.json").read_bytes() == b"z"
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "dir-link")
    os.symlink(outside / "f", root / "file-link")
    os.symlink("loop", root / "loop")
    (root / "fifo-dir").mkdir()
    os.mkfifo(root / "fifo-dir" / "pipe")
    for relative in ("dir-link/x", "file-link", "loop", "loop/x", "fifo-dir/pipe", "file-link/x"):
        with pytest.raises(LinkInTheWay):
            write_below(root, relative, b"bad")
    assert list(outside.iterdir()) == []
    for bad in ("../x", "/etc/x", ""):
        with pytest.raises(ValueError):
            write_below(root, bad, b"bad")
