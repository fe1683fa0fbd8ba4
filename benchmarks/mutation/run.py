"""Mutation testing of the pure core: does a one-token change to the code fail its tests?

    python benchmarks/mutation/run.py [--module plan] [--workers 2] [--list] [--record LABEL] [--only TEXT]

Each module in MODULES is mutated one change at a time and only the test files listed for it are
run against each mutant (`pytest -x`, so a killed mutant stops at its first failing test):

- comparison operators flipped (`==`/`!=`, `<`/`>=`, `<`/`<=`, `is`/`is not`, `in`/`not in`, ...)
- `and`/`or` swapped, `not` removed, arithmetic `+`/`-` (and a few more) swapped
- constants changed: `True`/`False` swapped, numbers plus one, strings and bytes altered
- statements deleted (replaced by `pass`) inside functions, `return X` replaced by `return None`

Why not mutmut or cosmic-ray: mutmut 3 installs and runs offline here, but it mutates neither
decorated functions (every `@property`, such as `Plan.has_changes`) nor module-level code, and it
has no statement deletion, so the survivors that matter most here would never be made; cosmic-ray
has no statement deletion either, and mutates the files in place.

The working tree is never written to: each worker copies the package and the tests into a temporary
folder, writes each mutant there, and runs pytest in a forked child with that folder first on
`sys.path` and bytecode writing off, there and in the processes tests start (so no stale `.pyc` of a
mutant can be read back). An interrupted run leaves nothing behind but that temporary folder, which is
removed on the way out.

Two things keep a whole run short without changing what it finds (`--every-test --fresh` turns both
off, to check that):
- Each mutant runs only the tests that can see it. The unmutated run records which lines of the
  module each test runs (`_Coverage`); a mutant inside a function runs against the tests that run its
  statement, plus every test that starts a process which may import the package (those lines cannot
  be traced). A change made at import (module or class level, a default value, or a line the tests
  ran while being collected) runs against all of them. A mutant no test reaches survives unrun.
- Mutants inside a function's body share one collection of the tests (`_SwapDriver`): the tests are
  imported once, and each mutant runs in a fork that gives the changed functions their mutated code.
  The rest, and any mutant whose code cannot be mapped exactly, import everything afresh.
Hypothesis' example database is off, so a property test tries the same examples in every run.

Mutants known to behave exactly like the original (equivalent mutants) are listed, each with its
reason, in `equivalent.toml` next to this file; they are reported and left out of the score, never
silently dropped. A listed mutant that no longer exists (the code changed) is reported as stale.

The score per module is killed / (mutants - equivalent). `--record LABEL` writes the table to
`RESULTS.md` next to this file, newest run first. This is a measurement, not a CI gate.
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import gc
import glob
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import types
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
EQUIVALENT_FILE = HERE / "equivalent.toml"
RESULTS = HERE / "RESULTS.md"

# Module (a path or a glob under the repository) -> the tests that exercise it: file globs, or
# `file::test` for single tests of a larger file. Add a line for a new core module; a glob that
# matches nothing (a package not written yet) is skipped.
MODULES: dict[str, list[str]] = {
    "hud_sync_hook/plan.py": ["tests/core/test_plan.py", "tests/core/test_diff.py"],
    "hud_sync_hook/diff.py": ["tests/core/test_diff.py", "tests/dialect/test_v6_diff.py"],
    "hud_sync_hook/model.py": [
        "tests/core/test_model.py", "tests/core/test_validate.py", "tests/test_signature_equivalence.py",
        "tests/core/test_diff.py",
    ],
    "hud_sync_hook/task_row.py": ["tests/core/test_task_row.py"],
    "hud_sync_hook/validate.py": ["tests/core/test_validate.py"],
    "hud_sync_hook/jsonstream.py": ["tests/core/test_jsonstream.py"],
    "hud_sync_hook/github/comments.py": [
        "tests/github/test_comments.py",
        "tests/github/test_parts.py::test_marker_round_trips_and_cannot_be_closed_early",
        "tests/github/test_parts.py::test_compose_never_exceeds_github_limit",
        "tests/github/test_parts.py::test_find_keeps_the_oldest_of_ours_and_ignores_others",
    ],
    "hud_sync_hook/render/*.py": [
        "tests/core/test_render.py",
        "tests/core/test_diff.py",
        "tests/core/test_plan.py",
        "tests/github/test_parts.py::test_escape_leaves_no_html_no_mentions_no_line_breaks",
        "tests/github/test_parts.py::test_markdown_stays_within_its_limit_and_balanced",
    ],
    "hud_sync_hook/dialect/v6_model.py": ["tests/dialect/test_v6_model.py", "tests/dialect/test_v6_model_rules.py"],
    "hud_sync_hook/dialect/v6_runtime.py": [
        "tests/dialect/test_v6_runtime_lines.py", "tests/dialect/test_v6_runtime.py", "tests/dialect/test_v6_model_rules.py",
    ],
    "hud_sync_hook/dialect/v6_compose.py": ["tests/dialect/test_v6_compose_rules.py", "tests/dialect/test_v6_compose_files.py"],
    # the rules table first; then test_detect.py's reading tests (its CLI and real-SDK runs read
    # nothing the tables do not, at seconds each)
    "hud_sync_hook/dialect/sniff.py": ["tests/dialect/test_sniff_rules.py"] + [
        f"tests/dialect/test_detect.py::{t}" for t in (
            "test_python_files_are_read_by_their_syntax", "test_imports_are_not_followed_out_of_the_repository",
            "test_a_task_file_linking_out_of_the_repository_says_nothing", "test_an_import_cycle_ends",
            "test_rows_are_read_by_their_shape", "test_nothing_is_imported_to_decide",
        )
    ],
    "hud_sync_hook/dialect/__init__.py": ["tests/dialect/test_choose.py"],
    "hud_sync_hook/dialect/v5.py": ["tests/dialect/test_v5.py", "tests/dialect/test_choose.py::test_both_dialects_offer_every_part"],
    # discovery, the config file and the platform calls mixed with pure parts: tests that run no
    # import child and no server (the CLI tests under tests/dialect/ cover the rest)
    "hud_sync_hook/dialect/v6.py": ["tests/dialect/test_v6_parts.py", "tests/dialect/test_choose.py::test_both_dialects_offer_every_part"],
}

PYTEST_ARGS = ["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--hypothesis-seed=0"]
# Imported once per worker before forking, so each mutant's run pays only for pytest and the project.
PRELOAD = ["pytest", "hypothesis", "httpx", "yaml", "git", "json", "hashlib", "unicodedata", "re"]

COMPARE_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Lt: (ast.GtE, ast.LtE),
    ast.LtE: (ast.Gt, ast.Lt),
    ast.Gt: (ast.LtE, ast.GtE),
    ast.GtE: (ast.Lt, ast.Gt),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
BINOP_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.FloorDiv: ast.Mult,
    ast.Div: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
}
DELETABLE = (
    ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.If, ast.For, ast.While, ast.With,
    ast.Try, ast.Raise, ast.Assert, ast.Delete, ast.Continue, ast.Break,
)


@dataclass
class Mutant:
    path: str  # relative to the repository
    line: int
    key: str  # stable across line moves: "qualname: what -> what"
    source: str  # the whole mutated file
    # The lines a test must run for this mutant to make any difference to it: the statement holding
    # the change, inside a function (or a function's body, for a default value). None: the change
    # runs when the module is imported (module or class level), so every test may see it.
    span: tuple[int, int] | None = None
    # The change is inside a function's body: it can be made in a running process by giving that
    # function (and the ones whose lines moved) its mutated code (see `_SwapDriver`).
    in_body: bool = False


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | timeout | equivalent
    seconds: float


@dataclass
class ModuleResult:
    pattern: str
    tests: list[str]
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def score(self) -> float | None:
        scored = len(self.outcomes) - self.count("equivalent")
        return None if scored == 0 else (self.count("killed") + self.count("timeout")) / scored


# -- making mutants -----------------------------------------------------------------------------


def _short(node: ast.AST, limit: int = 60) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _context(node: ast.AST) -> str:
    """What a constant is part of, to tell it from another equal constant in the same function."""
    parent = getattr(node, "parent", node)
    while isinstance(parent, (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Slice)) and not isinstance(getattr(parent, "parent", None), (ast.stmt, type(None))):
        parent = parent.parent
    if isinstance(parent, ast.arguments):  # a default value: name its parameter
        positional = [*parent.posonlyargs, *parent.args]
        pairs = list(zip(positional[len(positional) - len(parent.defaults) :], parent.defaults))
        pairs += list(zip(parent.kwonlyargs, parent.kw_defaults))
        return next((f"{a.arg}={ast.unparse(d)}" for a, d in pairs if d is node), "a default")
    return _short(parent, 50)


class _Finder(ast.NodeVisitor):
    """Collects (node, replacement source, description) for every mutation, with its enclosing name."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.AST, str, str, str]] = []
        self.scope: list[str] = []
        self.in_function = 0
        self.skip_depth = 0

    def _add(self, node: ast.AST, replacement: str, what: str) -> None:
        if self.skip_depth:
            return
        self.found.append((node, replacement, ".".join(self.scope) or "<module>", what))

    # where not to mutate: annotations, decorators, f-string internals, docstrings, TYPE_CHECKING
    def _skipped(self, *nodes: ast.AST | None) -> None:
        self.skip_depth += 1
        for n in nodes:
            if n is not None:
                self.visit(n)
        self.skip_depth -= 1

    def _body(self, body: list[ast.stmt]) -> None:
        for i, stmt in enumerate(body):
            is_docstring = i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)
            if is_docstring:
                continue
            if self.in_function and isinstance(stmt, DELETABLE):
                self._add(stmt, "pass", f"delete `{_short(stmt)}`")
            self.visit(stmt)

    def visit_Module(self, node: ast.Module) -> None:
        self._body(node.body)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._skipped(*node.decorator_list, node.returns)
        for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs, node.args.vararg, node.args.kwarg]:
            if a is not None:
                self._skipped(a.annotation)
        self.scope.append(node.name)
        for d in [*node.args.defaults, *node.args.kw_defaults]:
            if d is not None:
                self.visit(d)
        self.in_function += 1
        self._body(node.body)
        self.in_function -= 1
        self.scope.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._skipped(*node.decorator_list)
        self.scope.append(node.name)
        saved, self.in_function = self.in_function, 0
        self._body(node.body)
        self.in_function = saved
        self.scope.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.body)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._skipped(node.annotation)
        if node.value is not None:
            self.visit(node.value)

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        self.visit(node.test)
        self._body(node.body)
        self._body(node.orelse)

    def _blocks(self, node: ast.AST) -> None:
        for name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self._body(value)
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, ast.AST):
                        self.visit(v)
            elif isinstance(value, ast.AST):
                self.visit(value)

    visit_For = visit_While = visit_With = visit_Try = visit_ExceptHandler = _blocks
    visit_AsyncFor = visit_AsyncWith = _blocks

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        # the literal parts are changed as one; the expressions inside are mutated like any other
        # (where their recorded position is unreliable, `mutants_of` drops the mutant)
        self._add(node, repr("XX"), f"string {_short(node)} -> 'XX'")  # the whole string is the context
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                self.visit(value.value)

    def visit_Import(self, node: ast.Import) -> None:
        return

    visit_ImportFrom = visit_Import

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            self._add(node, "return None", f"`{_short(node)}` -> `return None`")
            self.visit(node.value)

    def visit_Compare(self, node: ast.Compare) -> None:
        for i, op in enumerate(node.ops):
            for new_op in COMPARE_SWAPS.get(type(op), ()):
                ops = list(node.ops)
                ops[i] = new_op()
                new = ast.Compare(left=node.left, ops=ops, comparators=node.comparators)
                self._add(node, f"({ast.unparse(new)})", f"`{_short(node)}` -> `{_short(new)}`")
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        new = ast.BoolOp(op=ast.Or() if isinstance(node.op, ast.And) else ast.And(), values=node.values)
        self._add(node, f"({ast.unparse(new)})", f"`{_short(node)}` -> `{_short(new)}`")
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self._add(node, f"({ast.unparse(node.operand)})", f"`{_short(node)}` -> `{_short(node.operand)}`")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        new_op = BINOP_SWAPS.get(type(node.op))
        if new_op is not None:
            new = ast.BinOp(left=node.left, op=new_op(), right=node.right)
            self._add(node, f"({ast.unparse(new)})", f"`{_short(node)}` -> `{_short(new)}`")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool):
            new: object = not value
        elif isinstance(value, (int, float)):
            new = value + 1
        elif isinstance(value, str):
            new = "XX" + value + "XX"
        elif isinstance(value, bytes):
            new = b"" if value else b"XX"
        else:
            return
        self._add(node, f"({new!r})", f"constant {_short(node)} -> {new!r} in `{_context(node)}`")


