"""Each rule and each limit of `--sdk auto`'s static reading, one small repository at a time.

Every case writes real files in a temporary folder, reads them with `sniff.gather` (nothing is
imported) and compares the whole verdict: each fact's generation, `file:line` and the words the
plan shows as its reason. Fast and pure, so that a one-token change to `sniff.py` fails here."""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path

import pytest

from hud_sync_hook.dialect import choose, decide, file_generation
from hud_sync_hook.dialect.sniff import (
    FOLLOW_LIMIT,
    PARSE_BYTES,
    SNIFF_BYTES,
    Evidence,
    candidate_files,
    file_evidence,
    gather,
    installed_generation,
    row_generation,
)
from tests.helpers.repo import make_repo, write_files

ENV = 'from hud import Environment\n\nenv = Environment("letters")\n'
# a module of templates: `count` is defined at line 6
TEMPLATES = ENV + '\n\n@env.template(id="count")\nasync def count(n: int):\n    yield "q"\n'
TASK_V6 = "a Task with env as a string and an id"
TASK_V5_ENV = "a Task with env as an Environment or an object"
ROW_V6 = "a row with id and env as a string and no scenario"


def verdict(root: Path, source: str = ".", base: Path | None = None, config: dict | None = None) -> list[tuple[str, str, str]]:
    found = gather(root / source, base or root, config or {}, ".hud/config.json")
    return [(e.generation, e.where, e.what) for e in found]


# -- Python files: (files, source, the whole verdict) --------------------------------------------

