"""The rules of reading a Compose file named by a v6 row, one input per line with its whole result.

`INTERPOLATION` holds what `hud` 0.6.21 (`ComposeConfig.from_file`) makes of one string scalar with
a given project `.env`: the value, or the first line of the error it raises. The last test checks
the whole table against the SDK itself, in one process. The other tables are the lines a user sees
when a named file cannot be used, most of all the ones that keep every read inside the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hud_sync_hook.dialect.v6_compose import ComposeFileProblem, inline_compose_files, read_compose_file
from hud_sync_hook.dialect.v6_model import task_from_mapping, validate_task
from hud_sync_hook.model import Location
from tests.helpers.oracle_v6 import needs_oracle, oracle_python

HERE = Location("tasks/rows.jsonl", 3)
UNREAD = "fix the Compose file, or write the document inline"

# The project .env of most cases; what each variable holds once read is written after it.
ENV = (
    "A=1\n"  # 1
    "E=\n"  # empty
    "D=x$$y\n"  # x$y
    "B=${A}2\n"  # 12
    "C=$A$$\n"  # 1$
    "L=a$\n"  # a$
    "F\n"  # no value: not set at all
    "G=${U:-$$}\n"  # $
    "H=${A:+p$A}\n"  # p1
    "# a comment\n"
)


class Refused(str):
    """The first line of the error the SDK raises, which is also ours after `which cannot be read: `."""


def unset(name: str) -> Refused:
    return Refused(f"Compose variable {name!r} is not set by the project .env")


def invalid(expression: str) -> Refused:
    return Refused(f"invalid Compose interpolation expression {expression!r}")


UNCLOSED = Refused("invalid Compose interpolation: unclosed variable")

# (the YAML written as `x-v: ...`, what the SDK reads, the .env when not ENV)
INTERPOLATION: list[tuple[str, Any, str]] = [
    ("plain", "plain", ENV),
    ('""', "", ENV),
    ("$A", "1", ENV),
    ("${A}", "1", ENV),
    ("x$A-y", "x1-y", ENV),
    ("$A$A", "11", ENV),
    ("$A_", unset("A_"), ENV),
    ("$$A", "$$A", ENV),
    ("$$$A", "$$1", ENV),
    ("a$", "a$$", ENV),
    ('"$"', "$$", ENV),
    ('"a$ b"', "a$$ b", ENV),
    ('"a$-$A"', "a$$-1", ENV),
    ('"$1"', "$$1", ENV),
    ('"${A}$"', "1$$", ENV),
    ("$B", "12", ENV),
    ("$C", "1$$", ENV),
    ("$L", "a$$", ENV),
    ("$D", "x$$y", ENV),
    ("${D}", "x$$y", ENV),
    ("$G", "$$", ENV),
    ("$H", "p1", ENV),
    ("$E", "", ENV),
    ("${E}", "", ENV),
    ("$U", unset("U"), ENV),
    ("${U}", unset("U"), ENV),
    ("$F", unset("F"), ENV),
    ('"${E:-d}"', "d", ENV),
    ('"${E-d}"', "", ENV),
    ('"${A:-d}"', "1", ENV),
    ('"${A-d}"', "1", ENV),
    ('"${D-d}"', "x$$y", ENV),
    ('"${U:-d}"', "d", ENV),
    ('"${U-d}"', "d", ENV),
    ('"${U-}"', "", ENV),
    ('"${U-$$}"', "$$", ENV),
    ('"${U-a$}"', "a$$", ENV),
    ('"${E:+p}"', "", ENV),
    ('"${E+p}"', "p", ENV),
    ('"${A:+p}"', "p", ENV),
    ('"${A+p}"', "p", ENV),
    ('"${A+$D}"', "x$$y", ENV),
    ('"${U+p}"', "", ENV),
    ('"${U:+p}"', "", ENV),
    ('"${A:?m}"', "1", ENV),
    ('"${A?m}"', "1", ENV),
    ('"${D:?m}"', "x$$y", ENV),
    ('"${D?m}"', "x$$y", ENV),
    ('"${E?m}"', "", ENV),
    ('"${E:?m}"', Refused("m"), ENV),
    ('"${U?m}"', Refused("m"), ENV),
    ('"${U:?set U in .env}"', Refused("set U in .env"), ENV),
    ('"${U?}"', Refused("Compose variable 'U' is required"), ENV),
    ('"${E:?}"', Refused("Compose variable 'E' is required"), ENV),
    ('"${D:-z}"', "x$$y", ENV),
    ('"${U:-$A}"', "1", ENV),
    ('"${U:-$$}"', "$$", ENV),
    ('"${U:-${A}}"', "1", ENV),
    ('"${U:-${U:-${A}}}x"', "1x", ENV),
    ('"${U:-${A}}${A}"', "11", ENV),
    ('"${U:-a}b}"', "ab}", ENV),
    ('"${U:-{}x"', "{x", ENV),
    ('"${A:-${U}}"', "1", ENV),  # the other branch is never read
    ('"${U:+${U}}"', "", ENV),
    ('"${U:-$U}"', unset("U"), ENV),
    ('"${A"', UNCLOSED, ENV),
    ('"${"', UNCLOSED, ENV),
    ('"${U:-${A}"', UNCLOSED, ENV),
    ('"${U:-${}}"', invalid(""), ENV),  # the `}` right after a nested `${` closes it
    ('"${U:-${${A}}}"', invalid("${A}"), ENV),  # so does a `${` right after one
    ('"${}"', invalid(""), ENV),
    ('"${1A}"', invalid("1A"), ENV),
    ('"${A!}"', invalid("A!"), ENV),
    ('"${A:x}"', invalid("A:x"), ENV),
    ('"${A:}"', invalid("A:"), ENV),
    ("'$A $$ ${U}'", "$$A $$$$ $${U}", ENV),  # single-quoted: never interpolated, kept escaped
    ("|\n  $A\n  $$\n", "1\n$$\n", ENV),
    ("5", 5, ENV),
    ("!!null $U", None, ENV),
    ("[$A, '$A', 7]", ["1", "$$A", 7], ENV),
    ("{$A: $A, k: [$B]}", {"$A": "1", "k": ["12"]}, ENV),
    ("[&v '$A', *v]", ["$$A", "$$A"], ENV),  # a node shared by an alias is interpolated once
    ("{a: &m {k: '$'}, b: *m}", {"a": {"k": "$$"}, "b": {"k": "$$"}}, ENV),
    ("$X", "$${U}", "X=$${U}\n"),
    ("$X", "2", "X=1\nX=2\n"),
    ("$X", "", "X=${E-}\n"),
    ("$Y", "1", "X=1\nY=${X}\n"),
    ("$X", "a b", "X='a b'\n"),
    ("$X", "$${Y}", "X='$${Y}'\n"),
    ("$X", "v", "export X=v\n"),
    ("$Y", "", "F\nY=${F-}\n"),
]
# Refused while reading the .env itself: (.env, the SDK's first error line)
ENV_REFUSED = [
    ("X=${Y}\nY=1\n", unset("Y")),  # read in order: Y is not set yet
    ("X=$Y\n", unset("Y")),
    ("X=${Y:?no Y}\n", "no Y"),
    ("X=${\n", UNCLOSED),
]


def _write(folder: Path, value: str, dotenv: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".env").write_text(dotenv, encoding="utf-8")
    path = folder / "compose.yaml"
    path.write_text(f"services: {{}}\nx-v: {value}\n", encoding="utf-8")
    return path


def _ours(path: Path) -> Any:
    try:
        return read_compose_file(path)["x-v"]
    except ComposeFileProblem as problem:
        return problem


@pytest.mark.parametrize("value, expected, dotenv", INTERPOLATION)
def test_a_string_is_interpolated_as_the_sdk_does(tmp_path: Path, value: str, expected: Any, dotenv: str):
    got = _ours(_write(tmp_path, value, dotenv))
    if isinstance(expected, Refused):
        assert isinstance(got, ComposeFileProblem), got
        assert (got.message, got.fix) == (f"names compose.yaml, which cannot be read: {expected}", UNREAD)
    else:
        assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("dotenv, error", ENV_REFUSED)
def test_a_dotenv_is_read_in_order_from_its_own_values_only(tmp_path: Path, dotenv: str, error: str):
    with pytest.raises(ComposeFileProblem) as raised:
        read_compose_file(_write(tmp_path, "x", dotenv))
    assert (raised.value.message, raised.value.fix) == (f"cannot use the .env next to compose.yaml: {error}", "fix the .env file")


def test_the_hosts_environment_is_never_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HSH_HOST_ONLY", "leaked")
    path = _write(tmp_path, "$HSH_HOST_ONLY", "A=1\n")
    with pytest.raises(ComposeFileProblem, match="'HSH_HOST_ONLY' is not set by the project .env"):
        read_compose_file(path)
    (tmp_path / ".env").write_text("A=${HSH_HOST_ONLY}\n", encoding="utf-8")
    with pytest.raises(ComposeFileProblem, match="^cannot use the .env next to compose.yaml: Compose variable 'HSH_HOST_ONLY' is not set"):
        read_compose_file(path)
    (tmp_path / ".env").write_text("A=${HSH_HOST_ONLY:-own}\n", encoding="utf-8")
    path.write_text("services: {}\nx-v: $A\n", encoding="utf-8")
    assert read_compose_file(path)["x-v"] == "own"
    (tmp_path / ".env").unlink()  # no .env at all: nothing is set
    path.write_text("services: {}\nx-v: ${HSH_HOST_ONLY-none}\n", encoding="utf-8")
    assert read_compose_file(path)["x-v"] == "none"


# -- the lines a user sees ------------------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
) + "services: {}\n"

FILES: dict[str, str | bytes] = {
    "tasks/compose.yaml": "services:\n  main:\n    image: app:${TAG}\n",
    "tasks/.env": "TAG=7\n",
    "tasks/latin1.yaml": b"services: {main: {image: caf\xe9}}\n",
    "tasks/folder.yaml/keep": "",
    "tasks/empty.yaml": "# nothing\n",
    "tasks/list.yaml": "- services\n",
    "tasks/text.yaml": "services\n",
    "tasks/include.yaml": "include: [other.yaml]\nservices: {}\n",
    "tasks/extends.yaml": "services:\n  main: {image: a}\n  web:\n    extends: main\n",
    "tasks/extends-key.yaml": "services:\n  main: {image: a, x-extends: 1}\nx-extends: {}\n",
    "tasks/broken.yaml": "services: [unclosed\n",
    "tasks/two.yaml": "services: {}\n---\nservices: {}\n",
    "tasks/bomb.yaml": BOMB,
    "tasks/self.yaml": "services: {}\nx-loop: &loop [*loop]\n",
    "tasks/unset.yaml": "services:\n  main: {image: '${TAG}', command: $NOPE}\n",
    "tasks/sub/compose.yaml": "services:\n  main: {image: sub}\n",
    "tasks/badenv/compose.yaml": "services:\n  main: {image: a}\n",
    "tasks/badenv/.env": b"TAG=caf\xe9\n",
    "outside.yaml": "services:\n  main: {image: secret-compose}\n",
}
OUT = "names a file outside the repository (keep the Compose file in the repository)"

# (the Compose entry, the problem lines: [] when it is read)
LINES: list[tuple[dict[str, Any], list[str]]] = [
    ({"document": "compose.yaml"}, []),
    ({"document": "compose.yaml", "root": "."}, []),
    ({"document": "sub/compose.yaml", "root": "sub"}, []),
    ({"document": "missing.yaml"}, ["names missing.yaml, which does not exist (create the Compose file, or fix the name)"]),
    ({"document": "latin1.yaml"}, [f"names latin1.yaml, which cannot be read as UTF-8 text (UnicodeDecodeError) ({UNREAD})"]),
    ({"document": "folder.yaml"}, [f"names folder.yaml, which cannot be read as UTF-8 text (IsADirectoryError) ({UNREAD})"]),
    ({"document": "empty.yaml"}, [f"names empty.yaml, which cannot be read: empty.yaml is not a Compose document ({UNREAD})"]),
    ({"document": "list.yaml"}, [f"names list.yaml, which is not a Compose document (an object with services) ({UNREAD})"]),
    ({"document": "text.yaml"}, [f"names text.yaml, which is not a Compose document (an object with services) ({UNREAD})"]),
    ({"document": "include.yaml"}, ["names include.yaml, which uses include or extends (write the included services into the file itself)"]),
    ({"document": "extends.yaml"}, ["names extends.yaml, which uses include or extends (write the included services into the file itself)"]),
    ({"document": "broken.yaml"}, [f"names broken.yaml, which cannot be read: while parsing a flow sequence ({UNREAD})"]),
    ({"document": "two.yaml"}, [f"names two.yaml, which cannot be read: expected a single document in the stream ({UNREAD})"]),
    ({"document": "bomb.yaml"}, [f"names bomb.yaml, which cannot be read: aliases expand to more than 5,000,000 values (a 'billion laughs' file?) ({UNREAD})"]),
    ({"document": "self.yaml"}, [f"names self.yaml, which cannot be read: Circular reference detected ({UNREAD})"]),
    ({"document": "unset.yaml"}, [f"names unset.yaml, which cannot be read: Compose variable 'NOPE' is not set by the project .env ({UNREAD})"]),
    (
        {"document": "badenv/compose.yaml"},
        ["cannot use the .env next to compose.yaml: 'utf-8' codec can't decode byte 0xe9 in position 7: invalid continuation byte (fix the .env file)"],
    ),
    ({"document": "compose.yaml", "root": "sub"}, ["is not inside its project root (put the Compose file inside root, or change root)"]),
    ({"document": "sub/compose.yaml", "root": "sub/compose.yaml/x"}, ["is not inside its project root (put the Compose file inside root, or change root)"]),
    (
        {"document": "compose.yaml", "root": {"compose_path": "compose.yaml"}},
        ['is a file name, so root must name a folder too (write root as a path such as ".", or leave it out)'],
    ),
    # a root that is not a folder is one line, the file's, not a second one about root's own shape
    ({"document": "compose.yaml", "root": 5}, ['is a file name, so root must name a folder too (write root as a path such as ".", or leave it out)']),
    (
        {"document": "compose.yaml", "root": {"compose_path": 5}},
        ['is a file name, so root must name a folder too (write root as a path such as ".", or leave it out)'],
    ),
    ({"document": "missing.yaml", "root": "."}, ["names missing.yaml, which does not exist (create the Compose file, or fix the name)"]),
    (
        {"document": "x" * 300 + ".yaml"},
        [f"names {'x' * 57}..., a name of 305 characters, too long for the file system (shorten the file name)"],
    ),
    (
        {"document": "y" * 56 + ".yaml"},  # 61 characters: cut
        [f"names {('y' * 56 + '.yaml')[:57]}..., which does not exist (create the Compose file, or fix the name)"],
    ),
    (
        {"document": "z" * 55 + ".yaml"},  # 60 characters: whole
        [f"names {'z' * 55}.yaml, which does not exist (create the Compose file, or fix the name)"],
    ),
    ({"document": "comp\0ose.yaml"}, ["names a file with a NUL character in its name, which no file system allows (remove the \\u0000 from the name)"]),
    ({"document": "compose.yaml", "root": ".\0"}, ["has a root with a NUL character in its name, which no file system allows (remove the \\u0000 from the name)"]),
    ({"document": "../../outside.yaml"}, [OUT]),
    ({"document": "sub/../../../outside.yaml"}, [OUT]),
    ({"document": "../../outside.yaml", "root": "../.."}, [OUT]),
]


def _layout(tmp_path: Path) -> Path:
    for name, content in FILES.items():
        path = tmp_path / "repo" / name
        if name == "outside.yaml":
            path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (tmp_path / "repo" / "tasks" / "folder.yaml" / "keep").unlink()
    return tmp_path / "repo"


def _row(compose: Any, **more: Any) -> dict[str, Any]:
    return {"env": "e", "id": "t", "slug": "s", "runtime_config": {"compose": compose}, **more}


def _lines(row: dict[str, Any], repo: Path, folder: Path | None = None) -> tuple[Any, list[str]]:
    inlined = inline_compose_files(row, folder or repo / "tasks", repo)
    return inlined, [str(p) for p in validate_task(task_from_mapping(inlined, HERE))]


@pytest.mark.parametrize("compose, lines", LINES)
def test_a_named_file_is_read_or_refused_in_one_line(tmp_path: Path, compose: dict[str, Any], lines: list[str]):
    repo = _layout(tmp_path)
    inlined, problems = _lines(_row(compose), repo)
    assert problems == [f"tasks/rows.jsonl:3: task 's': runtime_config.compose.document {line}" for line in lines]
    if not lines:
        assert isinstance(inlined["runtime_config"]["compose"]["document"], dict)
    assert "secret-compose" not in json.dumps(inlined, default=str)


def test_the_document_and_its_root_are_written_as_the_sdk_uploads_them(tmp_path: Path):
    repo = _layout(tmp_path)
    row = _row({"document": "./sub/../compose.yaml", "root": "."}, verifier={"env": "v", "id": "check"})
    inlined, problems = _lines(row, repo)
    assert problems == []
    assert inlined["runtime_config"]["compose"] == {"document": {"services": {"main": {"image": "app:7"}}}, "root": {"compose_path": "compose.yaml"}}
    assert row["runtime_config"]["compose"] == {"document": "./sub/../compose.yaml", "root": "."}  # the row itself is not changed
    nested = inline_compose_files(_row({"document": "sub/compose.yaml", "root": "sub"}), repo / "tasks", repo)
    assert nested["runtime_config"]["compose"]["root"] == {"compose_path": "compose.yaml"}
    deep = inline_compose_files(_row({"document": "sub/compose.yaml", "root": "."}), repo / "tasks", repo)
    assert deep["runtime_config"]["compose"]["root"] == {"compose_path": "sub/compose.yaml"}
    none = inline_compose_files(_row({"document": "compose.yaml", "root": None}), repo / "tasks", repo)
    assert none["runtime_config"]["compose"] == {"document": {"services": {"main": {"image": "app:7"}}}, "root": None}


def test_a_verifiers_compose_file_is_read_too(tmp_path: Path):
    repo = _layout(tmp_path)
    verifier = {"env": "v", "id": "check", "runtime_config": {"compose": {"document": "sub/compose.yaml"}}}
    row = {"env": "e", "id": "t", "slug": "s", "verifier": verifier}
    inlined, problems = _lines(row, repo)
    assert problems == []
    assert inlined["verifier"]["runtime_config"]["compose"]["document"] == {"services": {"main": {"image": "sub"}}}
    assert verifier["runtime_config"]["compose"]["document"] == "sub/compose.yaml"
    verifier["runtime_config"]["compose"]["document"] = "../../outside.yaml"
    inlined, problems = _lines(row, repo)
    assert problems == [f"tasks/rows.jsonl:3: task 's': verifier runtime_config.compose.document {OUT}"]
    both = _row({"document": "missing.yaml"}, verifier=verifier)
    assert _lines(both, repo)[1] == [
        "tasks/rows.jsonl:3: task 's': runtime_config.compose.document names missing.yaml, which does not exist (create the Compose file, or fix the name)",
        f"tasks/rows.jsonl:3: task 's': verifier runtime_config.compose.document {OUT}",
    ]


@pytest.mark.parametrize(
    "row",
    [
        _row({"document": {"services": {}}}),
        _row({"root": "."}),
        _row(None),
        {"env": "e", "runtime_config": "x", "verifier": ["x"]},
        {"env": "e", "verifier": {"runtime_config": {"compose": {"document": 5}}}},
        ["not", "a", "row"],
        "row",
    ],
)
def test_a_row_that_names_no_file_is_given_back_as_it_is(tmp_path: Path, row: Any):
    assert inline_compose_files(row, tmp_path, tmp_path) is row


# -- never a read outside the repository ---------------------------------------------------------


def _leaks(tmp_path: Path) -> tuple[Path, Path]:
    repo = tmp_path / "repo"
    (repo / "tasks").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "compose.yaml").write_text('services: {main: {image: "secret-${S}"}}\n', encoding="utf-8")
    (outside / ".env").write_text("S=from-outside\n", encoding="utf-8")
    return repo, outside


ENV_OUT = "takes its variables from .env, which leads outside the repository (keep the .env in the repository, not a link out of it)"


@pytest.mark.parametrize(
    "setup, document, line",
    [
        (lambda repo, out: None, "{out}/compose.yaml", OUT),  # an absolute path
        (lambda repo, out: None, "../../elsewhere/compose.yaml", OUT),
        (lambda repo, out: (repo / "tasks/c.yaml").symlink_to(out / "compose.yaml"), "c.yaml", OUT),
        (lambda repo, out: (repo / "tasks/linked").symlink_to(out), "linked/compose.yaml", OUT),
        (lambda repo, out: (repo / "tasks/c.yaml").symlink_to("../../elsewhere/compose.yaml"), "c.yaml", OUT),
        (lambda repo, out: _env_link(repo, out / ".env"), "c.yaml", ENV_OUT),
        (lambda repo, out: _env_link(repo, out / "no-such-file"), "c.yaml", ENV_OUT),  # dangling: lexists, not exists
        (lambda repo, out: _env_link(repo, out), "c.yaml", ENV_OUT),
        (lambda repo, out: _env_link(repo, Path("../../elsewhere/.env")), "c.yaml", ENV_OUT),
    ],
)
def test_nothing_outside_the_repository_is_read(tmp_path: Path, setup, document: str, line: str):
    repo, outside = _leaks(tmp_path)
    setup(repo, outside)
    inlined, problems = _lines(_row({"document": document.format(out=outside)}), repo)
    assert problems == [f"tasks/rows.jsonl:3: task 's': runtime_config.compose.document {line}"]
    assert "from-outside" not in json.dumps(inlined, default=str) and "secret" not in json.dumps(inlined, default=str)


def _env_link(repo: Path, target: Path) -> None:
    (repo / "tasks" / "c.yaml").write_text('services: {main: {image: "a-${S-unset}"}}\n', encoding="utf-8")
    (repo / "tasks" / ".env").symlink_to(target)


def test_links_that_stay_inside_the_repository_are_followed(tmp_path: Path):
    repo, outside = _leaks(tmp_path)
    (repo / "shared").mkdir()
    (repo / "shared" / "base.yaml").write_text('services: {main: {image: "in-${S}"}}\n', encoding="utf-8")
    (repo / "shared" / ".env").write_text("S=shared\n", encoding="utf-8")
    (repo / "tasks" / "c.yaml").symlink_to("../shared/base.yaml")
    (repo / "tasks" / "linked").symlink_to(repo / "shared")
    (repo / "tasks" / ".env").symlink_to("../shared/.env")
    (repo / "tasks" / "d.yaml").write_text('services: {main: {image: "d-${S}"}}\n', encoding="utf-8")
    for document, image in [("c.yaml", "in-shared"), ("linked/base.yaml", "in-shared"), ("d.yaml", "d-shared"), (str(repo / "shared" / "base.yaml"), "in-shared")]:
        inlined, problems = _lines(_row({"document": document}), repo)
        assert problems == [] and inlined["runtime_config"]["compose"]["document"] == {"services": {"main": {"image": image}}}, document
    # the repository itself reached through a link: what counts is where the files are
    (tmp_path / "repo-link").symlink_to(repo)
    via = tmp_path / "repo-link"
    inlined, problems = _lines(_row({"document": "d.yaml"}), via, via / "tasks")
    assert problems == [] and inlined["runtime_config"]["compose"]["document"]["services"]["main"]["image"] == "d-shared"
    inlined, problems = _lines(_row({"document": "../../elsewhere/compose.yaml"}), via, via / "tasks")
    assert problems == [f"tasks/rows.jsonl:3: task 's': runtime_config.compose.document {OUT}"]
    # a repository inside a folder named like a prefix of a sibling: `repo` does not hold `repo2`
    (tmp_path / "repo2").mkdir()
    (tmp_path / "repo2" / "c.yaml").write_text("services: {}\n", encoding="utf-8")
    inlined, problems = _lines(_row({"document": "../../repo2/c.yaml"}), repo)
    assert problems == [f"tasks/rows.jsonl:3: task 's': runtime_config.compose.document {OUT}"]


# -- the table against the SDK ------------------------------------------------------------------

OFFICIAL = """
import json, sys
from pathlib import Path
from hud.eval.runtime.compose import ComposeConfig
out = []
for folder in sys.argv[1:]:
    try:
        out.append({"value": ComposeConfig.from_file(Path(folder) / "compose.yaml").model_dump()["x-v"]})
    except Exception as err:
        out.append({"refused": str(err).strip().splitlines()[0]})
print(json.dumps(out))
"""


@needs_oracle
def test_the_tables_are_what_the_sdk_reads(tmp_path: Path):
    cases = [(value, expected, dotenv) for value, expected, dotenv in INTERPOLATION]
    cases += [("x", Refused(error), dotenv) for dotenv, error in ENV_REFUSED]
    folders = [str(_write(tmp_path / f"case{i}", value, dotenv).parent) for i, (value, _, dotenv) in enumerate(cases)]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "HUD_TELEMETRY": "0", "DO_NOT_TRACK": "1"}
    proc = subprocess.run([oracle_python(), "-c", OFFICIAL, *folders], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    official = json.loads(proc.stdout)
    wrong = []
    for (value, expected, dotenv), theirs in zip(cases, official, strict=True):
        mine = {"refused": str(expected)} if isinstance(expected, Refused) else {"value": expected}
        if mine != theirs:
            wrong.append(f"x-v: {value} with {dotenv!r}: table {mine}, SDK {theirs}")
    assert not wrong, "\n".join(wrong)
