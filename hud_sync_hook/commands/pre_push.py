"""`hud-sync-hook pre-push`: validate the tasks a push sends, then show the plan for the pushed commit.

Runs as a plain git pre-push hook (remote name and URL as arguments, one ref line per pushed ref on
standard input) and under pre-commit (`PRE_COMMIT_FROM_REF`, `PRE_COMMIT_TO_REF`, ...). A push whose
files cannot change what discovery finds gets one line and exit 0 before any task file is imported
or the network is touched, so this module imports only what that path needs.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from hud_sync_hook.errors import ConfigError, HudSyncError

# The discovery and config file names, restated here so that the fast path need not import those
# modules (a test keeps the two in step).
CONFIG_PATH = ".hud/config.json"
CONFIG_KEY = "prePush"
DEFAULT_TIMEOUT = 10.0
# The hook's conversation with the platform for one pushed commit's plan (up to three requests, with
# their retries) ends within this many times --timeout.
PLAN_BUDGET_TIMEOUTS = 3
TASK_SUFFIXES = (".py", ".json", ".jsonl", ".yaml", ".yml")
DATA_NAMES = tuple(f"tasks{suffix}" for suffix in TASK_SUFFIXES[1:])
CONFIG_NAMES = ("config.json", "deploy.json")
PREFIX = "hud-sync-hook:"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("remote", nargs="?", help="remote name (git passes it; the ref lines come on standard input)")
    parser.add_argument("url", nargs="?", help="remote URL (git passes it)")
    parser.add_argument(
        "--source",
        help=f"task folder or file, relative to the repository root (default: {CONFIG_KEY}.source in {CONFIG_PATH}, else .)",
    )
    parser.add_argument("--taskset", help=f"taskset name or id (default: tasksetId in {CONFIG_PATH})")
    parser.add_argument(
        "--apply-on-branch",
        action="append",
        metavar="BRANCH",
        help=f"upload (apply --yes) when the push updates this remote branch (repeatable; default: {CONFIG_KEY}.applyOnBranch)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help=f"skip the plan when the platform does not answer within this long (default: {CONFIG_KEY}.timeout, else {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--api-url",
        help=f"platform URL, or `local` / `local:PATH` (default: $HUD_API_URL, else {CONFIG_KEY}.apiUrl once approved with "
        "`git config --global --add hud-sync-hook.allowApiUrl URL`, else https://api.hud.ai)",
    )
    parser.add_argument(
        "--import-timeout", type=float, default=60.0, metavar="SECONDS",
        help="give up importing a Python task file after this long (default: 60)",
    )
    parser.add_argument(
        "--allow-import-errors", dest="allow_import_errors", action="append", default=[], metavar="GLOB",
        help="a task file (path or glob, relative to the repository root) whose import error is shown but does "
        f"not refuse the push: the plan goes on without its tasks (repeatable; also allowImportErrors in {CONFIG_PATH})",
    )
    from hud_sync_hook.commands._common import add_sdk_argument

    add_sdk_argument(parser)
    # What `plan.show` reads: the hook always prints the text rendering to the terminal.
    parser.set_defaults(format="text", out=None)


# -- which pushes, which files -------------------------------------------------------------------


@dataclass(frozen=True)
class Push:
    ref: Any  # hud_sync_hook.git.PushedRef
    remote: str | None


def pushes_from(repo, args: argparse.Namespace, environ: dict[str, str], ref_lines: list | None) -> list[Push]:
    """The refs this push updates: git's ref lines, else pre-commit's variables, else HEAD."""
    from hud_sync_hook.git import PushedRef, resolve_commit

    remote = environ.get("PRE_COMMIT_REMOTE_NAME") or args.remote
    if ref_lines is not None:
        return [Push(ref, remote) for ref in ref_lines]
    from_ref, to_ref = environ.get("PRE_COMMIT_FROM_REF"), environ.get("PRE_COMMIT_TO_REF")
    if from_ref and to_ref:
        ref = PushedRef(environ.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD", to_ref,
                        environ.get("PRE_COMMIT_REMOTE_BRANCH") or "", from_ref)
        return [Push(ref, remote)]
    # pre-commit's all-files mode (a new branch holding the root commit), or a run by hand: the local
    # branch (else HEAD) as a new remote branch.
    local_ref = environ.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
    local = resolve_commit(repo, local_ref)
    if local is None:
        return []
    zero = "0" * len(local)
    return [Push(PushedRef(local_ref, local, environ.get("PRE_COMMIT_REMOTE_BRANCH") or "", zero), remote or "origin")]


def normalise_source(source: str) -> str:
    """`source` as a repository-relative POSIX path, "" for the root."""
    path = posixpath.normpath(source.replace(os.sep, "/")) if source else "."
    if path.startswith("/") or path == ".." or path.startswith("../"):
        raise HudSyncError(f"--source {source!r} must be a path inside the repository, relative to its root")
    return "" if path == "." else path


def _inside(path: str, folder: str) -> str | None:
    """`path` relative to `folder` when it is inside it, else None ("" is the root)."""
    if not folder:
        return path
    return path[len(folder) + 1 :] if path.startswith(folder + "/") else None


def affects_discovery(path: str, source: str, is_package) -> bool:
    """Whether a change to `path` can change what discovery finds under `source` (both repo-relative).

    `.hud/config.json` (or the legacy `deploy.json`) in the source folder or above; for a file source,
    the file (and, for a `.py` one, the Python files next to it that it may import); for a folder, its
    root `.py` files and `tasks.json|jsonl|yaml|yml`, `task.py` files below it, and every `.py` below
    it when it is a package (`is_package()`, asked only then).
    """
    folder, name = posixpath.split(path)
    source_is_file = source.endswith(TASK_SUFFIXES)
    source_dir = posixpath.dirname(source) if source_is_file else source
    if name in CONFIG_NAMES and posixpath.basename(folder) == ".hud":
        owner = posixpath.dirname(folder)
        return owner == source_dir or _inside(source_dir, owner) is not None or not owner
    if source_is_file:
        return path == source or (source.endswith(".py") and name.endswith(".py") and folder == source_dir)
    relative = _inside(path, source)
    if relative is None:
        return False
    if "/" not in relative:
        return name.endswith(".py") or name in DATA_NAMES
    if not name.endswith(".py"):
        return False
    if name == "task.py" and not any(part.startswith((".", "_")) for part in relative.split("/")[:-1]):
        return True
    return is_package()


def read_directly(source: str) -> list[str]:
    """The files discovery opens by name for `source`: the configs at or above it, its data files."""
    folder = posixpath.dirname(source) if source.endswith(TASK_SUFFIXES) else source
    parts = folder.split("/") if folder else []
    owners = ["/".join(parts[:depth]) for depth in range(len(parts) + 1)]
    found = [posixpath.join(owner, ".hud", name) for owner in owners for name in CONFIG_NAMES]
    if source.endswith(TASK_SUFFIXES):
        return found + [source]
    return found + [posixpath.join(source, name) for name in DATA_NAMES]


# -- settings from the arguments and the pushed commit's .hud/config.json --------------------------


@dataclass
class Settings:
    source: str
    apply_on: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    api_url: str | None = None
    url_from_repository: bool = False  # prePush.apiUrl: honoured only when the user approved it


def _config_section(text: str | None) -> dict[str, Any]:
    """The `prePush` object of the repository's `.hud/config.json`; problems are errors naming the file."""
    if text is None:
        return {}
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as err:
        raise ConfigError(f"is not valid JSON ({err.msg}); fix it or delete it", file=CONFIG_PATH, line=err.lineno) from None
    section = data.get(CONFIG_KEY) if isinstance(data, dict) else None
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(f"{CONFIG_KEY} must be an object like {{\"source\": \"tasks\"}}; fix it or remove it", file=CONFIG_PATH)
    return section