PYTHON = {
    # decorators
    "a template decorator names its owner and line": (
        {"tasks.py": 'import hud\napp = hud.Environment("x")\n\n@app.template(id="c")\ndef c():\n    pass\n'},
        "tasks.py", [("v6", "tasks.py:4", "@app.template")],
    ),
    "a scenario decorator without a call, on a dotted owner": (
        {"tasks.py": "import envs\n\n@envs.letters.scenario\nasync def count():\n    pass\n"},
        "tasks.py", [("v5", "tasks.py:3", "@envs.letters.scenario")],
    ),
    "a decorator on something made by a call": (
        {"tasks.py": "@make().template(id='x')\nclass C:\n    pass\n"}, "tasks.py", [("v6", "tasks.py:1", "@....template")],
    ),
    "a long owner is shortened to 40 characters": (
        {"tasks.py": f"@{'a' * 41}.template()\ndef f(): pass\n@{'b' * 40}.scenario()\ndef g(): pass\n"},
        "tasks.py", [("v6", "tasks.py:1", f"@{'a' * 37}....template"), ("v5", "tasks.py:3", f"@{'b' * 40}.scenario")],
    ),
    "other decorators say nothing": (
        {"tasks.py": "import functools\n@functools.cache\n@staticmethod\n@env.tool()\ndef f(): pass\n"}, "tasks.py", [],
    ),
    "a decorator calling an Environment is no task": (
        {"tasks.py": ENV + '\n@env("checkout")\ndef f(): pass\n'}, "tasks.py", [],
    ),
    "a template called in its own file: only the decorator": (
        {"tasks.py": TEMPLATES + "\ntasks = [count(n=1)]\n"}, "tasks.py", [("v6", "tasks.py:6", "@env.template")],
    ),
    "a template made by a call on an Environment": (
        {"tasks.py": ENV + "count = env.template(id='c')(lambda: None)\nother = thing.template(id='d')\n"},
        "tasks.py", [("v6", "tasks.py:4", "env.template(...)")],
    ),
    # Task(...)
    "Task with env a string and no id": (
        {"tasks.py": "from hud.eval import Task\nt = Task(env='letters')\n"}, "tasks.py", [("v6", "tasks.py:2", "a Task with env as a string")],
    ),
    "Task with env an f-string, or a sum with a string on either side": (
        {"tasks.py": "from hud.eval import Task\na = Task(env=f'{x}', id='i')\nb = Task(env=x + 'y', id='i')\nc = Task(env='y' + x)\n"},
        "tasks.py", [("v6", "tasks.py:2", TASK_V6), ("v6", "tasks.py:3", TASK_V6), ("v6", "tasks.py:4", "a Task with env as a string")],
    ),
    "Task with env an environment's name": (
        {"tasks.py": "from hud.eval import Task\na = Task(env=e.name, id='i')\nb = Task(env=e.names, id='j')\n"},
        "tasks.py", [("v6", "tasks.py:2", TASK_V6), ("v6", "tasks.py:3", "a Task with an id and no scenario")],
    ),
    "Task with env that is no string": (
        {"tasks.py": "from hud.eval import Task\na = Task(env=x + y, id='i')\nb = Task(env=x - 'y')\nc = Task(env=cfg.title)\nd = Task(env=3)\n"},
        "tasks.py", [("v6", "tasks.py:2", "a Task with an id and no scenario")],
    ),
    "Task with env an Environment chained to a hub": (
        {"tasks.py": "import hud\nt = hud.eval.Task(env=hud.Environment('b').connect_hub('x').connect_hub('y'), slug='a')\n"},
        "tasks.py", [("v5", "tasks.py:2", TASK_V5_ENV)],
    ),
    "Task with env a method call on something else": (
        {"tasks.py": "import hud\nt = hud.eval.Task(env=other('b').connect('x'), id='a')\nu = hud.Task(env=make().x, slug='s')\n"},
        "tasks.py", [("v6", "tasks.py:2", "a Task with an id and no scenario")],
    ),
    "Task with an env object beats a scenario, a scenario beats a string env": (
        {"tasks.py": "from hud.eval.task import Task as T\na = T(env={'n': 1}, scenario='s')\nb = T(env='e', scenario='s', id='i')\n"},
        "tasks.py", [("v5", "tasks.py:2", TASK_V5_ENV), ("v5", "tasks.py:3", "a Task with a scenario")],
    ),
    "Task with neither says nothing; nor do keyword dicts": (
        {"tasks.py": "from hud import Task\nt = Task(slug='a', **row)\n"}, "tasks.py", [("v6", "tasks.py:1", "imports Task from hud (only hud 0.6 has it)")],
    ),
    "a bare Task from nowhere counts; one from elsewhere or bound to another hud name does not": (
        {
            "a.py": "t = Task(env='e', id='i')\n",
            "b.py": "from shapes import Task\nt = Task(env='e', id='i')\n",
            "c.py": "from hud import Environment as Task\nt = Task(env='e', id='i')\n",
        },
        ".", [("v6", "a.py:1", TASK_V6)],
    ),
    "Task through `import hud.eval`, `import hud.eval as he`": (
        {"tasks.py": "import hud.eval\nimport hud.eval as he\na = hud.eval.Task(id='x')\nb = he.Task(scenario='s')\n"},
        "tasks.py", [("v6", "tasks.py:3", "a Task with an id and no scenario"), ("v5", "tasks.py:4", "a Task with a scenario")],
    ),
    "a package named like hud is not hud": (
        {"tasks.py": "import hudson\nimport hudson.x as h\nfrom hudx import Taskset\na = hudson.Task(id='x')\nb = h.Task(id='y')\nc = Taskset('s')\n"},
        "tasks.py", [],
    ),
    "a relative import of a module called hud is not hud": (
        {"pkg/__init__.py": "", "pkg/hud.py": "", "pkg/tasks.py": "from .hud import Task, Taskset\nt = Task(env='e', id='i')\ns = Taskset('x')\n"},
        "pkg/tasks.py", [],
    ),
    # Taskset, imports of hud
    "Taskset through hud, hud.eval and hud.eval.taskset": (
        {"tasks.py": "import hud\nfrom hud.eval import Taskset\nfrom hud.eval.taskset import Taskset as TS\na = hud.Taskset('a')\nb = Taskset('b')\nc = TS('c')\n"},
        "tasks.py", [("v6", f"tasks.py:{n}", "a Taskset (only hud 0.6 has it)") for n in (4, 5, 6)],
    ),
    "importing Taskset or Task from hud is v6, from hud.eval it says nothing": (
        {"tasks.py": "from hud.eval import Task\nfrom hud import Environment, Taskset as S\nfrom hud import Task as T\n"},
        "tasks.py", [("v6", "tasks.py:2", "imports Taskset from hud (only hud 0.6 has it)"), ("v6", "tasks.py:3", "imports Task from hud (only hud 0.6 has it)")],
    ),
    "a star import of hud.eval qualifies the names after it": (
        {"tasks.py": "from hud.eval import *\nfrom hud import *\nts = Taskset('s')\n"}, "tasks.py", [("v6", "tasks.py:3", "a Taskset (only hud 0.6 has it)")],
    ),
    "a star import of hud with an Environment": (
        {"tasks.py": "from hud import *\nenv = Environment('e')\nt = env('checkout')\n"},
        "tasks.py", [("v5", "tasks.py:3", "env(...) calls an Environment to make a task (a hud 0.6 Environment cannot be called)")],
    ),
    "a star import does not reach modules imported whole": (
        {"tasks.py": "from hud.eval import *\nimport Taskset\nimport Task\nb = Taskset('s')\nc = Task(id='x')\n"}, "tasks.py", [],
    ),
    "a star import does not reach names imported from elsewhere": (
        {"pkg/__init__.py": "", "pkg/Taskset.py": "", "tasks.py": "from hud.eval import *\nfrom shapes import Task\nfrom pkg import Taskset\nimport Environment\na = Task(id='x')\nb = Taskset('s')\ne = Environment('x')\nf = e('y')\n"},
        "tasks.py", [],
    ),
    # Environments
    "environments: assigned, annotated, several targets, attributes ignored": (
        {"tasks.py": (
            "from hud import Environment as E\n"
            "a: E = E('a')\n"
            "b = c = E('b')\n"
            "self.d = E('d')\n"
            "e: E\n"
            "helper = make('x')\n"
            "a('1')\nb('2')\nc('3')\nd('4')\ne('5')\nhelper('6')\n"
        )},
        "tasks.py",
        [("v5", f"tasks.py:{n}", f"{name}(...) calls an Environment to make a task (a hud 0.6 Environment cannot be called)") for n, name in ((7, "a"), (8, "b"), (9, "c"))],
    ),
    "an Environment with a long name is shortened": (
        {"tasks.py": f"import hud\n{'e' * 41} = hud.environment.Environment('x')\nt = {'e' * 41}('y')\n"},
        "tasks.py", [("v5", "tasks.py:3", f"{'e' * 37}...(...) calls an Environment to make a task (a hud 0.6 Environment cannot be called)")],
    ),
    "each path to Environment": (
        {"tasks.py": (
            "import hud\nfrom hud.environment.environment import Environment as V5\nfrom hud.environment.env import Environment as V6\n"
            "from hud.environment import Environment as M\n"
            "a = V5('a')\nb = V6('b')\nc = M('c')\nd = hud.Environment('d')\n"
            "from hud.eval import Task\nt = [\nTask(env=a),\nTask(env=b),\nTask(env=c),\nTask(env=d),\nTask(env=hud.environment.Environment('x'))]\n"
        )},
        "tasks.py", [("v5", f"tasks.py:{n}", TASK_V5_ENV) for n in range(11, 16)],
    ),
    # one line, two facts
    "one line: the first fact of each generation, v5 listed first": (
        {"tasks.py": "from hud.eval import Task\nx = [Task(env='e', id='x', args={'id': 'y', 'env': 'z'}), Task(scenario='s')]\ny = Task(id='z')\n"},
        "tasks.py", [("v5", "tasks.py:2", "a Task with a scenario"), ("v6", "tasks.py:2", TASK_V6), ("v6", "tasks.py:3", "a Task with an id and no scenario")],
    ),
    "mixed generations in one file, each with its line": (
        {"tasks.py": "from hud.eval import Task\n\nold = Task(scenario='s')\n\nnew = Task(env='e', id='i')\nolder = Task(env={}, id='j')\n"},
        "tasks.py", [("v5", "tasks.py:3", "a Task with a scenario"), ("v6", "tasks.py:5", TASK_V6), ("v5", "tasks.py:6", TASK_V5_ENV)],
    ),
    # rows written as dicts
    "dict rows: scenario with env, slug or args; env an object; id with env a string or a constant": (
        {"tasks.py": (
            "NAME = 'letters'\nOBJ = {'name': 'x'}\n"
            "a = {'slug': 's', 'scenario': 'c'}\n"
            "b = {'args': {}, 'scenario': 'c'}\n"
            "c = {'id': 'i', 'env': OBJ}\n"
            "d = {'id': 'i', 'env': NAME}\n"
            "e = {'env': 'x', 'scenario': 'c'}\n"
            "f = {'id': 'i', 'env': {'name': 'x'}}\n"
            "g = {'env': 'letters', 'id': 'count'}\n"
        )},
        "tasks.py",
        [("v5", "tasks.py:3", "a row with scenario"), ("v5", "tasks.py:4", "a row with scenario"), ("v5", "tasks.py:5", "a row with env as an object"),
         ("v6", "tasks.py:6", ROW_V6), ("v5", "tasks.py:7", "a row with scenario"), ("v5", "tasks.py:8", "a row with env as an object"),
         ("v6", "tasks.py:9", ROW_V6)],
    ),
    "dicts that are no rows say nothing": (
        {"tasks.py": (
            "TWICE = 'a'\nTWICE = 'b'\nA, B = 'a', 'b'\nC: str = 'c'\n"
            "a = {'scenario': 'c'}\n"
            "b = {'scenario': name, 'slug': 's'}\n"
            "c = {'id': 'i'}\n"
            "d = {'id': 'i', 'env': TWICE}\n"
            "e = {'id': 'i', 'env': B}\n"
            "f = {'id': 'i', 'env': C}\n"
            "g = {'id': 'i', 'env': UNKNOWN}\n"
            "h = {1: 'x', 'id': 'i', 'env': 'e'}\n"
            "i = {**other, 'scenario': 's', 'slug': 'x'}\n"
            "j = {'id': name, 'env': 'e'}\n"
            "k = {'env': {'scenario': 's'}, 'slug': 'x'}\n"
            "l = {'id': 'i', 'env': 3}\n"
        )},
        "tasks.py", [],
    ),
    "a dict env constant assigned with two names at once": (
        {"tasks.py": "E = F = 'letters'\nrow = {'env': F, 'id': 'c'}\n"}, "tasks.py", [("v6", "tasks.py:2", ROW_V6)],
    ),
    # other modules of the project
    "a template imported, aliased, from another module": (
        {"lib/__init__.py": "", "lib/templates.py": TEMPLATES, "tasks.py": "from lib.templates import count as c\n\nt = c(n=1)\n"},
        "tasks.py", [("v6", "tasks.py:3", "c(...) calls the template defined at lib/templates.py:6")],
    ),
    "a template through `import module as m` and `import package`": (
        {
            "lib/letters.py": TEMPLATES,
            "pkg/__init__.py": "from .letters import count\nfrom .letters import env\n",
            "pkg/letters.py": TEMPLATES,
            "tasks.py": "import lib.letters as m\nimport pkg\nimport pkg.letters\na = m.count(n=1)\nb = pkg.count(n=2)\nc = pkg.env('x')\nd = m.other(n=3)\n",
        },
        "tasks.py",
        [("v6", "tasks.py:4", "m.count(...) calls the template defined at lib/letters.py:6"),
         ("v6", "tasks.py:5", "pkg.count(...) calls the template defined at pkg/letters.py:6"),
         ("v5", "tasks.py:6", "pkg.env(...) calls an Environment to make a task")],
    ),
    "`import package.module` binds the package": (
        {"pkg/__init__.py": "from .letters import count\n", "pkg/letters.py": TEMPLATES, "tasks.py": "import pkg.letters\na = pkg.count(n=1)\n"},
        "tasks.py", [("v6", "tasks.py:2", "pkg.count(...) calls the template defined at pkg/letters.py:6")],
    ),
    "a long module and template name are shortened": (
        {f"{'m' * 41}.py": ENV + f"\n\n@env.template()\ndef {'t' * 41}(): pass\n",
         "sub/task.py": f"import {'m' * 41}\nt = {'m' * 41}.{'t' * 41}()\nfrom {'m' * 41} import {'t' * 41}\nu = {'t' * 41}()\n"},
        "sub/task.py",
        [("v6", "sub/task.py:2", f"{'m' * 37}....{'t' * 37}...(...) calls the template defined at {'m' * 41}.py:6"),
         ("v6", "sub/task.py:4", f"{'t' * 37}...(...) calls the template defined at {'m' * 41}.py:6")],
    ),
    "an Environment imported from another module, and one of its templates called": (
        {"envs.py": ENV, "tasks.py": "from envs import env as e\nt = e('checkout')\nc = e.template(id='x')\n"},
        "tasks.py",
        [("v5", "tasks.py:2", "e(...) calls an Environment to make a task (a hud 0.6 Environment cannot be called)"), ("v6", "tasks.py:3", "e.template(...)")],
    ),
    "a star import of a project module brings its templates and environments": (
        {"lib/defs.py": TEMPLATES, "tasks.py": "from lib.defs import *\nfrom missing import *\na = count(n=1)\nb = env('x')\n"},
        "tasks.py",
        [("v6", "tasks.py:3", "count(...) calls the template defined at lib/defs.py:6"),
         ("v5", "tasks.py:4", "env(...) calls an Environment to make a task (a hud 0.6 Environment cannot be called)")],
    ),
    "a submodule imported from a package, relative and absolute": (
        {"pkg/__init__.py": "", "pkg/letters.py": TEMPLATES,
         "pkg/tasks.py": "from . import letters\nfrom pkg import letters as again\na = letters.count(n=1)\nb = again.env('x')\n"},
        "pkg/tasks.py",
        [("v6", "pkg/tasks.py:3", "letters.count(...) calls the template defined at pkg/letters.py:6"),
         ("v5", "pkg/tasks.py:4", "again.env(...) calls an Environment to make a task")],
    ),
    "relative imports climb one folder per extra dot": (
        {"a/__init__.py": "", "a/t.py": TEMPLATES, "a/b/__init__.py": "", "a/b/t.py": "", "a/b/c/__init__.py": "", "a/b/c/t.py": "",
         "a/b/c/task.py": "from ...t import count\nx = count(n=1)\n"},
        "a/b/c/task.py", [("v6", "a/b/c/task.py:2", "count(...) calls the template defined at a/t.py:6")],
    ),
    "an import is looked for next to the file, then at the repository's root": (
        {"letters.py": TEMPLATES, "evals/near.py": ENV, "evals/tasks.py": "from near import env\nfrom letters import count\na = env('x')\nb = count(n=1)\n"},
        "evals/tasks.py",
        [("v5", "evals/tasks.py:3", "env(...) calls an Environment to make a task (a hud 0.6 Environment cannot be called)"),
         ("v6", "evals/tasks.py:4", "count(...) calls the template defined at letters.py:6")],
    ),
    "a module that cannot be parsed is read for nothing": (
        {"broken.py": "def (\n@env.template()\n", "tasks.py": "from broken import count\nt = count()\n"},
        "tasks.py", [],
    ),
    "an import cycle ends: a module still being read offers nothing to the modules it imports": (
        {"a.py": TEMPLATES + "from b import other\n", "b.py": "from a import count as other\nfrom a import env\n",
         "sub/task.py": "from b import other, env\nfrom a import count, other as o\nx = other()\ny = count()\nz = o()\nw = env('q')\n"},
        "sub/task.py",
        [("v6", "sub/task.py:3", "other(...) calls the template defined at a.py:6"),
         ("v6", "sub/task.py:4", "count(...) calls the template defined at a.py:6"),
         ("v5", "sub/task.py:6", "env(...) calls an Environment to make a task (a hud 0.6 Environment cannot be called)")],
    ),
    # files that do not parse: their decorators, read as text
    "a file with a syntax error is read for its decorators": (
        {"tasks.py": "\nimport hud\n\n@env.scenario('x')\ndef (\n@  a.b.template  (\n"},
        "tasks.py", [("v6", "tasks.py:6", "@env.template"), ("v5", "tasks.py:4", "@env.scenario")],
    ),
    "a file with a null byte is read for its decorators": (
        {"tasks.py": "@env.template()\ndef f(): pass\n\x00\n"}, "tasks.py", [("v6", "tasks.py:1", "@env.template")],
    ),
    "a file nested too deep to parse is read for its decorators": (
        {"tasks.py": "@e.scenario()\ndef f(): pass\nx = " + "(" * 300 + ")" * 300 + "\n" + "y = " + "-" * 200000 + "1\n"},
        "tasks.py", [("v5", "tasks.py:1", "@env.scenario")],
    ),
}


