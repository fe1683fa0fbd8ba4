"""Tables over the action's pure decisions: what a run does, and whether a merge may upload."""

from __future__ import annotations

import pytest

from hud_sync_hook.github.context import PullRequest
from hud_sync_hook.github.decide import (
    LOOKUP_FAILED,
    NO_KEY,
    NO_PULL_REQUEST,
    NO_RECORD,
    NO_TOKEN,
    PARTIAL,
    PLAN_CHANGED,
    PLAN_FAILED,
    PLAN_NOT_SHOWN,
    REVIEWED,
    Blocked,
    NothingToApply,
    PlanFacts,
    Review,
    RunFacts,
    Upload,
    decide_apply,
    decide_run,
)

H1, H2 = "a" * 64, "b" * 64
READY = PlanFacts("ready", has_changes=True, plan_hash=H1, summary="1 to create")
SAME = Review(REVIEWED, number=7, plan_hash=H1, summary="1 to create")

# (case, plan, review) -> what fail does, what warn does
GATE = [
    ("reviewed plan", READY, SAME, "upload", "upload"),
    ("plan changed", READY, Review(REVIEWED, 7, H2, "2 to create"), PLAN_CHANGED, PLAN_CHANGED),
    ("comment without a plan hash", READY, Review(REVIEWED, 7, "", "1 tasks found, plan unavailable"), PLAN_NOT_SHOWN, PLAN_NOT_SHOWN),
    ("no plan comment", READY, Review(NO_RECORD, 7), NO_RECORD, NO_RECORD),
    ("no status (comment: false)", READY, Review(NO_RECORD, 7, where="status"), NO_RECORD, NO_RECORD),
    ("comments unreadable", READY, Review(LOOKUP_FAILED, 7, detail="HTTP 502"), LOOKUP_FAILED, LOOKUP_FAILED),
    ("no pull request", READY, Review(NO_PULL_REQUEST), NO_PULL_REQUEST, NO_PULL_REQUEST),
    ("no token", READY, Review(NO_TOKEN), NO_TOKEN, NO_TOKEN),
]


@pytest.mark.parametrize(("name", "plan", "review", "under_fail", "under_warn"), GATE, ids=[g[0] for g in GATE])
def test_the_gate_uploads_only_a_reviewed_plan_under_fail(name, plan, review, under_fail, under_warn):
    failed = decide_apply(plan, review, "fail")
    warned = decide_apply(plan, review, "warn")
    if under_fail == "upload":
        assert failed == Upload() and warned == Upload()
        return
    assert isinstance(failed, Blocked) and failed.fatal and failed.case == under_fail
    assert "nothing uploaded" in failed.message and failed.todo
    assert "on-plan-change: warn" in failed.todo, "say what to do"
    assert isinstance(warned, Upload) and [case for case, _m in warned.warnings] == [under_warn]
    assert "uploading anyway" in warned.warnings[0][1]


@pytest.mark.parametrize("on_plan_change", ["warn", "fail"])
@pytest.mark.parametrize("review", [SAME, Review(NO_RECORD, 7), Review(LOOKUP_FAILED, detail="x")])
def test_nothing_to_change_is_nothing_to_apply_whatever_the_review(on_plan_change, review):
    plan = PlanFacts("ready", has_changes=False, plan_hash=H1, summary="0 to create")
    assert decide_apply(plan, review, on_plan_change) == NothingToApply()


@pytest.mark.parametrize(("state", "case", "fatal_under_warn"), [
    ("no-key", NO_KEY, False), ("invalid", PLAN_FAILED, True), ("failed", PLAN_FAILED, True), ("partial", PARTIAL, True),
])
def test_a_plan_that_is_not_ready_never_uploads(state, case, fatal_under_warn):
    plan = PlanFacts(state, has_changes=True, plan_hash=H1, detail="why")
    for on_plan_change, fatal in (("fail", True), ("warn", fatal_under_warn)):
        decision = decide_apply(plan, SAME, on_plan_change)
        assert isinstance(decision, Blocked) and decision.case == case and decision.fatal is fatal


FORK = PullRequest(7, head_sha="f" * 40, head_repo="stranger/tasks", base_repo="octo/tasks", base_sha="2" * 40)
OWN = PullRequest(7, head_sha="1" * 40, head_repo="octo/tasks", base_repo="octo/tasks", base_sha="2" * 40)