def settings_from(args: argparse.Namespace, section: dict[str, Any]) -> Settings:
    def wrong(key: str, expected: str) -> ConfigError:
        return ConfigError(f"{CONFIG_KEY}.{key} must be {expected}; fix it or remove the key", file=CONFIG_PATH)

    source = args.source
    if source is None:
        source = section.get("source", ".")
        if not isinstance(source, str):
            raise wrong("source", "a path relative to the repository root")
    apply_on = args.apply_on_branch
    if apply_on is None:
        apply_on = section.get("applyOnBranch", [])
        if isinstance(apply_on, str):
            apply_on = [apply_on]
        if not isinstance(apply_on, list) or not all(isinstance(b, str) for b in apply_on):
            raise wrong("applyOnBranch", "a branch name or a list of them")
    timeout = args.timeout
    if timeout is None:
        from hud_sync_hook.commands._common import MAX_TIMEOUT_SECONDS

        timeout = section.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT_SECONDS:
            raise wrong("timeout", f"a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS:g}")
    api_url = args.api_url or os.environ.get("HUD_API_URL")
    from_repository = not api_url and section.get("apiUrl") is not None
    if from_repository:
        api_url = section.get("apiUrl")
        if not isinstance(api_url, str) or not api_url.strip():
            raise wrong("apiUrl", "a URL, `local` or `local:PATH`")
    return Settings(normalise_source(source), tuple(apply_on), float(timeout), api_url or None, from_repository)


