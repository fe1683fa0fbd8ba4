"""What a run of the action should do, decided from values: no I/O, no printing.

`decide_run` picks the mode and whether the workspace's Python may be imported; `decide_apply`
is the merge gate: it uploads only when the plan now is a plan that was shown on the pull request
(or `on-plan-change: warn` accepts the difference, with a warning naming the case).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from hud_sync_hook.github.context import PullRequest

# -- the run ----------------------------------------------------------------------------------------

# Events whose payload says what is checked out; any other event is checked against the API.
PAYLOAD_EVENTS = ("pull_request", "pull_request_target", "push")


@dataclass(frozen=True)
class RunFacts:
    """Everything `decide_run` looks at."""

    event: str
    action: str | None = None
    mode_input: str = "auto"
    allow_untrusted_code: bool = False
    pull: PullRequest | None = None  # the event's own pull request
    pushed_to_default_branch: bool = False
    branch_deleted: bool = False
    head: str | None = None  # the commit checked out in the workspace
    repository: str | None = None
    # For events without a pull request payload: the pull requests whose head is `head`
    # (from the API), or the reason they could not be looked up; None when not looked up.
    pulls_of_head: tuple[PullRequest, ...] | None = None
    pulls_lookup_error: str | None = None


@dataclass(frozen=True)
class RunDecision:
    mode: str  # plan | apply | validate | skip
    why: str
    untrusted: str | None  # why the workspace may hold someone else's code, or None
    allow_python: bool


def needs_pull_lookup(event: str) -> bool:
    """Whether trust must be settled by asking the API which pull requests the checked-out commit heads."""
    return event not in PAYLOAD_EVENTS


def untrusted_reason(facts: RunFacts) -> str | None:
    """Why the workspace may hold code from outside the repository, or None when it does not."""
    pr = facts.pull
    if pr is not None:
        if pr.merged and pr.merge_commit_sha and facts.head == pr.merge_commit_sha:
            return None  # the merge commit: that code is the repository's now
        if pr.from_fork:
            return f"the pull request comes from another repository ({pr.head_repo})"
        if facts.event == "pull_request_target":
            if facts.head is None:
                return "pull_request_target with a workspace that is not a git checkout"
            if pr.base_sha is None or facts.head != pr.base_sha:
                return "pull_request_target with the pull request's head checked out"
        return None
    if not needs_pull_lookup(facts.event):
        return None
    if facts.pulls_lookup_error is not None:
        return f"it could not be checked whether the checked-out commit comes from a fork ({facts.pulls_lookup_error})"
    for other in facts.pulls_of_head or ():
        # The head of a fork's pull request, or any commit of one not merged yet, is someone else's code.
        if other.from_fork and (other.head_sha is None or other.head_sha == facts.head or not other.merged):
            return f"the checked-out commit is the head of pull request #{other.number} from another repository ({other.head_repo})"
    return None


def decide_mode(facts: RunFacts) -> tuple[str, str]:
    if facts.mode_input != "auto":
        return facts.mode_input, f"mode: {facts.mode_input}"
    if facts.event in ("pull_request", "pull_request_target"):
        if facts.action == "closed":
            if facts.pull is not None and facts.pull.merged:
                return "apply", "the pull request was merged"
            return "skip", "The pull request was closed without merging: nothing to plan or upload."
        return "plan", "a pull request"
    if facts.event == "push":
        if facts.branch_deleted:
            return "skip", "The branch was deleted: nothing to plan or upload."
        if facts.pushed_to_default_branch:
            return "apply", "a push to the default branch"
        return "plan", "a push to another branch"
    return "plan", f"a {facts.event} event"


def decide_run(facts: RunFacts) -> RunDecision:
    mode, why = decide_mode(facts)
    reason = untrusted_reason(facts)
    return RunDecision(mode=mode, why=why, untrusted=reason, allow_python=reason is None or facts.allow_untrusted_code)


# -- the merge gate ---------------------------------------------------------------------------------

# What the merge found of the review on the pull request (`Review.case`).
REVIEWED = "reviewed"
NO_PULL_REQUEST = "no pull request"
NO_RECORD = "no reviewed plan"
PLAN_NOT_SHOWN = "no plan was shown"
LOOKUP_FAILED = "review unreadable"
NO_TOKEN = "no github-token"
# What is wrong with the plan itself.
PLAN_CHANGED = "plan changed"
NO_KEY = "no HUD API key"
PLAN_FAILED = "plan failed"
PARTIAL = "partial plan"

RERUN = (
    "re-run the pull request's workflow so that it plans with the HUD API key, then re-run this job; "
    "or set on-plan-change: warn to upload without a reviewed plan"
)
NEW_REVIEW = (
    "open a pull request whose plan shows these changes (an empty commit is enough) and merge it once reviewed; "
    "or set on-plan-change: warn to upload a changed plan with a warning"
)


@dataclass(frozen=True)
class Review:
    case: str
    number: int | None = None
    plan_hash: str = ""
    summary: str = ""
    detail: str = ""  # the error, or where the record was found
    where: str = "comment"  # comment | status


@dataclass(frozen=True)
class Upload:
    warnings: tuple[tuple[str, str], ...] = ()  # (case, message) accepted under on-plan-change: warn


@dataclass(frozen=True)
class Blocked:
    case: str
    message: str
    todo: str
    fatal: bool = True


@dataclass(frozen=True)
class NothingToApply:
    pass


ApplyDecision = Union[Upload, Blocked, NothingToApply]


@dataclass(frozen=True)
class PlanFacts:
    """The plan as far as the gate is concerned."""

    state: str  # ready | no-key | failed | invalid | partial
    has_changes: bool = False
    plan_hash: str = ""
    summary: str = ""
    detail: str = ""  # why it failed, or which files were left out


def review_problem(review: Review) -> tuple[str, str] | None:
    """(case, message) when the review does not show a plan, else None."""
    pr = f"pull request #{review.number}" if review.number is not None else "the pull request"
    record = "plan comment" if review.where == "comment" else "plan status"
    if review.case == REVIEWED and review.plan_hash:
        return None
    if review.case == REVIEWED:  # found, but it holds no plan
        return PLAN_NOT_SHOWN, (
            f"the {record} on {pr} shows no plan (its run had no HUD API key, or planning failed there)"
        )
    if review.case == NO_PULL_REQUEST:
        return NO_PULL_REQUEST, f"no pull request found for this commit{': ' + review.detail if review.detail else ''}, so no plan was reviewed"
    if review.case == NO_RECORD:
        return NO_RECORD, f"{pr} has no {record} from this action"
    if review.case == LOOKUP_FAILED:
        return LOOKUP_FAILED, f"could not read the {record} of {pr}: {review.detail}"
    if review.case == NO_TOKEN:
        return NO_TOKEN, "no github-token in this run, so the reviewed plan cannot be looked up"
    return review.case, review.detail or review.case


def decide_apply(plan: PlanFacts, review: Review, on_plan_change: str) -> ApplyDecision:
    """Upload, refuse (and why, and what to do), or nothing to do."""
    fail = on_plan_change == "fail"
    if plan.state == "no-key":
        return Blocked(NO_KEY, "not applied: plan unavailable: no HUD API key in this run",
                       "pass hud-api-key: ${{ secrets.HUD_API_KEY }} to the action", fatal=fail)
    if plan.state == "invalid":
        return Blocked(PLAN_FAILED, "not applied: fix the problems below first", "fix the task files, then merge the fix")
    if plan.state == "partial":
        return Blocked(PARTIAL, f"not applying a partial plan: {plan.detail}",
                       "run the merge on the repository's own merge commit")
    if plan.state != "ready":
        return Blocked(PLAN_FAILED, f"not applied: {plan.detail}", "fix the cause above and re-run this job")
    if not plan.has_changes:
        return NothingToApply()
    problem = review_problem(review)
    if problem is not None:
        case, message = problem
        if fail:
            return Blocked(case, f"{message}; nothing uploaded (on-plan-change: fail)", RERUN)
        return Upload(warnings=((case, f"{message}; uploading anyway (on-plan-change: warn)"),))
    if review.plan_hash != plan.plan_hash:
        both = (
            f"reviewed: {review.summary} (plan {review.plan_hash[:12]}); "
            f"now: {plan.summary} (plan {plan.plan_hash[:12]})"
        )
        if fail:
            return Blocked(PLAN_CHANGED, f"the plan changed since it was reviewed, nothing uploaded (on-plan-change: fail); {both}", NEW_REVIEW)
        return Upload(warnings=((PLAN_CHANGED, f"the plan changed since it was reviewed; uploading anyway (on-plan-change: warn); {both}"),))
    return Upload()
