"""The pre-push hook on v6 projects: real pushes to a bare remote through the hook `install-hook`
writes, planned against the real `hud-sync-hook serve`, which speaks the /v2 API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.repo import run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.hooks.consumer import Consumer, child_env, git_run, make_consumer, request_count
from tests.hooks.v6_project import LABEL, SHAPE_PY, jsonl, row, shaped_py

KEY = {"HUD_API_KEY": HUD_API_KEY}


def install(consumer: Consumer, *hook_args: str) -> None:
    result = run_cli("install-hook", "--", *hook_args, cwd=consumer.work, env=child_env())
    assert result.returncode == 0, result.stderr


def served_plan(consumer: Consumer, serve, *args: str) -> dict:
    """The JSON plan of the working tree against the served platform."""
    proc = run_cli("plan", *args, "--api-url", serve.url, "--format", "json", cwd=consumer.work, env=child_env(KEY))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_refused(consumer: Consumer, pushed, message: str, tip: str) -> None:
    """The push was refused with `message`, no traceback, and the remote branch kept `tip`; the work
    tree goes back to `tip`."""
    assert pushed.returncode != 0, pushed.output
    assert message in pushed.output and "Traceback" not in pushed.output
    assert consumer.remote_sha("feature") == tip
    git_run(consumer.work, "reset", "-q", "--hard", tip)


def hook_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("hud-sync-hook")]


@pytest.mark.parametrize(
    "path, source, expected",
    [
        ("env.py", "", True),  # the v6 SDK scans a folder's own *.py files, env.py included
        ("evals/env.py", "evals", True),
        ("evals/env.py", "evals/set.jsonl", False),
        ("evals/set.jsonl", "evals/set.jsonl", True),
        ("evals/set.json", "evals/set.json", True),
        ("evals/other.jsonl", "evals/set.jsonl", False),
        ("evals/.hud/config.json", "evals/set.jsonl", True),
    ],
)
def test_the_fast_path_sees_v6_layouts(path: str, source: str, expected: bool):
    from hud_sync_hook.commands.pre_push import affects_discovery

    assert affects_discovery(path, source, lambda: False) is expected


def test_a_v6_jsonl_project_with_sdk_auto(tmp_path: Path, serve):
    consumer = make_consumer(tmp_path, {"tasks.jsonl": jsonl(row(1), row(2, "two")), "README.md": "hi\n"})
    install(consumer, "--source", "tasks.jsonl", "--taskset", "letters", "--api-url", serve.url, "--apply-on-branch", "main")

    # A change elsewhere: one line, no request.
    consumer.commit({"README.md": "changed\n"})
    before = request_count(serve)
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert hook_lines(pushed.output) == [
        "hud-sync-hook: no task files changed in this push (1 file(s), refs/heads/main); nothing to check"
    ]
    assert request_count(serve) == before

    # A feature branch: auto reads the rows as v6 and shows the creates; nothing is uploaded.
    git_run(consumer.work, "checkout", "-q", "-b", "feature")
    tip = consumer.commit({"tasks.jsonl": jsonl(row(1), row(2, "two"), row(3, "three"))})
    pushed = consumer.push("feature", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert f"plan for {tip[:12]} (refs/heads/feature)" in pushed.output and LABEL in pushed.output
    assert "Create (3):" in pushed.output and "+ three" in pushed.output and "+ count-" in pushed.output
    assert "GET /v2/" in serve.stderr_text() and "POST /v2/tasks/upload" not in serve.stderr_text()

    # An invalid v6 row: the push is refused with file:line, and the remote keeps the last tip.
    consumer.commit({"tasks.jsonl": jsonl(row(1), {"env": "letters", "args": {"n": 9}}, row(3, "three"))})
    assert_refused(consumer, consumer.push("feature", env=KEY), "tasks.jsonl:2: task has no id (the template id)", tip)

    # Pushing to main uploads through /v2; the same tasks are then unchanged, for the hook and the CLI.
    pushed = consumer.push("feature:main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert "uploaded 3 task(s) to 'letters' for the push to main: 3 created, 0 updated" in pushed.output
    assert "POST /v2/tasks/upload" in serve.stderr_text()
    plan = served_plan(consumer, serve, "letters", "tasks.jsonl")
    assert plan["sdk"] == "v6" and len(plan["unchanged"]) == 3 and not plan["create"] and not plan["update"]
    again = consumer.commit({"tasks.jsonl": jsonl(row(3, "three"), row(1), row(2, "two"))})  # reordered
    pushed = consumer.push("feature", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert f"plan for {again[:12]}" in pushed.output
    assert "0 to create, 0 to update, 3 unchanged" in pushed.output


def test_a_v6_folder_with_sdk_v6(tmp_path: Path, serve):
    files = {
        "shape.py": SHAPE_PY,
        "env.py": shaped_py(("from-env", 0)),
        "tasks.py": shaped_py(("alpha", 1), (None, 2)),
        "sub/notes.py": "x = 1\n",  # not scanned: the v6 SDK does not recurse
    }
    consumer = make_consumer(tmp_path, files)
    install(consumer, "--sdk", "v6", "--taskset", "shapes", "--api-url", serve.url, "--apply-on-branch", "main")

    consumer.commit({"sub/notes.py": "x = 2\n"})
    pushed = consumer.push("main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert "no task files changed in this push" in pushed.output

    # A change to env.py alone is a change to the tasks.
    git_run(consumer.work, "checkout", "-q", "-b", "feature")
    tip = consumer.commit({"env.py": shaped_py(("from-env", 0), ("env-two", 5))})
    pushed = consumer.push("feature", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert "4 task(s) valid" in pushed.output and LABEL in pushed.output
    assert "Create (4):" in pushed.output and "+ env-two" in pushed.output and "+ count-" in pushed.output

    # A task without its template id: refused, naming the file and line.
    consumer.commit({"tasks.py": shaped_py(("alpha", 1), (None, 2)) + "broken = Task('letters', None, {'n': 3}, slug='b')\n"})
    assert_refused(consumer, consumer.push("feature", env=KEY), "tasks.py:5: task 'b': has no id (the template id)", tip)

    pushed = consumer.push("feature:main", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert "uploaded 4 task(s) to 'shapes' for the push to main: 4 created, 0 updated" in pushed.output
    plan = served_plan(consumer, serve, "shapes", ".", "--sdk", "v6")
    assert plan["sdk"] == "v6" and len(plan["unchanged"]) == 4 and not plan["create"] and not plan["update"]
    again = consumer.commit({"env.py": "# the same tasks\n" + shaped_py(("from-env", 0), ("env-two", 5))})
    pushed = consumer.push("feature", env=KEY)
    assert pushed.returncode == 0, pushed.output
    assert f"plan for {again[:12]}" in pushed.output and "0 to create, 0 to update, 4 unchanged" in pushed.output