# -- checking one pushed commit ------------------------------------------------------------------


@dataclass
class Check:
    """One pushed commit to validate and plan, and the refs that push it."""

    commit: str
    settings: Settings
    pushes: list[Push] = field(default_factory=list)
    local: Any = None  # sync.LocalTasks
    taskset: Any = None  # sync.TasksetRef, or None with `skip_reason`
    skip_reason: str | None = None
    project_dir: str = ""  # the project root, relative to the repository root

    @property
    def names(self) -> str:
        return ", ".join(p.ref.shown for p in self.pushes)

    def applies_to(self) -> list[Push]:
        return [p for p in self.pushes if applies(self.settings, p.ref)]


def applies(settings: Settings, ref) -> bool:
    """Whether pushing `ref` uploads: it updates a branch named by --apply-on-branch."""
    return ref.branch is not None and (ref.branch in settings.apply_on or ref.remote_ref in settings.apply_on)


@contextmanager
def _working_directory(path) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def validate_commit(repo, check: Check, args: argparse.Namespace) -> bool:
    """Discover and validate the pushed commit's tasks, as if run at the repository root; True when valid."""
    from pathlib import Path

    from hud_sync_hook import git as githelp
    from hud_sync_hook import output
    from hud_sync_hook.commands._common import print_problems
    from hud_sync_hook.commands.plan import no_tasks_message
    from hud_sync_hook.sync import choose_taskset, read_local

    short = check.commit[:12]
    with githelp.tree_of(repo, check.commit, also_check=read_directly(check.settings.source)) as where, \
            _working_directory(where):
        local = read_local(
            check.settings.source or ".", import_timeout=args.import_timeout, sdk=getattr(args, "sdk", "auto"),
            allow_import_errors=args.allow_import_errors,
        )
        if local.problems:
            print_problems(local.problems, local.skipped)
            output.error(
                f"{len(local.problems)} problem(s) in the task definitions pushed to {check.names} ({short}); "
                "push refused: fix them and commit, or skip this check once with `git push --no-verify`"
            )
            return False
        if not local.discovery.tasks:
            print_problems([], local.skipped)
            output.error(f"{no_tasks_message(local)} (in {short}; pass --source to the hook if the tasks are elsewhere)")
            return False
        print_problems([], local.skipped)
        try:
            check.taskset = choose_taskset(args.taskset, None, local.config)
        except HudSyncError:
            check.skip_reason = (
                f"no taskset given: pass --taskset NAME in the hook's arguments, or set tasksetId in {local.config.shown()}"
            )
        project = Path(local.project_root).resolve()
        try:
            check.project_dir = project.relative_to(Path(where).resolve()).as_posix()
        except ValueError:
            check.project_dir = ""
    check.local = local
    files = len(local.discovery.files)
    print(f"{PREFIX} {len(local.discovery.tasks)} task(s) valid in {files} file(s) ({short}, {check.names})")
    return True