def _same(segment: str, node: ast.AST) -> bool:
    """Does the source at `node`'s recorded position parse back to `node`?"""
    try:
        if isinstance(node, ast.stmt):  # an `elif` branch is an `If` starting at `elif`
            text = segment[2:] if segment.startswith("elif") else segment
            parsed: ast.AST = ast.parse(textwrap.dedent(" " * node.col_offset + text)).body[0]
        else:
            parsed = ast.parse("(" + segment + ")", mode="eval").body
    except (SyntaxError, IndexError):
        return False
    return ast.dump(parsed) == ast.dump(node)


def _span(node: ast.AST) -> tuple[int, int] | None:
    """The lines whose running shows a test this node's mutant (see `Mutant.span`)."""
    stmt = node
    while not isinstance(stmt, ast.stmt):
        stmt = stmt.parent  # type: ignore[attr-defined]
    up = getattr(stmt, "parent", None)
    while up is not None and not isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef)):
        up = getattr(up, "parent", None)
    if up is not None:  # a statement inside a function runs only when the function does
        return stmt.lineno, stmt.end_lineno or stmt.lineno
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):  # a default: seen by calls that run the body
        return stmt.body[0].lineno, stmt.end_lineno or stmt.lineno
    return None


def _in_body(node: ast.AST) -> bool:
    """Is `node` inside the body of a function (not in a default value, which is made at import)?"""
    child, up = node, getattr(node, "parent", None)
    while up is not None:
        if isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return any(child is stmt for stmt in up.body)
        child, up = up, getattr(up, "parent", None)
    return False


