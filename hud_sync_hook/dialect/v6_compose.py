"""Compose files named by v6 task rows, read as the v6 SDK reads them when it signs a task.

A row's `runtime_config.compose.document` may name a Compose file (relative to the row's file)
instead of holding the document. The SDK (`hud.eval.runtime.compose.ComposeConfig.from_file`)
then reads that file whenever it dumps the task: the project's `.env` next to it supplies the
variables (never the host's environment), `${VAR}` forms are interpolated in string scalars (not in
single-quoted ones), and the document must not use `include` or `extends`. A `root` folder, given
as a path too, must hold the file and is uploaded as `{"compose_path": ...}`.

Here that reading is done once, before validation: the row gets the document inline, as the SDK
uploads it, and the pure reader (v6_runtime) validates and dumps it like any inline document.
Unlike the SDK, a file outside the repository is never read, neither the Compose file nor its
`.env` (through a link): their content would be uploaded.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import re
from pathlib import Path
from typing import Any, Mapping

from hud_sync_hook.dialect.v6_runtime import UnreadComposeFile
from hud_sync_hook.model import shortened

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ComposeFileProblem(Exception):
    """Why a named Compose file is not read into its document, and the fix. The reader shows it
    after the document's own path (`runtime_config.compose.document ...`), so it names no field."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


def inline_compose_files(row: Any, folder: Path, root: Path) -> Any:
    """The row with every Compose file it names read into its document (a copy; the row itself
    when it names none). A file that cannot be used stays named, as an `UnreadComposeFile` that
    tells the reader why."""
    holders = [row, row.get("verifier")] if isinstance(row, Mapping) else []
    if not any(isinstance(_compose(holder).get("document"), str) for holder in holders):
        return row
    out = copy.deepcopy(dict(row))
    for holder in (out, out.get("verifier")):
        compose = _compose(holder)
        if isinstance(compose.get("document"), str):
            try:
                _inline(compose, folder, root)
            except ComposeFileProblem as problem:
                compose["document"] = UnreadComposeFile(compose["document"], problem.message, problem.fix)
    return out


def _compose(holder: Any) -> dict[str, Any]:
    config = holder.get("runtime_config") if isinstance(holder, Mapping) else None
    compose = config.get("compose") if isinstance(config, Mapping) else None
    return compose if isinstance(compose, dict) else {}


def _inline(compose: dict[str, Any], folder: Path, repo_root: Path) -> None:
    document = _resolve(folder, compose["document"], "names a file")
    project_root = compose.get("root")
    if isinstance(project_root, str):
        project_root = _resolve(folder, project_root, "has a root")
        try:
            compose_path = document.relative_to(project_root).as_posix()
        except ValueError:
            raise ComposeFileProblem("is not inside its project root", "put the Compose file inside root, or change root") from None
        compose["root"] = {"compose_path": compose_path}
    elif project_root is not None:
        raise ComposeFileProblem("is a file name, so root must name a folder too", "write root as a path such as \".\", or leave it out")
    if not _inside(document, repo_root):
        raise ComposeFileProblem("names a file outside the repository", "keep the Compose file in the repository")
    dotenv = document.parent / ".env"
    if os.path.lexists(dotenv) and not _inside(dotenv.resolve(), repo_root):
        raise ComposeFileProblem(f"takes its variables from {dotenv.name}, which leads outside the repository", "keep the .env in the repository, not a link out of it")
    compose["document"] = read_compose_file(document)


def _resolve(folder: Path, name: str, what: str) -> Path:
    if "\0" in name:  # the SDK's resolve() refuses it too (pydantic reports the ValueError)
        raise ComposeFileProblem(f"{what} with a NUL character in its name, which no file system allows", "remove the \\u0000 from the name")
    return (folder / name).resolve()


def _name(path: Path) -> str:
    """A file's name as a problem line shows it: whole up to 60 characters."""
    return shortened(path.name, 60)


def _inside(path: Path, folder: Path) -> bool:
    return path.is_relative_to(folder.resolve())


