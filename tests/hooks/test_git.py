"""The git helpers on real repositories: ref lines, the files a push changes, exports, hooks folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from hud_sync_hook import git as githelp
from hud_sync_hook.errors import HudSyncError
from tests.hooks.consumer import git_run, make_consumer

Z40, Z64 = "0" * 40, "0" * 64


def test_ref_lines_every_kind_and_both_hash_lengths():
    a, b = "a" * 40, "b" * 64
    refs = githelp.parse_push_lines(
        f"refs/heads/main {a} refs/heads/main {a}\n"
        f"refs/heads/new {a} refs/heads/new {Z40}\n"
        f"(delete) {Z64} refs/heads/old {b}\n"
        "\n"
        f"HEAD {b} refs/tags/v1 {Z64}\n"
    )
    assert [r.remote_ref for r in refs] == ["refs/heads/main", "refs/heads/new", "refs/heads/old", "refs/tags/v1"]
    assert [r.is_new for r in refs] == [False, True, False, True]
    assert [r.is_deletion for r in refs] == [False, False, True, False]
    assert [r.branch for r in refs] == ["main", "new", "old", None]
    assert not githelp.is_zero_oid("0" * 39) and not githelp.is_zero_oid("0" * 41)


def test_a_malformed_ref_line_is_an_error_that_says_what_was_expected():
    with pytest.raises(HudSyncError, match="line 2 of standard input .*expected '<local ref> <local oid>"):
        githelp.parse_push_lines(f"refs/heads/a {Z40} refs/heads/a {Z40}\nnonsense\n")


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_pushed_files_for_an_update_a_new_branch_and_an_unknown_remote_commit(tmp_path: Path, object_format: str):
    consumer = make_consumer(tmp_path, {"a.txt": "a", "tasks.json": "[]"}, object_format=object_format)
    repo = githelp.open_repo(consumer.work)
    base = consumer.head()
    assert len(base) == (40 if object_format == "sha1" else 64)
    git_run(consumer.work, "checkout", "-q", "-b", "feature")
    tip = consumer.commit({"b.txt": "b"})
    git_run(consumer.work, "mv", "a.txt", "moved.txt")
    tip = consumer.commit({}, "rename")
    zero = "0" * len(base)

    update = githelp.PushedRef("refs/heads/feature", tip, "refs/heads/feature", base)
    assert sorted(githelp.pushed_files(repo, update, "origin")) == ["a.txt", "b.txt", "moved.txt"]
    # A new branch: against the merge-base with origin's default branch.
    new = githelp.PushedRef("refs/heads/feature", tip, "refs/heads/feature", zero)
    assert sorted(githelp.pushed_files(repo, new, "origin")) == ["a.txt", "b.txt", "moved.txt"]
    # No tracking refs for a remote given as a URL: every file of the pushed commit.
    assert sorted(githelp.pushed_files(repo, new, str(consumer.remote))) == ["b.txt", "moved.txt", "tasks.json"]
    # The remote has a commit this clone never fetched: like a new branch.
    unknown = githelp.PushedRef("refs/heads/feature", tip, "refs/heads/feature", "1" * len(base))
    assert sorted(githelp.pushed_files(repo, unknown, "origin")) == ["a.txt", "b.txt", "moved.txt"]


def test_default_branch_guess_without_origin_head(tmp_path: Path):
    consumer = make_consumer(tmp_path, {"a.txt": "a"})
    git_run(consumer.work, "remote", "set-head", "origin", "--delete")
    repo = githelp.open_repo(consumer.work)
    assert githelp.remote_default_branch(repo, "origin") == "refs/remotes/origin/main"
    assert githelp.remote_default_branch(repo, "elsewhere") is None
    assert githelp.remote_default_branch(repo, "https://example.invalid/x.git") is None


def test_export_holds_the_commit_not_the_work_tree(tmp_path: Path):
    consumer = make_consumer(tmp_path, {"tasks.json": "[1]", "sub/task.py": "x = 1\n", "link": "tasks.json"})
    committed = consumer.head()
    (consumer.work / "tasks.json").write_text("[2]")
    (consumer.work / "untracked.json").write_text("{}")
    git_run(consumer.work, "add", "tasks.json")  # staged, still not committed
    repo = githelp.open_repo(consumer.work / "sub")
    assert githelp.work_tree(repo) == consumer.work
    assert not githelp.work_tree_is(repo, committed)
    with githelp.tree_of(repo, committed) as where:
        assert where != consumer.work
        assert (where / "tasks.json").read_text() == "[1]"
        assert (where / "sub" / "task.py").read_text() == "x = 1\n"
        assert not (where / "untracked.json").exists()
        assert (where / ".git").is_dir() and not any((where / ".git").iterdir())
    assert not where.exists()
    assert git_run(consumer.work, "status", "--porcelain").stdout.splitlines() == ["M  tasks.json", "?? untracked.json"]
    assert git_run(consumer.work, "worktree", "list").stdout.count("\n") == 1


def test_a_clean_work_tree_at_the_commit_is_used_in_place(tmp_path: Path):
    consumer = make_consumer(tmp_path, {"tasks.json": "[]"})
    repo = githelp.open_repo(consumer.work)
    with githelp.tree_of(repo, consumer.head()) as where:
        assert where == consumer.work
    (consumer.work / ".gitignore").write_text("ignored/\n")
    consumer.commit({}, "ignore")
    (consumer.work / "ignored").mkdir()
    (consumer.work / "ignored" / "x").write_text("ignored files do not count")
    assert githelp.work_tree_is(repo, consumer.head())
    assert not githelp.work_tree_is(repo, consumer.head("HEAD~1"))
    with githelp.tree_of(repo, consumer.head(), also_check=["tasks.json", "absent.json"]) as where:
        assert where == consumer.work
    with githelp.tree_of(repo, consumer.head(), also_check=["ignored/x"]) as where:
        assert where != consumer.work and not (where / "ignored").exists()


def test_read_text_and_exists_at_a_commit(tmp_path: Path):
    consumer = make_consumer(tmp_path, {".hud/config.json": '{"a": 1}\n'})
    repo = githelp.open_repo(consumer.work)
    assert githelp.read_text_at(repo, consumer.head(), ".hud/config.json") == '{"a": 1}\n'
    assert githelp.read_text_at(repo, consumer.head(), "missing.json") is None
    assert githelp.exists_at(repo, consumer.head(), ".hud/config.json")
    assert not githelp.exists_at(repo, consumer.head(), "__init__.py")


def test_hooks_folder_follows_core_hooks_path(tmp_path: Path):
    consumer = make_consumer(tmp_path, {"a.txt": "a"})
    repo = githelp.open_repo(consumer.work)
    assert githelp.hooks_dir(repo) == consumer.work / ".git" / "hooks"
    git_run(consumer.work, "config", "core.hooksPath", "ci/hooks")
    assert githelp.hooks_dir(githelp.open_repo(consumer.work)) == consumer.work / "ci" / "hooks"


def test_outside_a_repository_is_a_one_line_error(tmp_path: Path):
    with pytest.raises(HudSyncError, match="not inside a git repository"):
        githelp.open_repo(tmp_path)
