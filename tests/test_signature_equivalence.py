"""The signature is byte for byte the contract's form, whatever the values (and whatever JSON library is installed).

Contract (shared/docs/hud-platform-api.md): `<scenario without env prefix>|` + canonical JSON of
`{"args", "validation" if not None, "agent_config" if non-empty, "columns" if non-empty}`, where
canonical JSON is `json.dumps(..., sort_keys=True, separators=(",", ":"), default=str)`.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hud_sync_hook.model import TaskSpec, canonical_json, remote_signature, signature


def contract_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def contract_signature(scenario: str, args: Any, validation: Any, agent_config: Any, columns: Any) -> str:
    data: dict[str, Any] = {"args": args}
    if validation is not None:
        data["validation"] = validation
    if agent_config:
        data["agent_config"] = agent_config
    if columns:
        data["columns"] = columns
    short = scenario.rsplit(":", 1)[-1] if ":" in scenario else scenario
    return f"{short}|" + contract_json(data)


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Shouty(str):
    pass


class Thing:
    def __str__(self) -> str:
        return "a thing with ünïcode"


# Every character, lone surrogates included; keys that need sorting, non-ASCII among them.
any_text = st.text(st.characters(blacklist_categories=()), max_size=12)
tricky_floats = st.sampled_from(
    [-0.0, 0.0, 1e16, 1e15, 1e-5, 1e-4, 5e-324, 1.7976931348623157e308, 1e22, 0.1, 123456789012345678.0]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.integers(min_value=-(2**70), max_value=-(2**63) + 2)
    | st.floats(allow_nan=True, allow_infinity=True)
    | tricky_floats
    | any_text
    | st.sampled_from(["é", "東京", "🚀", "\u2028", "\x7f", "\x00", "\ud800", '"\\/'])
)
non_json = (
    st.sets(st.integers(), max_size=3)
    | st.frozensets(st.text(max_size=3), max_size=3)
    | st.datetimes()
    | st.dates()
    | st.times()
    | st.uuids()
    | st.decimals(allow_nan=False)
    | st.binary(max_size=4)
    | st.complex_numbers(allow_nan=False)
    | st.just(Colour.RED)
    | st.just(Level.HIGH)
    | st.builds(Shouty, st.text(max_size=4))
    | st.builds(Thing)
)
keys = any_text | st.sampled_from(["a", "B", "b", "é", "É", "z", "東", "🚀", "", "10", "9"])
values = st.recursive(
    scalars | non_json,
    lambda children: st.lists(children, max_size=4)
    | st.tuples(children, children)
    | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_canonical_json_is_the_contract_form(value: Any) -> None:
    try:
        expected = contract_json(value)
    except (TypeError, ValueError) as err:
        with pytest.raises(type(err)):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@settings(max_examples=300, deadline=None)
@given(
    scenario=st.sampled_from(["checkout", "env:checkout", "a:b:c", ":x", ""]),
    args=st.dictionaries(keys, values, max_size=4),
    validation=st.none() | st.lists(st.fixed_dictionaries({"name": any_text, "arguments": values}), max_size=2),
    agent_config=st.none() | st.dictionaries(keys, values, max_size=3),
    columns=st.none() | st.dictionaries(keys, values, max_size=3),
)
def test_signature_is_the_contract_form(scenario, args, validation, agent_config, columns) -> None:
    expected = contract_signature(scenario, args, validation, agent_config, columns)
    assert signature(scenario, args, validation, agent_config, columns) == expected
    task = TaskSpec(
        slug="t", scenario=scenario, env=None, args=args, validation=validation,
        agent_config=agent_config or None, columns=columns or None,
    )
    assert task.signature == expected
    record = {
        "slug": "t", "scenario": scenario, "args": args, "validation": validation,
        "agent_config": agent_config, "column_values": columns,
    }
    assert remote_signature(record) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"b": 1, "a": [1.0, -0.0, 1e16, 5e-324]}, '{"a":[1.0,-0.0,1e+16,5e-324],"b":1}'),
        ({"é": "東京", "e": "🚀"}, '{"e":"\\ud83d\\ude80","\\u00e9":"\\u6771\\u4eac"}'),
        ({"n": 2**64 + 1, "x": float("nan")}, '{"n":18446744073709551617,"x":NaN}'),
        ({"d": datetime.date(2024, 1, 2), "s": {3}}, '{"d":"2024-01-02","s":"{3}"}'),
        ({"u": uuid.UUID(int=1), "c": Colour.RED}, '{"c":"Colour.RED","u":"00000000-0000-0000-0000-000000000001"}'),
        ({"d": decimal.Decimal("1.10")}, '{"d":"1.10"}'),
    ],
)
def test_known_values(value: Any, expected: str) -> None:
    assert canonical_json(value) == expected == contract_json(value)
