"""Every validation problem is found at once, with its place and a one-line fix."""

from __future__ import annotations

from hud_sync_hook.model import Location, task_from_mapping
from hud_sync_hook.validate import validate


def task(line: int, **fields):
    data = {"slug": f"t{line}", "scenario": "s", "args": {}}
    data.update(fields)
    return task_from_mapping(data, Location("tasks.jsonl", line))


def messages(*tasks) -> list[str]:
    return [str(p) for p in validate(tasks)]


def test_valid_tasks_have_no_problems():
    assert messages(task(1), task(2, validation=[{"name": "v"}], columns={"c": 1})) == []


def test_slug_problems():
    found = messages(
        task(1, slug=None),
        task(2, slug=""),
        task(3, slug="   "),
        task(4, slug="x" * 101),
        task(5, slug="a\nb"),
        task(6, slug=7),
        task(7, slug="x" * 100),
    )
    assert [m.split(": ", 1)[0] for m in found] == [f"tasks.jsonl:{i}" for i in range(1, 7)]
    assert "task has no slug" in found[0]
    assert "slug is empty" in found[1] and "slug is empty" in found[2]
    assert "101 characters long, the platform allows 100" in found[3]
    assert "control character or line break" in found[4]
    assert "slug must be a string, found a number" in found[5]
    assert all("set a unique slug" in m for m in found)


def test_scenario_env_args_and_shapes():
    found = messages(
        task(1, scenario=None),
        task(2, scenario=3),
        task(3, env={"name": 5}),
        task(4, args=[1, 2]),
        task(5, validation={"name": "v"}),
        task(6, validation=[{"arguments": {}}]),
        task(7, agent_config=[1]),
        task(8, columns=["x"]),
    )
    assert len(found) == 8
    assert "task 't1' has no scenario" in found[0]
    assert "scenario must be a string" in found[1]
    assert "env name must be a string, found a number" in found[2]
    assert "args must be a mapping, found a list" in found[3]
    assert "validation must be a list" in found[4]
    assert "every validation call needs a string name" in found[5]
    assert "agent_config must be a mapping" in found[6]
    assert "columns must be a mapping" in found[7]


def test_nan_and_infinity_are_reported_with_their_path():
    found = messages(task(1, args={"a": [1, float("nan")]}), task(2, columns={"score": float("inf")}), task(3, args={"s": "NaN"}))
    assert found == [
        "tasks.jsonl:1: task 't1': args.a[1] is NaN or Infinity, which JSON cannot hold (use a finite number, a string or null)",
        "tasks.jsonl:2: task 't2': columns.score is NaN or Infinity, which JSON cannot hold (use a finite number, a string or null)",
    ]


def test_duplicate_slugs_name_the_first_place():
    first = task(1, slug="dupe")
    second = task_from_mapping({"slug": "dupe", "scenario": "s"}, Location("other.yaml", 9))
    assert messages(first, second) == [
        "other.yaml:9: duplicate slug 'dupe' (first defined at tasks.jsonl:1) (give every task its own slug)"
    ]


def test_lone_surrogates_are_problems_but_emoji_are_text():
    assert messages(task(1, args={"face": "😀", "pair": "\ud83d\ude00"})) == []
    (found,) = messages(task(2, args={"half": "x\ud800"}))
    assert "args.half holds half of a UTF-16 surrogate pair" in found
