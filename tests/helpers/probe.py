"""Repository code that looks for the secrets everywhere it can, and reports what it found.

`probe_source(report_path)` is the text of a task file (or a `setup.py`) that, when run, searches
every `/proc/*/environ` and `/proc/*/cmdline` it can read, its own environment, and tries to
ptrace and read the memory of its parent and every ancestor, then writes a JSON report to
`report_path` (a folder every user may write) and defines one task. Ancestors are tried up to the
action's entrypoint (and PID 1): what started the entrypoint is the runner, or here the test. It looks for the test secrets
by their distinctive prefixes and for the names of the variables that carry secrets, so neither
the probe nor its report ever holds a secret itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# Prefixes of the two test secrets (tests/helpers/secrets.py), and the variables that carry secrets.
NEEDLES = ["hud-test-key-", "ghs_testToken", "ACTIONS_RUNTIME_TOKEN=", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=",
           "INPUT_HUD-API-KEY=", "INPUT_GITHUB-TOKEN=", "HUD_API_KEY=", "GITHUB_TOKEN="]

_PROBE = r'''
import ctypes, errno, json, os
NEEDLES = [n.encode() for n in {needles!r}]
report = {{"uid": os.getuid(), "pid": os.getpid(), "environ_read": [], "cmdline_read": [], "hits": [], "ptrace": {{}}, "mem": {{}}, "action": []}}
for name in sorted(os.listdir("/proc")):
    if not name.isdigit():
        continue
    for part in ("environ", "cmdline"):
        try:
            with open(f"/proc/{{name}}/{{part}}", "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        report[part + "_read"].append(int(name))
        report["hits"] += [[int(name), f"/proc/{{name}}/{{part}}: {{n.decode()}}"] for n in NEEDLES if n in data]
own = "\0".join(f"{{k}}={{v}}" for k, v in os.environ.items()).encode()
report["hits"] += [[os.getpid(), f"own environment: {{n.decode()}}"] for n in NEEDLES if n in own]
ancestors, pid = [], os.getppid()
while pid >= 1 and len(ancestors) < 16:
    ancestors.append(pid)
    try:
        with open(f"/proc/{{pid}}/cmdline", "rb") as handle:
            if b"hud_sync_hook\0github" in handle.read():
                report["entrypoint"] = pid
                break  # the entrypoint: what started it is the runner (or the test), not the action
    except OSError:
        pass
    if pid == 1:
        break
    try:
        with open(f"/proc/{{pid}}/stat") as handle:
            pid = int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        break
parents = {{}}
for name in os.listdir("/proc"):
    try:
        with open(f"/proc/{{name}}/stat") as handle:
            parents[int(name)] = int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        pass
tree, grew = set(ancestors), True
while grew:  # the entrypoint and everything it started
    grew = False
    for child, parent in parents.items():
        if parent in tree and child not in tree:
            tree.add(child)
            grew = True
report["action"] = sorted(tree)
if os.path.exists("/proc/1") and 1 not in ancestors:
    ancestors.append(1)
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
for pid in ancestors:
    if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
        report["ptrace"][str(pid)] = "attached"
        os.waitpid(pid, 0x40000000)  # __WALL
        libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
    else:
        report["ptrace"][str(pid)] = errno.errorcode.get(ctypes.get_errno(), "?")
    try:
        with open(f"/proc/{{pid}}/mem", "rb") as handle:
            handle.read(1)
        report["mem"][str(pid)] = "readable"
    except OSError as err:
        report["mem"][str(pid)] = errno.errorcode.get(err.errno, "?")
with open({path!r}, "w") as handle:
    json.dump(report, handle)
'''


def probe_source(report_path: str, *, task: bool = True) -> str:
    text = _PROBE.format(needles=NEEDLES, path=report_path)
    if task:
        text += "tasks = [{'slug': 'probe', 'scenario': 'checkout', 'env': {'name': 'shop'}, 'args': {}}]\n"
    return text


def writable_folder(parent: Path, name: str = "probe") -> Path:
    folder = parent / name
    folder.mkdir()
    os.chmod(folder, 0o777)
    return folder


def read_report(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def assert_nothing_reachable(report: dict, *, expect_other_uid: bool, whole_machine: bool = False) -> None:
    """The probe ran, read what it could, and found no secret: in the action's processes (the
    entrypoint, its children, itself), or with `whole_machine` (a container) in any process at all.
    On a shared test machine other processes (the test's own `serve --api-key ...`, other test
    runs) may show a test secret on their command line; they are not the action's."""
    action = set(report["action"]) | {report["pid"]}
    hits = [text for pid, text in report["hits"] if whole_machine or pid in action]
    assert hits == [], f"repository code reached a secret: {hits}"
    assert len(action) >= 2, "the probe did not find the action's processes: it proves nothing"
    assert report["pid"] in report["environ_read"], "the probe could not even read its own environment: it proves nothing"
    assert report["cmdline_read"], "the probe read no command line: it proves nothing"
    entrypoint = str(report.get("entrypoint"))
    assert entrypoint in report["ptrace"], "the probe did not find the entrypoint among its ancestors"
    # The entrypoint holds the secrets (and PID 1 may be it, in the container); pip or the import
    # child between them run the repository's code themselves and hold none.
    for pid in {entrypoint, "1"}:
        assert report["ptrace"][pid] != "attached", f"repository code could ptrace {pid}: {report['ptrace']}"
        assert report["mem"][pid] != "readable", f"repository code could read the memory of {pid}: {report['mem']}"
    if expect_other_uid:
        assert report["uid"] != 0, "repository code ran as root"
