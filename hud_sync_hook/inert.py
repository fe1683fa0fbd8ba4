"""Untrusted text (from a repository or a platform) made inert for each place it is shown.

Pure. One function per output:

- `text(value)`: a value inside a line for a terminal or a CI log: control characters (C0, DEL, C1,
  line and paragraph separators, bidirectional overrides) are written as visible escapes (`\\x1b`,
  `\\n`, `\\u202e`), so a value can neither move the cursor, recolour the screen, nor start a line.
- `line(text)` / `lines(block)`: what is printed: the same escapes, and no line may start (after
  spaces) a GitHub workflow command (`::error ...::`) or hold a legacy one (`##[...]`) that the tool
  did not write itself; it writes none.
- `json_text(rendered)`: JSON output: `json.dumps` escapes C0 only; DEL, C1 and the separators and
  overrides are escaped too (`\\u009b`), which keeps the JSON equal.
- `csv_cell(value)`: a CSV cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
  carriage return first) is prefixed with `'`, as OWASP advises.

Markdown has its own escaper (`render.markdown.escape`), which uses `text` for control characters.
"""

from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_JSON_EXTRA = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_COMMAND_START = re.compile(r"^(\s*):")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def text(value: Any) -> str:
    """`value` as one line with every control character escaped visibly."""
    return _CONTROL.sub(_escape, str(value)).replace("##[", "#\\x23[")


def line(value: Any) -> str:
    """One printed line: `text`, and a leading `::` (a workflow command) broken up."""
    escaped = text(value)
    if escaped.lstrip().startswith("::"):
        escaped = _COMMAND_START.sub(lambda m: m.group(1) + "\\x3a", escaped, count=1)
    return escaped


def lines(block: str) -> str:
    """Printed text of several lines (the tool's own line breaks kept): `line` for each line."""
    ending = "\n" if block.endswith("\n") else ""
    body = block[: -1] if ending else block
    return "\n".join(line(part) for part in body.split("\n")) + ending


def json_text(rendered: str) -> str:
    """JSON text with the characters `json.dumps` leaves raw (DEL, C1, separators) escaped."""
    return _JSON_EXTRA.sub(lambda m: f"\\u{ord(m.group()):04x}", rendered)


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a string starting like a formula gets a `'` first."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