def open_platform_quickly(settings: Settings, root, project_dir: str, dialect=None):
    """The platform (spoken in `dialect`'s API, v5 unless given), with a short timeout and one
    retry; or a reason why the plan is skipped."""
    from hud_sync_hook import output
    from hud_sync_hook.commands._common import DEFAULT_API_URL

    from hud_sync_hook.platform import open_platform

    opener = dialect.open_platform if dialect is not None else open_platform
    url = settings.api_url or DEFAULT_API_URL
    if url == "local" or url.startswith("local:"):
        # `local` lives under the real project root, not under a temporary export of it; a
        # `local:PATH` from the repository must stay inside it.
        inside = root if settings.url_from_repository else None
        return opener(url, None, project_root=root / project_dir, inside=inside), None
    from hud_sync_hook import trust

    if settings.url_from_repository and not trust.is_approved(url, root):
        return None, (
            f"{CONFIG_PATH} sets {CONFIG_KEY}.apiUrl to {url}, which you have not approved for your HUD API key; "
            f"if you trust it, run `{trust.approve_command(url)}` (or pass --api-url in the hook's arguments)"
        )
    found = trust.find_api_key(root)
    if found.ignored:
        output.warning(found.ignored)
    if not found.value:
        return None, "no HUD API key (set HUD_API_KEY, or put HUD_API_KEY=... in ~/.hud/.env or an untracked ./.env)"
    output.register_secret(found.value)
    timeout = settings.timeout
    platform = opener(url, found.value, timeout=timeout)
    platform.max_attempts, platform.max_retry_seconds = 2, timeout
    platform.limit_total(PLAN_BUDGET_TIMEOUTS * timeout)  # the whole plan, whatever the platform does
    platform.key_source = found.source
    return platform, None


def plan_commit(check: Check, args: argparse.Namespace, root) -> int:
    """Print the plan for a validated commit, and upload it when the push targets an apply branch."""
    from hud_sync_hook import output
    from hud_sync_hook.commands.plan import show
    from hud_sync_hook.sync import env_mismatches, plan_against

    short = check.commit[:12]
    targets = check.applies_to()
    uploading = " — nothing was uploaded" if targets else ""
    platform, reason = None, check.skip_reason
    if reason is None:
        try:
            platform, reason = open_platform_quickly(check.settings, root, check.project_dir, check.local.dialect)
        except HudSyncError as err:  # a URL or key the platform client refuses: the plan, not the push, stops
            reason = str(err)
    if platform is None:
        output.info(f"{PREFIX} plan skipped for {short}: {reason}{uploading}")
        return 0
    try:
        try:
            plan = plan_against(platform, check.local, check.taskset)
            plan.env_mismatches, warning = env_mismatches(platform, check.local)
            if warning:
                plan.notes.append(warning)
        except HudSyncError as err:
            output.info(f"{PREFIX} plan skipped for {short}: {err}{uploading}")
            return 0
        print(f"{PREFIX} plan for {short} ({check.names}), what merging it will do to the taskset:")
        show(plan, args)
        if not targets:
            return 0
        return upload(platform, plan, check, [p.ref.branch for p in targets])
    finally:
        platform.close()


