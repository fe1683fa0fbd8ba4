"""What a run leaves for the runner, as a value, and the one writer that carries it out.

Every run ends with `write_report`, a crashing one too: annotations on stdout, the job summary
(kept under GitHub's 1 MiB per step, counted in bytes) and every step output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from hud_sync_hook import output
from hud_sync_hook.github import summary as runner

SUMMARY_MAX_BYTES = 1024 * 1024  # GitHub's limit for one step's summary
SUMMARY_BUDGET_BYTES = SUMMARY_MAX_BYTES - 16 * 1024  # room for the masking and the newline
OUTPUT_NAMES = (
    "has-changes", "to-create", "to-update", "unchanged", "remote-only", "renames", "plan-hash",
    "plan-json", "taskset-id", "created", "updated", "comment-url",
)
EXIT_BUG = 3  # an internal error, as distinct from the user-facing 1


@dataclass
class Annotation:
    kind: str  # error | warning | notice
    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None
    title: str | None = None


@dataclass
class Report:
    annotations: list[Annotation] = field(default_factory=list)
    summary: str = ""
    outputs: dict[str, object] = field(default_factory=lambda: {name: "" for name in OUTPUT_NAMES})
    exit_code: int = 0

    def annotate(self, kind: str, message: str, *, file: str | None = None, line: int | None = None,
                 col: int | None = None, title: str | None = None) -> None:
        self.annotations.append(Annotation(kind, message, file, line, col, title))

    def error(self, message: str, *, title: str | None = None, file: str | None = None, line: int | None = None) -> None:
        self.annotate("error", message, file=file, line=line, title=title)

    def warning(self, message: str, *, title: str | None = None) -> None:
        self.annotate("warning", message, title=title)

    def notice(self, message: str, *, title: str | None = None) -> None:
        self.annotate("notice", message, title=title)

    def fail(self, code: int = 1) -> None:
        self.exit_code = max(self.exit_code, code)

    def has_errors(self) -> bool:
        return any(a.kind == "error" for a in self.annotations)


def fit_bytes(render: Callable[[int], str], start_limit: int, max_bytes: int = SUMMARY_BUDGET_BYTES) -> str:
    """`render(limit)` (a character budget) re-rendered smaller until its UTF-8 form fits `max_bytes`."""
    limit = start_limit
    text = render(limit)
    for _ in range(8):
        size = len(output.mask(text).encode("utf-8"))
        if size <= max_bytes:
            return text
        limit = max(1000, int(limit * max_bytes / size * 0.95))
        text = render(limit)
    encoded = text.encode("utf-8")[: max_bytes - 200]
    return encoded.decode("utf-8", "ignore") + "\n\n_(cut to fit the job summary limit; see the run log)_\n"


def write_report(report: Report, env: Mapping[str, str]) -> int:
    """Carry `report` to the runner; returns its exit code. Never raises for a runner file it cannot write."""
    for a in report.annotations:
        runner.annotate(a.kind, a.message, file=a.file, line=a.line, col=a.col, title=a.title)
    code = report.exit_code
    if report.summary:
        try:
            runner.append_summary(env.get("GITHUB_STEP_SUMMARY"), report.summary)
        except OSError as err:
            runner.error(f"could not write the job summary: {err.strerror}")
            code = max(code, 1)
    try:
        runner.write_outputs(env.get("GITHUB_OUTPUT"), report.outputs)
    except OSError as err:
        runner.error(f"could not write the step outputs: {err.strerror}")
        code = max(code, 1)
    return code
