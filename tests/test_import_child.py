"""A `tasks.py` that fights the import timeout: the child is killed with everything it started, the
wait is bounded by the timeout plus a small constant, and the key never reaches the code.

Real task files in temporary repositories, the real CLI. The attackers would run for minutes; each
command is given a generous limit it must finish within.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.attackers import wait_for
from tests.helpers.repo import make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY

TASKS = "tasks = [{'slug': 'one', 'scenario': 'checkout'}]\n"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def test_replacing_os_exit_cannot_keep_the_child_alive(tmp_path: Path):
    project = tmp_path / "p"
    make_repo(project, {"tasks.py": "import os, time\nos._exit = lambda code: time.sleep(600)\n" + TASKS})
    ran = run_cli("validate", ".", "--import-timeout", "5", cwd=project, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "1 task(s) valid" in ran.stdout


DAEMON = """
import os, sys, time
from pathlib import Path
here = Path(__file__).resolve().parent
if os.fork() == 0:
    if {escape}:
        os.setsid()          # out of the child's session and process group
        if os.fork() != 0:
            os._exit(0)
    (here / "daemon.pid").write_text(str(os.getpid()))
    time.sleep(600)          # holds the result pipe the whole time
    os._exit(0)
for _ in range(1000):        # the import goes on once the pid is written (10 s at most)
    if (here / "daemon.pid").exists():
        break
    time.sleep(0.01)
"""


@pytest.mark.parametrize("escape", [True, False], ids=["double-forked-daemon", "grandchild-in-the-group"])
def test_what_a_task_file_starts_is_killed_and_never_holds_the_tool(tmp_path: Path, escape: bool):
    project = tmp_path / "p"
    make_repo(project, {"tasks.py": DAEMON.format(escape=escape) + TASKS})
    ran = run_cli("validate", ".", "--import-timeout", "20", cwd=project, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "1 task(s) valid" in ran.stdout
    pid = int((project / "daemon.pid").read_text())
    assert wait_for(lambda: not alive(pid), limit=10), f"process {pid} started by tasks.py survived"


def test_a_hang_is_killed_at_the_timeout_with_its_whole_group(tmp_path: Path):
    project = tmp_path / "p"
    source = DAEMON.format(escape=False) + "time.sleep(600)\n" + TASKS
    make_repo(project, {"tasks.py": source})
    ran = run_cli("validate", ".", "--import-timeout", "2", cwd=project, timeout=60)
    assert ran.returncode == 1
    assert "tasks.py: TimeoutError: the import did not finish within 2 s" in ran.stderr
    pid = int((project / "daemon.pid").read_text())
    assert wait_for(lambda: not alive(pid), limit=10)


def test_task_files_never_see_the_key(tmp_path: Path):
    project = tmp_path / "p"
    probe = (
        "import os\nfrom pathlib import Path\n"
        "seen = sorted(k for k, v in os.environ.items() if 'hud-test-key' in v or k == 'HUD_API_KEY')\n"
        "Path(__file__).with_name('seen.txt').write_text(repr(seen))\n" + TASKS
    )
    make_repo(project, {"tasks.py": probe})
    ran = run_cli("validate", ".", cwd=project, env={"HUD_API_KEY": HUD_API_KEY, "MY_COPY": HUD_API_KEY})
    assert ran.returncode == 0, ran.stderr
    assert (project / "seen.txt").read_text() == "[]"  # neither the variable nor a copy of it
    ran = run_cli("plan", "shop", ".", "--api-url", "local", cwd=project,
                  env={"HUD_API_KEY": HUD_API_KEY, "MY_COPY": HUD_API_KEY})
    assert ran.returncode == 0, ran.stderr
    assert (project / "seen.txt").read_text() == "[]"