@pytest.mark.parametrize("files, source, expected", PYTHON.values(), ids=PYTHON.keys())
def test_python_rules(tmp_path: Path, files, source, expected):
    write_files(tmp_path, files)
    assert verdict(tmp_path, source) == expected


# -- data files ------------------------------------------------------------------------------------

V6 = {"env": "letters", "id": "count"}
V5 = {"slug": "a", "env": {"name": "letters"}, "scenario": "count"}

DATA = {
    "JSONL: blank lines counted, a BOM skipped": ({"tasks.jsonl": "\ufeff\n  \n" + json.dumps(V6) + "\n"}, "tasks.jsonl", [("v6", "tasks.jsonl:3", ROW_V6)]),
    "JSONL: a row with only an id, then an env object": (
        {"tasks.jsonl": '{"id": "x"}\n{"env": {"a": 1}, "slug": "s"}\n'}, "tasks.jsonl",
        [("v6", "tasks.jsonl:1", "a row with id and no scenario"), ("v5", "tasks.jsonl:2", "a row with env as an object")],
    ),
    "JSONL: rows of other shapes say nothing": (
        {"tasks.jsonl": '3\n"x"\n[]\n{"id": "x", "env": 3}\n{"id": "y", "env": ["e"]}\n{"slug": "s"}\n'}, "tasks.jsonl", [],
    ),
    "JSONL: a line holding a list speaks by its first row": (
        {"tasks.jsonl": json.dumps([V5, V6]) + "\n" + json.dumps([V6]) + "\n"}, "tasks.jsonl",
        [("v5", "tasks.jsonl:1", "a row with scenario"), ("v6", "tasks.jsonl:2", ROW_V6)],
    ),
    "JSONL: reading stops at the first broken line": (
        {"tasks.jsonl": json.dumps(V6) + "\n{\n" + json.dumps(V5) + "\n"}, "tasks.jsonl", [("v6", "tasks.jsonl:1", ROW_V6)],
    ),
    "JSONL: reading stops at a line nested too deep": (
        {"tasks.jsonl": "[" * 100000 + "]" * 100000 + "\n" + json.dumps(V5) + "\n"}, "tasks.jsonl", [],
    ),
    "JSONL: mixed, the first row of each generation": (
        {"tasks.jsonl": "".join(json.dumps(r) + "\n" for r in (V5, V5, V6, V5, V6))}, "tasks.jsonl",
        [("v5", "tasks.jsonl:1", "a row with scenario"), ("v6", "tasks.jsonl:3", ROW_V6)],
    ),
    "JSON: a list with its rows' lines": (
        {"tasks.json": "  [\n\n  " + json.dumps(V6) + " ,\n" + json.dumps({"slug": "s"}) + ",\n\n" + json.dumps(V5) + "\n]\n"}, "tasks.json",
        [("v6", "tasks.json:3", ROW_V6), ("v5", "tasks.json:6", "a row with scenario")],
    ),
    "JSON: a list with its rows on one line": (
        {"tasks.json": "[" + json.dumps(V5) + "," + json.dumps(V6) + "]"}, "tasks.json",
        [("v5", "tasks.json:1", "a row with scenario"), ("v6", "tasks.json:1", ROW_V6)],
    ),
    "JSON: a single object, and nothing after it": (
        {"tasks.json": "\n\n" + json.dumps(V5, indent=2) + ",\n" + json.dumps(V6)}, "tasks.json", [("v5", "tasks.json:3", "a row with scenario")],
    ),
    "JSON: a list cut after a comma": ({"tasks.json": "[" + json.dumps(V6) + ",\n  "}, "tasks.json", [("v6", "tasks.json:1", ROW_V6)]),
    "JSON: a list whose rows are not separated by commas stops": (
        {"tasks.json": "[" + json.dumps(V6) + "\n;" + json.dumps(V5) + "]"}, "tasks.json", [("v6", "tasks.json:1", ROW_V6)],
    ),
    "JSON: an empty list, a string": ({"tasks.json": "[ ]", "b.json": '"x"'}, "tasks.json", []),
    "JSON: broken after the first row": ({"tasks.json": "[" + json.dumps(V6) + ", {" + json.dumps(V5)}, "tasks.json", [("v6", "tasks.json:1", ROW_V6)]),
    "JSON: nested too deep": ({"tasks.json": "[" + "[" * 100000}, "tasks.json", []),
    "a data file's suffix in capitals": ({"SET.JSONL": json.dumps(V6) + "\n", "B.YML": "- scenario: x\n"}, "SET.JSONL", [("v6", "SET.JSONL:1", ROW_V6)]),
    "a capital YAML suffix": ({"B.YML": "- scenario: x\n"}, "B.YML", [("v5", "B.YML:1", "a row with scenario")]),
    "another suffix says nothing": ({"tasks.txt": json.dumps(V6) + "\n"}, "tasks.txt", []),
    "YAML: a list, comments and document markers skipped": (
        {"tasks.yaml": "---\n# a comment\n\n- id: count\n  # note\n  env: letters\n...\n"}, "tasks.yaml", [("v6", "tasks.yaml:4", ROW_V6)],
    ),
    "YAML: env as a flow mapping, as a block, and left empty": (
        {"tasks.yaml": "- id: a\n  env: {name: x}\n- id: b\n  env:\n    name: x\n- id: c\n  env:\n  args: {}\n"}, "tasks.yaml",
        [("v5", "tasks.yaml:1", "a row with env as an object"), ("v6", "tasks.yaml:6", "a row with id and no scenario")],
    ),
    "YAML: an empty env at the end of the file": ({"tasks.yaml": "- id: c\n  env:\n"}, "tasks.yaml", [("v6", "tasks.yaml:1", "a row with id and no scenario")]),
    "YAML: an empty env then a less indented line": (
        {"tasks.yaml": "tasks:\n  - id: c\n    env:\n  - id: d\n    env: e\n"}, "tasks.yaml", [("v6", "tasks.yaml:2", "a row with id and no scenario")],
    ),
    "YAML: the first of a repeated key counts": ({"tasks.yaml": "- id: a\n  env: x\n  env:\n    name: y\n"}, "tasks.yaml", [("v6", "tasks.yaml:1", ROW_V6)]),
    "YAML: nested lists and deeper keys are not tasks": (
        {"tasks.yaml": "- id: a\n  env: e\n  args:\n    scenario: s\n    items:\n      - scenario: t\n    - scenario: u\n"}, "tasks.yaml",
        [("v6", "tasks.yaml:1", ROW_V6)],
    ),
    "YAML: a dash alone, keys below it, and wide dashes": (
        {"tasks.yaml": "-\n  id: a\n  env: e\n-   slug: b\n    scenario: s\n"}, "tasks.yaml",
        [("v6", "tasks.yaml:1", ROW_V6), ("v5", "tasks.yaml:4", "a row with scenario")],
    ),
    "YAML: a dash alone, its keys indented further than two": (
        {"tasks.yaml": "-\n    # first\n    id: a\n    env:\n      name: e\n      scenario: s\n-\n-\n      scenario: s\n"}, "tasks.yaml",
        [("v5", "tasks.yaml:1", "a row with env as an object")],
    ),
    "YAML: a line at a lone dash's column is no key of its task": (
        {"tasks.yaml": "-\nscenario: s\n- id: a\n  env: e\n"}, "tasks.yaml", [("v6", "tasks.yaml:3", ROW_V6)],
    ),
    "YAML: a dash alone under tasks:": (
        {"tasks.yml": "tasks:\n  -\n     id: a\n     env: e\n"}, "tasks.yml", [("v6", "tasks.yml:2", ROW_V6)],
    ),
    "YAML: a single task written as a mapping": (
        {"tasks.yaml": "# one\nslug: a\nscenario: s\nenv:\n  name: e\n"}, "tasks.yaml", [("v5", "tasks.yaml:2", "a row with scenario")],
    ),
    "YAML: a single mapping with an env object and an id": (
        {"tasks.yml": "id: a\nother-key: 3\nenv:\n  name: e\n"}, "tasks.yml", [("v5", "tasks.yml:1", "a row with env as an object")],
    ),
    "YAML: a value glued to its colon is no key": ({"tasks.yaml": "- id: a\n  scenario:x\n  env:e\n"}, "tasks.yaml", [("v6", "tasks.yaml:1", "a row with id and no scenario")]),
    "YAML: an indented start is no single mapping": ({"tasks.yaml": "  scenario: s\n  slug: a\n"}, "tasks.yaml", []),
    "YAML: comments, blank lines and document markers do not end an env block": (
        {"tasks.yaml": "- id: a\n  env:\n    # the env\n\n---\n...\n    name: x\n"}, "tasks.yaml", [("v5", "tasks.yaml:1", "a row with env as an object")],
    ),
    "YAML: a comment deeper than an empty env is no block": (
        {"tasks.yaml": "- id: a\n  env:\n    # no env below\n  args: {}\n"}, "tasks.yaml", [("v6", "tasks.yaml:1", "a row with id and no scenario")],
    ),
    "YAML: a line less indented ends what an empty env could hold": (
        {"tasks.yaml": "- id: a\n  env:\n x\n    name: e\n"}, "tasks.yaml", [("v6", "tasks.yaml:1", "a row with id and no scenario")],
    ),
    "YAML: a line that is no key holds nothing below it": (
        {"tasks.yaml": "- id: a\n  scenario:x\n    name: e\n"}, "tasks.yaml", [("v6", "tasks.yaml:1", "a row with id and no scenario")],
    ),
    "YAML: an empty env stays the first of a repeated key": (
        {"tasks.yaml": "- id: a\n  env:\n  env: x\n"}, "tasks.yaml", [("v6", "tasks.yaml:1", "a row with id and no scenario")],
    ),
    "YAML: under tasks:, a task per dash": (
        {"tasks.yaml": "tasks:\n  - slug: a\n    scenario: s\n  - id: b\n    env: e\n"}, "tasks.yaml",
        [("v5", "tasks.yaml:2", "a row with scenario"), ("v6", "tasks.yaml:4", ROW_V6)],
    ),
}