def mutants_of(path: Path) -> list[Mutant]:
    source = path.read_text(encoding="utf-8")
    data = source.encode("utf-8")
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    tree = ast.parse(source)
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            child.parent = parent  # type: ignore[attr-defined]
    finder = _Finder()
    finder.visit(tree)
    rel = path.relative_to(REPO_ROOT).as_posix()
    seen: dict[str, int] = {}
    result = []
    for node, replacement, scope, what in finder.found:
        begin = starts[node.lineno - 1] + node.col_offset
        end = starts[node.end_lineno - 1] + node.end_col_offset
        if not _same(data[begin:end].decode("utf-8"), node):
            continue  # a position Python got wrong (inside some f-strings): do not guess
        mutated = (data[:begin] + replacement.encode("utf-8") + data[end:]).decode("utf-8")
        try:
            compile(mutated, rel, "exec")
        except SyntaxError:
            continue
        key = f"{scope}: {what}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key} #{seen[key]}"
        span = _span(node)
        result.append(Mutant(rel, node.lineno, key, mutated, span, in_body=span is not None and _in_body(node)))
    return result


# -- running them -------------------------------------------------------------------------------


def _copy_tree(dest: Path) -> None:
    for name in ("hud_sync_hook", "tests"):
        shutil.copytree(REPO_ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    shutil.copy2(REPO_ROOT / "pyproject.toml", dest / "pyproject.toml")


class _PropertyTestsLast:
    """Runs Hypothesis tests after the others: most mutants fail a quick example first (`-x`)."""

    def pytest_collection_modifyitems(self, items: list) -> None:
        items.sort(key=_is_property)


# A mutant that loops forever is stopped inside the test it loops in, not after the whole run's time
# limit: each test may take TEST_LIMIT_FACTOR times what it took unmutated (at least TEST_LIMIT_MIN
# seconds, for a loaded machine), then the child exits with TIMED_OUT_EXIT and the mutant counts as
# timed out. A test the unmutated run did not time gets the whole run's limit.
TEST_LIMIT_FACTOR = 5.0
TEST_LIMIT_MIN = 5.0
TIMED_OUT_EXIT = 124


class _PerTestLimit:
    """Times each test (`durations` given: stops a test that runs past its limit; else: records)."""

    def __init__(self, durations: dict[str, float] | None, fallback: float) -> None:
        self.durations = durations
        self.fallback = fallback
        self.measured: dict[str, float] = {}

    @staticmethod
    def _out_of_time(_signum: int, _frame: object) -> None:
        os._exit(TIMED_OUT_EXIT)  # not an exception: code under test may catch those

    def pytest_runtest_protocol(self, item, nextitem) -> None:  # noqa: ANN001 - pytest's hook signature
        if self.durations is not None:
            base = self.durations.get(item.nodeid)
            limit = self.fallback if base is None else max(TEST_LIMIT_MIN, TEST_LIMIT_FACTOR * base)
            signal.signal(signal.SIGALRM, self._out_of_time)
            signal.setitimer(signal.ITIMER_REAL, limit)
        self._started = time.monotonic()  # returning None: pytest's own protocol runs the test

    def pytest_runtest_logfinish(self, nodeid: str, location: object) -> None:
        if self.durations is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
        else:
            self.measured[nodeid] = time.monotonic() - self._started


# Which tests can see a mutant: the unmutated run records, per test, the lines of the mutated files it
# runs (its broader-scoped fixtures' lines count as its own), and whether it starts a process that
# may run the package (the interpreter, the project's command, a working folder or PYTHONPATH in the
# copy: those lines cannot be traced). A mutant is then run against the tests that run its span, the
# tests that start such a process, and all of them if its span ran while the tests were collected.
# Hypothesis' example database is off in every run, so a property test tries the same examples with
# and without a mutant until the mutated line runs.
_SPAWN_EVENTS = {"subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn", "os.system", "os.fork", "os.forkpty"}
COLLECTION = "<collection>"


class _Coverage:
    """Records which lines of `files` each test runs, and which tests start a process that may run them."""

    def __init__(self, root: Path, files: list[Path]) -> None:
        self.root = str(root)
        self.files = {str(f) for f in files}
        self.where = [COLLECTION]  # the test or broader-scoped fixture being run
        self.lines: dict[str, set[tuple[str, int]]] = {}
        self.spawns: set[str] = set()
        self.fixtures: dict[str, str] = {}  # a context -> the fixture name tests list

    def _global(self, frame, event, arg):  # noqa: ANN001 - sys.settrace's signature
        return self._local if frame.f_code.co_filename in self.files else None

    def _local(self, frame, event, arg):  # noqa: ANN001
        if event == "line":
            self.lines.setdefault(self.where[-1], set()).add((frame.f_code.co_filename, frame.f_lineno))
        return self._local

    def _audit(self, event: str, args: tuple) -> None:
        if event not in _SPAWN_EVENTS:
            return
        text = " ".join(str(a) for a in args if not isinstance(a, dict))
        env = next((a for a in args if isinstance(a, dict)), None) or os.environ
        if event in ("os.fork", "os.forkpty") or sys.executable in text or "hud_sync_hook" in text or "hud-sync-hook" in text \
                or self.root in text or self.root in str(env.get("PYTHONPATH", "")):
            self.spawns.add(self.where[-1])

    def start(self) -> None:
        sys.addaudithook(self._audit)  # for good: the child exits after the run
        threading.settrace(self._global)
        sys.settrace(self._global)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):  # noqa: ANN001 - pytest's hook signature
        self.where.append(item.nodeid)
        yield
        self.where.pop()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):  # noqa: ANN001
        broad = fixturedef.scope != "function"
        if broad:
            context = f"fixture {fixturedef.baseid}::{fixturedef.argname}"
            self.fixtures[context] = fixturedef.argname
            self.where.append(context)
        yield
        if broad:
            self.where.pop()

    def pytest_collection_modifyitems(self, items: list) -> None:
        self.fixture_names = {item.nodeid: list(getattr(item, "fixturenames", ())) for item in items}

    def result(self, rel: dict[str, str]) -> dict:
        """JSON-able: per test id its lines ("path:line") and whether it spawns; the collection's lines."""
        def named(context: str) -> set[str]:
            return {f"{rel[f]}:{n}" for f, n in self.lines.get(context, ())}
        tests = {}
        for nodeid, names in getattr(self, "fixture_names", {}).items():
            contexts = [nodeid] + [c for c, name in self.fixtures.items() if name in names]
            tests[nodeid] = {
                "lines": sorted(set().union(*(named(c) for c in contexts))),
                "spawns": any(c in self.spawns for c in contexts),
            }
        return {"tests": tests, "collection": sorted(named(COLLECTION))}


