"""A v6 task's `runtime_config`, read as the SDK's models read it, and dumped as they dump it.

Pure: no I/O, no pydantic. Follows `hud.eval.runtime.core.RuntimeConfig` of `hud` 0.6.21 and the
models under it (`RuntimeResources` with `RuntimeGPU` and `RuntimeTPU`, `RuntimeLimits`,
`ComposeProject` with `ComposeConfig`, `ComposeService`, `ComposeHealthcheck`, `ComposePort`,
`ComposeProjectRef`): the same lax coercions (`"2"` is a number, `5.0` an integer, `"yes"` true),
the same refusals (unknown keys where a model forbids them, empty strings where a minimum length is
set, numbers out of range), and the dump `Task.model_dump(mode="json", exclude_none=True)` makes of
it: the fields written, explicit nulls kept at the top level and in `compose`, none inside
`resources` and `limits`, a Compose document in full with its defaults.

A Compose `document` given as a file name is read by the dialect (v6_compose) before this reader
sees the row; here it is refused, with the reason that reading gave.
"""

from __future__ import annotations

import math
import re
import shlex
from typing import Any, Callable

from hud_sync_hook.model import describe_type, shortened
from hud_sync_hook.task_row import read_bool

_BAD: Any = object()  # a field that was refused; its problem is already recorded (and no dump is made)
_I64 = 2**63

# pydantic-core's lax number parsing of strings: ASCII digits, surrounding whitespace stripped; an
# integer may have single underscores between digits and end in `.0…`; a float may be
# inf/infinity/nan, and its underscores are dropped (see _lax_float).
_INT_TEXT = re.compile(r"[+-]?\d(?:_?\d)*(?:\.0+)?", re.ASCII)
# Leading zeros (and underscores among them) are dropped before the rest is read, so that pydantic
# reads "0-5" as -5 and "0__2" as 2.
_INT_AFTER_ZEROS = re.compile(r"0[0_]*(-?)(0|[1-9](?:_?\d)*)(?:\.0+)?", re.ASCII)
_FLOAT_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_FLOAT_WORDS = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
# Unicode's White_Space, which is what is stripped (Python's str.strip() also strips \x1c-\x1f).
_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_TOPOLOGY = re.compile(r"[1-9]\d*(?:x[1-9]\d*)+", re.ASCII)


class RuntimeProblem(Exception):
    """A field of `runtime_config` the SDK refuses: where it is, what is wrong and the fix."""

    # BaseException keeps (path, message, fix) as its args, so a problem copies and pickles whole.
    def __init__(self, path: str, message: str, fix: str) -> None:
        self.path = path
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.path} {self.message}"


