"""The one rule for task files that fail to import: which are errors, which are allowed, at which line."""

from __future__ import annotations

import pytest

from hud_sync_hook.discovery import Skipped
from hud_sync_hook.discovery.import_errors import Allowed, ImportFailure, error_line, is_allowed, split_import_errors
from hud_sync_hook.model import Location, Problem


@pytest.mark.parametrize(
    "error, expected",
    [
        ("SyntaxError: invalid syntax (line 3)", ("SyntaxError: invalid syntax", 3)),
        ("KeyError: 'level' (line 12)  ", ("KeyError: 'level'", 12)),
        ("ValueError: x (line 4) (line 9)", ("ValueError: x (line 4)", 9)),  # the child's own suffix is last
        ("ValueError: see (line 4) above", ("ValueError: see (line 4) above", None)),
        ("SyntaxError: bad (line 0)", ("SyntaxError: bad (line 0)", None)),
        ("the import ended the process (exit status 3)", ("the import ended the process (exit status 3)", None)),
        ("TimeoutError: the import did not finish within 1 s (raise --import-timeout, or remove what blocks "
         "at import time)", ("TimeoutError: the import did not finish within 1 s (raise --import-timeout, or "
                             "remove what blocks at import time)", None)),
        ("", ("", None)),
    ],
)
def test_the_line_comes_from_the_trailing_line_note_only(error, expected):
    assert error_line(error) == expected


REPO = "/repo"


@pytest.mark.parametrize(
    "path, folder, patterns, expected",
    [
        ("/repo/tasks.py", REPO, ["tasks.py"], True),
        ("/repo/tasks.py", REPO, ["./tasks.py"], True),
        ("/repo/tasks.py", REPO, ["  tasks.py  "], True),
        ("/repo/tasks.py", REPO, ["task.py"], False),
        ("/repo/tasks.py", REPO, ["Tasks.py"], False),  # case matters, on every system
        ("/repo/suite/a/task.py", REPO, ["suite/*/task.py"], True),
        ("/repo/suite/a/b/task.py", REPO, ["suite/*.py"], True),  # fnmatch: `*` matches `/` too
        ("/repo/suite/a/task.py", REPO, ["suite/?/task.py"], True),
        ("/repo/suite/ab/task.py", REPO, ["suite/[a]/task.py"], False),
        ("/repo/sub/tasks.py", "/repo/sub", ["tasks.py"], True),  # relative to its own folder
        ("/repo/tasks.py", "/repo/sub", ["*"], False),  # a file outside the folder
        ("/repo/tasks.py", "/repo/sub", ["../tasks.py"], False),  # a pattern leading out of it
        ("/repo/tasks.py", "/repo/sub", ["../*"], False),
        ("/repo/tasks.py", REPO, ["/repo/tasks.py"], True),  # an absolute pattern inside the folder
        ("/repo/tasks.py", REPO, ["/elsewhere/tasks.py"], False),
        ("/repo/tasks.py", REPO, ["", "   "], False),  # empty lines allow nothing
        ("/repo/tasks.py", REPO, [], False),
        ("/repo2/tasks.py", REPO, ["*"], False),  # a sibling folder sharing the prefix
        ("/repo/a/../tasks.py", REPO, ["tasks.py"], True),
        ("/tasks.py", "/", ["tasks.py"], True),
    ],
)
def test_patterns_are_globs_relative_to_their_folder(path, folder, patterns, expected):
    assert is_allowed(path, [Allowed(folder, tuple(patterns))]) is expected


def test_any_folder_of_patterns_may_allow_a_file():
    rules = [Allowed("/repo", ("other.py",)), Allowed("/repo/sub", ("broken.py",))]
    assert is_allowed("/repo/sub/broken.py", rules)
    assert not is_allowed("/repo/broken.py", rules)


def test_split_keeps_the_allowed_and_makes_the_others_problems_at_their_line():
    skipped = [
        Skipped("tasks.py", "SyntaxError: invalid syntax (line 3)"),
        Skipped("sub/task.py", "RuntimeError: boom (line 1)"),
        Skipped("slow.py", "TimeoutError: the import did not finish within 1 s"),
        Skipped("/outside/x.py", "ValueError: v (line 2)"),
    ]
    failures, allowed = split_import_errors(
        skipped, "/repo", [Allowed("/repo", ("sub/*",))], allow="the-setting"
    )
    assert allowed == [skipped[1]]
    assert [str(f) for f in failures] == [
        "tasks.py:3: SyntaxError: invalid syntax (fix the file, or list it in the-setting to plan without its tasks)",
        "slow.py: TimeoutError: the import did not finish within 1 s (fix the file, or list it in the-setting to "
        "plan without its tasks)",
        "/outside/x.py:2: ValueError: v (fix the file, or list it in the-setting to plan without its tasks)",
    ]
    assert all(isinstance(f, ImportFailure) and isinstance(f, Problem) for f in failures)
    assert failures[0].location == Location("tasks.py", 3)


def test_an_absolute_path_is_matched_as_it_is():
    failures, allowed = split_import_errors(
        [Skipped("/outside/x.py", "ValueError: v (line 2)")], "/repo", [Allowed("/outside", ("x.py",))]
    )
    assert failures == [] and len(allowed) == 1


def test_nothing_skipped_nothing_failed():
    assert split_import_errors([], "/repo", [Allowed("/repo", ("*",))]) == ([], [])
