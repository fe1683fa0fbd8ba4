"""Offline checks of discovered tasks: everything a sync needs, reported at once with file:line.

Pure: takes TaskSpecs, returns Problems.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any, Callable, Iterable

from hud_sync_hook.model import MAX_SLUG_LENGTH, Problem, TaskSpec, describe_type

SLUG_FIX = "set a unique slug of 1 to 100 printable characters, e.g. t.slug = 'checkout-alice'"


def _label(task: TaskSpec) -> str:
    if isinstance(task.slug, str) and task.slug and _printable(task.slug):
        return f"task {task.slug!r}"
    return "task"


def _printable(text: str) -> bool:
    if text.isprintable():
        return True
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in text)


def _non_finite(value: Any, path: str) -> str | None:
    """The path of the first NaN or Infinity inside `value`, if any."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where
        if isinstance(item, dict):
            stack.extend((v, f"{where}.{k}") for k, v in item.items())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


# In the canonical (ASCII) JSON, a high surrogate escape not followed by a low one, or a low one not
# preceded by a high one; a well-formed pair (an emoji, say) does not match.
_LONE_SURROGATE = re.compile(
    r"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f][0-9a-f]{2})|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}"
)


def _surrogate(value: Any, path: str) -> str | None:
    """The path of the first string (or key) inside `value` holding half of a UTF-16 pair, if any."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return where
        elif isinstance(item, dict):
            for k, v in item.items():
                if isinstance(k, str) and _SURROGATE.search(k):
                    return f"{where} key {k!r}"
                stack.append((v, f"{where}.{k}"))
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return None


def validate_task(task: TaskSpec) -> list[Problem]:
    if task.compacted:  # only a task that validated is made compact
        return []
    problems: list[Problem] = []
    where = task.location
    label = _label(task)

    def add(message: str, fix: str) -> None:
        problems.append(Problem(where, message, fix))

    for message, fix in task.refused:
        add(f"{label}: {message}", fix)

    slug = task.slug
    if slug is None:
        add("task has no slug (sync matches tasks by slug)", SLUG_FIX)
    elif not isinstance(slug, str):
        add(f"slug must be a string, found {describe_type(slug)}", SLUG_FIX)
    elif not slug:
        add("slug is empty", SLUG_FIX)
    elif len(slug) > MAX_SLUG_LENGTH:
        add(f"slug is {len(slug)} characters long, the platform allows {MAX_SLUG_LENGTH}", SLUG_FIX)
    elif not _printable(slug):
        add(f"slug {slug!r} contains a control character or line break", SLUG_FIX)

    scenario = task.scenario
    if scenario is None or (isinstance(scenario, str) and not scenario.strip()):
        add(f"{label} has no scenario", "set scenario to the scenario's name, e.g. 'checkout'")
    elif not isinstance(scenario, str):
        add(f"{label}: scenario must be a string, found {describe_type(scenario)}", "write the scenario's name as a string")

    if task.env is not None and not isinstance(task.env, str):
        add(f"{label}: env name must be a string, found {describe_type(task.env)}", "write env as {\"name\": \"my-env\"}")
    for field_name in ("scenario", "env"):
        text = getattr(task, field_name)
        if isinstance(text, str) and not _printable(text):
            add(f"{label}: {field_name} {text!r} contains a control character or line break", "write it on one line, in printable characters")

    if not isinstance(task.args, dict):
        add(f"{label}: args must be a mapping, found {describe_type(task.args)}", "write args as an object of named arguments")

    if task.validation is not None:
        if not isinstance(task.validation, list):
            add(f"{label}: validation must be a list of tool calls, found {describe_type(task.validation)}", "write validation as [{name, arguments}]")
        elif any(not isinstance(c, dict) or not isinstance(c.get("name"), str) for c in task.validation):
            add(f"{label}: every validation call needs a string name", "write validation as [{name, arguments}]")
    if task.agent_config is not None and not isinstance(task.agent_config, dict):
        add(f"{label}: agent_config must be a mapping, found {describe_type(task.agent_config)}", "write agent_config as an object")
    if task.columns is not None and not isinstance(task.columns, dict):
        add(f"{label}: columns must be a mapping, found {describe_type(task.columns)}", "write columns as an object of column values")
    if not problems and _may_hold_non_finite(task):
        for field_name in ("args", "validation", "agent_config", "columns"):
            bad = _non_finite(getattr(task, field_name), field_name)
            if bad:
                add(f"{label}: {bad} is NaN or Infinity, which JSON cannot hold", "use a finite number, a string or null")
    if not problems and _LONE_SURROGATE.search(task.signature):
        for field_name in ("args", "validation", "agent_config", "columns"):
            bad = _surrogate(getattr(task, field_name), field_name)
            if bad:
                add(
                    f"{label}: {bad} holds half of a UTF-16 surrogate pair, which is not text",
                    "write the character itself, or escape both halves of the pair",
                )
    return problems


def compact_if_valid(task: TaskSpec) -> None:
    """Make a task compact as soon as it is read, if it validates: a large taskset is then never
    held as parsed values. A task with problems stays as it is, for `validate` to report."""
    if not validate_task(task):
        task.compact()


def _may_hold_non_finite(task: TaskSpec) -> bool:
    """Cheap pre-check: the canonical form (computed once anyway) spells NaN/Infinity bare."""
    text = task.signature
    return "NaN" in text or "Infinity" in text


def validate(tasks: Iterable[TaskSpec]) -> list[Problem]:
    """Every problem of every task, then duplicate slugs (each later copy names the first)."""
    return validate_each(tasks, validate_task, "give every task its own slug")


def validate_each(tasks: Iterable[Any], check: Callable[[Any], list[Problem]], fix: str) -> list[Problem]:
    """What `check` finds in each task, and each later copy of a slug, naming the first (shared by
    the SDK generations, which differ in their checks and in how a slug is given)."""
    problems: list[Problem] = []
    first_seen: dict[str, Any] = {}
    for task in tasks:
        problems.extend(check(task))
        slug = task.slug
        if isinstance(slug, str) and slug:
            first = first_seen.setdefault(slug, task)
            if first is not task:
                problems.append(Problem(task.location, f"duplicate slug {slug!r} (first defined at {first.location})", fix))
    return problems
