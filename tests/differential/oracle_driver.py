"""Drive the official `hud sync tasks` in-process, for many task sets in a row: hud-python 0.5.41,
or with `--sdk v6` the `hud` 0.6.21 client (JSON rows read by `Task.model_validate`, signed by
`_task_signature`, uploaded as `task_upload_payload` makes them; its `sync_tasks_command` run).

Runs with the oracle's own interpreter, never with the test's: it imports `hud` and nothing of this
repository. Starting the official CLI costs seconds; this process pays that once and then answers
one JSON request per stdin line with one JSON answer on its stdout. Everything the SDK prints goes
to stderr.

Requests:
- {"op": "rows", "rows": [...], "cwd"?}: each row read as `hud sync tasks` reads a JSON row (v5:
  the loader's `Task(**row)` and the command's own spec builder; v6: the JSON loader, in `cwd`),
  answering per row either {"signature", "record"} (what it would sign and upload; v6 also "slug")
  or {"refused": reason}.
- {"op": "sync", "cwd", "taskset", "source", "dry_run"}: the command itself, called as the CLI calls
  it (with --yes), in `cwd`; answers {"exit", "create", "update", "unchanged", "uploaded"}.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from typing import Any


def main() -> None:
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the SDK's console output goes to stderr, never into the answers
    sys.stdout = sys.stderr
    logging.disable(logging.CRITICAL)
    read_rows, run_sync = v6_handlers() if sys.argv[1:] == ["--sdk", "v6"] else v5_handlers()
    serve(channel, read_rows, run_sync)


def v5_handlers() -> tuple[Any, Any]:
    import typer

    import hud.cli.sync as sync
    from hud.datasets.loader import _load_from_file  # noqa: F401 - the loader the command uses
    from hud.eval.task import Task
    from hud.utils.hud_console import HUDConsole

    console = HUDConsole()
    seen: dict[str, Any] = {}
    original_diff = sync._diff_and_display
    original_upload = sync._upload_tasks

    def diff_and_display(local_specs, remote_tasks, *args, **kwargs):
        to_upload = original_diff(local_specs, remote_tasks, *args, **kwargs)
        remote = {r.get("slug") or r.get("external_id") for r in remote_tasks}
        uploading = {s["slug"] for s in to_upload}
        seen["create"] = sorted(s for s in uploading if s not in remote)
        seen["update"] = sorted(s for s in uploading if s in remote)
        seen["unchanged"] = sorted(s["slug"] for s in local_specs if s["slug"] not in uploading)
        return to_upload

    def upload_tasks(to_upload, *args, **kwargs):
        result = original_upload(to_upload, *args, **kwargs)
        seen["uploaded"] = sorted(s["slug"] for s in to_upload)
        return result

    sync._diff_and_display = diff_and_display
    sync._upload_tasks = upload_tasks

    def read_rows(rows: list[Any]) -> list[dict[str, Any]]:
        answers = []
        for item in rows:
            try:
                task = Task(**{**item, "args": item.get("args") or {}})
                (spec,) = sync._build_local_specs([task], console)
            except (Exception, typer.Exit, SystemExit) as err:  # noqa: BLE001 - a refusal is an answer
                answers.append({"refused": f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"})
                continue
            record = {
                "slug": spec["slug"],
                "env": spec["env"],
                "scenario": spec["scenario_name"],
                "args": spec["args"],
                **({"validation": spec["validation"]} if spec.get("validation") is not None else {}),
                **({"agent_config": spec["agent_config"]} if spec.get("agent_config") else {}),
                **({"column_values": spec["columns"]} if spec.get("columns") else {}),
            }
            answers.append({"signature": spec["signature"], "record": record})
        return answers

    def run_sync(request: dict[str, Any]) -> dict[str, Any]:
        return run_command(
            request,
            seen,
            lambda dry_run: sync.sync_tasks_command(
                taskset=request["taskset"], source=request["source"], taskset_id=None, task_filter=None,
                exclude=None, yes=True, dry_run=dry_run, force=False, export=None,
            ),
        )

    return read_rows, run_sync


def v6_handlers() -> tuple[Any, Any]:
    from pathlib import Path

    import hud.cli.sync as sync
    from hud.eval.sync import _task_signature, task_upload_payload
    from hud.eval.task import Task

    seen: dict[str, Any] = {}
    original_diff, original_upload = sync.diff, sync.upload_taskset

    def diff(local, remote):
        plan = original_diff(local, remote)
        seen["create"] = sorted(t.slug for t in plan.to_create)
        seen["update"] = sorted(t.slug for t in plan.to_update)
        seen["unchanged"] = sorted(t.slug for t in plan.unchanged)
        return plan

    def upload_taskset(platform, name, tasks, **kwargs):
        seen["uploaded"] = sorted(t.slug for t in tasks)
        return original_upload(platform, name, tasks, **kwargs)

    sync.diff, sync.upload_taskset = diff, upload_taskset

    def read_rows(rows: list[Any]) -> list[dict[str, Any]]:
        """Each row as the JSON loader reads it (relative to the working folder)."""
        answers = []
        for item in rows:
            try:
                task = Task.model_validate(item, context={"base_path": Path.cwd().resolve()})
                answers.append({"slug": task.slug, "signature": _task_signature(task), "record": task_upload_payload(task)})
            except Exception as err:  # noqa: BLE001 - a refusal is an answer
                answers.append({"refused": f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"})
        return answers

    def run_sync(request: dict[str, Any]) -> dict[str, Any]:
        return run_command(
            request,
            seen,
            lambda dry_run: sync.sync_tasks_command(
                taskset=request["taskset"], source=request["source"], link_target=False, project=None,
                task_filter=None, yes=True, dry_run=dry_run, force=False, export=None,
            ),
        )

    return read_rows, run_sync


def run_command(request: dict[str, Any], seen: dict[str, Any], call: Any) -> dict[str, Any]:
    """`call(dry_run=...)`, the command, in the request's folder; its exit status and what the
    patched plan and upload functions saw."""
    seen.clear()
    os.chdir(request["cwd"])
    code = 0
    try:
        call(bool(request.get("dry_run")))
    except SystemExit as err:
        code = err.code if isinstance(err.code, int) else 1
    except Exception as err:  # noqa: BLE001 - the CLI would end with this traceback
        if type(err).__name__ == "Exit" and isinstance(getattr(err, "exit_code", None), int):  # typer.Exit
            code = err.exit_code  # type: ignore[attr-defined]
        else:
            code = 1
            seen["error"] = f"{type(err).__name__}: {err}"
    return {
        "exit": code,
        "create": seen.get("create"),
        "update": seen.get("update"),
        "unchanged": seen.get("unchanged"),
        "uploaded": seen.get("uploaded", []),
        "error": seen.get("error"),
    }


def serve(channel: Any, read_rows: Any, run_sync: Any) -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "rows":
                if request.get("cwd"):  # where the rows' file would be
                    os.chdir(request["cwd"])
                answer: Any = {"rows": read_rows(request["rows"])}
            elif request["op"] == "sync":
                answer = run_sync(request)
            else:
                answer = {"error": f"unknown op {request['op']!r}"}
        except Exception:  # noqa: BLE001 - report it to the test rather than die silently
            answer = {"error": traceback.format_exc()}
        channel.write(json.dumps(answer) + "\n")
        channel.flush()


if __name__ == "__main__":
    main()
