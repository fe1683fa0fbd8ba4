"""Git for the hooks: the repository, what a push sends, the files it changes, a commit's tree on disk.

Everything goes through GitPython's `repo.git` plumbing (one `git` process per question), which stays
fast on large histories where walking objects in Python would not. Works for SHA-1 and SHA-256
repositories alike: object ids are never assumed to be 40 characters. GitPython itself is imported by
`open_repo`, so reading a hook's ref lines costs no import.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from hud_sync_hook.errors import HudSyncError

if TYPE_CHECKING:
    import git

ZERO_OID_LENGTHS = (40, 64)
DEFAULT_BRANCH_GUESSES = ("main", "master")


def is_zero_oid(oid: str) -> bool:
    """The all-zero id git uses for "no object": a new remote ref, or a deletion."""
    return len(oid) in ZERO_OID_LENGTHS and set(oid) == {"0"}


@dataclass(frozen=True)
class PushedRef:
    """One line of what git gives a pre-push hook: `<local ref> <local oid> <remote ref> <remote oid>`."""

    local_ref: str
    local_oid: str
    remote_ref: str
    remote_oid: str

    @property
    def is_deletion(self) -> bool:
        return is_zero_oid(self.local_oid)

    @property
    def is_new(self) -> bool:
        return is_zero_oid(self.remote_oid)

    @property
    def branch(self) -> str | None:
        """The remote branch's short name (`main` for `refs/heads/main`); None for tags and others."""
        prefix = "refs/heads/"
        return self.remote_ref[len(prefix) :] if self.remote_ref.startswith(prefix) else None

    @property
    def shown(self) -> str:
        return self.remote_ref or self.local_ref or "HEAD"


def parse_push_lines(text: str) -> list[PushedRef]:
    """Every ref line git wrote on a pre-push hook's standard input; blank lines are ignored."""
    refs: list[PushedRef] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 4:
            raise HudSyncError(
                f"line {number} of standard input is {line.strip()!r}, expected "
                "'<local ref> <local oid> <remote ref> <remote oid>'; run `pre-push` from a git "
                "pre-push hook, or without arguments to check HEAD"
            )
        refs.append(PushedRef(*parts))
    return refs