def _quick_first(items: list, durations: dict[str, float] | None) -> list:
    """`items` with the quickest unmutated tests first, property tests last: with `-x` a mutant stops
    at its first failing test, and which test that is does not change whether it is killed."""
    if durations is None:
        return items
    return sorted(items, key=lambda item: (_is_property(item), durations.get(item.nodeid, float("inf"))))


def _is_property(item) -> bool:  # noqa: ANN001 - a pytest item
    return hasattr(getattr(item, "obj", None), "hypothesis")


class _Select:
    """Runs only the tests in `keep` (the rest are deselected), the quickest first."""

    def __init__(self, keep: set[str], durations: dict[str, float] | None) -> None:
        self.keep = keep
        self.durations = durations

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items: list) -> None:  # noqa: ANN001
        dropped = [item for item in items if item.nodeid not in self.keep]
        items[:] = _quick_first([item for item in items if item.nodeid in self.keep], self.durations)
        config.hook.pytest_deselected(items=dropped)


def _no_example_database() -> None:
    from hypothesis import settings

    settings.register_profile("mutation", database=None)
    settings.load_profile("mutation")


def _run_tests_forked(
    root: Path, tests: list[str], timeout: float, durations: dict[str, float] | None = None, record_to: Path | None = None,
    keep: set[str] | None = None, cover: list[str] | None = None,
) -> tuple[int | None, float]:
    """Run pytest over `tests` in a forked child rooted at `root`; (exit code or None on timeout, s).

    With `durations` (test id -> unmutated seconds) each test has its own limit (`_PerTestLimit`);
    with `record_to` the child writes each test's time there as JSON instead, and with `cover` (the
    mutated files, relative to `root`) also which lines of them each test runs (`_Coverage`).
    `keep`: run only these test ids."""
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child
        code = 3
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.setpgid(0, 0)
            os.chdir(root)
            sys.path.insert(0, str(root))
            sys.dont_write_bytecode = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            _no_example_database()
            limiter = _PerTestLimit(durations, timeout)
            plugins = [_PropertyTestsLast()] + ([limiter] if durations is not None or record_to is not None else [])
            plugins += [_Select(keep, durations)] if keep is not None else []
            coverage = None
            if cover is not None:
                coverage = _Coverage(root, [root / c for c in cover])
                plugins.append(coverage)
                coverage.start()
            code = int(pytest.main([*PYTEST_ARGS, *tests], plugins=plugins))
            if record_to is not None:
                sys.settrace(None)
                threading.settrace(None)  # type: ignore[arg-type]
                found = coverage.result({str(root / c): c for c in cover}) if coverage is not None else None
                record_to.write_text(json.dumps({"durations": limiter.measured, "coverage": found}), encoding="utf-8")
        finally:
            os._exit(code)
    return _wait(pid, started, timeout)