# (name, facts, mode, untrusted?, python allowed?)
RUNS = [
    ("pr opened", RunFacts("pull_request", "opened", pull=OWN, head="9" * 40), "plan", False, True),
    ("fork pr", RunFacts("pull_request", "opened", pull=FORK, head="9" * 40), "plan", True, False),
    ("fork pr, allowed", RunFacts("pull_request", "opened", pull=FORK, head="9" * 40, allow_untrusted_code=True), "plan", True, True),
    ("target on base", RunFacts("pull_request_target", "opened", pull=OWN, head="2" * 40), "plan", False, True),
    ("target on head", RunFacts("pull_request_target", "opened", pull=OWN, head="1" * 40), "plan", True, False),
    ("target, no git", RunFacts("pull_request_target", "opened", pull=OWN, head=None), "plan", True, False),
    ("merged", RunFacts("pull_request", "closed", pull=PullRequest(7, merged=True, merge_commit_sha="m" * 40), head="m" * 40), "apply", False, True),
    ("merged fork on its merge commit", RunFacts("pull_request_target", "closed", pull=PullRequest(
        7, head_repo="stranger/tasks", base_repo="octo/tasks", merged=True, merge_commit_sha="m" * 40), head="m" * 40), "apply", False, True),
    ("closed unmerged", RunFacts("pull_request", "closed", pull=OWN), "skip", False, True),
    ("push to default", RunFacts("push", pushed_to_default_branch=True, head="3" * 40), "apply", False, True),
    ("push elsewhere", RunFacts("push", head="3" * 40), "plan", False, True),
    ("branch deleted", RunFacts("push", branch_deleted=True), "skip", False, True),
    ("issue_comment on a fork's head", RunFacts("issue_comment", head="f" * 40, pulls_of_head=(FORK,)), "plan", True, False),
    ("issue_comment, own pr", RunFacts("issue_comment", head="1" * 40, pulls_of_head=(OWN,)), "plan", False, True),
    ("dispatch on an older commit of an open fork pr", RunFacts("workflow_dispatch", head="e" * 40, pulls_of_head=(FORK,)), "plan", True, False),
    ("dispatch on a merged fork pr's commit", RunFacts("workflow_dispatch", head="e" * 40, pulls_of_head=(
        PullRequest(9, head_sha="f" * 40, head_repo="stranger/tasks", base_repo="octo/tasks", merged=True),)), "plan", False, True),
    ("dispatch, lookup failed", RunFacts("workflow_dispatch", head="1" * 40, pulls_lookup_error="HTTP 502"), "plan", True, False),
    ("schedule, no pull requests", RunFacts("schedule", head="1" * 40, pulls_of_head=()), "plan", False, True),
    ("mode input wins", RunFacts("pull_request", "opened", mode_input="validate", pull=OWN), "validate", False, True),
]


@pytest.mark.parametrize(("name", "facts", "mode", "untrusted", "python"), RUNS, ids=[r[0] for r in RUNS])
def test_decide_run(name, facts, mode, untrusted, python):
    decision = decide_run(facts)
    assert decision.mode == mode
    assert (decision.untrusted is not None) == untrusted, decision.untrusted
    assert decision.allow_python is python


def test_fit_bytes_counts_what_github_counts():
    from hud_sync_hook.github.report import fit_bytes

    def render(limit: int) -> str:
        return ("🦄" * limit)[:limit]  # four bytes a character

    text = fit_bytes(render, 300_000, max_bytes=100_000)
    assert len(text.encode("utf-8")) <= 100_000 and len(text) > 20_000
    assert fit_bytes(lambda limit: "ascii " * 10, 300_000, max_bytes=100) == "ascii " * 10


def test_the_writer_leaves_annotations_outputs_and_the_summary(tmp_path, capsys):
    from hud_sync_hook.github.report import OUTPUT_NAMES, Report, write_report
    from tests.github.harness import parse_commands, parse_outputs

    report = Report()
    report.error("broken: a, b", title="T", file="x/y.json", line=3)
    report.summary = "### HUD taskset\n**Error:** broken\n"
    report.fail()
    outputs, summary = tmp_path / "out", tmp_path / "sum"
    code = write_report(report, {"GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)})
    assert code == 1
    [annotation] = parse_commands(capsys.readouterr().out)
    assert annotation.properties == {"file": "x/y.json", "line": "3", "title": "T"} and annotation.message == "broken: a, b"
    assert sorted(parse_outputs(outputs.read_text())) == sorted(OUTPUT_NAMES)
    assert summary.read_text() == report.summary
    # A runner file that cannot be written is an error, not a crash.
    assert write_report(Report(summary="x"), {"GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "such")}) == 1