class _Reader:
    def __init__(self) -> None:
        self.problems: list[RuntimeProblem] = []

    def bad(self, path: str, message: str, fix: str) -> Any:
        self.problems.append(RuntimeProblem(path, message, fix))
        return _BAD

    # -- scalars ----------------------------------------------------------------------------------

    def string(self, value: Any, path: str, *, min_length: int = 0) -> Any:
        if not isinstance(value, str):
            return self.bad(path, f"must be a string, found {describe_type(value)}", "write it as a string")
        if len(value) < min_length:
            return self.bad(path, "is empty", "write a non-empty string, or leave it out")
        return value

    def integer(self, value: Any, path: str, *, minimum: int | None = None) -> Any:
        number = _lax_int(value)
        if number is None:
            return self.bad(path, f"must be a whole number, found {_shown(value)}", "write a whole number such as 5")
        if minimum is not None and number < minimum:
            return self.bad(path, f"must be at least {minimum}, found {_shown(value)}", f"write a whole number of {minimum} or more")
        return number

    def number(self, value: Any, path: str) -> Any:
        number = _lax_float(value)
        if number is None:
            return self.bad(path, f"must be a number, found {_shown(value)}", "write a number such as 2 or 0.5")
        if not number > 0:
            return self.bad(path, f"must be greater than 0, found {_shown(value)}", "write a number greater than 0")
        return number

    def boolean(self, value: Any, path: str) -> Any:
        flag = read_bool(value)
        if flag is None:
            return self.bad(path, f"must be true or false, found {_shown(value)}", "write true or false")
        return flag

    def string_list(self, value: Any, path: str, *, min_length: int = 0) -> Any:
        if not isinstance(value, list):
            return self.bad(path, f"must be a list of strings, found {describe_type(value)}", "write a list of strings")
        if len(value) < min_length:
            return self.bad(path, "is an empty list", "write at least one item, or leave it out")
        return [self.string(item, f"{path}[{i}]") for i, item in enumerate(value)]

    def optional(self, read: Callable[..., Any], value: Any, path: str, **options: Any) -> Any:
        return None if value is None else read(value, path, **options)

    # -- models -----------------------------------------------------------------------------------

    def fields(self, value: Any, path: str, *, only: tuple[str, ...] | None = None, what: str) -> Any:
        """The object's keys, refusing any key not in `only` when given (a model that forbids extras)."""
        if not isinstance(value, dict):
            return self.bad(path, f"must be an object ({what}), found {describe_type(value)}", f"write {path} as an object")
        if only is not None:
            unknown = [str(key) for key in value if key not in only]
            if unknown:
                return self.bad(path, f"has unknown key(s) {', '.join(sorted(unknown))}", "use only " + ", ".join(only))
        return value

    def required(self, value: dict[str, Any], key: str, path: str) -> Any:
        if key not in value:
            return self.bad(f"{path}.{key}", "is missing", f"set {path}.{key}")
        return value[key]


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return describe_type(value)
    return shortened(repr(value))


def _lax_int(value: Any) -> int | None:
    """An integer as pydantic's lax mode reads it, or None when it would refuse the value."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and -_I64 < value < _I64:
            return int(value)
        return None
    if isinstance(value, str):
        text = value.strip(_SPACE)
        if _INT_TEXT.fullmatch(text):
            return int(text.partition(".")[0])  # int() itself reads single underscores between digits
        quirk = _INT_AFTER_ZEROS.fullmatch(text)
        if quirk:
            return int(quirk.group(1) + quirk.group(2))
    return None


def _lax_float(value: Any) -> float | None:
    """A float as pydantic's lax mode reads it, or None when it would refuse the value."""
    if isinstance(value, int):  # a boolean too: 1.0 or 0.0
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        if "_" in value:  # then nothing is stripped, and underscores go wherever they are single
            if value.startswith("_") or value.endswith("_") or "__" in value:
                return None
            text = value.replace("_", "")
        else:
            text = value.strip(_SPACE)
        if _FLOAT_TEXT.fullmatch(text) or _FLOAT_WORDS.fullmatch(text):
            return float(text)
    return None


def _json_float(number: float) -> float | None:
    """A float in `model_dump(mode="json")`: infinity and NaN become null."""
    return number if math.isfinite(number) else None


# -- resources and limits ---------------------------------------------------------------------------


def _gpu(r: _Reader, value: Any, path: str) -> Any:
    data = r.fields(value, path, only=("type", "count"), what="type and count")
    if data is _BAD:
        return _BAD
    out: dict[str, Any] = {}
    if data.get("type") is not None:  # dumped without nulls, as resources are
        kind = data["type"]
        if isinstance(kind, str):
            out["type"] = r.string(kind, f"{path}.type", min_length=1)
        elif isinstance(kind, list):
            out["type"] = r.string_list(kind, f"{path}.type", min_length=1)
        else:
            r.bad(f"{path}.type", f"must be a string or a list of strings, found {describe_type(kind)}", "write a GPU type such as \"A100\", or a list of them")
    if "count" in data:
        out["count"] = r.integer(data["count"], f"{path}.count", minimum=1)
    return out


def _tpu(r: _Reader, value: Any, path: str) -> Any:
    data = r.fields(value, path, only=("type", "topology"), what="type and topology")
    if data is _BAD:
        return _BAD
    out: dict[str, Any] = {}
    kind = r.required(data, "type", path)
    out["type"] = kind if kind is _BAD else r.string(kind, f"{path}.type", min_length=1)
    topology = r.required(data, "topology", path)
    if topology is not _BAD:
        topology = r.string(topology, f"{path}.topology")
        if topology is not _BAD and not _TOPOLOGY.fullmatch(topology):
            topology = r.bad(f"{path}.topology", f"must be sizes joined by x, found {_shown(topology)}", "write a topology such as \"2x2\" or \"2x2x4\"")
    out["topology"] = topology
    return out


