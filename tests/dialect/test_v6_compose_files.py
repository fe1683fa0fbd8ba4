"""Compose files named by v6 rows (`runtime_config.compose.document: "compose.yaml"`), read as the
SDK reads them when it signs a task: its `.env`, its interpolation, its refusals. Compared with
`hud` 0.6.21 itself over files of every kind, then through our CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hud_sync_hook.dialect.v6_compose import inline_compose_files
from hud_sync_hook.dialect.v6_model import task_from_mapping, validate_task
from hud_sync_hook.model import Location
from tests.helpers.oracle_v6 import needs_oracle, oracle_python
from tests.helpers.repo import make_repo, run_cli

OFFICIAL = """
import json, sys
from pathlib import Path
from hud.eval.task import Task
from hud.eval.sync import _task_signature, task_upload_payload
folder = Path(sys.argv[1]).resolve()
out = []
for line in (folder / "rows.jsonl").read_text().splitlines():
    try:  # as the JSON loader reads a row, then as sync signs and uploads it
        task = Task.model_validate(json.loads(line), context={"base_path": folder})
        out.append({"signature": _task_signature(task), "record": task_upload_payload(task)})
    except Exception as err:
        out.append({"refused": f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"})
print(json.dumps(out))
"""

FILES = {
    "basic.yaml": "services:\n  main:\n    image: python:3.11\n    ports: ['8080:80', 81]\n    environment: [A=1]\n",
    ".env": "# the project's variables\nTAG=3.12\nexport NAME=web\nQUOTED=\"a b\"\nSINGLE='x $TAG'\nREF=${TAG}-slim\nDOLLAR=cost$$5\nEMPTY=\n",
    "interpolated.yaml": (
        "services:\n  main:\n    image: python:${TAG}\n    command: echo $NAME ${QUOTED} '${UNSET:-fallback}' ${EMPTY:-empty} ${EMPTY-set} ${TAG:+alt} ${UNSET+no}\n"
        "    working_dir: '/srv/$TAG'\n    environment:\n      REF: $REF\n      SINGLE: $SINGLE\n      DOLLAR: $DOLLAR\n      LITERAL: a$$b\n      LONE: price $\n"
        "      NESTED: ${UNSET:-${TAG}}\n      NUM: 5\n"
    ),
    "unset.yaml": "services:\n  main:\n    image: python:${MISSING}\n",
    "required.yaml": "services:\n  main:\n    image: ${MISSING:?set MISSING in .env}\n",
    "unclosed.yaml": "services:\n  main:\n    image: ${TAG\n",
    "include.yaml": "include: [other.yaml]\nservices: {}\n",
    "extends.yaml": "services:\n  main:\n    extends: {service: base}\n",
    "list.yaml": "- services\n",
    "empty.yaml": "",
    "broken.yaml": "services: [unclosed\n",
    "noservices.yaml": "name: x\n",
    "anchors.yaml": "x-common: &common\n  image: python:3.11\n  expose: [80]\nservices:\n  main:\n    <<: *common\n    user: 1000\n  db:\n    <<: *common\n",
    "badport.yaml": "services:\n  main:\n    ports: ['80/sctp']\n",
    "sub/compose.yaml": "services:\n  main:\n    image: app:${TAG}\n",
    "sub/.env": "TAG=sub\n",
    "latin1.yaml": b"services: {main: {image: caf\xe9}}\n",
    "folder.yaml/": "",
    "self.yaml": "services: {}\nx-loop: &loop [*loop]\n",
    "two.yaml": "services: {}\n---\nservices: {}\n",
    "text.yaml": "services\n",
    "badenv/compose.yaml": "services:\n  main: {image: a}\n",
    "badenv/.env": b"TAG=caf\xe9\n",
    "later/compose.yaml": "services:\n  main: {image: '${X}'}\n",
    "later/.env": "X=${Y}\nY=1\n",
    "bare/compose.yaml": "services:\n  main: {image: '${F-unset}', command: $$F}\n",
    "bare/.env": "F\nG=$$F$\n",
}

ROWS = [
    {"document": "basic.yaml"},
    {"document": "interpolated.yaml"},
    {"document": "./interpolated.yaml", "service_access": True},
    {"document": "unset.yaml"},
    {"document": "required.yaml"},
    {"document": "unclosed.yaml"},
    {"document": "include.yaml"},
    {"document": "extends.yaml"},
    {"document": "list.yaml"},
    {"document": "empty.yaml"},
    {"document": "broken.yaml"},
    {"document": "noservices.yaml"},
    {"document": "anchors.yaml"},
    {"document": "badport.yaml"},
    {"document": "missing.yaml"},
    {"document": "sub/compose.yaml"},
    {"document": "sub/compose.yaml", "root": "sub"},
    {"document": "sub/compose.yaml", "root": "."},
    {"document": "basic.yaml", "root": "sub"},
    {"document": "basic.yaml", "root": {"compose_path": "basic.yaml"}},
    {"document": "basic.yaml", "root": None},
    {"document": {"services": {}}, "root": "."},
    {"document": "latin1.yaml"},
    {"document": "folder.yaml"},
    {"document": "self.yaml"},
    {"document": "two.yaml"},
    {"document": "text.yaml"},
    {"document": "badenv/compose.yaml"},
    {"document": "later/compose.yaml"},
    {"document": "bare/compose.yaml"},
    {"document": "basic\0.yaml"},
    {"document": "basic.yaml", "root": ".\0"},
]


def _project(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    for name, text in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("/"):
            (folder / name).mkdir()
        elif isinstance(text, bytes):
            (folder / name).write_bytes(text)
        else:
            (folder / name).write_text(text, encoding="utf-8")
    rows = [{"env": "e", "id": "t", "slug": f"s{i}", "runtime_config": {"compose": compose}} for i, compose in enumerate(ROWS)]
    (folder / "rows.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return folder


@needs_oracle
def test_compose_files_are_read_refused_and_signed_as_the_sdk_does(tmp_path: Path):
    folder = _project(tmp_path)
    proc = subprocess.run([oracle_python(), "-c", OFFICIAL, str(folder)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    official = json.loads(proc.stdout)
    rows = [json.loads(line) for line in (folder / "rows.jsonl").read_text().splitlines()]
    disagreements = []
    for i, (row, theirs) in enumerate(zip(rows, official)):
        task = task_from_mapping(inline_compose_files(row, folder, folder), Location("rows.jsonl", i + 1))
        problems = validate_task(task)
        if ("refused" in theirs) != bool(problems):
            disagreements.append(f"{ROWS[i]}: ours {[p.message for p in problems] or 'accepts'}, official {theirs}")
        elif not problems and (task.signature, task.upload_record()) != (theirs["signature"], theirs["record"]):
            disagreements.append(f"{ROWS[i]}:\n  ours     {task.signature}\n  official {theirs['signature']}")
    accepted = sum("refused" not in answer for answer in official)
    assert 6 <= accepted <= len(ROWS) - 6  # both kinds, many of each
    assert not disagreements, "\n".join(disagreements)


@pytest.mark.parametrize(
    "compose, message",
    [
        ({"document": "unset.yaml"}, "names unset.yaml, which cannot be read: Compose variable 'MISSING' is not set by the project .env"),
        ({"document": "include.yaml"}, "names include.yaml, which uses include or extends"),
        ({"document": "missing.yaml"}, "names missing.yaml, which does not exist"),
        ({"document": "basic.yaml", "root": "sub"}, "runtime_config.compose.document is not inside its project root"),
        ({"document": "../outside.yaml"}, "runtime_config.compose.document names a file outside the repository"),
    ],
)
def test_a_compose_file_that_cannot_be_used_is_one_problem_at_the_row(tmp_path: Path, compose, message):
    folder = _project(tmp_path)
    (tmp_path / "outside.yaml").write_text("services: {}\n")
    row = {"env": "e", "id": "t", "slug": "s", "runtime_config": {"compose": compose}}
    task = task_from_mapping(inline_compose_files(row, folder, folder), Location("rows.jsonl", 7))
    (problem,) = validate_task(task)
    assert str(problem.location) == "rows.jsonl:7" and message in problem.message, problem


@pytest.mark.parametrize("link", ["compose.yaml", ".env"])
def test_a_link_out_of_the_repository_is_never_read(tmp_path: Path, link: str):
    folder = tmp_path / "repo"
    folder.mkdir()
    outside = tmp_path / "outside"
    outside.write_text("SECRET=do-not-upload\n" if link == ".env" else "services: {main: {image: do-not-upload}}\n")
    if link == ".env":
        (folder / "compose.yaml").write_text('services: {main: {image: "${SECRET}"}}\n')
    (folder / link).symlink_to(outside)
    row = {"env": "e", "id": "t", "slug": "s", "runtime_config": {"compose": {"document": "compose.yaml"}}}
    task = task_from_mapping(inline_compose_files(row, folder, folder), Location("rows.jsonl", 2))
    (problem,) = validate_task(task)
    assert "outside the repository" in problem.message and "do-not-upload" not in str(task.row)


def test_the_cli_reads_a_compose_file_next_to_the_rows_and_never_one_outside(tmp_path: Path):
    project = tmp_path / "repo"
    make_repo(project, {"tasks/compose.yaml": "services:\n  main:\n    image: app:${TAG}\n", "tasks/.env": "TAG=7\n"})
    rows = [{"env": "e", "id": "t", "slug": "s", "runtime_config": {"compose": {"document": "compose.yaml"}}}]
    (project / "tasks" / "rows.jsonl").write_text(json.dumps(rows[0]) + "\n")
    done = run_cli("validate", "tasks/rows.jsonl", "--sdk", "v6", cwd=project)
    assert done.returncode == 0, done.stderr
    (tmp_path / "secret.yaml").write_text("services: {main: {image: secret}}\n")
    (project / "tasks" / "rows.jsonl").write_text(json.dumps({**rows[0], "runtime_config": {"compose": {"document": "../../secret.yaml"}}}) + "\n")
    refused = run_cli("validate", "tasks/rows.jsonl", "--sdk", "v6", cwd=project)
    assert refused.returncode == 1
    assert "tasks/rows.jsonl:1: task 's': runtime_config.compose.document names a file outside the repository" in refused.stderr
    assert "secret" not in refused.stderr.replace("secret.yaml", "")