@pytest.mark.parametrize("files, source, expected", DATA.values(), ids=DATA.keys())
def test_data_rules(tmp_path: Path, files, source, expected):
    write_files(tmp_path, files)
    assert verdict(tmp_path, source) == expected


def test_rows_are_judged_by_shape():
    assert [row_generation(r) for r in (V6, V5, {"id": "x"}, {"env": {}}, {"scenario": 1}, {"id": "x", "env": 3}, {}, [V6], "x", None)] == [
        "v6", "v5", "v6", "v5", "v5", None, None, None, None, None,
    ]


def test_invalid_utf8_in_a_data_file_is_skipped(tmp_path: Path):
    (tmp_path / "tasks.jsonl").write_bytes(b'{"slug": "\xff\xfe"}\n' + json.dumps(V5).encode() + b"\n")
    assert verdict(tmp_path) == [("v5", "tasks.jsonl:2", "a row with scenario")]


def test_only_the_first_mebibyte_of_a_data_file_is_read(tmp_path: Path):
    first = json.dumps(V6) + "\n"
    pad = json.dumps({"slug": "p" * 1000}) + "\n"
    body = first + pad * ((SNIFF_BYTES - len(first)) // len(pad))
    last = json.dumps(V5) + "\n"
    body += " " * (SNIFF_BYTES - len(body) - len(last) + 1) + "\n"
    assert len(body + last) - 2 == SNIFF_BYTES  # the v5 row's closing brace is the first byte not read
    (tmp_path / "tasks.jsonl").write_text(body + last, encoding="utf-8")
    assert SNIFF_BYTES == 1 << 20
    assert verdict(tmp_path) == [("v6", "tasks.jsonl:1", ROW_V6)]  # cut short, the v5 row is no row
    (tmp_path / "tasks.jsonl").write_text(body[:-2] + "\n" + last, encoding="utf-8")  # one byte less: its brace is the last byte read
    lines = (body[:-2] + "\n").count("\n") + 1
    assert verdict(tmp_path) == [("v6", "tasks.jsonl:1", ROW_V6), ("v5", f"tasks.jsonl:{lines}", "a row with scenario")]


def test_a_python_file_too_large_to_parse_is_read_for_the_decorators_of_its_first_mebibyte(tmp_path: Path):
    head = "import hud\n\n\n@app.template(id='x')\ndef f(): pass\n"
    tail = "\n@app.scenario('y')\ndef g(): pass\nt = Task(scenario='s')\n"
    filler = "# " + "x" * 98 + "\n"
    size = PARSE_BYTES + 1
    body = head + filler * ((size - len(head) - len(tail)) // len(filler))
    spaces = size - len(body) - len(tail)
    assert spaces > 0 and PARSE_BYTES == 4 << 20
    text = body + " " * spaces + tail
    (tmp_path / "tasks.py").write_text(text, encoding="utf-8")
    assert verdict(tmp_path) == [("v6", "tasks.py:4", "@env.template")]
    (tmp_path / "tasks.py").write_text(body + " " * (spaces - 1) + tail, encoding="utf-8")  # exactly the limit: parsed
    scenario = text[: text.index("@app.scenario")].count("\n") + 1
    assert scenario * 100 > SNIFF_BYTES  # beyond what the text reading sees
    assert verdict(tmp_path) == [("v6", "tasks.py:4", "@app.template"), ("v5", f"tasks.py:{scenario}", "@app.scenario"), ("v5", f"tasks.py:{scenario + 2}", "a Task with a scenario")]


def test_a_large_file_without_decorators_in_its_head_says_nothing(tmp_path: Path):
    (tmp_path / "tasks.py").write_text("# x\n" * (PARSE_BYTES // 4 + 1) + "@e.template()\n", encoding="utf-8")
    assert verdict(tmp_path) == []


# -- the limits on following imports -----------------------------------------------------------------


def _many_templates(root: Path, count: int, prefix: str = "m") -> None:
    for i in range(count):
        write_files(root, {f"lib/{prefix}{i}.py": ENV + f"\n\n@env.template()\ndef t{i}(): pass\n"})


def test_at_most_32_other_modules_are_read(tmp_path: Path):
    assert FOLLOW_LIMIT == 32
    _many_templates(tmp_path, FOLLOW_LIMIT + 1)
    lines = [f"from lib.m{i} import t{i}" for i in range(FOLLOW_LIMIT + 1)]
    lines += [f"x{i} = t{i}()" for i in range(FOLLOW_LIMIT + 1)]
    lines += ["from lib.m0 import t0 as again", "y = again()"]  # read already: not counted again
    write_files(tmp_path, {"tasks.py": "\n".join(lines) + "\n"})
    n = FOLLOW_LIMIT + 1
    expected = [("v6", f"tasks.py:{n + 1 + i}", f"t{i}(...) calls the template defined at lib/m{i}.py:6") for i in range(FOLLOW_LIMIT)]
    expected.append(("v6", f"tasks.py:{2 * n + 2}", "again(...) calls the template defined at lib/m0.py:6"))
    assert verdict(tmp_path, "tasks.py") == expected


def test_a_project_module_named_hud_is_never_read_for_hud_imports(tmp_path: Path):
    """`import hud` and `from hud import ...` name the SDK: a project file called hud.py is not
    read for them (it would take a place among the 32 modules followed)."""
    _many_templates(tmp_path, FOLLOW_LIMIT)
    lines = ["import hud", "import hud.eval", "from hud import Environment"]
    lines += [f"from lib.m{i} import t{i}" for i in range(FOLLOW_LIMIT)] + [f"x = t{FOLLOW_LIMIT - 1}()"]
    write_files(tmp_path, {"hud.py": TEMPLATES, "hud/__init__.py": TEMPLATES, "hud/eval.py": TEMPLATES, "sub/task.py": "\n".join(lines) + "\n"})
    n = FOLLOW_LIMIT - 1
    assert verdict(tmp_path, "sub/task.py") == [("v6", f"sub/task.py:{len(lines)}", f"t{n}(...) calls the template defined at lib/m{n}.py:6")]


def test_a_star_import_reads_only_the_module_it_names(tmp_path: Path):
    _many_templates(tmp_path, FOLLOW_LIMIT)
    write_files(tmp_path, {"lib/*.py": TEMPLATES})  # a file no import can name
    lines = ["from lib import *"] + [f"from lib.m{i} import t{i}" for i in range(FOLLOW_LIMIT)] + [f"x = t{FOLLOW_LIMIT - 1}()"]
    write_files(tmp_path, {"tasks.py": "\n".join(lines) + "\n"})
    n = FOLLOW_LIMIT - 1
    assert verdict(tmp_path, "tasks.py") == [("v6", f"tasks.py:{len(lines)}", f"t{n}(...) calls the template defined at lib/m{n}.py:6")]


def test_modules_that_cannot_be_parsed_count_toward_the_limit(tmp_path: Path):
    write_files(tmp_path, {f"lib/bad{i}.py": "def (\n" for i in range(FOLLOW_LIMIT)})
    _many_templates(tmp_path, 1)
    lines = [f"from lib.bad{i} import x" for i in range(FOLLOW_LIMIT)] + ["from lib.m0 import t0", "y = t0()"]
    write_files(tmp_path, {"tasks.py": "\n".join(lines) + "\n"})
    assert verdict(tmp_path, "tasks.py") == []


def test_the_limit_is_for_the_whole_reading(tmp_path: Path):
    """One reading of a folder shares its budget between the task files, so it stays bounded."""
    _many_templates(tmp_path, FOLLOW_LIMIT + 1)
    write_files(tmp_path, {
        "a.py": "".join(f"from lib.m{i} import t{i}\n" for i in range(FOLLOW_LIMIT)),
        "b.py": f"from lib.m{FOLLOW_LIMIT} import t{FOLLOW_LIMIT}\nx = t{FOLLOW_LIMIT}()\nfrom lib.m1 import t1\ny = t1()\n",
    })
    assert verdict(tmp_path) == [("v6", "b.py:4", "t1(...) calls the template defined at lib/m1.py:6")]


def test_imports_never_leave_the_repository(tmp_path: Path):
    outside = tmp_path / "outside"
    write_files(outside, {"far.py": TEMPLATES, "pkg/__init__.py": "", "pkg/mod.py": TEMPLATES})
    project = tmp_path / "outside" / "project"
    make_repo(project, {"sub/__init__.py": "", "sub/tasks.py": "from ...far import count\nfrom .. import far as f\nimport pkg.mod as m\nfrom linked import count as c\na = count()\nb = f.count()\nc()\nd = m.count()\n"})
    (project / "linked.py").symlink_to(outside / "far.py")
    (project / "pkg").symlink_to(outside / "pkg")
    assert verdict(project, "sub/tasks.py") == []
    # the same files inside the repository are followed
    write_files(project, {"far.py": TEMPLATES, "sub/far.py": TEMPLATES})
    assert verdict(project, "sub/tasks.py") == [("v6", "sub/tasks.py:6", "f.count(...) calls the template defined at far.py:6")]


def test_a_file_linking_out_of_the_repository_says_nothing_and_a_link_inside_it_does(tmp_path: Path):
    write_files(tmp_path, {"outside/tasks.py": TEMPLATES, "project/real/defs.py": TEMPLATES})
    project = tmp_path / "project"
    make_repo(project, {"tasks.jsonl": json.dumps(V6) + "\n"})
    (project / "a.py").symlink_to(tmp_path / "outside" / "tasks.py")
    (project / "b.py").symlink_to(project / "real" / "defs.py")
    (project / "c.py").symlink_to(project / "c.py")  # a loop
    # a link inside the repository is read, and shown where it leads
    assert verdict(project) == [("v6", "real/defs.py:6", "@env.template"), ("v6", "tasks.jsonl:1", ROW_V6)]


def test_the_repository_bounds_the_reading_not_the_folder_given(tmp_path: Path):
    make_repo(tmp_path, {"defs.py": TEMPLATES, "evals/deep/tasks.py": "from defs import count\nx = count()\n"})
    # a module above the folder paths are shown from is named through `..`, never by the machine's path
    assert verdict(tmp_path, "evals/deep", base=tmp_path / "evals") == [("v6", "deep/tasks.py:2", "count(...) calls the template defined at ../defs.py:6")]


def test_a_sub_project_root_is_searched_but_never_above_the_repository(tmp_path: Path):
    write_files(tmp_path, {"pyproject.toml": "", "up.py": TEMPLATES})
    project = tmp_path / "repo"
    make_repo(project, {"sub/setup.cfg": "", "sub/mid.py": TEMPLATES, "sub/evals/tasks.py": "from mid import count\nfrom up import count as u\nx = count()\ny = u()\n"})
    assert verdict(project, "sub/evals/tasks.py") == [("v6", "sub/evals/tasks.py:3", "count(...) calls the template defined at sub/mid.py:6")]
    # no repository: the base bounds it, and a project marker above it is not followed
    plain = tmp_path / "plain"
    write_files(plain, {"sub/evals/tasks.py": "from up import count\nfrom mid import count as m\nx = count()\ny = m()\n", "sub/mid.py": TEMPLATES, "up.py": TEMPLATES})
    assert verdict(plain, "sub/evals/tasks.py") == [("v6", "sub/evals/tasks.py:3", "count(...) calls the template defined at up.py:6")]


# -- which files, the config, one file alone, the installed SDK --------------------------------------


def test_the_files_read_from_a_folder_and_their_order(tmp_path: Path):
    write_files(tmp_path, {
        "b.py": "from hud.eval import Task\nt = Task(id='x')\n",
        "a.py": TEMPLATES,
        "conftest.py": ENV + "t = env('x')\n", "setup.py": TEMPLATES, "__main__.py": TEMPLATES,
        "z/task.py": "from hud.eval import Task\nt = Task(id='y')\n",
        ".hidden/task.py": TEMPLATES, "_private/task.py": TEMPLATES, "z/other.py": TEMPLATES,
        "tasks.yml": "- id: a\n  env: e\n", "tasks.json": json.dumps(V6), "tasks.jsonl": json.dumps(V6) + "\n", "tasks.yaml": "- id: a\n  env: e\n",
        "tasks.csv": "id,env\n",
    })
    (tmp_path / "dir.py").mkdir()
    assert [p.relative_to(tmp_path).as_posix() for p in candidate_files(tmp_path)] == [
        "a.py", "b.py", "z/task.py", "tasks.json", "tasks.jsonl", "tasks.yaml", "tasks.yml",
    ]
    assert verdict(tmp_path) == [
        ("v6", "a.py:6", "@env.template"), ("v6", "b.py:2", "a Task with an id and no scenario"), ("v6", "z/task.py:2", "a Task with an id and no scenario"),
        ("v6", "tasks.json:1", ROW_V6), ("v6", "tasks.jsonl:1", ROW_V6), ("v6", "tasks.yaml:1", ROW_V6), ("v6", "tasks.yml:1", ROW_V6),
    ]
    assert candidate_files(tmp_path / "a.py") == [tmp_path / "a.py"]
    assert candidate_files(tmp_path / "missing") == []


def test_the_config_schema(tmp_path: Path):
    full = {"version": 1, "scope": "s", "taskset_id": "t", "registry_id": "r", "project_id": "p", "tasksetId": "x"}
    assert verdict(tmp_path, config=full) == [("v6", ".hud/config.json", "the hud 0.6 config schema, with version, scope, taskset_id")]
    assert verdict(tmp_path, config={"project_id": "p", "registry_id": "r"}) == [("v6", ".hud/config.json", "the hud 0.6 config schema, with registry_id, project_id")]
    assert verdict(tmp_path, config={"tasksetId": "x", "registryId": "r"}) == []


def test_one_file_alone_follows_its_imports_within_its_folder(tmp_path: Path):
    write_files(tmp_path, {"evals/letters.py": TEMPLATES, "evals/tasks.py": "from letters import count\nx = count()\n", "evals/set.yaml": "- scenario: s\n"})
    found = file_evidence(tmp_path / "evals" / "tasks.py", "shown.py")
    assert [(e.generation, e.where, e.what) for e in found] == [("v6", "shown.py:2", "count(...) calls the template defined at letters.py:6")]
    assert [(e.where, e.what) for e in file_evidence(tmp_path / "evals" / "set.yaml", "s.yaml")] == [("s.yaml:1", "a row with scenario")]
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "folder.py").mkdir()
    assert file_evidence(tmp_path / "folder.json", "folder.json") == []
    assert file_evidence(tmp_path / "folder.py", "folder.py") == []
    assert file_generation(tmp_path / "folder.py") is None


def test_where_a_fact_was_seen():
    assert Evidence("v6", "a.py", 3, "x").where == "a.py:3"
    assert Evidence("v6", ".hud/config.json", None, "x").where == ".hud/config.json"


def _without_an_sdk() -> None:
    """Skip where a HUD SDK is installed next to hud-sync-hook (seen without the code under test)."""
    if {(d.metadata["Name"] or "").lower() for d in metadata.distributions()} & {"hud", "hud-python"}:
        pytest.skip("a HUD SDK is installed next to hud-sync-hook here; these cases need an environment without one")
    assert installed_generation() is None


def _distribution(folder: Path, name: str, version: str) -> None:
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")


@pytest.mark.parametrize("installed, expected", [
    ([("hud", "0.6.21")], "v6"),
    ([("hud-python", "0.5.41")], "v5"),
    ([("hud-python", "0.6.0")], "v6"),
    ([("hud-python", "0.5.41"), ("hud", "0.6.1")], "v6"),
])
def test_the_installed_sdk_is_read_from_its_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installed, expected):
    _without_an_sdk()
    for name, version in installed:
        _distribution(tmp_path, name, version)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert installed_generation() == expected


def test_the_choice_names_the_first_fact_and_counts_the_other_files(tmp_path: Path):
    write_files(tmp_path, {"a.py": TEMPLATES, "b.py": "from a import count\nx = count()\n", "tasks.jsonl": json.dumps(V6) + "\n"})
    chosen = choose("auto", tmp_path, base=tmp_path)
    assert (chosen.name, chosen.reason) == ("v6", "chosen by a.py:6: @env.template (and 2 more files)")
    assert decide(gather(tmp_path, tmp_path, {}, "c"), None) == chosen


def test_nothing_in_the_project_leaves_the_choice_to_the_installed_sdk(tmp_path: Path):
    _without_an_sdk()
    write_files(tmp_path, {"tasks.py": "x = 1\n"})
    chosen = choose("auto", tmp_path, base=tmp_path)
    assert chosen.name == "v5" and chosen.reason.startswith("the default: nothing in the project names a generation")
    assert os.listdir(tmp_path) == ["tasks.py"]  # nothing written, nothing imported