def _wait(pid: int, started: float, timeout: float) -> tuple[int | None, float]:
    """Wait for child `pid` (its own process group) until `timeout` after `started`; (exit code or None, s)."""
    deadline = started + timeout
    finished = False
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                finished = True
                return os.waitstatus_to_exitcode(status), time.monotonic() - started
            if time.monotonic() > deadline:
                return None, time.monotonic() - started
            time.sleep(0.02)
    finally:
        if not finished:  # timed out or interrupted: the child and whatever it started go too
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)


# Most mutants change one function's body. Re-importing the tests for each of them costs more than
# running them, so those mutants share one collection: a child collects the tests once (unmutated),
# then for each mutant writes it to the file (for the processes tests start), forks, and in the fork
# gives each function of the module its mutated code (`__code__`, so every reference sees it) and
# runs the mutant's tests. Anything it cannot map exactly (a nested code object added or removed, a
# function's free variables changed) is run the fresh way instead, as are changes made at import.
SWAP_FAILED_EXIT = 125


def _code_objects(source: str, filename: str) -> dict[str, list[types.CodeType]]:
    """Every function's code in `source`, by qualified name, in source order."""
    found: dict[str, list[types.CodeType]] = {}

    def walk(code: types.CodeType) -> None:
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                found.setdefault(const.co_qualname, []).append(const)
                walk(const)

    walk(compile(source, filename, "exec"))
    return found


def _code_swaps(original: str, mutated: str, filename: str, functions: list[types.FunctionType]) -> list[tuple[types.FunctionType, types.CodeType]] | None:
    """(function, its mutated code) for every living function of the module the mutant changes; None:
    no exact mapping (run the mutant the fresh way)."""
    old, new = _code_objects(original, filename), _code_objects(mutated, filename)
    swaps = []
    for f in functions:
        name = f.__code__.co_qualname
        index = next((i for i, c in enumerate(old.get(name, ())) if c == f.__code__), None)
        if index is None or len(old[name]) != len(new.get(name, ())):
            return None
        if new[name][index] != f.__code__:
            swaps.append((f, new[name][index]))
    return swaps or None