_RESOURCES = ("cpu", "memory_mb", "storage_mb", "gpu", "os", "tpu")


def _resources(r: _Reader, value: Any, path: str) -> Any:
    data = r.fields(value, path, only=_RESOURCES, what=", ".join(_RESOURCES))
    if data is _BAD:
        return _BAD
    out: dict[str, Any] = {}
    for key in _RESOURCES:
        if key not in data or data[key] is None:
            continue  # dumped without nulls
        item, where = data[key], f"{path}.{key}"
        if key == "cpu":
            number = r.number(item, where)
            out[key] = number if number is _BAD else _json_float(number)
        elif key in ("memory_mb", "storage_mb"):
            out[key] = r.integer(item, where, minimum=1)
        elif key == "os":
            out[key] = r.string(item, where, min_length=1)
        elif key == "gpu":
            out[key] = _gpu(r, item, where)
        else:
            out[key] = _tpu(r, item, where)
    return out


_LIMITS = ("startup_timeout_s", "run_timeout_s")


def _limits(r: _Reader, value: Any, path: str) -> Any:
    data = r.fields(value, path, only=_LIMITS, what=", ".join(_LIMITS))
    if data is _BAD:
        return _BAD
    return {key: r.integer(data[key], f"{path}.{key}", minimum=1) for key in _LIMITS if data.get(key) is not None}


# -- compose ------------------------------------------------------------------------------------------


