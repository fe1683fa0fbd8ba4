"""`hud-sync-hook github`: the GitHub Action's entrypoint.

Reads the runner's `INPUT_*`/`GITHUB_*` variables and event file, composes the same steps as
`plan`/`apply` (read_local, choose_taskset, plan_against, apply_plan), and reports through the
runner: one plan comment per pull request and source/taskset, the job summary, step outputs and
annotations. On pull requests it plans; on merge it uploads what was reviewed.

What to do is decided by the pure functions in `github/decide.py`; what the runner gets back is a
`Report` (`github/report.py`), written once at the end, also after an error or a bug.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from hud_sync_hook import __version__, output
from hud_sync_hook.errors import HudSyncError

PERMISSIONS_BLOCK = "permissions:\n  contents: read\n  pull-requests: write"
STATUS_PERMISSIONS_BLOCK = "permissions:\n  contents: read\n  statuses: write"
NO_KEY = "plan unavailable: no HUD API key in this run"
COMMENT_LIMIT = 60_000
SUMMARY_LIMIT = 1_000_000  # bytes: GitHub takes up to 1 MiB of job summary per step
LIST_IN_NOTE = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "GitHub Action entrypoint: reads INPUT_* and GITHUB_* variables and the event file, "
        "plans on pull requests (one PR comment), uploads on merge; see the README's GitHub Action section."
    )
    parser.add_argument(
        "--import-timeout", type=float, default=60.0, metavar="SECONDS",
        help="give up importing a Python task file after this long (default: 60)",
    )


def run(args: argparse.Namespace) -> int:
    if os.environ.get("GITHUB_ACTIONS") != "true":  # the runner sets it; nothing else here would make sense
        output.error(
            "not running in GitHub Actions (GITHUB_ACTIONS is not 'true'): this command is the Action's "
            "entrypoint; run `hud-sync-hook plan` or `hud-sync-hook apply` instead"
        )
        return 1
    from hud_sync_hook import sandbox
    from hud_sync_hook.github import summary
    from hud_sync_hook.github.report import EXIT_BUG, Report, write_report

    try:
        # Re-executes this process without the secrets in its environment, the first time.
        secrets = sandbox.take_secrets()
    except sandbox.SecretsError as err:
        summary.error(str(err))
        return 1
    # Before anything else is printed: the runner must know what to hide.
    for secret in secrets.values():
        summary.add_mask(secret)
        output.register_secret(secret)
    report = Report()
    action = ActionRun(dict(os.environ), secrets, report, import_timeout=args.import_timeout)
    try:
        action.run()
    except HudSyncError as err:
        action.failed(err)
    except Exception as err:  # noqa: BLE001 - a bug: still leave evidence, with its own exit code
        sys.stderr.write(output.mask("".join(traceback.format_exception(err))))
        action.failed(err, bug=True)
        report.fail(EXIT_BUG)
    finally:
        action.close()
    return write_report(report, os.environ)


class ActionRun:
    def __init__(self, env: dict[str, str], secrets: dict[str, str], report, *, import_timeout: float = 60.0) -> None:
        self.env = env
        self.secrets = secrets
        self.report = report
        self.import_timeout = import_timeout
        self.lines: list[str] = []  # trusted Markdown shown above the plan
        self.title: str | None = None
        self.plan = None
        self.plan_state = "none"  # ready | no-key | failed | invalid | partial | validate | none
        self.local = None
        self.platform = None
        self.inputs = None
        self.event = None
        self.decision = None
        self.workspace: Path | None = None
        self.folder: Path | None = None
        self.github = None  # GitHubClient, opened on first use
        self._login: str | None = None
        self.found = None  # our plan comment on the pull request, once looked up
        self.pr_number: int | None = None
        self.outcome: str | None = None  # this merge's outcome line
        self.marker_status = "planned"
        self.temp: str | None = None
        self.comment_done = False

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> None:
        from hud_sync_hook.github.context import read_event, read_inputs

        self.inputs = inputs = read_inputs(self.env, self.secrets)
        self.event = event = read_event(self.env)
        self.workspace = event.workspace.resolve()
        self.folder = self._folder()
        os.chdir(self.folder)
        self._trust_workspace_for_git()
        self.decision = decision = self._decide_run()
        pr = event.pull_request
        if pr is not None:
            self.pr_number = pr.number
        print(
            f"hud-sync-hook {__version__}: event {event.name}"
            + (f" ({event.action})" if event.action else "")
            + (f", pull request #{pr.number}" if pr else "")
            + f", mode {decision.mode}" + (" (auto)" if inputs.mode == "auto" else "")
        )
        if decision.mode == "skip":
            print(decision.why)
            self.report.summary = f"### HUD taskset\n{decision.why}\n"
            return
        self._prepare_children()
        if decision.untrusted and inputs.allow_untrusted_code:
            self.report.warning(f"importing Python task files although {decision.untrusted} (allow-untrusted-code: true)")
        if inputs.install:
            self._install()
        local = self._read_local()
        self._make_plan(local, decision.mode)
        self._write_plan_json()
        self._log_plan()
        if decision.mode == "apply":
            self._apply()
        else:
            self._report_plan(decision.mode)
        self._finish()

    def close(self) -> None:
        from hud_sync_hook import sandbox

        for thing in (self.platform, self.github):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001 - closing must not hide what happened
                    pass
        sandbox.configure(None)
        if self.temp:
            shutil.rmtree(self.temp, ignore_errors=True)

    # -- deciding ----------------------------------------------------------------------------------

    def _decide_run(self):
        from hud_sync_hook.github.context import workspace_head
        from hud_sync_hook.github.decide import RunFacts, decide_run, needs_pull_lookup

        event, inputs = self.event, self.inputs
        pull = event.pull_request
        head = workspace_head(self.workspace)
        pulls_of_head, lookup_error = None, None
        if pull is None and needs_pull_lookup(event.name):
            pulls_of_head, lookup_error = self._pulls_of_head(head)
        return decide_run(RunFacts(
            event=event.name, action=event.action, mode_input=inputs.mode,
            allow_untrusted_code=inputs.allow_untrusted_code, pull=pull,
            pushed_to_default_branch=event.pushed_to_default_branch,
            branch_deleted=event.payload.get("deleted") is True, head=head, repository=event.repository,
            pulls_of_head=pulls_of_head, pulls_lookup_error=lookup_error,
        ))

    def _pulls_of_head(self, head: str | None):
        """The pull requests the checked-out commit is the head of, from the API; or why that is unknown."""
        from hud_sync_hook.github.api import GitHubError
        from hud_sync_hook.github.context import PullRequest

        client = self._client(quiet=True)
        number = self.event.issue_pull_number
        if client is None:
            return None, "no github-token to ask GitHub"
        if head is None and number is None:
            return None, "the workspace is not a git checkout"
        found = []
        try:
            raw = [client.pull(number)] if number is not None else []
            if head is not None:
                raw += client.pulls_for_commit(head)
        except GitHubError as err:
            return None, str(err)
        for item in raw:
            head_info = item.get("head") if isinstance(item.get("head"), dict) else {}
            base_info = item.get("base") if isinstance(item.get("base"), dict) else {}
            head_repo = (head_info.get("repo") or {}).get("full_name") if isinstance(head_info.get("repo"), dict) else None
            base_repo = (base_info.get("repo") or {}).get("full_name") if isinstance(base_info.get("repo"), dict) else None
            if isinstance(item.get("number"), int):
                found.append(PullRequest(
                    number=item["number"], head_sha=head_info.get("sha") if isinstance(head_info.get("sha"), str) else None,
                    head_repo=head_repo if isinstance(head_repo, str) else "(unknown repository)",
                    base_repo=base_repo if isinstance(base_repo, str) else self.event.repository,
                    merged=bool(item.get("merged_at")) or item.get("merged") is True,
                ))
        return tuple(found), None

    # -- steps -----------------------------------------------------------------------------------

    def _folder(self) -> Path:
        wd = self.inputs.working_directory
        if not wd:
            return self.workspace
        folder = (self.workspace / wd).resolve()
        inside = folder == self.workspace or self.workspace in folder.parents
        if not inside or not folder.is_dir():
            raise HudSyncError(f"working-directory {wd!r} is not a folder in the workspace; fix the input")
        return folder

    def _trust_workspace_for_git(self) -> None:
        """The workspace is owned by the runner's user, not root: let git (and GitPython) read it."""
        raw = os.environ.get("GIT_CONFIG_COUNT", "0")
        count = int(raw) if raw.isdigit() else 0
        os.environ[f"GIT_CONFIG_KEY_{count}"] = "safe.directory"
        os.environ[f"GIT_CONFIG_VALUE_{count}"] = str(self.workspace)
        os.environ["GIT_CONFIG_COUNT"] = str(count + 1)

    def _prepare_children(self) -> None:
        """Task-file imports and `pip install` run without the secrets, and as nobody when we are root."""
        from hud_sync_hook import sandbox

        def make_temp() -> str:
            self.temp = tempfile.mkdtemp(prefix="hud-sync-hook-", dir=self.env.get("RUNNER_TEMP") or None)
            return self.temp

        launch = sandbox.prepare(list(self.secrets.values()), make_temp)
        if launch.user is not None:
            # Fail now, with the reason, rather than on the first task file.
            try:
                check = subprocess.run(
                    [sys.executable, "-c", "import hud_sync_hook.discovery._child"], cwd=str(self.folder),
                    stdin=subprocess.DEVNULL, capture_output=True, env=launch.env(os.environ), **launch.popen_options(),
                )
                problem = check.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] if check.returncode else None
            except OSError as err:
                problem = [err.strerror or type(err).__name__]
            if problem is not None:
                raise HudSyncError(
                    f"cannot run the repository's code as the unprivileged user (uid {launch.user}): "
                    f"{output.mask(' '.join(problem))[:300]}; it needs to read {sys.executable} and the workspace"
                )
        sandbox.configure(launch)

    def _install(self) -> None:
        from hud_sync_hook import sandbox
        from hud_sync_hook.github import summary
        from hud_sync_hook.github.context import install_command

        if not self.decision.allow_python:
            self.report.notice(f"not running `pip install` for the install input because {self.decision.untrusted}", title="Untrusted code not run")
            return
        pip_args = install_command(self.inputs.install, self.folder)
        launch = sandbox.current()
        target = ["--target", launch.site] if launch is not None and launch.site else []
        command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *target, *pip_args]
        with summary.group(f"pip install {' '.join(pip_args)}"):
            with summary.commands_stopped():
                result = subprocess.run(
                    command, cwd=str(self.folder), stdin=subprocess.DEVNULL,
                    env=sandbox.child_env(os.environ), **sandbox.popen_options(),
                )
        if result.returncode != 0:
            raise HudSyncError(f"`pip install {' '.join(pip_args)}` failed (exit {result.returncode}); see the log above")

    def _read_local(self):
        from hud_sync_hook.github import summary
        from hud_sync_hook.sync import read_local

        with summary.group("Discover and validate tasks"):
            local = read_local(
                self.inputs.source,
                base=self.workspace,
                exclude=self.inputs.exclude,
                import_timeout=self.import_timeout,
                allow_python=self.decision.allow_python,
                allow_import_errors=self.inputs.allow_import_errors,
                allow_name="allow-import-errors",
                sdk=self.inputs.sdk,
            )
            with summary.commands_stopped():
                for name in local.discovery.files:
                    print(f"read {name}")
                print(f"{len(local.discovery.tasks)} task(s) found, {len(local.problems)} problem(s)")
        from hud_sync_hook.discovery.import_errors import ImportFailure

        for problem in local.problems:
            loc = problem.location
            message = problem.message + (f" ({problem.fix})" if problem.fix else "")
            title = "Task file failed" if isinstance(problem, ImportFailure) else "Invalid task"
            self.report.annotate("error", message, file=loc.file, line=loc.line, col=loc.column, title=title)
        for skipped in local.skipped:
            self.report.annotate("warning", f"skipped: {skipped.error} (allowed by allow-import-errors or allowImportErrors)", file=skipped.path, title="Task file skipped")
        self.local = local
        return local

    def _offline(self, local, note: str | None, *, tasks: bool = True):
        from hud_sync_hook.plan import offline_plan

        name = self._taskset_name(local)
        chosen = [t for t in local.selected if isinstance(t.slug, str)] if tasks and local is not None else []
        plan = offline_plan(chosen, taskset_name=name)
        if local is not None:
            plan.problems = list(local.problems)
            plan.skipped = list(local.skipped)
        if local is not None:
            plan.sdk = local.dialect.name
            plan.sdk_reason = local.sdk.reason if local.sdk else ""
        if note:
            plan.notes.append(note)
        return plan

    def _taskset_name(self, local) -> str | None:
        inputs = self.inputs
        data = local.config.data if local is not None else {}
        name = inputs.taskset or inputs.taskset_id or data.get("tasksetName") or (local.config.taskset_id if local is not None else None)
        return name if isinstance(name, str) else None

    def _fail_plan(self, message: str, title: str, *, annotate: bool = True) -> None:
        self.plan_state = "failed"
        self.plan = self._offline(self.local, message, tasks=False)
        if annotate:
            self.report.error(message, title=title)
        self.lines.append(f"**{title}:** {_md(message)}")
        self.report.fail()

    def _make_plan(self, local, mode: str) -> None:
        """Plan against the platform when possible; otherwise say why, failing the run where it must."""
        from hud_sync_hook.github import summary

        inputs, decision = self.inputs, self.decision
        if decision.untrusted and local.discovery.untrusted_python:
            files = local.discovery.untrusted_python
            shown = ", ".join(files[:LIST_IN_NOTE]) + (f" and {len(files) - LIST_IN_NOTE} more" if len(files) > LIST_IN_NOTE else "")
            message = (
                f"plan unavailable: Python task files not imported because {decision.untrusted}: {shown}. "
                "Discovery on merge would use them, so no plan of the other files is shown; "
                "set allow-untrusted-code: true only if you trust them"
            )
            self.report.notice(message, title="Untrusted code not run")
            self.lines.append(
                f"> **Plan unavailable: Python task files were not imported** because {_md(decision.untrusted)} "
                f"(importing them would run that code with this workflow's secrets): {_md(shown)}. "
                "Discovery on merge would use them, so no plan of the other task files is shown."
            )
            self.plan_state = "partial"
            self.plan = self._offline(local, "plan unavailable: Python task files were not imported (untrusted code)", tasks=False)
            return
        if not local.discovery.tasks and not local.problems:
            from hud_sync_hook.commands.plan import no_tasks_message

            self._fail_plan(no_tasks_message(local), "Error")
            return
        if local.problems:
            self.plan_state = "invalid"
            self.plan = self._offline(local, "the plan was not computed: fix the problems first")
            self.report.fail()
            return
        if mode == "validate":
            self.plan_state = "validate"
            self.plan = self._offline(local, "validation only (mode: validate)")
            return
        if not inputs.hud_api_key:
            self.plan_state = "no-key"
            self.plan = self._offline(local, NO_KEY)
            if mode != "apply":
                self.report.notice(NO_KEY + "; ran offline validation only", title="No HUD API key")
            return
        from hud_sync_hook.sync import choose_taskset, env_mismatches, plan_against

        try:
            with summary.group("Plan against the HUD platform"):
                print(output.mask(f"platform: {inputs.hud_api_url}"))
                name = inputs.taskset
                if not name and not inputs.taskset_id and not local.config.taskset_id:
                    stored = local.config.data.get("tasksetName")
                    name = stored if isinstance(stored, str) and stored else None
                ref = choose_taskset(name, inputs.taskset_id, local.config)
                self.platform = local.dialect.open_platform(inputs.hud_api_url, inputs.hud_api_key, project_root=local.project_root)
                plan = plan_against(self.platform, local, ref, force=inputs.force)
                mismatches, warning = env_mismatches(self.platform, local)
                plan.env_mismatches = mismatches
                if warning:
                    plan.notes.append(warning)
        except HudSyncError as err:
            self.report.error(str(err), title="Plan failed", file=self._rel(err.file), line=err.line)
            self._fail_plan(f"plan failed: {err}", "Plan failed", annotate=False)
            return
        for mismatch in plan.env_mismatches:
            self.report.annotate(
                "warning",
                f"{mismatch.slug} uses environment {mismatch.local_env!r}, the linked environment is now {mismatch.current_env!r}",
                file=mismatch.location.file, line=mismatch.location.line, title="Environment name differs",
            )
        self.plan = plan
        self.plan_state = "ready"
        self.report.outputs["taskset-id"] = plan.taskset_id or ""

    def _rel(self, path: str | None) -> str | None:
        if not path:
            return None
        from hud_sync_hook.github.summary import relative_to_workspace

        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = Path.cwd() / candidate
        return relative_to_workspace(str(candidate), self.workspace)

    def _owner(self) -> tuple[int, int] | None:
        """Files written as root in the container go to the workspace's owner, so that later steps
        (and the next checkout on a self-hosted runner) can change or remove them."""
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return None
        info = self.workspace.stat()
        return (info.st_uid, info.st_gid) if info.st_uid != 0 else None

    def _write_plan_json(self) -> None:
        from hud_sync_hook.render import chunked
        from hud_sync_hook.render.json_plan import iter_json
        from hud_sync_hook.safefs import LinkInTheWay, write_below

        if self.plan is None or self.workspace is None:
            return
        name = hashlib.sha256("\0".join(self._comment_key()).encode()).hexdigest()[:12]
        relative = f".hud-sync-hook/plan-{name}.json"
        owner = self._owner()
        try:
            write_below(self.workspace, ".hud-sync-hook/.gitignore", b"*\n", owner=owner, if_missing=True)
            # Written as it is encoded: a plan of 100,000 updates is never one string in memory.
            chunks = (output.mask(chunk).encode("utf-8") for chunk in chunked(iter_json(self.plan)))
            write_below(self.workspace, relative, chunks, owner=owner)
        except LinkInTheWay as err:
            self.report.error(f"{err.reason}; the JSON plan was not written ({err.fix})", title="Link in the way", file=err.file)
            self.report.fail()
            return
        except OSError as err:
            self.report.warning(f"could not write the JSON plan: {err.strerror}")
            return
        self.report.outputs["plan-json"] = relative

    def _log_plan(self) -> None:
        from hud_sync_hook.github import summary
        from hud_sync_hook.render.text import render_text

        with summary.group(f"Plan: {self.plan.summary()}"):
            with summary.commands_stopped():
                sys.stdout.write(output.mask(render_text(self.plan)))
        print(f"Plan: {self.plan.summary()}")

    # -- GitHub ------------------------------------------------------------------------------------

    def _client(self, *, quiet: bool = False):
        from hud_sync_hook.github.api import GitHubClient
        from hud_sync_hook.platform.http import retry_options_from_env

        if self.github is not None:
            return self.github
        token = self.inputs.github_token
        if not token or not self.event.repository:
            if not quiet:
                why = "no github-token" if not token else "GITHUB_REPOSITORY is not set"
                self.report.notice(f"{why}: the plan is in the job summary only", title="No comment")
            return None
        options = retry_options_from_env(self.env)
        self.github = GitHubClient(
            self.event.api_url, token, self.event.repository, graphql_url=self.event.graphql_url,
            max_attempts=options.get("max_attempts", 5), backoff_base=options.get("backoff_base", 0.5),
            max_wait_seconds=options.get("max_retry_seconds", 120.0),
            log=lambda m: print(output.mask(m)),
        )
        return self.github

    def _author(self, client) -> str:
        """Who our comments and statuses are by: the comment-author input, else what the token says it is."""
        from hud_sync_hook.github.api import BOT_LOGIN

        if self._login is None:
            login = self.inputs.comment_author or client.login()
            if login is None:
                print(f"Could not tell the token's login; matching comments by {BOT_LOGIN} (set comment-author to change it)")
            self._login = login or BOT_LOGIN
        return self._login

    def _comment_key(self) -> tuple[str, str]:
        target = os.path.normpath(os.path.join(self.folder, self.inputs.source))
        source = Path(os.path.relpath(target, self.workspace)).as_posix()
        return source, self.inputs.taskset_id or self.inputs.taskset or ""

    def _header(self, *, reviewed=None):
        from hud_sync_hook.github.comments import Header

        source, taskset = self._comment_key()
        if reviewed is not None:
            return Header(source=source, taskset=taskset, plan_hash=reviewed.plan_hash, head_sha=reviewed.head_sha,
                          summary=reviewed.summary, status=self.marker_status)
        plan = self.plan
        shown = self.plan_state == "ready"
        return Header(
            source=source, taskset=taskset, plan_hash=plan.plan_hash if shown and plan is not None else "",
            head_sha=self.event.head_sha or "", summary=plan.summary() if plan is not None else "no plan",
            status=self.marker_status,
        )

    def _report_plan(self, mode: str) -> None:
        plan, event = self.plan, self.event
        if event.is_pr_event and event.pull_request is not None:
            if self.inputs.comment:
                self._comment_plan(event.pull_request.number)
            else:
                self._status_plan(event.pull_request.head_sha)
        if self.inputs.fail_on_changes and self.plan_state == "ready" and plan.has_changes and mode == "plan":
            self.report.error(f"the taskset differs from the repository: {plan.summary()} (fail-on-changes: true)", title="Changes found")
            self.lines.append(f"**Changes found** and `fail-on-changes` is true: {plan.summary()}.")
            self.report.fail()

    def _comment_plan(self, number: int) -> None:
        """Create or update our comment on PR `number` with this run's plan (or why there is none)."""
        from hud_sync_hook.github import comments
        from hud_sync_hook.github.api import GitHubError

        client = self._client()
        if client is None:
            return
        self.comment_done = True
        key = self._comment_key()
        try:
            login = self._author(client)
            found = comments.lookup(client, number, key, login)
            if self.plan_state in ("failed", "invalid"):
                self.marker_status = "failed"
            body = comments.compose(self._header(), self._markdown(COMMENT_LIMIT, for_comment=True))
            comment = comments.upsert(client, number, body, found, login=login, key=key, log=lambda m: print(output.mask(m)))
        except GitHubError as err:
            self._github_failed(err, "comment")
            return
        self.report.outputs["comment-url"] = comment.html_url or ""
        print(f"{'Updated' if found else 'Created'} the plan comment: {comment.html_url or comment.id}")

    def _status_plan(self, head_sha: str | None) -> None:
        """comment: false: record the reviewed plan hash as a commit status on the pull request's head."""
        from hud_sync_hook.github import comments
        from hud_sync_hook.github.api import GitHubError

        client = self._client(quiet=True)
        if client is None or not head_sha:
            return
        plan = self.plan
        shown = self.plan_state == "ready"
        if shown:
            state, text = "success", comments.status_description(plan.summary(), plan.plan_hash)
        elif self.plan_state in ("failed", "invalid"):
            state, text = "failure", "plan failed; see the run"
        else:
            state, text = "success", "no plan shown: " + (plan.notes[-1] if plan is not None and plan.notes else "see the run")
        try:
            client.create_status(head_sha, state=state, context=comments.status_context(self._comment_key()),
                                 description=text, target_url=self.event.run_url)
        except GitHubError as err:
            self._github_failed(err, "status")
            return
        print(f"Recorded the plan as the commit status of {head_sha[:12]}")

    def _github_failed(self, err, what: str) -> None:
        if err.status in (401, 403, 404) and self.event.read_only_token:
            self.report.notice(
                f"the token cannot write a {'comment' if what == 'comment' else 'commit status'} on this pull request "
                "(read-only, as for pull requests from forks or by Dependabot); the plan is in the job summary",
                title="No comment",
            )
            self.lines.append("_No PR comment: the token is read-only in this run._")
            return
        if err.not_permitted:
            block, permission = (PERMISSIONS_BLOCK, "pull-requests: write") if what == "comment" else (STATUS_PERMISSIONS_BLOCK, "statuses: write")
            message = (
                f"the workflow's token may not write {'pull request comments' if what == 'comment' else 'commit statuses'} "
                f"(403 Resource not accessible by integration). Add this to the workflow or the job:\n\n{block}\n"
            )
            self.report.error(message, title=f"Missing permission: {permission}")
            self.lines.append(
                f"**Could not write the plan to the pull request:** the token lacks `{permission}`. Add to the workflow:\n\n"
                f"```yaml\n{block}\n```\n"
            )
            self.report.fail()
            return
        self.report.error(f"could not update the pull request {what}: {err}", title="Comment failed")
        self.lines.append(f"**Could not update the pull request {what}:** {_md(str(err))}")
        self.report.fail()

    def _markdown(self, limit: int, *, for_comment: bool, title: str | None = None) -> str:
        from hud_sync_hook.render.markdown import escape, render_markdown, utf8_size

        event = self.event
        source, _taskset = self._comment_key()
        preamble = list(self.lines)
        if self.outcome and not for_comment:
            preamble.insert(0, self.outcome)
        if source not in (".", ""):
            preamble.append(f"Source: {escape(source)}")
        url = self.report.outputs.get("comment-url")
        if not for_comment and url:
            preamble.append(f"Pull request comment: {_link(str(url))}")
        sha = event.head_sha or ""
        parts = []
        if re.fullmatch(r"[0-9a-f]{7,64}", sha):
            parts.append(f"Head commit `{sha[:12]}`")
        if event.run_url and _safe_url(event.run_url):
            parts.append(f"[run {event.run_label}]({event.run_url})")
        parts.append(f"hud-sync-hook {escape(__version__)}")
        footer = ["<sub>" + " · ".join(parts) + "</sub>"]
        text = render_markdown(
            self.plan, limit=limit, title=title or self.title, preamble=preamble, footer=footer,
            measure=len if for_comment else utf8_size,
        )
        return output.mask(text)

    # -- merge: upload what was reviewed ---------------------------------------------------------

    def _find_review(self):
        """What the pull request shows of the review: its plan comment, or with comment: false its commit status."""
        from hud_sync_hook.github import comments
        from hud_sync_hook.github.api import GitHubError
        from hud_sync_hook.github.decide import LOOKUP_FAILED, NO_PULL_REQUEST, NO_RECORD, NO_TOKEN, REVIEWED, Review

        where = "comment" if self.inputs.comment else "status"
        client = self._client(quiet=True)
        if client is None:
            return Review(NO_TOKEN, where=where)
        pr = self.event.pull_request
        head = pr.head_sha if pr is not None else None
        number = pr.number if pr is not None else None
        if number is None:
            sha = self.event.payload.get("after") or self.event.sha
            if not isinstance(sha, str):
                return Review(NO_PULL_REQUEST, where=where)
            try:
                pulls = client.pulls_for_commit(sha)
            except GitHubError as err:
                return Review(LOOKUP_FAILED, detail=f"the pull request of {sha[:12]}: {err}", where=where)
            merged = [p for p in pulls if p.get("merged_at") and isinstance(p.get("number"), int)]
            if not merged:
                return Review(NO_PULL_REQUEST, detail=f"no merged pull request has {sha[:12]}", where=where)
            number = merged[0]["number"]
            head_info = merged[0].get("head")
            head = head_info.get("sha") if isinstance(head_info, dict) and isinstance(head_info.get("sha"), str) else None
        self.pr_number = number
        try:
            login = self._author(client)
            if self.inputs.comment:
                self.found = found = comments.lookup(client, number, self._comment_key(), login)
                if found is None:
                    return Review(NO_RECORD, number=number, where=where)
                return Review(REVIEWED, number=number, plan_hash=found.header.plan_hash, summary=found.header.summary, where=where)
            if not head:
                return Review(LOOKUP_FAILED, number=number, detail="the pull request's head commit is unknown", where=where)
            record = comments.find_status_record(client.list_statuses(head), login, comments.status_context(self._comment_key()))
        except GitHubError as err:
            return Review(LOOKUP_FAILED, number=number, detail=str(err), where=where)
        if record is None:
            return Review(NO_RECORD, number=number, where=where)
        return Review(REVIEWED, number=number, plan_hash=record.plan_hash, summary=record.summary, where=where)

    def _apply(self) -> None:
        from hud_sync_hook.github.decide import Blocked, NothingToApply, PlanFacts, decide_apply
        from hud_sync_hook.render.markdown import escape

        plan, run = self.plan, self.event.run_label
        facts = PlanFacts(
            state=self.plan_state, has_changes=bool(plan is not None and plan.has_changes),
            plan_hash=plan.plan_hash if plan is not None else "", summary=plan.summary() if plan is not None else "",
            detail=(plan.notes[-1] if plan is not None and plan.notes else ""),
        )
        review = self._find_review() if self.plan_state == "ready" else None
        if review is None:
            from hud_sync_hook.github.decide import Review

            review = Review("not looked up")
        decision = decide_apply(facts, review, self.inputs.on_plan_change)
        self.title = "HUD taskset plan, not applied"
        if isinstance(decision, NothingToApply):
            self.title = "HUD taskset plan, nothing to apply"
            self.report.notice("Nothing to change: the taskset already matches the repository", title="Nothing to apply")
            self.outcome = f"**Nothing to apply in run {run}:** the taskset already matches the repository."
            self.marker_status = "applied"
        elif isinstance(decision, Blocked):
            text = f"{decision.message}. To proceed: {decision.todo}"
            if decision.fatal:
                self.report.error(text, title=f"Not applied: {decision.case}")
                self.report.fail()
            else:
                self.report.warning(text, title=f"Not applied: {decision.case}")
            self.outcome = f"**Not applied in run {run}: {escape(decision.case)}.** {_md(decision.message)}. To proceed: {_md(decision.todo)}."
            self.marker_status = "not-applied"
        else:
            for case, message in decision.warnings:
                self.report.warning(message, title=f"Uploading without a matching review: {case}")
            self._upload(warned=list(decision.warnings))
        self._comment_outcome()

    def _upload(self, *, warned: list[tuple[str, str]]) -> None:
        from hud_sync_hook.commands._common import Progress
        from hud_sync_hook.github import summary
        from hud_sync_hook.sync import apply_plan

        plan, run = self.plan, self.event.run_label
        with summary.group(f"Upload {len(plan.to_upload)} task(s) to the HUD platform"):
            outcome = apply_plan(self.platform, plan, self.local, progress=Progress(False, stream=sys.stdout))
        self.report.outputs["created"] = outcome.created
        self.report.outputs["updated"] = outcome.updated
        if outcome.taskset_id:
            self.report.outputs["taskset-id"] = outcome.taskset_id
            if self.local.dialect.name == "v5":
                self._remember_taskset(outcome.taskset_id, plan.taskset_name)
            else:  # the generation's own schema (v6: scoped, and only when none was stored)
                try:
                    self.local.dialect.remember_taskset(self.local, outcome.taskset_id, plan.taskset_name)
                except HudSyncError as err:
                    output.warning(f"uploaded, but could not store the taskset id: {err}")
        note = "".join(f" Uploaded without a matching review ({case}): {_md(message)}." for case, message in warned)
        if outcome.error is not None:
            message = (
                f"upload stopped after {outcome.batches_done} of {outcome.batches_total} batch(es) "
                f"({outcome.tasks_sent} of {len(plan.to_upload)} task(s) landed): {outcome.error}"
            )
            self.report.error(message, title="Upload failed")
            self.report.fail()
            self.outcome = f"**Not applied in run {run}: upload failed.** {_md(message)}"
            self.marker_status = "failed"
            return
        done = f"Applied in run {run}: {outcome.created} created, {outcome.updated} updated"
        self.report.notice(done + (f" (without a matching review: {', '.join(c for c, _m in warned)})" if warned else ""), title="Applied")
        print(done)
        self.outcome = f"**{done}**{note}"
        self.marker_status = "applied"
        self.title = "HUD taskset plan, applied"
        plan.taskset_exists = True
        plan.taskset_id = outcome.taskset_id or plan.taskset_id

    def _remember_taskset(self, taskset_id: str, name: str | None) -> None:
        """Store the taskset in `.hud/config.json`, written without following links."""
        import json

        from hud_sync_hook.safefs import LinkInTheWay, write_below

        config = self.local.config
        if config.taskset_id == taskset_id and (not name or config.data.get("tasksetName") == name):
            return
        data = dict(config.data)
        data["tasksetId"] = taskset_id
        if name:
            data["tasksetName"] = name
        try:
            relative = Path(os.path.abspath(config.path)).relative_to(self.workspace).as_posix()
        except ValueError:
            self.report.warning("uploaded, but the taskset id was not stored: .hud/config.json is outside the workspace")
            return
        try:
            write_below(self.workspace, relative, (json.dumps(data, indent=2) + "\n").encode("utf-8"), owner=self._owner())
        except LinkInTheWay as err:
            self.report.error(f"{err.reason}; uploaded, but the taskset id was not stored ({err.fix})", title="Link in the way", file=err.file)
            self.report.fail()
        except OSError as err:
            self.report.warning(f"uploaded, but could not store the taskset id in {relative}: {err.strerror}")

    def _comment_outcome(self) -> None:
        """Add this merge's outcome to the PR comment, keeping the plan as it was reviewed."""
        from hud_sync_hook.github import comments
        from hud_sync_hook.github.api import GitHubError

        if not self.inputs.comment or self.pr_number is None or self.outcome is None:
            return
        client = self._client(quiet=True)
        if client is None:
            return
        self.comment_done = True
        key, found = self._comment_key(), self.found
        try:
            login = self._author(client)
            if found is None:
                found = comments.lookup(client, self.pr_number, key, login)
            outcomes, reviewed = comments.split_body(found.comment.body) if found is not None else ([], None)
            if found is not None and reviewed is None:  # a body from before the outcomes were kept
                reviewed = found.comment.body.partition("\n")[2]
            if found is not None:
                body = comments.compose(self._header(reviewed=found.header), reviewed, [*outcomes, self.outcome])
            else:
                markdown = self._markdown(COMMENT_LIMIT - 2000, for_comment=True, title="HUD taskset plan at merge (not reviewed)")
                header = self._header()
                header.plan_hash = ""
                body = comments.compose(header, markdown, [self.outcome])
            comment = comments.upsert(client, self.pr_number, body, found, login=login, key=key, log=lambda m: print(output.mask(m)))
        except GitHubError as err:
            self._github_failed(err, "comment")
            return
        self.report.outputs["comment-url"] = comment.html_url or ""

    # -- what the runner reads back ----------------------------------------------------------------

    def _finish(self) -> None:
        from hud_sync_hook.github.report import fit_bytes

        plan = self.plan
        if plan is not None and plan.remote_known and self.plan_state == "ready":
            counts = plan.counts()
            self.report.outputs.update({
                "has-changes": "true" if plan.has_changes else "false",
                "to-create": counts["create"],
                "to-update": counts["update"],
                "unchanged": counts["unchanged"],
                "remote-only": counts["remote_only"],
                "renames": counts["renames"],
                "plan-hash": plan.plan_hash,
            })
        for name in ("created", "updated"):
            if self.report.outputs.get(name) in ("", None):
                self.report.outputs[name] = 0
        if plan is not None:
            self.report.summary = fit_bytes(lambda limit: self._markdown(limit, for_comment=False), SUMMARY_LIMIT)

    def failed(self, err: BaseException, *, bug: bool = False) -> None:
        """After an error that stopped the run: an annotation, the summary, the outputs, the comment."""
        if bug:
            message = f"internal error (a bug in hud-sync-hook {__version__}): {type(err).__name__}: {err}; please report it"
            self.report.error(output.mask(message), title="Internal error")
        else:
            file = getattr(err, "file", None)
            line = getattr(err, "line", None)
            text = str(err)
            prefix = (f"{file}:{line}: " if line else f"{file}: ") if file else ""
            if prefix and text.startswith(prefix):
                text = text[len(prefix):]  # the annotation names the file and line itself
            self.report.error(text, file=self._rel(file) if self.workspace else file, line=line)
        self.report.fail()
        if self.inputs is None or self.event is None or self.workspace is None:
            self.report.summary = f"### HUD taskset\n**Error:** {_md(str(err))}\n"
            return
        if self.plan is None or self.plan_state in ("ready", "none"):
            self.plan_state = "failed"
            self.plan = self._offline(self.local, f"failed: {err}", tasks=False)
        self.lines.append(f"**{'Internal error' if bug else 'Error'}:** {_md(str(err))}")
        self.marker_status = "failed"
        try:
            if not self.report.outputs.get("plan-json"):
                self._write_plan_json()
            mode = self.decision.mode if self.decision is not None else None
            event = self.event
            if not self.comment_done and event.is_pr_event and event.pull_request is not None and mode in ("plan", "validate"):
                if self.inputs.comment:
                    self._comment_plan(event.pull_request.number)
                else:
                    self._status_plan(event.pull_request.head_sha)
            elif not self.comment_done and mode == "apply" and self.pr_number is not None:
                self.outcome = f"**Not applied in run {event.run_label}: error.** {_md(str(err))}"
                self._comment_outcome()
        except Exception as again:  # noqa: BLE001 - the report must still be written
            self.report.error(f"could not report the failure on the pull request: {type(again).__name__}")
        self._finish()


def _md(text: str) -> str:
    from hud_sync_hook.render.markdown import escape

    return escape(output.mask(text), 2000)


def _safe_url(url: str) -> bool:
    return bool(re.fullmatch(r"https?://[^\s()<>\"'`]+", url))


def _link(url: str) -> str:
    return f"[{url}]({url})" if _safe_url(url) else ""