def read_compose_file(path: Path) -> Any:
    """`ComposeConfig.from_file(path)` up to its validation: the interpolated document."""
    import yaml
    from dotenv import dotenv_values

    fix = "fix the Compose file, or write the document inline"
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ComposeFileProblem(f"names {_name(path)}, which does not exist", "create the Compose file, or fix the name") from None
    except (OSError, UnicodeDecodeError) as err:
        if isinstance(err, OSError) and err.errno == errno.ENAMETOOLONG:
            raise ComposeFileProblem(
                f"names {_name(path)}, a name of {len(path.name)} characters, too long for the file system", "shorten the file name"
            ) from None
        raise ComposeFileProblem(f"names {_name(path)}, which cannot be read as UTF-8 text ({type(err).__name__})", fix) from None
    environment: dict[str, str] = {}
    try:
        for key, value in dotenv_values(path.parent / ".env", interpolate=False).items():
            if value is not None and key not in environment:
                environment[key] = _interpolate_value(value, environment, escape_dollars=False)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ComposeFileProblem(f"cannot use the .env next to {_name(path)}: {_first_line(err)}", "fix the .env file") from None
    from hud_sync_hook.discovery.files import _check_alias_expansion

    loader = yaml.SafeLoader(source)  # the SDK's loader, not the C one
    try:
        node = loader.get_single_node()
        if node is None:
            raise ValueError(f"{path.name} is not a Compose document")
        _check_alias_expansion(node)
        _interpolate_node(node, environment, set(), yaml)
        raw = loader.construct_document(node)
        json.dumps(raw, default=str)  # no alias that holds itself
    except (yaml.YAMLError, ValueError, RecursionError) as err:
        raise ComposeFileProblem(f"names {_name(path)}, which cannot be read: {_first_line(err)}", fix) from None
    finally:
        loader.dispose()
    if not isinstance(raw, dict):
        raise ComposeFileProblem(f"names {_name(path)}, which is not a Compose document (an object with services)", fix)
    services = raw.get("services")
    if "include" in raw or (isinstance(services, dict) and any(isinstance(s, dict) and "extends" in s for s in services.values())):
        raise ComposeFileProblem(f"names {_name(path)}, which uses include or extends", "write the included services into the file itself")
    return raw


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


# The SDK's Compose interpolation (hud.eval.runtime.compose), which Docker Compose's differs from:
# `$$` is kept escaped, a lone `$` is escaped, and unset variables are errors.


def _interpolate_value(value: str, environment: Mapping[str, str], *, escape_dollars: bool = True) -> str:
    result: list[str] = []
    index = 0
    while index < len(value):
        marker = value.find("$", index)
        if marker < 0:
            result.append(value[index:])
            break
        result.append(value[index:marker])
        if marker + 1 >= len(value):
            result.append("$$")
            break
        following = value[marker + 1]
        if following == "$":
            result.append("$$")
            index = marker + 2
            continue
        if following == "{":
            depth = 1
            end = marker + 2
            while end < len(value) and depth:
                if value.startswith("${", end):
                    depth += 1
                    end += 2
                    continue
                if value[end] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                end += 1
            if depth:
                raise ValueError("invalid Compose interpolation: unclosed variable")
            result.append(_resolve_variable(value[marker + 2 : end], environment))
            index = end + 1
            continue
        match = _VARIABLE.match(value, marker + 1)
        if match is None:
            result.append("$$")
            index = marker + 1
            continue
        name = match.group()
        if name not in environment:
            raise ValueError(f"Compose variable {name!r} is not set by the project .env")
        result.append(environment[name].replace("$", "$$"))
        index = match.end()
    resolved = "".join(result)
    return resolved if escape_dollars else resolved.replace("$$", "$")


def _resolve_variable(expression: str, environment: Mapping[str, str]) -> str:
    match = _VARIABLE.match(expression)
    if match is None:
        raise ValueError(f"invalid Compose interpolation expression {expression!r}")
    name = match.group()
    suffix = expression[match.end() :]
    value = environment.get(name)
    escaped = value.replace("$", "$$") if value is not None else ""
    if not suffix:
        if value is None:
            raise ValueError(f"Compose variable {name!r} is not set by the project .env")
        return escaped
    operator = next((item for item in (":-", ":?", ":+", "-", "?", "+") if suffix.startswith(item)), None)
    if operator is None:
        raise ValueError(f"invalid Compose interpolation expression {expression!r}")
    operand = suffix[len(operator) :]
    is_set = value is not None
    is_nonempty = is_set and value != ""
    if operator == ":-":
        return escaped if is_nonempty else _interpolate_value(operand, environment)
    if operator == "-":
        return escaped if is_set else _interpolate_value(operand, environment)
    if operator == ":+":
        return _interpolate_value(operand, environment) if is_nonempty else ""
    if operator == "+":
        return _interpolate_value(operand, environment) if is_set else ""
    if (operator == ":?" and not is_nonempty) or (operator == "?" and not is_set):
        raise ValueError(operand or f"Compose variable {name!r} is required")
    return escaped


def _interpolate_node(node: Any, environment: Mapping[str, str], seen: set[int], yaml: Any) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for _, value in node.value:
            _interpolate_node(value, environment, seen, yaml)
    elif isinstance(node, yaml.SequenceNode):
        for value in node.value:
            _interpolate_node(value, environment, seen, yaml)
    elif isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        node.value = node.value.replace("$", "$$") if node.style == "'" else _interpolate_value(node.value, environment)