class _SwapDriver:
    """Replaces pytest's test loop in the collecting child: runs each mutant in a fork (see above)."""

    def __init__(
        self, root: Path, todo: list[tuple[Mutant, set[str]]], timeout: float, durations: dict[str, float], progress: "IO[str]"
    ) -> None:
        self.root, self.todo, self.timeout, self.durations, self.progress = root, todo, timeout, durations, progress
        self.results: list[tuple[str, str, float]] = []

    def pytest_runtestloop(self, session) -> bool:  # noqa: ANN001 - pytest's hook signature
        files = {str(self.root / m.path) for m, _ in self.todo}
        functions = [f for f in gc.get_objects() if isinstance(f, types.FunctionType) and f.__code__.co_filename in files]
        for m, keep in self.todo:
            target = self.root / m.path
            original = target.read_text(encoding="utf-8")
            mine = [f for f in functions if f.__code__.co_filename == str(target)]
            swaps = _code_swaps(original, m.source, str(target), mine)
            if swaps is None:
                self.results.append((m.key, "fresh", 0.0))
                continue
            selected = _quick_first([item for item in session.items if item.nodeid in keep], self.durations)
            try:
                target.write_text(m.source, encoding="utf-8")
                started = time.monotonic()
                pid = os.fork()
                if pid == 0:
                    self._run_in_fork(session, selected, swaps)
                code, seconds = _wait(pid, started, self.timeout)
            finally:
                target.write_text(original, encoding="utf-8")
            status = _status(code)
            self.results.append((m.key, status, seconds))
            if status != "fresh":
                print(f"  {status:9} {m.path}:{m.line} {m.key}", file=self.progress, flush=True)
        return True

    @staticmethod
    def _run_in_fork(session, selected: list, swaps: list[tuple[types.FunctionType, types.CodeType]]) -> None:  # noqa: ANN001
        code = 3
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.setpgid(0, 0)
            try:
                for f, new in swaps:
                    f.__code__ = new
            except ValueError:  # the free variables differ: only a fresh import can make this mutant
                code = SWAP_FAILED_EXIT
                raise
            for i, item in enumerate(selected):
                nextitem = selected[i + 1] if i + 1 < len(selected) else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                if session.testsfailed:  # `-x`: the first failure kills the mutant
                    code = 1
                    break
            else:
                code = 0
        finally:
            os._exit(code)


def _status(code: int | None) -> str:
    if code == SWAP_FAILED_EXIT:
        return "fresh"
    if code in (3, 4, 5):  # internal error, usage error, no tests: not a kill (2 is a failed collection)
        return f"error (pytest exit {code})"
    return "timeout" if code in (None, TIMED_OUT_EXIT) else "survived" if code == 0 else "killed"


def _run_swapped(
    root: Path, tests: list[str], timeout: float, durations: dict[str, float], todo: list[tuple[Mutant, set[str]]]
) -> list[tuple[str, str, float]]:
    """Run `todo` through one collection (`_SwapDriver`) in a child; (key, status, seconds), status
    "fresh" for the mutants it could not make in place."""
    out_file = root / "swapped-results.json"
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.setpgid(0, 0)  # so that a collection that never ends can be stopped (each fork has its own)
            os.chdir(root)
            sys.path.insert(0, str(root))
            sys.dont_write_bytecode = True
            progress = os.fdopen(os.dup(1), "w")
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            _no_example_database()
            driver = _SwapDriver(root, todo, timeout, durations, progress)
            pytest.main([*PYTEST_ARGS, *tests], plugins=[_PropertyTestsLast(), _PerTestLimit(durations, timeout), driver])
            out_file.write_text(json.dumps(driver.results), encoding="utf-8")
            code = 0
        finally:
            os._exit(code)
    # each mutant is bounded by `timeout` in the collecting child; this bounds the collection too
    code, _ = _wait(pid, started, timeout * (len(todo) + 2))
    if code != 0 or not out_file.exists():
        return [(m.key, "fresh", 0.0) for m, _ in todo]  # the shared collection failed: run them all fresh
    return [tuple(r) for r in json.loads(out_file.read_text(encoding="utf-8"))]


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _worker(
    args: tuple[str, list[str], list[Mutant], float, int, dict[str, float], list[set[str] | None], bool]
) -> list[tuple[str, str, float]]:
    """Run `mutants` in a private copy, each against its tests (`keeps`, None: all), those in a
    function's body through one shared collection if `swap`; returns (key, status, seconds) in order."""
    pattern, tests, mutants, timeout, index, durations, keeps, swap = args
    signal.signal(signal.SIGTERM, _exit_on_signal)  # so that the `finally` clauses below run
    for name in PRELOAD:
        __import__(name)
    # no `.pyc` written by the processes tests start either: a mutant written in the same second as
    # another of the same size would otherwise be read back from the other's
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    root = Path(tempfile.mkdtemp(prefix=f"mutation-{index}-"))
    out = []
    try:
        _copy_tree(root)
        results: dict[int, tuple[str, str, float]] = {}
        for i, (m, keep) in enumerate(zip(mutants, keeps)):
            if keep is not None and not keep:  # no test runs the changed line: nothing can fail
                results[i] = (m.key, "survived", 0.0)
                print(f"  {'survived':9} {m.path}:{m.line} {m.key} (no test runs this line)", flush=True)
        shared = [i for i, (m, keep) in enumerate(zip(mutants, keeps)) if swap and m.in_body and keep and i not in results]
        if shared:
            for i, r in zip(shared, _run_swapped(root, tests, timeout, durations, [(mutants[i], keeps[i]) for i in shared])):
                if r[1] != "fresh":
                    results[i] = r
        for i, (m, keep) in enumerate(zip(mutants, keeps)):
            if i in results:
                out.append(results[i])
                continue
            target = root / m.path
            original = target.read_text(encoding="utf-8")
            try:
                target.write_text(m.source, encoding="utf-8")
                code, seconds = _run_tests_forked(root, tests, timeout, durations, keep=keep)
            finally:
                target.write_text(original, encoding="utf-8")
            status = _status(code)
            out.append((m.key, status, seconds))
            print(f"  {status:9} {m.path}:{m.line} {m.key}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return out


def baseline(tests: list[str], cover: list[str]) -> tuple[float, dict[str, float], dict]:
    """The unmutated tests must pass in a copy, and import the package from there; their time, each
    test's time (taken in a forked child, as the mutants are run) and which lines of the files in
    `cover` each test runs (`_Coverage.result`)."""
    root = Path(tempfile.mkdtemp(prefix="mutation-base-"))
    try:
        _copy_tree(root)
        probe = subprocess.run(
            [sys.executable, "-c", "import hud_sync_hook; print(hud_sync_hook.__file__)"],
            cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True, check=True,
        )
        if not probe.stdout.strip().startswith(str(root)):
            raise SystemExit(f"the package imports from {probe.stdout.strip()}, not the copy: is it installed non-editable?")
        record_to = root / "durations.json"
        code, seconds = _run_tests_forked(root, tests, 3600.0, record_to=record_to, cover=cover)
        if code != 0:
            raise SystemExit(f"the tests fail without any mutation (pytest exit {code}): run them to see why")
        found = json.loads(record_to.read_text(encoding="utf-8"))
        coverage = found["coverage"]
        coverage["collection"] = set(coverage["collection"])
        for seen in coverage["tests"].values():
            seen["lines"] = set(seen["lines"])
        return seconds, found["durations"], coverage
    finally:
        shutil.rmtree(root, ignore_errors=True)


def load_equivalents() -> dict[tuple[str, str], str]:
    data = tomllib.loads(EQUIVALENT_FILE.read_text(encoding="utf-8")) if EQUIVALENT_FILE.exists() else {}
    return {(e["module"], e["mutant"]): e["why"] for e in data.get("equivalent", [])}


def expand(pattern: str) -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(REPO_ROOT / pattern)) if not p.endswith("__init__.py") or Path(p).stat().st_size > 200)


