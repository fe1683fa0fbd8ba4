"""`hud-sync-hook github`: the GitHub Action's entrypoint.

Reads the runner's `INPUT_*`/`GITHUB_*` variables and event file, composes the same steps as
`plan`/`apply` (read_local, choose_taskset, plan_against, apply_plan), and reports through the
runner: one plan comment per pull request and source/taskset, the job summary, step outputs and
annotations. On pull requests it plans; on merge it uploads what was reviewed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from hud_sync_hook import __version__, output
from hud_sync_hook.errors import HudSyncError

PERMISSIONS_BLOCK = "permissions:\n  contents: read\n  pull-requests: write"
NO_KEY = "plan unavailable: no HUD API key in this run"
COMMENT_LIMIT = 60_000
SUMMARY_LIMIT = 1_000_000  # bytes: GitHub takes up to 1 MiB of job summary per step
LIST_IN_NOTE = 20
_SECRET_VARIABLES = ("INPUT_HUD-API-KEY", "INPUT_HUD_API_KEY", "HUD_API_KEY", "INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN", "GITHUB_TOKEN")


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
    from hud_sync_hook.github import summary
    from hud_sync_hook.github.context import secret_inputs

    # Before anything else is printed: the runner must know what to hide.
    for secret in secret_inputs(os.environ):
        summary.add_mask(secret)
        output.register_secret(secret)
    action = ActionRun(dict(os.environ), import_timeout=args.import_timeout)
    # Task files and `pip install` run in child processes: they get no secrets.
    for name in _SECRET_VARIABLES:
        os.environ.pop(name, None)
    try:
        return action.run()
    except HudSyncError as err:
        summary.error(str(err))
        action.finish_after_error(str(err))
        return 1


@dataclass
class Status:
    """What the run did, for the comment, the summary and the outputs."""

    lines: list[str] = field(default_factory=list)  # trusted Markdown, shown above the plan
    created: int = 0
    updated: int = 0
    taskset_id: str | None = None
    comment_url: str | None = None
    marker_status: str = "planned"
    marker_hash: str | None = None  # None: the plan's own hash
    title: str | None = None


class ActionRun:
    def __init__(self, env: dict[str, str], *, import_timeout: float = 60.0) -> None:
        self.env = env
        self.import_timeout = import_timeout
        self.status = Status()
        self.plan = None
        self.local = None
        self.platform = None
        self.inputs = None
        self.event = None
        self.plan_json: str | None = None
        self.failure: str | None = None  # why no plan could be made, when that fails the run
        self.finished = False

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> int:
        from hud_sync_hook.github.context import read_event, read_inputs

        self.inputs = inputs = read_inputs(self.env)
        self.event = event = read_event(self.env)
        self.workspace = event.workspace.resolve()
        self.folder = self._folder()
        os.chdir(self.folder)
        self._trust_workspace_for_git()
        mode = self._mode()
        pr = event.pull_request
        print(
            f"hud-sync-hook {__version__}: event {event.name}"
            + (f" ({event.action})" if event.action else "")
            + (f", pull request #{pr.number}" if pr else "")
            + f", mode {mode}" + (" (auto)" if inputs.mode == "auto" else "")
        )
        if mode == "skip":
            return self._skip()
        try:
            return self._run_mode(mode)
        finally:
            if self.platform is not None:
                self.platform.close()

    def _run_mode(self, mode: str) -> int:
        from hud_sync_hook.github import summary
        from hud_sync_hook.github.context import untrusted_reason

        inputs, event = self.inputs, self.event
        reason = untrusted_reason(event)
        allow_python = reason is None or inputs.allow_untrusted_code
        if reason and inputs.allow_untrusted_code:
            summary.warning(f"importing Python task files although {reason} (allow-untrusted-code: true)")
        if inputs.install:
            self._install(trusted=allow_python, reason=reason)
        local = self._read_local(allow_python)
        if reason and local.discovery.untrusted_python:
            files = local.discovery.untrusted_python
            shown = ", ".join(files[:LIST_IN_NOTE]) + (f" and {len(files) - LIST_IN_NOTE} more" if len(files) > LIST_IN_NOTE else "")
            summary.notice(
                f"Python task files not imported because {reason}: {shown}. "
                "JSON, JSONL and YAML task files are still planned; set allow-untrusted-code: true only if you trust them.",
                title="Untrusted code not run",
            )
            from hud_sync_hook.render.markdown import escape

            self.status.lines.append(
                f"> **Python task files were not imported** because {escape(reason)} (importing them would run "
                f"that code with this workflow's secrets): {escape(shown, 2000)}. JSON, JSONL and YAML task files are still planned."
            )
        failed = self._make_plan(local, mode)
        self._write_plan_json()
        self._log_plan()
        if mode == "apply":
            code = self._apply()
        else:
            code = self._report_plan(mode)
        return max(code, failed)

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

    def _mode(self) -> str:
        inputs, event = self.inputs, self.event
        if inputs.mode != "auto":
            return inputs.mode
        if event.is_pr_event:
            if event.action == "closed":
                pr = event.pull_request
                return "apply" if pr is not None and pr.merged else "skip"
            return "plan"
        if event.name == "push":
            if event.payload.get("deleted") is True:
                return "skip"
            return "apply" if event.pushed_to_default_branch else "plan"
        return "plan"

    def _skip(self) -> int:
        from hud_sync_hook.github import summary

        event = self.event
        if event.is_pr_event:
            message = "The pull request was closed without merging: nothing to plan or upload."
        else:
            message = "The branch was deleted: nothing to plan or upload."
        print(message)
        summary.append_summary(self.env.get("GITHUB_STEP_SUMMARY"), f"### HUD taskset\n{message}\n")
        self._write_outputs()
        self.finished = True
        return 0

    def _install(self, *, trusted: bool, reason: str | None) -> None:
        from hud_sync_hook.github import summary
        from hud_sync_hook.github.context import install_command

        if not trusted:
            summary.notice(f"not running `pip install` for the install input because {reason}", title="Untrusted code not run")
            return
        pip_args = install_command(self.inputs.install, self.folder)
        command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *pip_args]
        with summary.group(f"pip install {' '.join(pip_args)}"):
            with summary.commands_stopped():
                result = subprocess.run(command, cwd=str(self.folder), stdin=subprocess.DEVNULL, env=dict(os.environ))
        if result.returncode != 0:
            raise HudSyncError(f"`pip install {' '.join(pip_args)}` failed (exit {result.returncode}); see the log above")

    def _read_local(self, allow_python: bool):
        from hud_sync_hook.github import summary
        from hud_sync_hook.sync import read_local

        with summary.group("Discover and validate tasks"):
            local = read_local(
                self.inputs.source,
                base=self.workspace,
                exclude=self.inputs.exclude,
                import_timeout=self.import_timeout,
                allow_python=allow_python,
            )
            with summary.commands_stopped():
                for name in local.discovery.files:
                    print(f"read {name}")
                print(f"{len(local.discovery.tasks)} task(s) found, {len(local.problems)} problem(s)")
        for problem in local.problems:
            loc = problem.location
            message = problem.message + (f" ({problem.fix})" if problem.fix else "")
            summary.annotate("error", message, file=loc.file, line=loc.line, col=loc.column, title="Invalid task")
        for skipped in local.discovery.skipped:
            summary.annotate("warning", f"skipped: {skipped.error}", file=skipped.path, title="Task file skipped")
        self.local = local
        return local

    def _offline(self, local, note: str | None):
        from hud_sync_hook.plan import offline_plan

        name = self.inputs.taskset or local.config.data.get("tasksetName") or self.inputs.taskset_id or local.config.taskset_id
        plan = offline_plan([t for t in local.selected if isinstance(t.slug, str)], taskset_name=name if isinstance(name, str) else None)
        plan.problems = list(local.problems)
        plan.skipped = list(local.discovery.skipped)
        if note:
            plan.notes.append(note)
        return plan

    def _make_plan(self, local, mode: str) -> int:
        """Plan against the platform when possible; returns 1 when the run must fail for it."""
        from hud_sync_hook.github import summary

        inputs = self.inputs
        if not local.discovery.tasks and not local.problems:
            if local.discovery.untrusted_python:
                self.plan = self._offline(local, "no tasks planned: only Python task files were found, and they were not imported")
                return 0
            self.plan = self._offline(local, None)
            from hud_sync_hook.commands.plan import no_tasks_message

            message = no_tasks_message(local)
            self.failure = message
            summary.error(message)
            self.status.lines.append(f"**Error:** {_md(message)}")
            return 1
        if local.problems:
            self.plan = self._offline(local, "the plan was not computed: fix the validation problems first")
            return 1
        if mode == "validate":
            self.plan = self._offline(local, "validation only (mode: validate)")
            return 0
        if not inputs.hud_api_key:
            self.plan = self._offline(local, NO_KEY)
            summary.notice(NO_KEY + "; ran offline validation only", title="No HUD API key")
            return 0
        from hud_sync_hook.platform import open_platform
        from hud_sync_hook.sync import choose_taskset, env_mismatches, plan_against

        try:
            with summary.group("Plan against the HUD platform"):
                print(output.mask(f"platform: {inputs.hud_api_url}"))
                ref = choose_taskset(inputs.taskset, inputs.taskset_id, local.config)
                self.platform = open_platform(inputs.hud_api_url, inputs.hud_api_key, project_root=local.project_root)
                plan = plan_against(self.platform, local, ref, force=inputs.force)
                mismatches, warning = env_mismatches(self.platform, local)
                plan.env_mismatches = mismatches
                if warning:
                    plan.notes.append(warning)
        except HudSyncError as err:
            self.failure = f"plan failed: {err}"
            self.plan = self._offline(local, self.failure)
            summary.error(str(err), title="Plan failed")
            return 1
        for mismatch in plan.env_mismatches:
            summary.annotate(
                "warning",
                f"{mismatch.slug} uses environment {mismatch.local_env!r}, the linked environment is now {mismatch.current_env!r}",
                file=mismatch.location.file, line=mismatch.location.line, title="Environment name differs",
            )
        self.plan = plan
        self.status.taskset_id = plan.taskset_id
        return 0

    def _write_plan_json(self) -> None:
        from hud_sync_hook.render.json_plan import render_json

        folder = self.workspace / ".hud-sync-hook"
        try:
            folder.mkdir(exist_ok=True)
            ignore = folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n", encoding="utf-8")
            name = hashlib.sha256("\0".join(self._comment_key()).encode()).hexdigest()[:12]
            path = folder / f"plan-{name}.json"
            path.write_text(output.mask(render_json(self.plan)), encoding="utf-8")
            self._hand_back(folder, ignore, path)
        except OSError as err:
            output.warning(f"could not write the JSON plan: {err.strerror}")
            return
        self.plan_json = path.relative_to(self.workspace).as_posix()

    def _hand_back(self, *paths: Path) -> None:
        """Files written as root in the container go to the workspace's owner, so that later steps
        (and the next checkout on a self-hosted runner) can change or remove them."""
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return
        try:
            owner = self.workspace.stat()
            for path in paths:
                if path.exists() and path.stat().st_uid != owner.st_uid:
                    os.chown(path, owner.st_uid, owner.st_gid)
        except OSError:
            pass

    def _log_plan(self) -> None:
        from hud_sync_hook.github import summary
        from hud_sync_hook.render.text import render_text

        with summary.group(f"Plan: {self.plan.summary()}"):
            with summary.commands_stopped():
                sys.stdout.write(output.mask(render_text(self.plan)))
        print(f"Plan: {self.plan.summary()}")

    # -- pull requests and plans -------------------------------------------------------------------

    def _report_plan(self, mode: str) -> int:
        from hud_sync_hook.github import summary

        code = 0
        plan, event = self.plan, self.event
        if event.is_pr_event and event.pull_request is not None and self.inputs.comment:
            code = max(code, self._comment(event.pull_request.number, found=None, lookup=True))
        if self.inputs.fail_on_changes and plan.remote_known and plan.has_changes and mode == "plan":
            summary.error(f"the taskset differs from the repository: {plan.summary()} (fail-on-changes: true)", title="Changes found")
            self.status.lines.append(f"**Changes found** and `fail-on-changes` is true: {plan.summary()}.")
            code = 1
        self._finish()
        return code

    def _client(self):
        from hud_sync_hook.github import summary
        from hud_sync_hook.github.api import GitHubClient

        token = self.inputs.github_token
        if not token:
            summary.notice("no github-token: the plan is in the job summary only", title="No comment")
            return None
        if not self.event.repository:
            summary.notice("GITHUB_REPOSITORY is not set: the plan is in the job summary only", title="No comment")
            return None
        return GitHubClient(self.event.api_url, token, self.event.repository, log=lambda m: print(output.mask(m)))

    def _comment_key(self) -> tuple[str, str]:
        target = os.path.normpath(os.path.join(self.folder, self.inputs.source))
        source = Path(os.path.relpath(target, self.workspace)).as_posix()
        return source, self.inputs.taskset_id or self.inputs.taskset or ""

    def _comment(self, number: int, *, found, lookup: bool, client=None) -> int:
        """Create or update our comment on PR `number`; returns the exit status it implies."""
        from hud_sync_hook.github import comments
        from hud_sync_hook.github.api import GitHubError

        own_client = client is None
        client = client or self._client()
        if client is None:
            return 0
        try:
            if lookup:
                _login, found = comments.lookup(client, number, self._comment_key())
            body = comments.compose(self._header(), self._markdown(COMMENT_LIMIT, for_comment=True))
            comment = comments.upsert(client, number, body, found, log=lambda m: print(output.mask(m)))
        except GitHubError as err:
            return self._comment_failed(err)
        finally:
            if own_client:
                client.close()
        self.status.comment_url = comment.html_url
        print(f"{'Updated' if found else 'Created'} the plan comment: {comment.html_url or comment.id}")
        return 0

    def _comment_failed(self, err) -> int:
        from hud_sync_hook.github import summary

        if err.status in (401, 403, 404) and self.event.read_only_token:
            summary.notice(
                "the token cannot comment on this pull request (read-only, as for pull requests from forks "
                "or by Dependabot); "
                "the plan is in the job summary",
                title="No comment",
            )
            self.status.lines.append("_No PR comment: the token is read-only in this run._")
            return 0
        if err.not_permitted:
            message = (
                "the workflow's token may not write pull request comments (403 Resource not accessible by integration). "
                f"Add this to the workflow or the job:\n\n{PERMISSIONS_BLOCK}\n"
            )
            summary.error(message, title="Missing permission: pull-requests: write")
            self.status.lines.append(
                "**Could not comment on the pull request:** the token lacks `pull-requests: write`. Add to the workflow:\n\n"
                f"```yaml\n{PERMISSIONS_BLOCK}\n```\n"
            )
            return 1
        summary.error(f"could not update the pull request comment: {err}", title="Comment failed")
        self.status.lines.append(f"**Could not update the pull request comment:** {_md(str(err))}")
        return 1

    def _header(self):
        from hud_sync_hook.github.comments import Header

        source, taskset = self._comment_key()
        plan = self.plan
        return Header(
            source=source,
            taskset=taskset,
            plan_hash=self.status.marker_hash if self.status.marker_hash is not None else plan.plan_hash,
            head_sha=self.event.head_sha or "",
            summary=plan.summary(),
            status=self.status.marker_status,
        )

    def _markdown(self, limit: int, *, for_comment: bool) -> str:
        from hud_sync_hook.render.markdown import escape, render_markdown, utf8_size

        event = self.event
        source, taskset = self._comment_key()
        preamble = list(self.status.lines)
        if source not in (".", ""):
            preamble.append(f"Source: {escape(source)}")
        if not for_comment and self.status.comment_url:
            preamble.append(f"Pull request comment: {_link(self.status.comment_url)}")
        footer = []
        sha = event.head_sha or ""
        parts = []
        if re.fullmatch(r"[0-9a-f]{7,64}", sha):
            parts.append(f"Head commit `{sha[:12]}`")
        if event.run_url and _safe_url(event.run_url):
            parts.append(f"[run {event.run_label}]({event.run_url})")
        parts.append(f"hud-sync-hook {escape(__version__)}")
        footer.append("<sub>" + " · ".join(parts) + "</sub>")
        text = render_markdown(
            self.plan, limit=limit, title=self.status.title, preamble=preamble, footer=footer,
            measure=len if for_comment else utf8_size,
        )
        return output.mask(text)

    # -- merge: upload what was reviewed ---------------------------------------------------------

    def _find_pr(self, client) -> int | None:
        from hud_sync_hook.github import summary
        from hud_sync_hook.github.api import GitHubError

        pr = self.event.pull_request
        if pr is not None:
            return pr.number
        sha = self.event.payload.get("after") or self.event.sha
        if client is None or not isinstance(sha, str):
            return None
        try:
            pulls = client.pulls_for_commit(sha)
        except GitHubError as err:
            summary.warning(f"could not look up the pull request of {sha[:12]}: {err}")
            return None
        merged = [p for p in pulls if p.get("merged_at") and isinstance(p.get("number"), int)]
        chosen = merged or [p for p in pulls if isinstance(p.get("number"), int)]
        return chosen[0]["number"] if chosen else None

    def _apply(self) -> int:
        from hud_sync_hook.github import comments, summary
        from hud_sync_hook.github.api import GitHubError

        plan, local, run = self.plan, self.local, self.event.run_label
        self.status.title = "HUD taskset plan, not applied"
        if not plan.remote_known:
            if self.failure:
                self.status.lines.append(f"**Not applied in run {run}:** {_md(self.failure)}")
                code = 1
            elif local.problems or not local.discovery.tasks:
                self.status.lines.append(f"**Not applied in run {run}:** fix the problems below first.")
                code = 1
            else:
                summary.warning(f"not applied: {NO_KEY}", title="Not applied")
                self.status.lines.append(f"**Not applied in run {run}:** {NO_KEY}.")
                code = 0
            self._finish()
            return code
        if local.discovery.untrusted_python:
            message = "not applying a partial plan: Python task files were not imported (untrusted code)"
            summary.error(message, title="Not applied")
            self.status.lines.append(f"**Not applied in run {run}:** {message}.")
            self._finish()
            return 1
        client = self._client() if self.inputs.comment else None
        try:
            number = self._find_pr(client)
            found = None
            if number is not None and client is not None:
                try:
                    _login, found = comments.lookup(client, number, self._comment_key())
                except GitHubError as err:
                    summary.warning(f"could not read the plan comment of pull request #{number}: {err}")
            code = self._upload_checked(number, found)
            if number is not None and client is not None:
                code = max(code, self._comment(number, found=found, lookup=False, client=client))
        finally:
            if client is not None:
                client.close()
        self._finish()
        return code

    def _upload_checked(self, number: int | None, found) -> int:
        from hud_sync_hook.commands._common import Progress
        from hud_sync_hook.github import summary
        from hud_sync_hook.render.markdown import escape
        from hud_sync_hook.sync import apply_plan, remember_taskset

        plan, run = self.plan, self.event.run_label
        reviewed = found.header.plan_hash if found is not None and found.header.plan_hash else None
        if not plan.has_changes:
            self.status.title = "HUD taskset plan, nothing to apply"
            message = "nothing to change: the taskset already matches the repository"
            summary.notice(message.capitalize(), title="Nothing to apply")
            self.status.lines.append(f"**Nothing to apply in run {run}:** the taskset already matches the repository.")
            self.status.marker_status = "applied"
            return 0
        if number is None:
            summary.notice("no pull request found for this commit: applying without a reviewed plan", title="No reviewed plan")
        elif found is None:
            summary.notice(f"no plan comment found on pull request #{number}: applying without a reviewed plan", title="No reviewed plan")
        if reviewed is not None and reviewed != plan.plan_hash:
            both = (
                f"reviewed: {found.header.summary} (plan {reviewed[:12]}); "
                f"now: {plan.summary()} (plan {plan.plan_hash[:12]})"
            )
            shown = (
                f"Reviewed: {escape(found.header.summary)} (plan `{escape(reviewed[:12])}`); "
                f"now: {escape(plan.summary())} (plan `{escape(plan.plan_hash[:12])}`)."
            )
            if self.inputs.on_plan_change == "fail":
                summary.error(f"the plan changed since it was reviewed, nothing uploaded (on-plan-change: fail); {both}", title="Plan changed")
                self.status.lines.append(f"**Not applied: plan changed** since it was reviewed (run {run}). {shown}")
                self.status.marker_status = "not-applied"
                self.status.marker_hash = reviewed
                self.status.title = "HUD taskset plan, not applied"
                return 1
            summary.warning(f"the plan changed since it was reviewed; uploading anyway (on-plan-change: warn); {both}", title="Plan changed")
            self.status.lines.append(f"**The plan changed since it was reviewed.** {shown}")
        with summary.group(f"Upload {len(plan.to_upload)} task(s) to the HUD platform"):
            outcome = apply_plan(self.platform, plan, self.local, progress=Progress(False, stream=sys.stdout))
        self.status.created, self.status.updated = outcome.created, outcome.updated
        if outcome.taskset_id:
            self.status.taskset_id = outcome.taskset_id
            try:
                if remember_taskset(self.local, outcome.taskset_id, plan.taskset_name):
                    self._hand_back(self.local.config.path.parent, self.local.config.path)
            except HudSyncError as err:
                output.warning(f"uploaded, but could not store the taskset id: {err}")
        if outcome.error is not None:
            message = (
                f"upload stopped after {outcome.batches_done} of {outcome.batches_total} batch(es) "
                f"({outcome.tasks_sent} of {len(plan.to_upload)} task(s) landed): {outcome.error}"
            )
            summary.error(message, title="Upload failed")
            self.status.lines.append(f"**Not applied in run {run}:** {_md(message)}")
            self.status.marker_status = "failed"
            self.status.title = "HUD taskset plan, not applied"
            return 1
        done = f"Applied in run {self.event.run_label}: {outcome.created} created, {outcome.updated} updated"
        summary.notice(done, title="Applied")
        print(done)
        self.status.lines.insert(0, f"**Applied in run {run}: {outcome.created} created, {outcome.updated} updated**")
        self.status.marker_status = "applied"
        self.status.title = "HUD taskset plan, applied"
        plan.taskset_exists = True
        plan.taskset_id = outcome.taskset_id or plan.taskset_id
        return 0

    # -- what the runner reads back ----------------------------------------------------------------

    def _finish(self) -> None:
        from hud_sync_hook.github import summary

        summary.append_summary(self.env.get("GITHUB_STEP_SUMMARY"), self._markdown(SUMMARY_LIMIT, for_comment=False))
        self._write_outputs()
        self.finished = True

    def _write_outputs(self) -> None:
        from hud_sync_hook.github import summary

        plan = self.plan
        values: dict[str, object] = {name: "" for name in (
            "has-changes", "to-create", "to-update", "unchanged", "remote-only", "renames", "plan-hash",
        )}
        if plan is not None and plan.remote_known:
            counts = plan.counts()
            values.update({
                "has-changes": "true" if plan.has_changes else "false",
                "to-create": counts["create"],
                "to-update": counts["update"],
                "unchanged": counts["unchanged"],
                "remote-only": counts["remote_only"],
                "renames": counts["renames"],
                "plan-hash": plan.plan_hash,
            })
        values.update({
            "plan-json": self.plan_json or "",
            "taskset-id": self.status.taskset_id or "",
            "created": self.status.created,
            "updated": self.status.updated,
            "comment-url": self.status.comment_url or "",
        })
        summary.write_outputs(self.env.get("GITHUB_OUTPUT"), values)

    def finish_after_error(self, message: str) -> None:
        """After an error that stopped the run: still leave a summary and the outputs."""
        from hud_sync_hook.github import summary

        if self.finished:
            return
        self.finished = True
        summary.append_summary(self.env.get("GITHUB_STEP_SUMMARY"), f"### HUD taskset\n**Error:** {_md(message)}\n")
        self._write_outputs()


def _md(text: str) -> str:
    from hud_sync_hook.render.markdown import escape

    return escape(output.mask(text), 2000)


def _safe_url(url: str) -> bool:
    return bool(re.fullmatch(r"https?://[^\s()<>\"'`]+", url))


def _link(url: str) -> str:
    return f"[{url}]({url})" if _safe_url(url) else ""
