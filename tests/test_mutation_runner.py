"""The mutation tool's two shortcuts (benchmarks/mutation/run.py) must not change what it finds.

A mutant runs only against the tests that can reach it, and a mutant inside a function's body is
made in a running process by giving the function its mutated code. Each is only sound if the tool
knows where a change takes effect (at import, in a default value, in a body), picks every test that
can see it, and refuses to make in place what it cannot map exactly. These tests pin that.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_runner():
    spec = importlib.util.spec_from_file_location("mutation_runner", ROOT / "benchmarks" / "mutation" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


run = _load_runner()


def _mutant(path: str, key: str):
    return next(m for m in run.mutants_of(ROOT / path) if m.key == key)


def test_where_a_change_takes_effect_decides_which_tests_can_see_it():
    plan = "hud_sync_hook/plan.py"
    at_import = _mutant(plan, "<module>: constant 2 -> 3 in `SCHEMA_VERSION = 2`")
    assert (at_import.span, at_import.in_body) == (None, False)
    class_level = _mutant(plan, "Plan: constant False -> True in `forced: bool = False`")
    assert (class_level.span, class_level.in_body) == (None, False)
    # a default value is made at import, but only calls that run the body can see it
    default = _mutant(plan, "plan_hash: constant False -> True in `presorted=False`")
    tree = ast.parse((ROOT / plan).read_text(encoding="utf-8"))
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "plan_hash")
    assert (default.span, default.in_body) == ((function.body[0].lineno, function.end_lineno), False)
    # a statement in a body: its own lines, made in place
    body = _mutant("hud_sync_hook/dialect/v5.py", "nothing_before_plan: delete `raise HudSyncError('--project is for HUD SDK v6 projects ...`")
    assert (body.span, body.in_body) == ((27, 27), True)
    condition = _mutant("hud_sync_hook/dialect/v5.py", "nothing_before_plan: constant 'project_ref' -> 'XXproject_refXX' in `getattr(platform, 'project_ref', None)`")
    assert condition.span == (26, 27) and condition.in_body  # the whole `if`, body included


def _coverage(tests: dict[str, tuple[set[str], bool]], collection: set[str] = frozenset()) -> dict:
    return {"tests": {t: {"lines": lines, "spawns": spawns} for t, (lines, spawns) in tests.items()}, "collection": set(collection)}


def test_a_mutant_runs_against_every_test_that_reaches_it_and_only_those():
    m = run.Mutant("pkg/mod.py", 10, "f: x", "", span=(10, 11), in_body=True)
    coverage = _coverage({
        "t::runs_line_11": ({"pkg/mod.py:11"}, False),
        "t::runs_other_lines": ({"pkg/mod.py:9", "pkg/mod.py:12"}, False),
        "t::same_line_other_file": ({"pkg/other.py:10"}, False),
        "t::starts_the_cli": (set(), True),  # its lines run in a process that cannot be traced
    })
    assert run.tests_for(m, coverage) == {"t::runs_line_11", "t::starts_the_cli"}
    # lines that ran while the tests were collected: their values may be baked into any test
    assert run.tests_for(m, _coverage({"t::a": (set(), False)}, {"pkg/mod.py:10"})) is None
    assert run.tests_for(run.Mutant("pkg/mod.py", 1, "<module>: x", "", span=None), coverage) is None
    # no test reaches it: it survives unrun
    assert run.tests_for(m, _coverage({"t::a": ({"pkg/mod.py:3"}, False)})) == set()


ORIGINAL = textwrap.dedent('''
    def bump(x):
        return x + 1

    def twice(x):
        return bump(bump(x))

    def make():
        step = 5
        def inner(y):
            return y + step
        return inner

    shifted = make()
''')


def _living(source: str, filename: str) -> dict:
    namespace: dict = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def test_a_body_change_is_made_in_place_on_the_living_function_and_seen_through_every_reference(tmp_path: Path):
    filename = str(tmp_path / "mod.py")
    ns = _living(ORIGINAL, filename)
    functions = [ns["bump"], ns["twice"], ns["make"], ns["shifted"]]
    mutated = ORIGINAL.replace("return x + 1", "return x - 1")
    swaps = run._code_swaps(ORIGINAL, mutated, filename, functions)
    assert [f.__name__ for f, _ in swaps] == ["bump"]
    held = ns["bump"]  # a reference taken before, as `from mod import bump` in a test would
    for f, code in swaps:
        f.__code__ = code
    assert held(1) == 0 and ns["twice"](5) == 3
    # a change in a closure: the closure made at import gets it too, and so do later ones
    ns = _living(ORIGINAL, filename)
    closure = ORIGINAL.replace("return y + step", "return y - step")
    swaps = run._code_swaps(ORIGINAL, closure, filename, [ns["bump"], ns["twice"], ns["make"], ns["shifted"]])
    assert sorted(f.__qualname__ for f, _ in swaps) == ["make", "make.<locals>.inner"]
    for f, code in swaps:
        f.__code__ = code
    assert ns["shifted"](1) == -4 and ns["make"]()(1) == -4


def test_what_cannot_be_mapped_exactly_is_left_to_a_fresh_import(tmp_path: Path):
    filename = str(tmp_path / "mod.py")
    ns = _living(ORIGINAL, filename)
    functions = [ns["bump"], ns["twice"], ns["make"], ns["shifted"]]
    # the living closure's code object is gone: nothing to give it
    gone = ORIGINAL.replace("        def inner(y):\n            return y + step\n", "        inner = None\n")
    assert run._code_swaps(ORIGINAL, gone, filename, functions) is None
    # a change that touches no living function's code (here: a module-level line) is not made in place
    assert run._code_swaps(ORIGINAL, ORIGINAL.replace("shifted = make()", "shifted = None"), filename, functions) is None
    # a closure that no longer uses its free variable cannot take the new code: the fork reports it
    freed = ORIGINAL.replace("return y + step", "return y")
    swaps = dict((f.__qualname__, code) for f, code in run._code_swaps(ORIGINAL, freed, filename, functions))
    with pytest.raises(ValueError):
        ns["shifted"].__code__ = swaps["make.<locals>.inner"]


def test_the_unmutated_run_records_the_lines_each_test_runs_and_what_ran_at_import():
    module = "hud_sync_hook/dialect/v5.py"
    refuses = "tests/dialect/test_v5.py::test_v5_asks_the_platform_nothing_and_refuses_a_project"
    links = "tests/dialect/test_v5.py::test_link_env_stores_the_registry_in_the_camel_case_config_and_keeps_the_rest"
    # in a process of its own, as the tool runs: this one has the tests imported already
    script = (
        "import json, sys; sys.path.insert(0, 'benchmarks/mutation'); import run\n"
        f"s, d, c = run.baseline(['tests/dialect/test_v5.py'], [{module!r}])\n"
        "c['collection'] = sorted(c['collection'])\n"
        "for t in c['tests'].values(): t['lines'] = sorted(t['lines'])\n"
        "print(json.dumps([d, c]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    durations, coverage = json.loads(proc.stdout)
    coverage["collection"] = set(coverage["collection"])
    for seen in coverage["tests"].values():
        seen["lines"] = set(seen["lines"])
    assert set(durations) == set(coverage["tests"]) and refuses in durations
    assert {f"{module}:{n}" for n in (26, 27)} <= coverage["tests"][refuses]["lines"]
    assert f"{module}:32" in coverage["tests"][links]["lines"] and f"{module}:32" not in coverage["tests"][refuses]["lines"]
    assert not coverage["tests"][refuses]["spawns"]
    # the module's own top level ran while the tests were imported, not in any test
    assert f"{module}:20" in coverage["collection"] and all(f"{module}:20" not in t["lines"] for t in coverage["tests"].values())
    deleted = _mutant(module, "link_env: delete `save_config(config, {'registryId': env['id'], 'registryNa...`")
    assert links in run.tests_for(deleted, coverage) and refuses not in run.tests_for(deleted, coverage)
