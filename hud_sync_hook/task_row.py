"""A task row of a JSON, JSONL or YAML file, read the way hud-python 0.5's `Task` model reads it.

`hud sync tasks` does not sign a row as written: it validates it with the SDK's pydantic `Task`
model (lax mode) and signs and uploads the validated model. This module repeats that reading, so
that a row signs the same whichever tool uploaded it, without importing the SDK:

- `args`: missing or any false value becomes `{}`; anything else must be an object.
- `env`: an object with a string `name` (and optional string lists `include`/`exclude`); the name
  is normalised as `Environment` does (`Shop Env` -> `shop-env`, `Émile` -> `mile`, nothing left ->
  `environment`) and qualifies the scenario.
- `validation`: a list of tool calls `{name, arguments}`; an empty list counts as none.
- `agent_config`: an object; only `system_prompt` (a string), `append_setup_output` and
  `append_setup_tool` (booleans, defaulting to false) are kept, nulls dropped, other keys ignored.
- `columns`: an object of text, numbers (kept as floats: `3` -> `3.0`, `true` -> `1.0`), lists of
  text, or null.
- `metadata` (an object) and `id` (a string) are checked and not uploaded; other keys are ignored,
  `column_values` among them.
- A row in the older format (`prompt` and `mcp_config`) has no scenario and is refused.

Pure: no I/O. A row the model refuses keeps neutral values in place of the refused fields, and
carries the reasons (`TaskSpec.refused`), so that validation reports every problem of the file at once.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Mapping

from hud_sync_hook.model import MAX_SLUG_LENGTH, Location, TaskSpec, describe_type, shortened

# The strings pydantic's lax mode reads as booleans (compared in lower case, nothing stripped).
_TRUE_WORDS = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE_WORDS = frozenset({"0", "off", "f", "false", "n", "no"})
_AGENT_FLAGS = ("append_setup_output", "append_setup_tool")
_NOT_ENV_NAME = re.compile(r"[^a-z0-9-]")
_HYPHENS = re.compile(r"-+")


class _Refused(Exception):
    """One field the model refuses: the message and the fix."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


def normalise_env_name(name: str) -> str:
    """An environment name as `hud.environment.Environment` stores it."""
    normalised = name.strip().lower().replace(" ", "-").replace("_", "-")
    normalised = _HYPHENS.sub("-", _NOT_ENV_NAME.sub("", normalised))
    return normalised.strip("-") or "environment"


def read_bool(value: Any) -> bool | None:
    """A boolean as pydantic's lax mode reads it, or None when it would refuse the value."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if value == 0:
            return False
        if value == 1:
            return True
        return None
    if isinstance(value, str):
        word = value.lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    return None


def _shown(value: Any) -> str:
    return shortened(repr(value))


def _string_list(value: Any, path: str) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Refused(f"{path} must be a list of strings, found {_shown(value)}", "write a list of names, or leave it out")


def _env(value: Any) -> str | None:
    if value is None:
        return None
    fix = 'write env as {"name": "my-env"}'
    if not isinstance(value, dict):
        raise _Refused(f"env must be an object with a name, found {describe_type(value)}", fix)
    name = value.get("name")
    if not isinstance(name, str):
        found = "none" if "name" not in value else describe_type(name)
        raise _Refused(f"env name must be a string, found {found}", fix)
    _string_list(value.get("include"), "env.include")
    _string_list(value.get("exclude"), "env.exclude")
    return sys.intern(normalise_env_name(name))


def _args(value: Any) -> dict[str, Any]:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise _Refused(f"args must be a mapping, found {describe_type(value)}", "write args as an object of named arguments")
    return value


def _tool_call(call: Any, path: str) -> dict[str, Any]:
    fix = 'write each call as {"name": "tool", "arguments": {...}}'
    if not isinstance(call, dict):
        raise _Refused(f"{path} must be an object, found {describe_type(call)}", fix)
    name = call.get("name")
    if not isinstance(name, str):
        found = "none" if "name" not in call else describe_type(name)
        raise _Refused(f"{path}.name must be a string, found {found}", fix)
    arguments = call.get("arguments")
    if arguments is not None and not isinstance(arguments, dict):
        raise _Refused(f"{path}.arguments must be an object, found {describe_type(arguments)}", fix)
    if "id" in call and not isinstance(call["id"], str):
        raise _Refused(f"{path}.id must be a string, found {describe_type(call['id'])}", "remove it, or write it as a string")
    annotation = call.get("annotation")
    if annotation is not None and not isinstance(annotation, str):
        raise _Refused(f"{path}.annotation must be a string, found {describe_type(annotation)}", "write it as a string")
    meta = call.get("_meta")
    if meta is not None:
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        if not isinstance(meta, dict) or not (
            token is None
            or isinstance(token, (str, int))
            or (isinstance(token, float) and token.is_integer())
        ):
            raise _Refused(f"{path}._meta must be an object whose progressToken is a string or an integer", "fix or remove _meta")
    task = call.get("task")
    if task is not None:
        ttl = task.get("ttl") if isinstance(task, dict) else None
        if not isinstance(task, dict) or not (ttl is None or (isinstance(ttl, int) and not isinstance(ttl, bool))):
            raise _Refused(f"{path}.task must be an object whose ttl is an integer", "fix or remove task")
    return {"name": name, "arguments": arguments or {}}


def _validation(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _Refused(f"validation must be a list of tool calls, found {describe_type(value)}", 'write validation as [{"name": ..., "arguments": {...}}]')
    calls = [_tool_call(call, f"validation[{index}]") for index, call in enumerate(value)]
    return calls or None


def _agent_config(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Refused(f"agent_config must be an object, found {describe_type(value)}", "write agent_config as an object, e.g. {\"system_prompt\": \"...\"}")
    config: dict[str, Any] = {}
    prompt = value.get("system_prompt")
    if prompt is not None:
        if not isinstance(prompt, str):
            raise _Refused(f"agent_config.system_prompt must be a string, found {describe_type(prompt)}", "write the prompt as a string")
        config["system_prompt"] = prompt
    for flag in _AGENT_FLAGS:
        if flag not in value:
            config[flag] = False
            continue
        read = read_bool(value[flag])
        if read is None:
            raise _Refused(
                f"agent_config.{flag} must be true or false, found {_shown(value[flag])}",
                "write true or false",
            )
        config[flag] = read
    return config


def column_value(value: Any) -> str | float | list[str] | None:
    """A column value as the model types it (`str | float | list[str] | None`)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, int)):
        try:
            return float(value)
        except OverflowError:
            raise _Refused(f"is {_shown(value)}, too large for a number column", "write it as a string") from None
    if isinstance(value, float):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    kind = "a list holding something other than text" if isinstance(value, list) else describe_type(value)
    raise _Refused(f"is {kind}", "use text, a number, a list of text, or null")