def open_repo(start: str | Path | None = None) -> git.Repo:
    """The repository holding `start` (default: the current folder), with a work tree."""
    import git

    try:
        repo = git.Repo(start or os.getcwd(), search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise HudSyncError("not inside a git repository; run this from the repository's folder") from None
    if repo.bare or not repo.working_tree_dir:
        raise HudSyncError("this git repository has no work tree; run this from a clone with a work tree")
    return repo


def work_tree(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir)  # type: ignore[arg-type]


def resolve_commit(repo: git.Repo, rev: str) -> str | None:
    """The commit id `rev` names (tags peeled), or None when there is no such commit here."""
    from git import GitCommandError

    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{rev}^{{commit}}")
    except GitCommandError:
        return None


def changed_files(repo: git.Repo, old: str, new: str) -> list[str]:
    """Paths whose content differs between two commits; a rename lists both the old and new path.

    Raises GitPython's `GitCommandError` when either commit is not in the repository.
    """
    out = repo.git.diff("--name-only", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", old, new, "--")
    return [name for name in out.split("\0") if name]


def all_files(repo: git.Repo, rev: str) -> list[str]:
    out = repo.git.ls_tree("-r", "-z", "--name-only", "--full-tree", rev)
    return [name for name in out.split("\0") if name]


def remote_default_branch(repo: git.Repo, remote: str | None) -> str | None:
    """The remote-tracking ref of the remote's default branch: `<remote>/HEAD`, else `main`, else `master`."""
    if not remote or "/" in remote or ":" in remote:
        return None  # a URL, not a named remote: there are no tracking refs to look at
    candidates = [f"refs/remotes/{remote}/HEAD"] + [f"refs/remotes/{remote}/{b}" for b in DEFAULT_BRANCH_GUESSES]
    out = repo.git.for_each_ref("--format=%(refname)", *candidates)
    found = set(out.splitlines())
    return next((ref for ref in candidates if ref in found), None)


def merge_base(repo: git.Repo, a: str, b: str) -> str | None:
    from git import GitCommandError

    try:
        return repo.git.merge_base(a, b) or None
    except GitCommandError:
        return None  # unrelated histories


def pushed_files(repo: git.Repo, ref: PushedRef, remote: str | None) -> list[str]:
    """The files a push changes on the remote ref.

    An existing remote ref: the diff from what the remote has. A new one (or a remote commit this
    clone has never fetched): the diff from the merge-base with the remote's default branch, else
    every file of the pushed commit.
    """
    from git import GitCommandError

    if not ref.is_new:
        try:
            return changed_files(repo, ref.remote_oid, ref.local_oid)
        except GitCommandError:
            pass  # the remote's commit is not here: treat it like a new branch
    default = remote_default_branch(repo, remote)
    base = merge_base(repo, default, ref.local_oid) if default else None
    if base:
        return changed_files(repo, base, ref.local_oid)
    return all_files(repo, ref.local_oid)


def read_text_at(repo: git.Repo, rev: str, path: str) -> str | None:
    """The text of `path` in commit `rev`, or None when the commit has no such file."""
    from git import GitCommandError

    try:
        return repo.git.cat_file("blob", f"{rev}:{path}", strip_newline_in_stdout=False)
    except GitCommandError:
        return None


def exists_at(repo: git.Repo, rev: str, path: str) -> bool:
    from git import GitCommandError

    try:
        repo.git.cat_file("-e", f"{rev}:{path}")
    except GitCommandError:
        return False
    return True


def work_tree_is(repo: git.Repo, commit: str) -> bool:
    """True when HEAD is `commit` and the work tree holds no changes or untracked files."""
    out = repo.git.status(
        "--porcelain=v2", "--branch", "--untracked-files=normal", "--ignore-submodules=all",
        env={"GIT_OPTIONAL_LOCKS": "0"},
    )
    head = None
    for line in out.splitlines():
        if line.startswith("# branch.oid "):
            head = line.split()[2]
        elif not line.startswith("#"):
            return False
    return head == commit


@contextmanager
def exported_tree(repo: git.Repo, rev: str) -> Iterator[Path]:
    """The files of commit `rev` in a temporary folder, removed afterwards.

    Made with a temporary index (`read-tree` + `checkout-index --prefix`), which neither touches the
    user's index, work tree and worktree list nor runs checkout hooks; unlike `git archive` it applies
    the checkout filters (so Git LFS files hold their content, not pointers) and ignores
    `export-ignore`. An empty `.git` folder marks the export's root as the repository's `.git` marks
    the real one, so that configuration and project-root look-ups stop there too.
    """
    holder = Path(tempfile.mkdtemp(prefix="hud-sync-hook-"))
    try:
        export = holder / "tree"
        export.mkdir()
        env = {"GIT_INDEX_FILE": str(holder / "index")}
        repo.git.read_tree(rev, env=env)
        repo.git.checkout_index("--all", "--force", f"--prefix={export}{os.sep}", env=env)
        (export / ".git").mkdir(exist_ok=True)
        yield export
    finally:
        shutil.rmtree(holder, ignore_errors=True)


@contextmanager
def tree_of(repo: git.Repo, commit: str, *, also_check: Iterable[str] = ()) -> Iterator[Path]:
    """Where to read commit `commit`'s files: the work tree when it is exactly that commit, else an export.

    `git status` is silent about ignored files; `also_check` names the files whose presence must match
    the commit too (an ignored `.hud/config.json` must not stand in for the repository's).
    """
    root = work_tree(repo)
    if work_tree_is(repo, commit) and all(
        exists_at(repo, commit, path) for path in also_check if (root / path).exists()
    ):
        yield root
        return
    with exported_tree(repo, commit) as export:
        yield export


def hooks_dir(repo: git.Repo) -> Path:
    """The folder git runs hooks from (`core.hooksPath` when set, else `.git/hooks`)."""
    path = Path(repo.git.rev_parse("--git-path", "hooks"))
    return path if path.is_absolute() else work_tree(repo) / path
