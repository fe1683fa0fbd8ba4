"""Ctrl-C part-way through an upload: a real SIGINT to a real `apply` against the real `serve`.

The run must say how many tasks landed in which taskset, store the taskset's id, and a second run
must finish the job. The signal is sent once the server has logged two uploads (polled, within a
bound), not after a fixed time.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from hud_sync_hook.platform.local import LocalStore
from tests.helpers.attackers import wait_for
from tests.helpers.repo import REPO_ROOT, make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

TASKS = 300
BATCH = 10
STOPPED = re.compile(
    r"^hud-sync-hook: error: interrupted — upload stopped after (\d+) of 30 batch\(es\): (\d+) of 300 task\(s\) "
    r"landed in 'big' \(taskset id ([0-9a-f-]{36})\), the batch in flight may have landed too, the rest did not; "
    r"run apply again to continue \(uploads are idempotent: what landed shows as unchanged\)$"
)


def test_ctrl_c_during_an_upload_says_what_landed_stores_the_id_and_a_rerun_continues(tmp_path: Path):
    project = tmp_path / "p"
    rows = [{"slug": f"t{i:04d}", "scenario": "checkout", "env": {"name": "shop"}, "args": {"i": i}} for i in range(TASKS)]
    make_repo(project, {"tasks.json": rows})
    (tmp_path / "serve").mkdir()
    # The server answers three uploads and holds the fourth unanswered, so the interrupt always
    # arrives part-way through, whatever the machine's load.
    with start_serve(tmp_path / "serve", "--api-key", HUD_API_KEY, "--hold-after-writes", "3") as server:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HUD_API_KEY": HUD_API_KEY}
        proc = subprocess.Popen(
            [sys.executable, "-m", "hud_sync_hook", "apply", "big", ".", "--api-url", server.url, "--yes",
             "--batch-size", str(BATCH)],
            cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            assert wait_for(lambda: "held: POST /tasks/upload" in server.stderr_text(), limit=60)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        (line,) = [line for line in err.splitlines() if line.startswith("hud-sync-hook: error:")]
        match = STOPPED.match(line)
        assert match, line
        batches, landed, taskset_id = int(match[1]), int(match[2]), match[3]
        assert batches == 3 and landed == batches * BATCH
        db = server.db
    with start_serve(tmp_path / "serve", "--api-key", HUD_API_KEY) as server:
        store = LocalStore(db)
        assert store.find_taskset("big").id == taskset_id
        assert len(store.tasks(taskset_id)) == landed  # the held batch never reached the store
        config = json.loads((project / ".hud" / "config.json").read_text())
        assert config["tasksetId"] == taskset_id and f"Stored tasksetId {taskset_id}" in out

        again = run_cli("apply", "--api-url", server.url, "--yes", "--batch-size", "100", cwd=project,
                        env={"HUD_API_KEY": HUD_API_KEY})
        assert again.returncode == 0, again.stderr
        unchanged = int(re.search(r"(\d+) unchanged", again.stdout)[1])
        assert unchanged == landed
        assert f"Uploaded {TASKS - unchanged} task(s) to 'big'" in again.stdout
        assert len(store.tasks(taskset_id)) == TASKS
