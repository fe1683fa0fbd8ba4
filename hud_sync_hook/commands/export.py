"""`hud-sync-hook export`: download a taskset's tasks to .json, .jsonl or .csv."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path
from typing import Any

from hud_sync_hook.commands._common import add_api_arguments, add_sdk_argument, open_platform_for, project_dialect
from hud_sync_hook.errors import HudSyncError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("taskset", nargs="?", help="taskset name or id (default: tasksetId in .hud/config.json)")
    parser.add_argument("--id", dest="taskset_id", metavar="UUID", help="taskset id")
    parser.add_argument("--out", required=True, metavar="FILE", help="output file: .json, .jsonl or .csv")
    add_sdk_argument(parser)
    add_api_arguments(parser)


def write_tasks(records: list[dict[str, Any]], out: Path) -> None:
    """Render the records, then write them atomically, never through a link."""
    from hud_sync_hook import safefs

    handle = io.StringIO(newline="")
    _render(records, out, handle)
    safefs.write_text(out, handle.getvalue())


def _render(records: list[dict[str, Any]], out: Path, handle: io.StringIO) -> None:
    suffix = out.suffix.lower()
    if suffix == ".json":
        handle.write(json.dumps(records, indent=2, ensure_ascii=False, default=str) + "\n")
    elif suffix == ".jsonl":
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    elif suffix == ".csv":
        from hud_sync_hook.inert import csv_cell

        arg_keys = sorted({k for r in records if isinstance(r.get("args"), dict) for k in r["args"]})
        col_keys = sorted({k for r in records if isinstance(r.get("column_values"), dict) for k in r["column_values"]})
        fields = ["slug", "scenario", "env", *[f"arg:{k}" for k in arg_keys], *[f"col:{k}" for k in col_keys]]
        writer = csv.writer(handle)
        writer.writerow([csv_cell(name) for name in fields])
        for record in records:
            env = record.get("env")
            row: dict[str, Any] = {
                "slug": record.get("slug") or record.get("external_id") or "",
                "scenario": record.get("scenario") or "",
                "env": env.get("name", "") if isinstance(env, dict) else "",
            }
            for source_key, prefix, keys in (("args", "arg:", arg_keys), ("column_values", "col:", col_keys)):
                values = record.get(source_key)
                if isinstance(values, dict):
                    for key in keys:
                        value = values.get(key)
                        row[prefix + key] = json.dumps(value) if isinstance(value, (dict, list)) else value
            # A cell a spreadsheet would run as a formula is written as text (OWASP's advice).
            writer.writerow([csv_cell(row.get(name, "")) for name in fields])
    else:
        raise HudSyncError(f"unsupported export format '{suffix or out.name}'; use .json, .jsonl or .csv", file=str(out))


def run(args: argparse.Namespace) -> int:
    from hud_sync_hook.config import load_project_config
    from hud_sync_hook.sync import choose_taskset

    out = Path(args.out)
    if out.suffix.lower() not in (".json", ".jsonl", ".csv"):
        raise HudSyncError(f"unsupported export format '{out.suffix or out.name}'; use .json, .jsonl or .csv", file=args.out)
    dialect, config = project_dialect(args, Path.cwd(), load_project_config(Path.cwd()))
    ref = choose_taskset(args.taskset, args.taskset_id, config)
    platform = open_platform_for(args, config.path.parent.parent, dialect)
    try:
        taskset_id = ref.id
        if taskset_id is None:
            found = platform.find_taskset(ref.name)
            if found is None:
                raise HudSyncError(f"taskset {ref.name!r} does not exist on the platform; check the name")
            taskset_id = found.id
        name, records = platform.fetch_tasks(taskset_id)
    finally:
        platform.close()
    records = sorted(records, key=lambda r: str(r.get("slug") or r.get("external_id") or ""))
    try:
        dialect.write_export(records, out)
    except OSError as err:
        raise HudSyncError(f"cannot write: {err.strerror}", file=args.out) from None
    from hud_sync_hook import output

    output.info(f"Exported {len(records)} task(s) from '{name or ref.name or taskset_id}' to {out}")
    return 0
