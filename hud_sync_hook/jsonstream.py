"""Parse a large JSON answer as it arrives, handing over the entries of one big member one by one.

Pure: reads from an iterable of text chunks. Values are decoded by the standard library's own
decoder (`json.JSONDecoder.raw_decode`), so numbers, strings and `NaN` read exactly as
`json.loads` reads them; only the framing of the streamed object or array is parsed here.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable, Iterator

_WS = json.decoder.WHITESPACE  # what `raw_decode` itself skips between tokens
_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]*")
_DECODER = json.JSONDecoder()
_END = object()


class ValueTooLarge(ValueError):
    """One value is longer than the reader's limit (say, a string that never ends)."""


class _Reader:
    """A window on the text: `buf[pos:]` is what has been received and not yet parsed."""

    def __init__(self, chunks: Iterable[str], max_value_chars: int | None = None) -> None:
        self._chunks: Iterator[str] = iter(chunks)
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.max_value_chars = max_value_chars

    def _fill(self, minimum: int) -> None:
        """Receive until at least `minimum` characters are unparsed, or the text ends."""
        parts = [self.buf[self.pos :]]
        size = len(parts[0])
        while size < minimum and not self.eof:
            chunk = next(self._chunks, _END)
            if chunk is _END:
                self.eof = True
            elif chunk:
                parts.append(chunk)  # type: ignore[arg-type]
                size += len(chunk)  # type: ignore[arg-type]
        self.buf = "".join(parts)
        self.pos = 0

    def peek(self) -> str:
        """The next character that is not whitespace, without consuming it; '' at the end."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if self.eof:
                return ""
            self._fill(1)

    def take(self, expected: str) -> str:
        """Consume the next character, which must be one of `expected`."""
        char = self.peek()
        if not char or char not in expected:
            found = repr(char) if char else "the end of the text"
            wanted = " or ".join(repr(c) for c in expected)
            raise ValueError(f"expected {wanted}, found {found}")
        self.pos += 1
        return char

    def value(self) -> Any:
        """Decode one whole value. A value cut off by the end of a chunk is retried with at least
        twice as much text, so a value of any size is decoded in linear time overall."""
        if not self.peek():
            raise ValueError("expected a value, found the end of the text")
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if self.eof:
                    raise
                pending = len(self.buf) - self.pos
                if self.max_value_chars is not None and pending >= self.max_value_chars:
                    raise ValueTooLarge(f"a value longer than {self.max_value_chars} characters") from None
                self._fill(2 * pending + 1)
                continue
            if (
                not self.eof
                and isinstance(value, (int, float))
                and _NUMBER_TAIL.match(self.buf, end).end() == len(self.buf)  # type: ignore[union-attr]
            ):
                # `12` or `1.` may be the start of `12.5e3`: wait for what ends the number.
                self._fill(2 * (len(self.buf) - self.pos) + 1)
                continue
            self.pos = end
            return value

    def end(self) -> None:
        if self.peek():
            raise ValueError("extra data after the JSON value")


def parse_streaming(
    chunks: Iterable[str], key: str, on_entry: Callable[[str | None, Any], None], *, max_value_chars: int | None = None
) -> Any:
    """Parse a JSON document like `json.loads`, except the member `key` of a top-level object.

    When that member's value is an object or an array, it is not built: each entry is passed to
    `on_entry(name, value)` as soon as it is decoded (`name` is None for an array's elements), and
    the member maps to an empty dict or list in the result. Raises ValueError (json.JSONDecodeError
    for bad syntax inside a value) when the text is not JSON, or names `key` twice; ValueTooLarge
    when one value (not counting the streamed member as a whole) exceeds `max_value_chars`.
    """
    reader = _Reader(chunks, max_value_chars)
    if reader.peek() != "{":
        result = reader.value()
        reader.end()
        return result
    reader.take("{")
    top: dict[str, Any] = {}
    if reader.peek() == "}":
        reader.take("}")
    else:
        while True:
            name = _name(reader)
            reader.take(":")
            if name == key and reader.peek() in ("{", "["):
                if name in top:
                    raise ValueError(f"member {key!r} appears twice")
                top[name] = _stream(reader, on_entry)
            else:
                top[name] = reader.value()
            if reader.take(",}") == "}":
                break
    reader.end()
    return top


def _name(reader: _Reader) -> str:
    if reader.peek() != '"':
        raise ValueError(f"expected a member name, found {reader.peek()!r}")
    return reader.value()  # type: ignore[no-any-return]


def _stream(reader: _Reader, on_entry: Callable[[str | None, Any], None]) -> Any:
    opening = reader.take("{[")
    closing = "}" if opening == "{" else "]"
    if reader.peek() == closing:
        reader.take(closing)
    else:
        while True:
            if opening == "{":
                name: str | None = _name(reader)
                reader.take(":")
            else:
                name = None
            on_entry(name, reader.value())
            if reader.take("," + closing) == closing:
                break
    return {} if opening == "{" else []
