"""`runtime_config` read as the v6 SDK's models read it: accepted, refused and dumped the same, over
seeded random configs of every nested model, compared with `hud` 0.6.21's own `Task`; and the lax
number parsing compared with pydantic's own."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from hud_sync_hook.dialect.v6_model import task_from_mapping, validate_task
from hud_sync_hook.dialect.v6_runtime import _lax_float, _lax_int, read_runtime_config
from hud_sync_hook.model import Location
from tests.dialect.v6_rows import runtime_config
from tests.helpers.oracle_v6 import needs_oracle, oracle_python

OFFICIAL = """
import json, sys
from pydantic import TypeAdapter
from hud.eval.task import Task
from hud.eval.sync import task_upload_payload
data = json.load(open(sys.argv[1]))
configs = []
for config in data["configs"]:
    try:
        task = Task.model_validate({"env": "e", "id": "t", "runtime_config": config})
        configs.append({"dump": task_upload_payload(task).get("runtime_config")})
    except Exception as err:  # a refusal is an answer (a Compose file name fails when dumped)
        configs.append({"refused": str(err).splitlines()[0]})
numbers = []
for text in data["numbers"]:
    row = []
    for adapter in (TypeAdapter(int), TypeAdapter(float)):
        try:
            row.append(repr(adapter.validate_python(text)))
        except Exception:
            row.append(None)
    numbers.append(row)
