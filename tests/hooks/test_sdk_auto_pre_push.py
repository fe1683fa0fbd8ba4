"""`--sdk auto` in the pre-push hook: real pushes to a bare remote through the hook `install-hook`
writes, planned against the real `hud-sync-hook serve`. The plan says why a generation was chosen,
and a push that mixes the generations is refused naming each file and line."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.repo import run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.hooks.consumer import child_env, git_run, make_consumer
from tests.hooks.v6_project import LABEL, jsonl, row

KEY = {"HUD_API_KEY": HUD_API_KEY}
V5_ROW = '{"slug": "old", "env": {"name": "letters"}, "scenario": "count", "args": {"n": 9}}\n'


def test_the_hook_says_why_and_refuses_a_push_mixing_generations(tmp_path: Path, serve):
    consumer = make_consumer(tmp_path, {"tasks.jsonl": jsonl(row(1), row(2, "two"))})
    installed = run_cli("install-hook", "--", "--source", "tasks.jsonl", "--taskset", "letters", "--api-url", serve.url, cwd=consumer.work, env=child_env())
    assert installed.returncode == 0, installed.stderr

    git_run(consumer.work, "checkout", "-q", "-b", "feature")
    tip = consumer.commit({"tasks.jsonl": jsonl(row(1), row(2, "two"), row(3, "three"))})
    pushed = consumer.push("feature", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert f"{LABEL}, chosen by tasks.jsonl:1: a row with id and env as a string and no scenario" in pushed.output
    assert "Create (3):" in pushed.output

    consumer.commit({"tasks.jsonl": jsonl(row(1), row(2, "two")) + V5_ROW})
    pushed = consumer.push("feature", env=KEY)
    assert pushed.returncode != 0, pushed.output
    assert "mixes two HUD SDK generations: v5 in tasks.jsonl:3 (a row with scenario); v6 in tasks.jsonl:1" in pushed.output
    assert "Traceback" not in pushed.output
    assert consumer.remote_sha("feature") == tip
