"""Streamed parsing of a platform answer reads exactly what `json.loads` reads, however it is cut."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hud_sync_hook.jsonstream import ValueTooLarge, parse_streaming

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(st.characters(blacklist_categories=()), max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=15,
)


def cut(text: str, sizes: list[int]) -> list[str]:
    """`text` in pieces of the given sizes (cycled), the way a network hands it over."""
    pieces, pos, i = [], 0, 0
    while pos < len(text):
        size = sizes[i % len(sizes)]
        pieces.append(text[pos : pos + size])
        pos += size
        i += 1
    return pieces


def streamed(chunks: list[str], key: str = "tasks") -> tuple[Any, list[tuple[str | None, Any]]]:
    entries: list[tuple[str | None, Any]] = []
    result = parse_streaming(chunks, key, lambda name, value: entries.append((name, value)))
    return result, entries


def as_loaded(text: str, key: str = "tasks") -> tuple[Any, list[tuple[str | None, Any]]]:
    """What the streamed parse must give, worked out from `json.loads`."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get(key), (dict, list)):
        return data, []
    member = data[key]
    entries = list(member.items()) if isinstance(member, dict) else [(None, v) for v in member]
    return {**data, key: {} if isinstance(member, dict) else []}, entries


@settings(max_examples=300, deadline=None)
@given(
    tasks=st.dictionaries(st.text(max_size=6), json_values, max_size=6) | st.lists(json_values, max_size=6),
    others=st.dictionaries(st.text(max_size=6).filter(lambda k: k != "tasks"), json_values, max_size=3),
    sizes=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=5),
    indent=st.sampled_from([None, 0, 2]),
    ascii_only=st.booleans(),
)
def test_any_document_cut_anywhere_reads_as_json_loads(tasks, others, sizes, indent, ascii_only):
    text = json.dumps({**others, "tasks": tasks}, indent=indent, ensure_ascii=ascii_only)
    assert streamed(cut(text, sizes)) == as_loaded(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"tasks": {"a": 12345678901234567890123, "b": -1.5e-7, "c": true, "d": null}}',
        '{"tasks": ["\\u00e9\\ud83d\\ude00", "caf\u00e9 \U0001f600", "a\\"b\\\\"], "n": 10}',
        '{"evalset_name": "x", "tasks": {}, "z": [1, {"tasks": 2}]}',
        '{"tasks": [NaN, Infinity, -Infinity]}',
        ' \n{ "tasks" :\t{ "k" : { "deep" : [ [ [ 1 ] ] ] } } } \n',
        '{"tasks": 7}',
        '{}',
        '[{"tasks": {"a": 1}}]',
        '"just a string"',
        '42',
    ],
)
def test_every_split_point(text):
    expected = as_loaded(text)
    for split in range(len(text) + 1):
        assert streamed([text[:split], text[split:]]) == expected, split
    assert streamed(list(text)) == expected


def test_a_value_much_larger_than_the_pieces_it_arrives_in():
    big = {"tasks": {f"id-{i}": {"args": {"text": "x" * 200_000, "n": i}} for i in range(5)}}
    text = json.dumps(big)
    result, entries = streamed(cut(text, [1000]))
    assert result == {"tasks": {}}
    assert entries == list(big["tasks"].items())


def test_entries_are_handed_over_before_the_rest_arrives():
    seen: list[str | None] = []

    def chunks():
        yield '{"tasks": {"a": 1, "b": 2,'
        assert seen == ["a", "b"]  # both handed over already
        yield ' "c": 3}}'

    parse_streaming(chunks(), "tasks", lambda name, value: seen.append(name))
    assert seen == ["a", "b", "c"]


def test_a_repeated_entry_is_handed_over_each_time():
    # json.loads keeps the last value of a repeated name; the receiver decides (it replaces too).
    assert streamed(['{"tasks": {"a": 1, "a": 2}}'])[1] == [("a", 1), ("a", 2)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        '{"tasks": {"a": 1}',
        '{"tasks": {"a": 1,}}',
        '{"tasks": [1, 2,]}',
        '{"tasks": {"a" 1}}',
        '{"tasks": {a: 1}}',
        '{"tasks": [1 2]}',
        '{"tasks": {"a": 1}} x',
        '{"tasks": {"a": tru}}',
        '{"tasks": {"a": "unterminated}}',
        '{"tasks": {}, "tasks": {}}',
        '{"n": 1,}',
        "<html>Bad gateway</html>",
    ],
)
def test_text_that_is_not_json_is_refused(text):
    for pieces in ([text], list(text)):
        with pytest.raises(ValueError):
            streamed(pieces)