def _columns(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        raise _Refused(f"columns must be an object of column values, found {describe_type(value)}", "write columns as an object, or leave it out")
    columns: dict[str, Any] = {}
    for name, item in value.items():
        try:
            columns[name] = column_value(item)
        except _Refused as refused:
            raise _Refused(f"column {name!r} {refused.message}", refused.fix) from None
    return columns or None


def _other_fields(data: Mapping[str, Any]) -> None:
    if "metadata" in data and not isinstance(data["metadata"], dict):
        raise _Refused(f"metadata must be an object, found {describe_type(data['metadata'])}", "write metadata as an object, or leave it out")
    if data.get("id") is not None and not isinstance(data["id"], str):
        raise _Refused(f"id must be a string, found {describe_type(data['id'])}", "leave id out: the platform assigns it")
    if data.get("prompt") and data.get("mcp_config"):
        raise _Refused(
            "is in the older task format (prompt and mcp_config), which has no scenario to sync",
            "write the task as {slug, env, scenario, args}",
        )


def read_row(data: Mapping[str, Any], location: Location) -> TaskSpec:
    """A row as the model reads it; refused fields are replaced by neutral values and reported
    through the task's `refused` problems."""
    refused: list[tuple[str, str]] = []

    def field(read: Any, value: Any, neutral: Any) -> Any:
        try:
            return read(value)
        except _Refused as err:
            refused.append((err.message, err.fix))
            return neutral

    slug = data.get("slug")
    if isinstance(slug, str):
        if len(slug) > MAX_SLUG_LENGTH and len(slug.strip()) <= MAX_SLUG_LENGTH:
            refused.append(
                (
                    f"slug is {len(slug)} characters long with its surrounding spaces, the limit is {MAX_SLUG_LENGTH}",
                    "remove the spaces around the slug",
                )
            )
        slug = slug.strip()
    scenario = data.get("scenario")
    if isinstance(scenario, str):
        scenario = sys.intern(scenario)
    field(_other_fields, data, None)
    env = field(_env, data.get("env"), None)
    args = field(_args, data.get("args"), {})
    validation = field(_validation, data.get("validation"), None)
    agent_config = field(_agent_config, data.get("agent_config"), None)
    columns = field(_columns, data.get("columns", {}), None)
    task = TaskSpec(
        slug=slug,
        scenario=scenario,
        env=env,
        args=args,
        validation=validation,
        agent_config=agent_config,
        columns=columns,
        location=location,
    )
    if refused:
        task.refused = tuple(refused)
    return task
