"""The hook's own arguments are checked as the CLI checks them: a `--taskset` that is surely a path
refuses the push with one line, through the hook `install-hook` writes, before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.repo import run_cli
from tests.hooks.consumer import child_env, make_consumer, task


@pytest.mark.parametrize("taskset", ["tasks/", ".", "..", ""])
def test_a_path_like_taskset_refuses_the_push(tmp_path: Path, taskset: str):
    consumer = make_consumer(tmp_path, {"tasks.json": [task("one")]})
    installed = run_cli("install-hook", "--", "--taskset", taskset, "--api-url", "local", cwd=consumer.work, env=child_env())
    assert installed.returncode == 0, installed.stderr
    tip = consumer.head()
    consumer.commit({"tasks.json": [task("one"), task("two")]})
    pushed = consumer.push("main")
    assert pushed.returncode != 0, pushed.output
    lines = [line for line in pushed.output.splitlines() if line.startswith("hud-sync-hook")]
    expected = "the taskset name is empty" if not taskset else f"{taskset!r} looks like a path, not a taskset name"
    assert len(lines) == 1 and expected in lines[0] and "--taskset NAME" in lines[0], pushed.output
    assert "Traceback" not in pushed.output
    assert consumer.remote_sha("main") == tip
    assert not (consumer.work / ".hud" / "local-platform.sqlite").exists()


def test_a_taskset_name_with_a_slash_is_still_a_name_for_the_flag(tmp_path: Path):
    consumer = make_consumer(tmp_path, {"tasks.json": [task("one")]})
    ran = run_cli("pre-push", "--taskset", "team/set", "--api-url", "local", cwd=consumer.work, env=child_env(), input="")
    assert ran.returncode == 0, ran.stderr
    assert "looks like a path" not in ran.stderr