def test_a_value_that_never_ends_is_refused_at_the_limit_without_reading_on():
    received: list[int] = []

    def endless():
        yield '{"tasks": ["'
        for i in range(10_000):  # bounded: the reader must stop long before the end
            received.append(i)
            yield "x" * 100

    with pytest.raises(ValueTooLarge, match=r"^a value longer than 1000 characters$"):
        parse_streaming(endless(), "tasks", lambda name, value: None, max_value_chars=1000)
    assert len(received) < 30  # it stopped at the limit: at most twice the limit was read


def test_the_limit_is_per_value_not_for_the_streamed_member_or_the_document():
    text = json.dumps({"tasks": [{"n": i, "s": "x" * 50} for i in range(200)], "total": 200})
    entries: list[Any] = []
    result = parse_streaming(cut(text, [7]), "tasks", lambda name, value: entries.append(value), max_value_chars=200)
    assert result == {"tasks": [], "total": 200} and len(entries) == 200
    big_member = json.dumps({"tasks": [], "other": "y" * 500})
    with pytest.raises(ValueTooLarge):
        parse_streaming(cut(big_member, [7]), "tasks", lambda name, value: None, max_value_chars=200)
    assert parse_streaming(cut(big_member, [7]), "tasks", lambda name, value: None) == {"tasks": [], "other": "y" * 500}
    with pytest.raises(ValueTooLarge):  # a top-level value that is not an object too
        parse_streaming(cut(json.dumps(["z" * 500]), [7]), "tasks", lambda name, value: None, max_value_chars=200)


@pytest.mark.parametrize("text", ['{"tasks": [1], ', '{"tasks": {"a": 1, ', "{", '{"tasks": {'])
def test_a_document_cut_short_says_so_without_python_words(text):
    for pieces in ([text], list(text)):
        with pytest.raises(ValueError) as caught:
            streamed(pieces)
        assert "None" not in str(caught.value) and str(caught.value).startswith("expected ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"tasks": [1 2]}', "expected ',' or ']', found '2'"),
        ('{"tasks": {"a": 1}', "expected ',' or '}', found the end of the text"),
        ('{"tasks": {"a" 1}}', "expected ':', found '1'"),
        ("", "expected a value, found the end of the text"),
        ('{"tasks": ', "expected a value, found the end of the text"),
        ('{"a": 1} x', "extra data after the JSON value"),
        ('[1, 2] x', "extra data after the JSON value"),
        ('{"n" 1}', "expected ':', found '1'"),
        ('{"n" X 1}', "expected ':', found 'X'"),
        ('{"n": 1, 2: 3}', "expected a member name, found '2'"),
        ('{"tasks": {}, "tasks": []}', "member 'tasks' appears twice"),
    ],
)
def test_what_is_wrong_is_said_in_one_line(text, message):
    for pieces in ([text], list(text)):
        with pytest.raises(ValueError) as caught:
            streamed(pieces)
        assert str(caught.value) == message


def test_a_value_is_refused_once_the_limit_of_its_characters_is_waiting():
    # One character at a time: the 8 characters of "xxxxxx" fit a limit of 8, not of 7.
    text = '{"tasks": ["xxxxxx"]}'
    assert parse_streaming(list(text), "tasks", lambda name, value: None, max_value_chars=8) == {"tasks": []}
    with pytest.raises(ValueTooLarge):
        parse_streaming(list(text), "tasks", lambda name, value: None, max_value_chars=7)


@pytest.mark.parametrize(
    "pieces",
    [
        ['{"tasks": [', '"a"', "x"],
        ['{"tasks": [', '"a"', " ", "x"],
        ['{"tasks": [', '"a"', "]", " ", "x"],
        # a number that ends its piece may go on in the next: the reader waits for twice its
        # length and one more character (5 here), not more
        ['{"tasks": [', "12", "]", " ", "x"],
        ['{"tasks": [12', "]", " ", "x"],
    ],
)
def test_a_wrong_character_is_reported_as_soon_as_it_arrives(pieces):
    # One character at a time after the first entry; whatever follows the wrong one never comes
    # (a connection that stalls): the reader must not ask for it.
    def chunks():
        yield from pieces
        raise AssertionError("read past the wrong character")

    with pytest.raises(ValueError, match="found 'x'$"):
        parse_streaming(chunks(), "tasks", lambda name, value: None)