def _split_node(test: str) -> tuple[str, str]:
    """'tests/x.py::test_y' -> ('tests/x.py', '::test_y'): a file glob and an optional pytest node."""
    file, sep, node = test.partition("::")
    return file, sep + node


def tests_for(m: Mutant, coverage: dict) -> set[str] | None:
    """The ids of the tests that can see mutant `m` (see `_Coverage`, lines as sets); None: every
    test, with everything imported afresh (the change is made at import)."""
    if m.span is None:
        return None
    span = {f"{m.path}:{n}" for n in range(m.span[0], m.span[1] + 1)}
    if span & coverage["collection"]:
        return None
    return {t for t, seen in coverage["tests"].items() if seen["spawns"] or span & seen["lines"]}


def run_module(
    pattern: str, tests: list[str], workers: int, equivalents: dict[tuple[str, str], str], only: list[str] = (),
    every_test: bool = False, fresh: bool = False,
) -> ModuleResult | None:
    files = expand(pattern)
    test_files = list(  # in the order given, so a module's own tests run first and most kills come quickly
        dict.fromkeys(
            str(Path(t).relative_to(REPO_ROOT)) + node for g in tests for file, node in [_split_node(g)] for t in sorted(glob.glob(str(REPO_ROOT / file)))
        )
    )
    if not files or not test_files:
        print(f"{pattern}: {'no such module' if not files else 'no tests'}, skipped")
        return None
    result = ModuleResult(pattern, test_files)
    mutants = [m for f in files for m in mutants_of(f) if not only or any(text in m.key for text in only)]
    todo = []
    for m in mutants:
        if (m.path, m.key) in equivalents:
            result.outcomes.append(Outcome(m, "equivalent", 0.0))
        else:
            todo.append(m)
    base, durations, coverage = baseline(test_files, [str(f.relative_to(REPO_ROOT)) for f in files])
    timeout = max(15.0, 3 * base)  # the whole run's limit; a test's own limit usually stops a loop first
    keeps = {id(m): tests_for(m, coverage) for m in todo}
    if every_test:  # every test, still shared where the mutant allows (None keeps it fresh)
        keeps = {k: None if v is None else set(coverage["tests"]) for k, v in keeps.items()}
    print(f"{pattern}: {len(mutants)} mutants ({len(mutants) - len(todo)} listed equivalent), tests {' '.join(test_files)} ({base:.1f} s unmutated)", flush=True)
    if not every_test and todo:
        ran = [len(k) for k in keeps.values() if k is not None]
        print(
            f"  each mutant runs only the tests that run its line: {len(todo) - len(ran)} run all {len(durations)} tests "
            f"(a change made at import), the others {sum(ran) / max(1, len(ran)):.1f} on average, {ran.count(0)} none",
            flush=True,
        )
    chunks = [todo[i::workers] for i in range(workers)]
    chunk_keeps = [[keeps[id(m)] for m in c] for c in chunks]
    by_key = {m.key + "\0" + m.path: m for m in todo}
    if workers == 1:
        results = [_worker((pattern, test_files, chunks[0], timeout, 0, durations, chunk_keeps[0], not fresh))]
    else:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_worker, [(pattern, test_files, c, timeout, i, durations, chunk_keeps[i], not fresh) for i, c in enumerate(chunks)])
    for chunk, res in zip(chunks, results):
        for m, (key, status, seconds) in zip(chunk, res):
            result.outcomes.append(Outcome(by_key[key + "\0" + m.path], status, seconds))
    return result