def _extras(data: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    """Keys a model keeps as they came (`extra="allow"`), dumped without the null ones."""
    return {key: item for key, item in data.items() if key not in known and item is not None}


_HEALTHCHECK = ("disable", "test", "interval", "timeout", "start_period", "start_interval", "retries")


def _healthcheck(r: _Reader, value: Any, path: str) -> Any:
    data = r.fields(value, path, what="a Compose healthcheck")
    if data is _BAD:
        return _BAD
    out: dict[str, Any] = {}
    for key in _HEALTHCHECK:
        item = data.get(key)
        if item is None:
            continue
        where = f"{path}.{key}"
        if key == "disable":
            out[key] = r.boolean(item, where)
        elif key == "test":
            out[key] = r.string_list(item, where, min_length=1)
        elif key == "retries":
            out[key] = r.integer(item, where)
        else:
            out[key] = r.string(item, where)
    return {**out, **_extras(data, _HEALTHCHECK)}


def _port_items(r: _Reader, value: list[Any], path: str) -> Any:
    """`ComposeService.normalize_ports`: numbers and `[host:][published:]target[/protocol]`."""
    ports: list[Any] = []
    for i, item in enumerate(value):
        if isinstance(item, int):  # a boolean too, as in the SDK
            ports.append({"target": item})
            continue
        if not isinstance(item, str):
            ports.append(item)
            continue
        fix = "write a port as \"8080\", \"8080:80\" or \"127.0.0.1:8080:80/udp\", or as an object with target"
        address, separator, protocol = item.partition("/")
        if separator and protocol not in {"tcp", "udp"}:
            return r.bad(f"{path}[{i}]", f"has the unsupported protocol {protocol!r}", fix)
        parts = address.rsplit(":", 2)
        target = parts[-1]
        try:  # the SDK also tests for "-" (a range), which isdigit() already refuses
            if not target.isdigit():
                raise ValueError
            port: dict[str, Any] = {"target": int(target)}
            if separator:
                port["protocol"] = protocol
            if len(parts) >= 2:
                published = parts[-2]
                if published and not published.isdigit():
                    raise ValueError
                if published:
                    port["published"] = int(published)
            if len(parts) == 3:
                port["host_ip"] = parts[0]
        except ValueError:
            return r.bad(f"{path}[{i}]", f"is not a port Compose can publish here: {_shown(item)}", fix)
        ports.append(port)
    return ports


def _port(r: _Reader, value: Any, path: str) -> Any:
    data = r.fields(value, path, what="a port with target")
    if data is _BAD:
        return _BAD
    target = r.required(data, "target", path)
    out = {"target": target if target is _BAD else r.integer(target, f"{path}.target")}
    out["protocol"] = r.string(data["protocol"], f"{path}.protocol") if "protocol" in data else "tcp"
    return {**out, **_extras(data, ("target", "protocol"))}


_SERVICE = (
    "image", "build", "user", "environment", "entrypoint", "command", "working_dir", "healthcheck",
    "network_mode", "expose", "ports", "volumes",
)  # fmt: skip


def _environment(r: _Reader, value: Any, path: str) -> Any:
    fix = "write environment as an object of names to values, or a list of \"KEY=VALUE\""
    if isinstance(value, list):
        environment: dict[str, str] = {}
        for i, item in enumerate(value):
            if not isinstance(item, str) or "=" not in item:
                return r.bad(f"{path}[{i}]", f"must be \"KEY=VALUE\", found {_shown(item)}", fix)
            key, _, item_value = item.partition("=")
            environment[key] = item_value
        return environment
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                return r.bad(f"{path}.{key}", "has no value (Compose would take it from the host)", "give it a value")
        return {str(key): str(item).lower() if isinstance(item, bool) else str(item) for key, item in value.items()}
    return r.bad(path, f"must be an object or a list, found {describe_type(value)}", fix)


def _command(r: _Reader, value: Any, path: str) -> Any:
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as err:
            return r.bad(path, f"cannot be split into words ({err})", "close the quotes, or write it as a list of strings")
    return r.string_list(value, path)


def _service(r: _Reader, value: Any, path: str) -> Any:
    data = r.fields(value, path, what="a Compose service")
    if data is _BAD:
        return _BAD
    out: dict[str, Any] = {}
    for key in _SERVICE:
        where = f"{path}.{key}"
        if key in ("environment", "expose", "ports", "volumes"):
            item = data.get(key, [])  # left out: empty (an empty list is an empty environment too)
            if key == "environment":
                out[key] = _environment(r, item, where)
            elif key == "expose":
                out[key] = [str(port) for port in item] if isinstance(item, list) else r.string_list(item, where)
            elif key == "ports":
                if not isinstance(item, list):
                    out[key] = r.bad(where, f"must be a list, found {describe_type(item)}", "write ports as a list")
                else:
                    items = _port_items(r, item, where)
                    out[key] = items if items is _BAD else [_port(r, port, f"{where}[{i}]") for i, port in enumerate(items)]
            else:
                if not isinstance(item, list):
                    out[key] = r.bad(where, f"must be a list, found {describe_type(item)}", "write volumes as a list")
                else:
                    for i, volume in enumerate(item):
                        if not isinstance(volume, (str, dict)):
                            r.bad(f"{where}[{i}]", f"must be a string or an object, found {describe_type(volume)}", "write a volume as \"source:target\" or an object")
                    out[key] = item
            continue
        item = data.get(key)
        if item is None:
            continue
        if key == "build":
            out[key] = item if isinstance(item, (str, dict)) else r.bad(where, f"must be a string or an object, found {describe_type(item)}", "write build as a path or an object")
        elif key == "user":
            if isinstance(item, str):
                out[key] = item
            else:
                number = _lax_int(item)
                out[key] = number if number is not None else r.bad(where, f"must be a string or a whole number, found {_shown(item)}", "write the user as a name or a number")
        elif key in ("entrypoint", "command"):
            out[key] = _command(r, item, where)
        elif key == "healthcheck":
            out[key] = _healthcheck(r, item, where)
        else:
            out[key] = r.string(item, where)
    return {**out, **_extras(data, _SERVICE)}


_CONFIG = ("name", "services", "networks")


class UnreadComposeFile(str):
    """A Compose file name that could not be read into its document, and why (v6_compose)."""

    message: str
    fix: str

    def __new__(cls, name: str, message: str, fix: str) -> UnreadComposeFile:
        self = super().__new__(cls, name)
        self.message, self.fix = message, fix
        return self


def _document(r: _Reader, value: Any, path: str) -> Any:
    if isinstance(value, UnreadComposeFile):
        return r.bad(path, value.message, value.fix)
    if isinstance(value, str):  # only a task file's own rows are read with their Compose files
        return r.bad(path, f"names a file ({_shown(value)}), which is read only for rows of a task file", "write the Compose document inline, as an object with services")
    data = r.fields(value, path, what="a Compose document with services")
    if data is _BAD:
        return _BAD
    out: dict[str, Any] = {}
    if data.get("name") is not None:
        out["name"] = r.string(data["name"], f"{path}.name")
    services = r.required(data, "services", path)
    if services is not _BAD:
        if not isinstance(services, dict):
            services = r.bad(f"{path}.services", f"must be an object of services, found {describe_type(services)}", "write services as an object of named services")
        else:
            services = {name: _service(r, service, f"{path}.services.{name}") for name, service in services.items()}
    out["services"] = services
    networks = data.get("networks", {})
    if not isinstance(networks, dict):
        networks = r.bad(f"{path}.networks", f"must be an object, found {describe_type(networks)}", "write networks as an object of named networks")
    else:
        for name, network in networks.items():
            if network is not None and not isinstance(network, dict):
                r.bad(f"{path}.networks.{name}", f"must be an object or null, found {describe_type(network)}", "write each network as an object")
    out["networks"] = networks
    return {**out, **_extras(data, _CONFIG)}


_PROJECT = ("document", "root", "service_access")


def _compose(r: _Reader, value: Any, path: str) -> Any:
    data = r.fields(value, path, only=_PROJECT, what="document, root and service_access")
    if data is _BAD:
        return _BAD
    document = r.required(data, "document", path)
    out: dict[str, Any] = {"document": document if document is _BAD else _document(r, document, f"{path}.document")}
    if "root" in data:
        root = data["root"]
        where = f"{path}.root"
        if root is None:
            out["root"] = None
        elif isinstance(data.get("document"), UnreadComposeFile):
            pass  # root goes with the named file: a problem with either is the file's, reported once
        elif isinstance(root, str):
            r.bad(where, "is a folder, which only goes with a document given as a file", f"remove root, or write it as {{\"compose_path\": \"compose.yaml\"}}")
        else:
            ref = r.fields(root, where, only=("compose_path",), what="compose_path")
            if ref is not _BAD:
                path_value = r.required(ref, "compose_path", where)
                ref = {"compose_path": path_value if path_value is _BAD else r.string(path_value, f"{where}.compose_path")}
            out["root"] = ref
    if "service_access" in data:
        out["service_access"] = r.optional(r.boolean, data["service_access"], f"{path}.service_access")
    return out


# -- the whole config -----------------------------------------------------------------------------

RUNTIME_KEYS = ("image", "compose", "resources", "limits")


def read_runtime_config(value: Any, path: str = "runtime_config") -> tuple[Any, list[RuntimeProblem]]:
    """(the dump, problems): the dump is what `Task.model_dump(mode="json")` holds for a valid
    config, None when `value` is None or has problems."""
    if value is None:
        return None, []
    r = _Reader()
    data = r.fields(value, path, only=RUNTIME_KEYS, what="image or compose, resources and limits")
    if data is _BAD:
        return None, r.problems
    out: dict[str, Any] = {}
    for key in RUNTIME_KEYS:
        if key not in data:
            continue
        item, where = data[key], f"{path}.{key}"
        if item is None:
            out[key] = None
        elif key == "image":
            out[key] = r.string(item, where, min_length=1)
        elif key == "compose":
            out[key] = _compose(r, item, where)
        elif key == "resources":
            out[key] = _resources(r, item, where)
        else:
            out[key] = _limits(r, item, where)
    if not r.problems and out.get("image") is not None and out.get("compose") is not None:
        r.bad(path, "accepts either image or compose, not both", "keep one of them")
    return (None if r.problems else out), r.problems


def dump_runtime_config(value: Any) -> Any:
    """The dump of a valid config; anything the SDK would refuse comes back as it was given."""
    dumped, problems = read_runtime_config(value)
    return value if problems else dumped
