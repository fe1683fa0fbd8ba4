"""Every case under tests/corpus/bad/ through the real CLI against the real `serve`.

A case is a folder: the files of a small project plus `case.json`:

    {"about": "what the case is",
     "args": ["apply", "corpus", ".", "--api-url", "{url}", "--yes"],   (default)
     "exit": 1,                          the documented exit status
     "message": "fragment",              expected in stderr (in stdout or stderr when exit is 0)
     "file": "tasks.json", "line": 3,    the place the message must name (file:line, or the file
                                         and "(line N)" for a Python file that could not be imported)
     "env": {"HUD_API_KEY": null},       environment changes (null removes a variable)
     "setup": {"symlinks": {"tasks.json": "{outside}/tasks.json"}, "chmod": {"f": 0}, "fifos": ["f"]},
     "generate": {"path": ..., "repeat": [[text, times], ...]}  or
                 {"path": ..., "task_rows": N, "row_bytes": B, "tail": text},   (made at test time)
     "must_not_exist": ["pwned"],        files that must not appear (code that must not run)
     "requires_non_root": true, "max_seconds": 30, "max_output_bytes": 100000}

`max_seconds` only guards against a hang: the run is stopped, and the case fails, after four times
that long. How fast a case runs is not asserted here (CI machines are busy); `benchmarks/` measures it.

`{url}` is the server's URL; `{outside}` a folder beside the project (outside its repository)
holding a valid task file, a tasks.py that leaves a marker when imported, and a config.

Every case must: exit with its status, print its message naming its file (and line), show no
traceback, and send the platform nothing that changes it (no POST in the server's request log).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.repo import run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

CORPUS = Path(__file__).parent / "corpus" / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.json").is_file())
DEFAULT_ARGS = ["apply", "corpus", ".", "--api-url", "{url}", "--yes"]
OUTSIDE_TASKS_PY = (
    "from pathlib import Path\n"
    "Path(__file__).resolve().with_name('imported').write_text('imported')\n"
    "tasks = [{'slug': 'from-outside', 'scenario': 'checkout'}]\n"
)


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 40


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad-input-serve")
    with start_serve(folder, "--api-key", HUD_API_KEY) as running:
        yield running


def _generate(path: Path, spec: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for text, times in spec.get("repeat", []):
            handle.write(text * times)
        rows, size = spec.get("task_rows", 0), spec.get("row_bytes", 0)
        for i in range(rows):
            head = '{"slug": "t%06d", "scenario": "checkout", "env": {"name": "shop"}, "args": {"pad": "' % i
            tail = '"}}\n'
            handle.write(head + "x" * (size - len(head) - len(tail)) + tail)
        handle.write(spec.get("tail", ""))


def _prepare(case: str, tmp_path: Path) -> tuple[Path, Path, dict]:
    spec = json.loads((CORPUS / case / "case.json").read_text(encoding="utf-8"))
    if spec.get("requires_non_root") and os.geteuid() == 0:
        pytest.skip("root can read a file without read permission; the case needs an ordinary user")
    project, outside = tmp_path / "project", tmp_path / "outside"
    shutil.copytree(CORPUS / case, project, ignore=shutil.ignore_patterns("case.json"))
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    outside.mkdir()
    (outside / "tasks.json").write_text('[{"slug": "from-outside", "scenario": "checkout"}]\n')
    (outside / "tasks.py").write_text(OUTSIDE_TASKS_PY)
    (outside / "config.json").write_text('{"tasksetName": "outside"}\n')
    setup = spec.get("setup", {})
    for name, target in setup.get("symlinks", {}).items():
        link = project / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target.replace("{outside}", str(outside)))
    for name in setup.get("fifos", []):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(project / name)
    if "generate" in spec:
        _generate(project / spec["generate"]["path"], spec["generate"])
    for name, mode in setup.get("chmod", {}).items():
        (project / name).chmod(mode)
    return project, outside, spec


def _post_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith(("POST ", "PUT ", "PATCH ", "DELETE "))]


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case: str, server, tmp_path: Path):
    project, outside, spec = _prepare(case, tmp_path)
    args = [a.replace("{url}", server.url) for a in spec.get("args", DEFAULT_ARGS)]
    env = {"HUD_API_KEY": HUD_API_KEY}
    removed = [k for k, v in spec.get("env", {}).items() if v is None]
    env.update({k: v for k, v in spec.get("env", {}).items() if v is not None})
    for name in removed:
        env.pop(name, None)
    log_before = len(server.stderr_text())
    result = run_cli(*args, cwd=project, env=env, timeout=4 * spec.get("max_seconds", 60))
    output = result.stdout + result.stderr
    shown = result.stderr if spec["exit"] else output
    about = f"{case}: {spec['about']}\n--- stdout (start)\n{result.stdout[:2000]}\n--- stderr\n{result.stderr[-3000:]}"

    assert result.returncode == spec["exit"], about
    assert spec["message"] in shown, about
    assert "Traceback" not in output and "internal error" not in output, about
    # Nothing a repository holds can make a line a CI runner takes for a workflow command.
    assert not [line for line in output.splitlines() if line.lstrip().startswith("::") or "##[" in line], about
    if "file" in spec:
        if "line" in spec:
            line = spec["line"]
            named = re.search(rf"(^|\s){re.escape(spec['file'])}:{line}\b", shown) or (
                f"{spec['file']}: " in shown and f"(line {line})" in shown
            )
        else:
            named = re.search(rf"(^|\s|\(){re.escape(spec['file'])}(:|\))", shown)
        assert named, f"the message does not name {spec['file']}:{spec.get('line', '')}\n{about}"
    assert _post_lines(server.stderr_text()[log_before:]) == [], about
    for name in spec.get("must_not_exist", []):
        path = Path(name.replace("{outside}", str(outside)))
        assert not (path if path.is_absolute() else project / path).exists(), f"{name} exists: {about}"
    if "max_output_bytes" in spec:
        assert len(output.encode()) < spec["max_output_bytes"], about
    if "generate" in spec:  # 50 MB files are not kept around
        (project / spec["generate"]["path"]).unlink()
    for name in spec.get("setup", {}).get("chmod", {}):
        (project / name).chmod(0o644)


def test_no_case_left_anything_on_the_platform(server):
    """After the whole corpus, the server holds no taskset named by a case, and never saw a POST."""
    assert _post_lines(server.stderr_text()) == []
    from hud_sync_hook.platform.local import LocalStore

    store = LocalStore(server.db)
    assert store.find_taskset("corpus") is None
