"""Seeded random rows read by hud-sync-hook and by the official v6 client itself: the same slugs,
signatures and upload items, and the platform's export record read back to the same signature."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from hud_sync_hook.dialect.v6_model import task_from_mapping, validate
from hud_sync_hook.model import Location, signature_digest
from hud_sync_hook.platform.local_v2 import export_record
from tests.dialect.v6_rows import rows
from tests.helpers.oracle_v6 import needs_oracle, oracle_python

OFFICIAL = """
import json, sys
from hud.eval.task import Task
from hud.eval.sync import _TasksetExport, _task_signature, task_upload_payload
data = json.load(open(sys.argv[1]))
out = []
for row in data["rows"]:
    t = Task.model_validate(row)
    out.append({"slug": t.slug, "signature": _task_signature(t), "upload": task_upload_payload(t)})
exported = _TasksetExport.model_validate({"name": "x", "tasks": data["records"]})
print(json.dumps({"local": out, "remote": {t.slug: _task_signature(t) for t in exported.tasks}}))
"""


@needs_oracle
def test_rows_read_as_the_official_client_reads_them(tmp_path: Path):
    sample = rows(seed=20261129, count=300)
    tasks = [task_from_mapping(row, Location("tasks.jsonl", i + 1)) for i, row in enumerate(sample)]
    assert validate(tasks) == []
    for t in tasks:
        t.compact()
    records = [export_record(t.upload_record()) for t in tasks]
    (tmp_path / "in.json").write_text(json.dumps({"rows": sample, "records": records}))
    proc = subprocess.run([oracle_python(), "-c", OFFICIAL, str(tmp_path / "in.json")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    official = json.loads(proc.stdout)
    ours = [{"slug": t.slug, "signature": t.signature, "upload": t.upload_record()} for t in tasks]
    assert ours == official["local"]
    # what the platform exports of our uploads, read by the official client, is unchanged
    assert official["remote"] == {t.slug: t.signature for t in tasks}
    from hud_sync_hook.dialect.v6_model import remote_entry

    assert [remote_entry(r) for r in records] == [(t.slug, signature_digest(t.signature)) for t in tasks]
