"""`runtime_config` field by field: for each input, every problem whole (path, message and fix) as a
user reads it, or the whole dump with its key order. Whether each input is accepted, and the dump
of each accepted one, is checked against `hud` 0.6.21's own `Task` at the end of this file (one
process for the whole table); the messages and fixes are ours, the SDK's own are pydantic's."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
from pathlib import Path

import pytest

from hud_sync_hook.dialect.v6_runtime import RuntimeProblem, UnreadComposeFile, read_runtime_config
from tests.dialect.test_v6_runtime import OFFICIAL
from tests.helpers.oracle_v6 import needs_oracle, oracle_python

R = "runtime_config"
RES = f"{R}.resources"
DOC = f"{R}.compose.document"
S = f"{DOC}.services.main"
PORT_FIX = 'write a port as "8080", "8080:80" or "127.0.0.1:8080:80/udp", or as an object with target'
ENV_FIX = 'write environment as an object of names to values, or a list of "KEY=VALUE"'
EMPTY = ("is empty", "write a non-empty string, or leave it out")
WHOLE = "write a whole number such as 5"
MISSING_FILE = UnreadComposeFile("compose.yaml", "names compose.yaml, which does not exist", "create the Compose file, or fix the name")


def service(**fields):
    return {"compose": {"document": {"services": {"main": fields}}}}


def dumped_service(**fields):
    """A service's dump: the given fields in the model's order, with its four defaults."""
    order = ("image", "build", "user", "environment", "entrypoint", "command", "working_dir", "healthcheck", "network_mode", "expose", "ports", "volumes")
    full = {"environment": {}, "expose": [], "ports": [], "volumes": [], **fields}
    return {"compose": {"document": {"services": {"main": {key: full[key] for key in order if key in full}}, "networks": {}}}}


def string(path):
    return (path, "must be a string, found a number", "write it as a string")


def an_object(path, what, found="a string"):
    return (path, f"must be an object ({what}), found {found}", f"write {path} as an object")


REFUSED = [
    # the config and its four parts
    ("x", [an_object(R, "image or compose, resources and limits")]),
    ({"img": "i", "cpu": 1}, [(R, "has unknown key(s) cpu, img", "use only image, compose, resources, limits")]),
    ({"image": 5}, [string(f"{R}.image")]),
    ({"image": ""}, [(f"{R}.image", *EMPTY)]),
    ({"image": "i", "compose": {"document": {"services": {}}}}, [(R, "accepts either image or compose, not both", "keep one of them")]),
    ({"image": "", "resources": 1, "limits": [], "compose": 2}, [
        (f"{R}.image", *EMPTY),
        an_object(f"{R}.compose", "document, root and service_access", "a number"),
        an_object(RES, "cpu, memory_mb, storage_mb, gpu, os, tpu", "a number"),
        an_object(f"{R}.limits", "startup_timeout_s, run_timeout_s", "a list"),
    ]),
    # resources
    ({"resources": {"ram": 1, "cpu": 1}}, [(RES, "has unknown key(s) ram", "use only cpu, memory_mb, storage_mb, gpu, os, tpu")]),
    ({"resources": {"cpu": "two"}}, [(f"{RES}.cpu", "must be a number, found 'two'", "write a number such as 2 or 0.5")]),
    ({"resources": {"cpu": []}}, [(f"{RES}.cpu", "must be a number, found a list", "write a number such as 2 or 0.5")]),
    ({"resources": {"cpu": "nan"}}, [(f"{RES}.cpu", "must be greater than 0, found 'nan'", "write a number greater than 0")]),
    ({"resources": {"cpu": -0.5}}, [(f"{RES}.cpu", "must be greater than 0, found -0.5", "write a number greater than 0")]),
    ({"resources": {"cpu": 10**400}}, [(f"{RES}.cpu", f"must be a number, found {'1' + '0' * 36}...", "write a number such as 2 or 0.5")]),
    ({"resources": {"cpu": "X1", "memory_mb": "X5X"}}, [
        (f"{RES}.cpu", "must be a number, found 'X1'", "write a number such as 2 or 0.5"),
        (f"{RES}.memory_mb", "must be a whole number, found 'X5X'", WHOLE),
    ]),
    ({"resources": {"memory_mb": 1.5, "storage_mb": "0"}}, [
        (f"{RES}.memory_mb", "must be a whole number, found 1.5", WHOLE),
        (f"{RES}.storage_mb", "must be at least 1, found '0'", "write a whole number of 1 or more"),
    ]),
    ({"resources": {"memory_mb": {"mb": 1}}}, [(f"{RES}.memory_mb", "must be a whole number, found an object", WHOLE)]),
    ({"resources": {"memory_mb": "x" * 38}}, [(f"{RES}.memory_mb", f"must be a whole number, found '{'x' * 38}'", WHOLE)]),
    ({"resources": {"memory_mb": "x" * 39}}, [(f"{RES}.memory_mb", f"must be a whole number, found '{'x' * 36}...", WHOLE)]),
    ({"resources": {"storage_mb": 2.0**63}}, [(f"{RES}.storage_mb", "must be a whole number, found 9.223372036854776e+18", WHOLE)]),
    ({"resources": {"storage_mb": -(2.0**63)}}, [(f"{RES}.storage_mb", "must be a whole number, found -9.223372036854776e+18", WHOLE)]),
    ({"resources": {"os": "", "gpu": "A100", "tpu": []}}, [
        an_object(f"{RES}.gpu", "type and count"),
        (f"{RES}.os", *EMPTY),
        an_object(f"{RES}.tpu", "type and topology", "a list"),
    ]),
    ({"resources": {"os": 5}}, [string(f"{RES}.os")]),
    ({"resources": {"gpu": {"kind": "A", "size": 1}}}, [(f"{RES}.gpu", "has unknown key(s) kind, size", "use only type, count")]),
    ({"resources": {"gpu": {"type": ""}}}, [(f"{RES}.gpu.type", *EMPTY)]),
    ({"resources": {"gpu": {"type": 5}}}, [(f"{RES}.gpu.type", "must be a string or a list of strings, found a number", 'write a GPU type such as "A100", or a list of them')]),
    ({"resources": {"gpu": {"type": []}}}, [(f"{RES}.gpu.type", "is an empty list", "write at least one item, or leave it out")]),
    ({"resources": {"gpu": {"type": ["A", 5, None]}}}, [string(f"{RES}.gpu.type[1]"), (f"{RES}.gpu.type[2]", "must be a string, found null", "write it as a string")]),
    ({"resources": {"gpu": {"count": 0}}}, [(f"{RES}.gpu.count", "must be at least 1, found 0", "write a whole number of 1 or more")]),
    ({"resources": {"gpu": {"count": None}}}, [(f"{RES}.gpu.count", "must be a whole number, found None", WHOLE)]),
    ({"resources": {"tpu": {"type": "v4", "shape": 1}}}, [(f"{RES}.tpu", "has unknown key(s) shape", "use only type, topology")]),
    ({"resources": {"tpu": {}}}, [
        (f"{RES}.tpu.type", "is missing", f"set {RES}.tpu.type"),
        (f"{RES}.tpu.topology", "is missing", f"set {RES}.tpu.topology"),
    ]),
    ({"resources": {"tpu": {"type": "", "topology": 5}}}, [(f"{RES}.tpu.type", *EMPTY), string(f"{RES}.tpu.topology")]),
    ({"resources": {"tpu": {"type": 5, "topology": "2x"}}}, [
        string(f"{RES}.tpu.type"),
        (f"{RES}.tpu.topology", "must be sizes joined by x, found '2x'", 'write a topology such as "2x2" or "2x2x4"'),
    ]),
    # limits
    ({"limits": {"timeout": 5, "run_timeout_s": 1}}, [(f"{R}.limits", "has unknown key(s) timeout", "use only startup_timeout_s, run_timeout_s")]),
    ({"limits": {"startup_timeout_s": 0, "run_timeout_s": "soon"}}, [
        (f"{R}.limits.startup_timeout_s", "must be at least 1, found 0", "write a whole number of 1 or more"),
        (f"{R}.limits.run_timeout_s", "must be a whole number, found 'soon'", WHOLE),
    ]),
    # compose: the project
    ({"compose": {}}, [(f"{R}.compose.document", "is missing", f"set {R}.compose.document")]),
    ({"compose": {"document": {"services": {}}, "file": "c.yaml"}}, [(f"{R}.compose", "has unknown key(s) file", "use only document, root, service_access")]),
    ({"compose": {"document": "compose.yaml"}}, [(DOC, "names a file ('compose.yaml'), which is read only for rows of a task file", "write the Compose document inline, as an object with services")]),
    ({"compose": {"document": MISSING_FILE, "root": "."}}, [(DOC, MISSING_FILE.message, MISSING_FILE.fix)]),
    # root goes with the named file: the file's line says what is wrong with either, once
    ({"compose": {"document": MISSING_FILE, "root": 5}}, [(DOC, MISSING_FILE.message, MISSING_FILE.fix)]),
    ({"compose": {"document": MISSING_FILE, "root": {"compose_path": 5}}}, [(DOC, MISSING_FILE.message, MISSING_FILE.fix)]),
    ({"compose": {"document": {"services": {}}, "root": "."}}, [
        (f"{R}.compose.root", "is a folder, which only goes with a document given as a file", 'remove root, or write it as {"compose_path": "compose.yaml"}'),
    ]),
    ({"compose": {"document": {"services": {}}, "root": {}}}, [(f"{R}.compose.root.compose_path", "is missing", f"set {R}.compose.root.compose_path")]),
    ({"compose": {"document": {"services": {}}, "root": {"compose_path": 5}}}, [string(f"{R}.compose.root.compose_path")]),
    ({"compose": {"document": {"services": {}}, "root": 5}}, [an_object(f"{R}.compose.root", "compose_path", "a number")]),
    ({"compose": {"document": {"services": {}}, "root": {"path": "c", "compose_path": "c"}}}, [(f"{R}.compose.root", "has unknown key(s) path", "use only compose_path")]),
    ({"compose": {"document": {"services": {}}, "service_access": "maybe"}}, [(f"{R}.compose.service_access", "must be true or false, found 'maybe'", "write true or false")]),
    # compose: the document
    ({"compose": {"document": 5}}, [an_object(DOC, "a Compose document with services", "a number")]),
    ({"compose": {"document": {"name": "n"}}}, [(f"{DOC}.services", "is missing", f"set {DOC}.services")]),
    ({"compose": {"document": {"name": 5, "services": []}}}, [
        string(f"{DOC}.name"),
        (f"{DOC}.services", "must be an object of services, found a list", "write services as an object of named services"),
    ]),
    ({"compose": {"document": {"services": {}, "networks": []}}}, [(f"{DOC}.networks", "must be an object, found a list", "write networks as an object of named networks")]),
    ({"compose": {"document": {"services": {}, "networks": {"a": None, "b": 5, "c": {}}}}}, [(f"{DOC}.networks.b", "must be an object or null, found a number", "write each network as an object")]),
    ({"compose": {"document": {"services": {"main": "nginx"}}}}, [an_object(S, "a Compose service")]),
    # compose: a service
    (service(image=5, working_dir=5, network_mode=5), [string(f"{S}.image"), string(f"{S}.working_dir"), string(f"{S}.network_mode")]),
    (service(build=5), [(f"{S}.build", "must be a string or an object, found a number", "write build as a path or an object")]),
    (service(user=[1]), [(f"{S}.user", "must be a string or a whole number, found a list", "write the user as a name or a number")]),
    (service(user=1.5), [(f"{S}.user", "must be a string or a whole number, found 1.5", "write the user as a name or a number")]),
    (service(environment=["A=1", "B"]), [(f"{S}.environment[1]", "must be \"KEY=VALUE\", found 'B'", ENV_FIX)]),
    (service(environment=[5]), [(f"{S}.environment[0]", 'must be "KEY=VALUE", found 5', ENV_FIX)]),
    (service(environment={"A": "1", "B": None}), [(f"{S}.environment.B", "has no value (Compose would take it from the host)", "give it a value")]),
    (service(environment="A=1"), [(f"{S}.environment", "must be an object or a list, found a string", ENV_FIX)]),
    (service(environment=None), [(f"{S}.environment", "must be an object or a list, found null", ENV_FIX)]),
    (service(entrypoint=5, command="echo 'open"), [
        (f"{S}.entrypoint", "must be a list of strings, found a number", "write a list of strings"),
        (f"{S}.command", "cannot be split into words (No closing quotation)", "close the quotes, or write it as a list of strings"),
    ]),
    (service(command=["a", 5]), [string(f"{S}.command[1]")]),
    (service(expose="80"), [(f"{S}.expose", "must be a list of strings, found a string", "write a list of strings")]),
    (service(ports="80"), [(f"{S}.ports", "must be a list, found a string", "write ports as a list")]),
    (service(ports=["80", "80/sctp"]), [(f"{S}.ports[1]", "has the unsupported protocol 'sctp'", PORT_FIX)]),
    (service(ports=["80/"]), [(f"{S}.ports[0]", "has the unsupported protocol ''", PORT_FIX)]),
    (service(ports=[80, "+80"]), [(f"{S}.ports[1]", "is not a port Compose can publish here: '+80'", PORT_FIX)]),
    (service(ports=["8000-8001:80"]), [(f"{S}.ports[0]", "is not a port Compose can publish here: '8000-8001:80'", PORT_FIX)]),
    (service(ports=["80-81"]), [(f"{S}.ports[0]", "is not a port Compose can publish here: '80-81'", PORT_FIX)]),
    (service(ports=["+8080:80"]), [(f"{S}.ports[0]", "is not a port Compose can publish here: '+8080:80'", PORT_FIX)]),
    (service(ports=["²"]), [(f"{S}.ports[0]", "is not a port Compose can publish here: '²'", PORT_FIX)]),
    (service(ports=["1:²:80"]), [(f"{S}.ports[0]", "is not a port Compose can publish here: '1:²:80'", PORT_FIX)]),
    (service(ports=[1.5, {"protocol": "tcp"}, {"target": "x", "protocol": 5}]), [
        an_object(f"{S}.ports[0]", "a port with target", "a number"),
        (f"{S}.ports[1].target", "is missing", f"set {S}.ports[1].target"),
        (f"{S}.ports[2].target", "must be a whole number, found 'x'", WHOLE),
        string(f"{S}.ports[2].protocol"),
    ]),
    (service(volumes="a:/b"), [(f"{S}.volumes", "must be a list, found a string", "write volumes as a list")]),
    (service(volumes=["a:/b", 5, {}, None]), [
        (f"{S}.volumes[1]", "must be a string or an object, found a number", 'write a volume as "source:target" or an object'),
        (f"{S}.volumes[3]", "must be a string or an object, found null", 'write a volume as "source:target" or an object'),
    ]),
    (service(healthcheck="CMD true"), [an_object(f"{S}.healthcheck", "a Compose healthcheck")]),
    (service(healthcheck={"disable": "maybe", "test": "CMD true", "interval": 5, "timeout": 5, "start_period": 5, "start_interval": 5, "retries": "x"}), [
        (f"{S}.healthcheck.disable", "must be true or false, found 'maybe'", "write true or false"),
        (f"{S}.healthcheck.test", "must be a list of strings, found a string", "write a list of strings"),
        string(f"{S}.healthcheck.interval"),
        string(f"{S}.healthcheck.timeout"),
        string(f"{S}.healthcheck.start_period"),
        string(f"{S}.healthcheck.start_interval"),
        (f"{S}.healthcheck.retries", "must be a whole number, found 'x'", WHOLE),
    ]),
    (service(healthcheck={"test": []}), [(f"{S}.healthcheck.test", "is an empty list", "write at least one item, or leave it out")]),
]

ACCEPTED = [
    ({}, {}),
    ({"image": "i", "compose": None, "resources": None, "limits": None}, {"image": "i", "compose": None, "resources": None, "limits": None}),
    ({"limits": {"startup_timeout_s": "5", "run_timeout_s": 9.223372036854775e18}}, {"limits": {"startup_timeout_s": 5, "run_timeout_s": 9223372036854774784}}),
    ({"limits": {"startup_timeout_s": None, "run_timeout_s": "0__1_0"}}, {"limits": {"run_timeout_s": 10}}),
    (
        {"resources": {"tpu": {"type": "v", "topology": "2x2"}, "os": "l", "gpu": {"count": "2", "type": "A"}, "storage_mb": 2.0, "memory_mb": "1_024", "cpu": "0.5"}},
        {"resources": {"cpu": 0.5, "memory_mb": 1024, "storage_mb": 2, "gpu": {"type": "A", "count": 2}, "os": "l", "tpu": {"type": "v", "topology": "2x2"}}},
    ),
    ({"resources": {"cpu": True, "gpu": {"type": ["A"]}, "os": None, "tpu": None}}, {"resources": {"cpu": 1.0, "gpu": {"type": ["A"]}}}),
    ({"resources": {"cpu": "inf", "gpu": {"type": ["A", "B"], "count": True}}}, {"resources": {"cpu": None, "gpu": {"type": ["A", "B"], "count": 1}}}),
    ({"resources": {"gpu": {}}}, {"resources": {"gpu": {}}}),
    (
        {"compose": {"document": {"name": "p", "services": {"a": {}, "b": {"image": "i", "x-b": None}}, "networks": {"n": None, "m": {"driver": "bridge"}}, "x-top": [1], "gone": None}, "root": {"compose_path": "c.yaml"}, "service_access": "yes"}},
        {"compose": {"document": {"name": "p", "services": {"a": {"environment": {}, "expose": [], "ports": [], "volumes": []}, "b": {"image": "i", "environment": {}, "expose": [], "ports": [], "volumes": []}}, "networks": {"n": None, "m": {"driver": "bridge"}}, "x-top": [1]}, "root": {"compose_path": "c.yaml"}, "service_access": True}},
    ),
    (
        {"compose": {"document": {"name": None, "services": {}}, "root": None, "service_access": None}},
        {"compose": {"document": {"services": {}, "networks": {}}, "root": None, "service_access": None}},
    ),
    (
        service(
            **{"x-first": {"k": 1}},
            volumes=["a:/b", {"type": "bind"}],
            ports=[80, "81", "8080:82", ":83", "127.0.0.1:8084:84/udp", "::1:8085:85", "86/tcp", "h::87", {"target": "88", "protocol": "udp", "x": 1, "y": None}],
            expose=[80, "81/udp"],
            network_mode="host",
            healthcheck={"x-h": 1, "gone": None, "retries": "-3", "start_interval": "1s", "start_period": "2s", "timeout": "3s", "interval": "4s", "test": ["CMD", "true"], "disable": "yes"},
            working_dir="/w",
            command=[],
            entrypoint="sh -c 'echo hi'",
            environment={"A": True, "B": 1, "C": "x", "D": False},
            user=5.0,
            build={"context": "."},
            image="img",
        ),
        {"compose": {"document": {"services": {"main": {
            "image": "img",
            "build": {"context": "."},
            "user": 5,
            "environment": {"A": "true", "B": "1", "C": "x", "D": "false"},
            "entrypoint": ["sh", "-c", "echo hi"],
            "command": [],
            "working_dir": "/w",
            "healthcheck": {"disable": True, "test": ["CMD", "true"], "interval": "4s", "timeout": "3s", "start_period": "2s", "start_interval": "1s", "retries": -3, "x-h": 1},
            "network_mode": "host",
            "expose": ["80", "81/udp"],
            "ports": [
                {"target": 80, "protocol": "tcp"},
                {"target": 81, "protocol": "tcp"},
                {"target": 82, "protocol": "tcp", "published": 8080},
                {"target": 83, "protocol": "tcp"},
                {"target": 84, "protocol": "udp", "published": 8084, "host_ip": "127.0.0.1"},
                {"target": 85, "protocol": "tcp", "published": 8085, "host_ip": "::1"},
                {"target": 86, "protocol": "tcp"},
                {"target": 87, "protocol": "tcp", "host_ip": "h"},
                {"target": 88, "protocol": "udp", "x": 1},
            ],
            "volumes": ["a:/b", {"type": "bind"}],
            "x-first": {"k": 1},
        }}, "networks": {}}}},
    ),
    (service(environment=["A=1=2", "B=", "A=3"], user="1000", build="."), dumped_service(build=".", user="1000", environment={"A": "3", "B": ""})),
    (service(user="5", healthcheck={}, command="a 'b c'", ports=["١"]), dumped_service(user="5", healthcheck={}, command=["a", "b c"], ports=[{"target": 1, "protocol": "tcp"}])),
    (service(healthcheck={"disable": False, "test": ["x", ""]}, user=True, environment={}), dumped_service(user=1, healthcheck={"disable": False, "test": ["x", ""]})),
]


@pytest.mark.parametrize("config, expected", REFUSED)
def test_each_refused_field_is_named_whole_with_its_fix(config, expected):
    dump, problems = read_runtime_config(config)
    assert [(p.path, p.message, p.fix) for p in problems] == expected
    assert dump is None  # no half-read config to upload


@pytest.mark.parametrize("config, expected", ACCEPTED)
def test_each_accepted_config_is_dumped_whole_in_the_sdks_order(config, expected):
    dump, problems = read_runtime_config(config)
    assert [str(p) for p in problems] == []
    assert json.dumps(dump) == json.dumps(expected)  # the order of keys too


def test_no_config_is_no_dump_and_no_problem():
    assert read_runtime_config(None) == (None, [])


def test_a_problem_reads_as_its_path_and_message_and_copies_whole():
    (problem,) = read_runtime_config({"image": ""})[1]
    assert str(problem) == "runtime_config.image is empty"
    for twin in (copy.copy(problem), pickle.loads(pickle.dumps(problem))):
        assert (type(twin), str(twin), twin.path, twin.message, twin.fix) == (RuntimeProblem, str(problem), problem.path, problem.message, problem.fix)
    assert read_runtime_config({"image": ""}, "verifier.runtime_config")[1][0].path == "verifier.runtime_config.image"


@needs_oracle
def test_the_sdk_accepts_refuses_and_dumps_the_table_the_same(tmp_path: Path):
    configs = [config for config, _ in REFUSED + ACCEPTED]
    (tmp_path / "in.json").write_text(json.dumps({"configs": configs, "numbers": []}))
    proc = subprocess.run([oracle_python(), "-c", OFFICIAL, str(tmp_path / "in.json")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    official = json.loads(proc.stdout)["configs"]
    disagreements = [
        f"{config!r}: official {theirs}"
        for (config, _), theirs in zip(REFUSED, official)
        if "refused" not in theirs
    ] + [
        f"{config!r}: ours {json.dumps(dump)}, official {theirs}"
        for (config, dump), theirs in zip(ACCEPTED, official[len(REFUSED):])
        if json.dumps(theirs.get("dump")) != json.dumps(dump)
    ]
    assert len(official) == len(configs)
    assert not disagreements, "\n".join(disagreements)