def upload(platform, plan, check: Check, branches: list[str]) -> int:
    from hud_sync_hook import output
    from hud_sync_hook.sync import apply_plan, landed_message

    where = ", ".join(branches)
    if not plan.has_changes:
        print(f"{PREFIX} push to {where}: nothing to upload")
        return 0
    if hasattr(platform, "limit_total"):
        platform.limit_total(None)  # each upload batch is still bounded by --timeout (one retry)
    outcome = apply_plan(platform, plan, check.local)
    stored = check.local.config.taskset_id
    if outcome.interrupted or outcome.error is not None:
        cause = "interrupted" if outcome.interrupted else str(outcome.error)
        output.error(f"{cause} — push to {where} refused: {landed_message(outcome, plan, 'push again')}")
        if outcome.taskset_id and outcome.taskset_id != stored:
            output.info(f"{PREFIX} commit tasksetId {outcome.taskset_id} in {CONFIG_PATH} so later plans use this taskset")
        return 130 if outcome.interrupted else 1
    output.info(
        f"{PREFIX} uploaded {outcome.tasks_sent} task(s) to '{plan.taskset_name}' for the push to {where}: "
        f"{outcome.created} created, {outcome.updated} updated"
    )
    if outcome.taskset_id and outcome.taskset_id != check.local.config.taskset_id:
        print(f"{PREFIX} commit tasksetId {outcome.taskset_id} in {CONFIG_PATH} so later plans use this taskset")
    return 0


# -- the command ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    from hud_sync_hook import git as githelp

    environ = dict(os.environ)
    under_pre_commit = bool(environ.get("PRE_COMMIT_FROM_REF") and environ.get("PRE_COMMIT_TO_REF"))
    ref_lines = None
    if not under_pre_commit and args.remote is not None:
        # git's ref lines: read all of them before anything starts a process that could take them.
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
        ref_lines = [ref for ref in githelp.parse_push_lines(text) if not ref.is_deletion]
    if args.taskset is not None:
        from hud_sync_hook.commands._common import check_taskset_name

        check_taskset_name(
            args.taskset, "hud-sync-hook pre-push", flagged=True,
            hint="give the hook --taskset NAME (a taskset name or id) and the task folder or file as --source PATH",
        )
    nothing = f"{PREFIX} nothing to check (the push deletes refs or sends no commits)"
    if ref_lines == []:
        print(nothing)
        return 0

    repo = githelp.open_repo()
    root = githelp.work_tree(repo)
    os.chdir(root)
    pushes = pushes_from(repo, args, environ, ref_lines)
    if not pushes:
        print(nothing)
        return 0

    sections: dict[str, dict[str, Any]] = {}  # the prePush settings of each pushed commit

    def section_for(commit: str) -> dict[str, Any]:
        if commit not in sections:
            sections[commit] = _config_section(githelp.read_text_at(repo, commit, CONFIG_PATH))
        return sections[commit]

    checks: dict[str, Check] = {}
    changed: set[str] = set()
    for push in pushes:
        commit = push.ref.local_oid
        settings = settings_from(args, section_for(commit))
        if push.ref.is_new and applies(settings, push.ref):
            # A new branch that uploads: the platform has seen none of it, whatever its merge-base holds.
            files = githelp.all_files(repo, commit)
        else:
            files = githelp.pushed_files(repo, push.ref, push.remote)
        changed.update(files)
        package: list[bool] = []

        def is_package(commit=commit, source=settings.source, package=package) -> bool:
            if not package:
                package.append(githelp.exists_at(repo, commit, posixpath.join(source, "__init__.py")))
            return package[0]

        if any(affects_discovery(path, settings.source, is_package) for path in files):
            checks.setdefault(commit, Check(commit, settings)).pushes.append(push)

    if not checks:
        refs = ", ".join(p.ref.shown for p in pushes)
        print(f"{PREFIX} no task files changed in this push ({len(changed)} file(s), {refs}); nothing to check")
        return 0

    # Validate everything first: a push git will refuse must upload nothing.
    if not all([validate_commit(repo, check, args) for check in checks.values()]):
        return 1
    status = 0
    for check in checks.values():
        status = max(status, plan_commit(check, args, root))
    return status
