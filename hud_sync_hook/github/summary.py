"""What the runner reads back: step outputs, the job summary, and workflow commands on stdout.

Outputs use the multi-line `name<<DELIMITER` form with a random delimiter; annotation properties
and messages are escaped as the runner expects, so text from the repository cannot forge a
command. Everything written passes through `output.mask` first.
"""

from __future__ import annotations

import secrets
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

from hud_sync_hook import output


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", **properties: object) -> str:
    props = ",".join(
        f"{key}={escape_property(str(value))}" for key, value in properties.items() if value not in (None, "")
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(output.mask(message))}"


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def add_mask(value: str) -> None:
    """Tell the runner to hide `value` in the log; each line of a multi-line value separately."""
    for line in value.splitlines() or [value]:
        if line.strip():
            emit(f"::add-mask::{escape_data(line)}")


def annotate(kind: str, message: str, *, file: str | None = None, line: int | None = None,
             col: int | None = None, title: str | None = None) -> None:
    """`::error file=...,line=...::message` (or warning/notice)."""
    emit(command(kind, message, file=file, line=line, col=col, title=title))


def notice(message: str, title: str | None = None) -> None:
    annotate("notice", message, title=title)


def warning(message: str, title: str | None = None) -> None:
    annotate("warning", message, title=title)


def error(message: str, title: str | None = None) -> None:
    annotate("error", message, title=title)


@contextmanager
def group(title: str) -> Iterator[None]:
    emit(command("group", title))
    try:
        yield
    finally:
        emit("::endgroup::")


@contextmanager
def commands_stopped() -> Iterator[None]:
    """Print text from the repository without the runner reading `::` lines in it as commands."""
    token = secrets.token_hex(16)
    emit(f"::stop-commands::{token}")
    try:
        yield
    finally:
        emit(f"::{token}::")


def _delimiter(name: str, value: str) -> str:
    while True:
        candidate = f"ghadelimiter_{secrets.token_hex(16)}"
        if candidate not in value and candidate not in name:
            return candidate


def format_outputs(values: Mapping[str, object]) -> str:
    chunks = []
    for name, raw in values.items():
        value = output.mask("" if raw is None else str(raw))
        delimiter = _delimiter(name, value)
        chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(chunks)


def write_outputs(path: str | None, values: Mapping[str, object]) -> None:
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(format_outputs(values))


def append_summary(path: str | None, markdown: str) -> None:
    if not path:
        return
    text = output.mask(markdown)
    if not text.endswith("\n"):
        text += "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def relative_to_workspace(path: str, workspace: Path) -> str:
    """Annotation paths are relative to the workspace, with forward slashes."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.resolve().relative_to(workspace.resolve()).as_posix()
        except ValueError:
            return candidate.as_posix()
    return candidate.as_posix()