print(json.dumps({"configs": configs, "numbers": numbers}))
"""

_CHARS = list("0123456789_.+-eEinfatyNI x") + ["\t", "\n", "\xa0", "\u2028", "\u3000", "\x1c", "\u200b", "١", "²"]


@needs_oracle
def test_runtime_configs_are_accepted_refused_and_dumped_as_the_sdk_does(tmp_path: Path):
    rng = random.Random(20261129)
    configs = [runtime_config(rng, p_bad=rng.choice([0.0, 0.1, 0.3])) for _ in range(3000)]
    numbers = ["".join(rng.choice(_CHARS) for _ in range(rng.randint(0, 6))) for _ in range(3000)]
    numbers += ["0-5", "0__2", "+_1", "1_0 ", "5.0", "5.", "1e3", "nan", "-inf", " 7 "]
    (tmp_path / "in.json").write_text(json.dumps({"configs": configs, "numbers": numbers}))
    proc = subprocess.run([oracle_python(), "-c", OFFICIAL, str(tmp_path / "in.json")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    official = json.loads(proc.stdout)
    disagreements = []
    refused = 0
    for config, theirs in zip(configs, official["configs"]):
        dump, problems = read_runtime_config(config)
        refused += "refused" in theirs
        if ("refused" in theirs) != bool(problems):
            disagreements.append(f"{config!r}: ours {[str(p) for p in problems] or 'accepts'}, official {theirs}")
        elif not problems and json.dumps(dump) != json.dumps(theirs["dump"]):  # the order of keys too
            disagreements.append(f"{config!r}: ours dumps {json.dumps(dump)}, official {json.dumps(theirs['dump'])}")
    for text, (as_int, as_float) in zip(numbers, official["numbers"]):
        ours = [_lax_int(text), _lax_float(text)]
        if [None if v is None else repr(v) for v in ours] != [as_int, as_float]:
            disagreements.append(f"number {text!r}: ours {ours}, official {as_int} {as_float}")
    assert len(official["configs"]) == len(configs) and 300 < refused < 2700  # both kinds, many of each
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(disagreements[:20])


def _problems(config):
    task = task_from_mapping({"env": "e", "id": "t", "runtime_config": config}, Location("tasks.jsonl", 4))
    return [(str(p.location), p.message, p.fix) for p in validate_task(task)]


@pytest.mark.parametrize(
    "config, message, fix",
    [
        ({"resources": {"cpu": "two"}}, "runtime_config.resources.cpu must be a number, found 'two'", "write a number such as 2 or 0.5"),
        ({"resources": {"cpu": 0}}, "runtime_config.resources.cpu must be greater than 0, found 0", "write a number greater than 0"),
        ({"resources": {"memory_mb": 1.5}}, "runtime_config.resources.memory_mb must be a whole number, found 1.5", "write a whole number such as 5"),
        ({"resources": {"gpu": {"count": 0}}}, "runtime_config.resources.gpu.count must be at least 1, found 0", "write a whole number of 1 or more"),
        ({"resources": {"gpu": {"type": []}}}, "runtime_config.resources.gpu.type is an empty list", "write at least one item, or leave it out"),
        ({"resources": {"tpu": {"type": "v4", "topology": "2"}}}, "runtime_config.resources.tpu.topology must be sizes joined by x, found '2'", 'write a topology such as "2x2" or "2x2x4"'),
        ({"resources": {"tpu": {"type": "v4"}}}, "runtime_config.resources.tpu.topology is missing", "set runtime_config.resources.tpu.topology"),
        ({"limits": {"run_timeout_s": "soon"}}, "runtime_config.limits.run_timeout_s must be a whole number, found 'soon'", "write a whole number such as 5"),
        ({"limits": {"timeout": 5}}, "runtime_config.limits has unknown key(s) timeout", "use only startup_timeout_s, run_timeout_s"),
        ({"image": ""}, "runtime_config.image is empty", "write a non-empty string, or leave it out"),
        ({"compose": {"document": "compose.yaml"}}, "runtime_config.compose.document names a file", "write the Compose document inline, as an object with services"),
        ({"compose": {"document": {"services": {"main": {"environment": {"A": None}}}}}}, "runtime_config.compose.document.services.main.environment.A has no value", "give it a value"),
        ({"compose": {"document": {"services": {"main": {"ports": ["80/sctp"]}}}}}, "runtime_config.compose.document.services.main.ports[0] has the unsupported protocol 'sctp'", None),
        ({"compose": {"document": {"services": {"main": {"command": "echo 'open"}}}}}, "runtime_config.compose.document.services.main.command cannot be split into words", "close the quotes, or write it as a list of strings"),
    ],
)
def test_a_refused_field_is_named_with_its_fix_at_the_row_line(config, message, fix):
    (found,) = _problems(config)
    assert found[0] == "tasks.jsonl:4"
    assert found[1].startswith("task 't': ") and message in found[1], found
    assert fix is None or found[2] == fix


def test_every_refused_field_is_reported_not_only_the_first():
    found = _problems({"resources": {"cpu": 0, "memory_mb": "x"}, "limits": {"run_timeout_s": -1}})
    assert [m.split(": ", 1)[1].split(" ", 1)[0] for _, m, _ in found] == [
        "runtime_config.resources.cpu",
        "runtime_config.resources.memory_mb",
        "runtime_config.limits.run_timeout_s",
    ]


def test_the_dump_keeps_top_level_nulls_drops_nested_ones_and_fills_compose_defaults():
    dump, problems = read_runtime_config(
        {
            "image": None,
            "compose": {"document": {"services": {"main": {"image": None, "ports": ["127.0.0.1:8080:80/udp", 81], "environment": ["A=1"], "expose": [80]}}}, "root": None},
            "resources": {"cpu": 2, "memory_mb": "512", "os": None, "gpu": {"type": None}},
            "limits": {"run_timeout_s": 60.0, "startup_timeout_s": None},
        }
    )
    assert problems == []
    assert json.dumps(dump) == json.dumps(
        {
            "image": None,
            "compose": {
                "document": {
                    "services": {
                        "main": {
                            "environment": {"A": "1"},
                            "expose": ["80"],
                            "ports": [{"target": 80, "protocol": "udp", "published": 8080, "host_ip": "127.0.0.1"}, {"target": 81, "protocol": "tcp"}],
                            "volumes": [],
                        }
                    },
                    "networks": {},
                },
                "root": None,
            },
            "resources": {"cpu": 2.0, "memory_mb": 512, "gpu": {}},
            "limits": {"run_timeout_s": 60},
        }
    )