def report(results: list[ModuleResult], equivalents: dict[tuple[str, str], str]) -> str:
    lines = [
        "| module | mutants | killed | timed out | survived | equivalent | score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        score = "n/a" if r.score is None else f"{100 * r.score:.1f} %"
        errors = sum(1 for o in r.outcomes if o.status.startswith("error"))
        survived = r.count("survived") + errors
        lines.append(
            f"| `{r.pattern}` | {len(r.outcomes)} | {r.count('killed')} | {r.count('timeout')} | {survived} | {r.count('equivalent')} | {score} |"
        )
    survivors = [o for r in results for o in r.outcomes if o.status not in ("killed", "timeout", "equivalent")]
    survivors.sort(key=lambda o: (o.mutant.path, o.mutant.line, o.mutant.key))
    if survivors:
        lines += ["", "Survivors:", ""]
        lines += [f"- `{o.mutant.path}:{o.mutant.line}` {o.mutant.key} ({o.status})" for o in survivors]
    made = {(o.mutant.path, o.mutant.key) for r in results for o in r.outcomes}
    covered = {str(p.relative_to(REPO_ROOT)) for r in results for p in expand(r.pattern)}
    stale = [k for k in equivalents if k[0] in covered and k not in made]
    if stale:
        lines += ["", "Listed as equivalent but no longer made (update equivalent.toml):", ""]
        lines += [f"- `{path}` {key}" for path, key in stale]
    return "\n".join(lines)


def _code_state() -> tuple[str, bool]:
    """The commit the run starts from, and whether the package or the tests differ from it."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "hud_sync_hook", "tests"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    return commit, bool(dirty)


def record(text: str, label: str, seconds: float, workers: int, state: tuple[str, bool]) -> None:
    commit, dirty = state
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        "# Mutation testing results\n\n"
        "Written by `python benchmarks/mutation/run.py --record LABEL` (see its docstring). Newest run first.\n"
        "Score: killed (or timed out) / (mutants - listed equivalent). Equivalent mutants and why they are\n"
        "harmless: `equivalent.toml`.\n"
    )
    entry = (
        f"\n## {now} — {label}\n\n"
        f"- Code: commit {commit}{' with uncommitted changes' if dirty else ''}; {workers} worker(s), "
        f"{seconds / 60:.1f} min on {os.cpu_count()} cores; Python {platform.python_version()}\n\n{text}\n"
    )
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else header
    head, sep, rest = old.partition("\n## ")
    RESULTS.write_text(head.rstrip("\n") + "\n" + entry + (("\n## " + rest) if sep else ""), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", default=[], help="a name in a module path (plan, render, ...); repeatable; default all")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--record", metavar="LABEL", help=f"write the table to {RESULTS.name}")
    parser.add_argument(
        "--only", action="append", default=[], metavar="TEXT",
        help="run only the mutants whose name holds TEXT (repeatable), to check that a new test kills a survivor; not recorded",
    )
    parser.add_argument(
        "--every-test", action="store_true",
        help="run each mutant against all its module's tests, not only those that run its line (slower; to check the selection)",
    )
    parser.add_argument(
        "--fresh", action="store_true",
        help="import the tests afresh for every mutant instead of sharing one collection (slower; to check the sharing)",
    )
    args = parser.parse_args(argv)
    if args.only and args.record:
        parser.error("--only runs a part of the mutants: its score is not one to record")
    selected = {p: t for p, t in MODULES.items() if not args.module or any(name in p for name in args.module)}
    equivalents = load_equivalents()
    if args.list:
        for pattern in selected:
            for f in expand(pattern):
                for m in mutants_of(f):
                    flag = " [equivalent]" if (m.path, m.key) in equivalents else ""
                    print(f"{m.path}:{m.line} {m.key}{flag}")
        return 0
    started = time.monotonic()
    state = _code_state()  # taken now: the tree may move on while a long run goes
    results = []
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        for pattern, tests in selected.items():
            r = run_module(pattern, tests, max(1, args.workers), equivalents, args.only, args.every_test, args.fresh)
            if r is not None:
                results.append(r)
                print(report([r], {}).splitlines()[2], flush=True)  # this module's row, as soon as it is known
    except (KeyboardInterrupt, SystemExit) as stop:
        if isinstance(stop, SystemExit) and isinstance(stop.code, str):  # e.g. the unmutated tests fail
            print(f"{stop.code}: nothing recorded", file=sys.stderr)
            return 1
        print("interrupted: nothing recorded (the working tree was never changed)", file=sys.stderr)
        return 130
    text = report(results, {} if args.only else equivalents)  # a partial run cannot tell a stale entry
    print(text)
    if args.record:
        record(text, args.record, time.monotonic() - started, args.workers, state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
