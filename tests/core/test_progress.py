"""Upload progress: a bar on a terminal, plain lines in a CI log; decided by batch counts and an
injected clock, never by how fast this machine is."""

from __future__ import annotations

import io
import re
from pathlib import Path

from hud_sync_hook.commands._common import Progress
from tests.helpers.repo import make_repo, run_cli


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def lines_for(total: int, *, step: float = 0.0, **options) -> list[str]:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(False, stream=stream, clock=clock, **options)
    for done in range(1, total + 1):
        clock.now += step
        progress(done, total)
    text = stream.getvalue()
    assert "\r" not in text
    return text.splitlines()


def test_a_log_gets_a_line_every_ten_batches_and_at_the_end():
    assert lines_for(25) == ["Uploading: 10/25 batches (40%)", "Uploading: 20/25 batches (80%)", "Uploading: 25/25 batches (100%)"]
    assert lines_for(20) == ["Uploading: 10/20 batches (50%)", "Uploading: 20/20 batches (100%)"]
    assert lines_for(1) == []  # one batch: the final "Uploaded ..." line says it all


def test_slow_batches_get_a_line_every_few_seconds():
    assert lines_for(4, step=6.0) == [f"Uploading: {n}/4 batches ({25 * n}%)" for n in (1, 2, 3, 4)]
    # 2 s a batch: the third batch crosses 5 s since the last line, then the count starts over.
    assert lines_for(7, step=2.0) == ["Uploading: 3/7 batches (42%)", "Uploading: 6/7 batches (85%)", "Uploading: 7/7 batches (100%)"]


def test_a_terminal_keeps_the_bar():
    stream = io.StringIO()
    progress = Progress(True, stream=stream, clock=Clock())
    for done in (1, 2):
        progress(done, 2)
    assert stream.getvalue() == "\rUploading [###############...............] 1/2 batches\rUploading [##############################] 2/2 batches\n"


def test_apply_without_a_terminal_prints_progress_lines(tmp_path: Path):
    project = tmp_path / "proj"
    make_repo(project, {"tasks.json": [{"slug": f"t{i:02d}", "scenario": "s", "env": {"name": "e"}} for i in range(25)]})
    result = run_cli("apply", "demo", ".", "--api-url", "local", "--yes", "--batch-size", "1", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    shown = re.findall(r"^Uploading: (\d+)/25 batches \(\d+%\)$", result.stderr, re.M)
    # Every tenth batch and the last at least (a slow machine may add lines for the time passed).
    assert {"10", "20", "25"} <= set(shown) and shown == sorted(shown, key=int)
    assert "Uploaded 25 task(s) to 'demo' in 25 batch(es)" in result.stdout
