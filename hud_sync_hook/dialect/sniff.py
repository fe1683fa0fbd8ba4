"""What a project says about its HUD SDK generation, read without running any of it.

The I/O side of `dialect.choose`: it gathers `Evidence` (a generation, where, and what was seen)
and leaves the decision to the pure `dialect.decide`. Python task files are read through their
syntax tree, never imported (the code is untrusted, and the choice of generation decides how it
is imported); data files by the shape of their rows; `.hud/config.json` by its schema; the
installed SDK by its package metadata. It imports nothing beyond the standard library and
discovery's path rules.

What a Python file says:

- v6: `@<env>.template(...)`; `Task(env="name", id=...)` (the env a string, or `<env>.name`);
  `Task(id=...)` without a scenario; `Taskset(...)`; `from hud import Task` or `Taskset` (v5's
  `hud` has neither); a call of a template defined in another module of the project, followed
  through `from module import name` and `import module` (read, not imported).
- v5: `@<env>.scenario(...)`; `Task(scenario=...)`; `Task(env=Environment(...))`, `env={...}` or
  `env=<an Environment>`; calling an `Environment` to make a task, `env("checkout", ...)` (a v6
  `Environment` cannot be called).

Import aliases are followed (`from hud import Environment as E`, `import hud as h`,
`from hud.eval import *`).
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from hud_sync_hook.model import shortened

#: How much of a data file is read to see its rows' shape.
SNIFF_BYTES = 1 << 20
#: A Python file larger than this is read as text only (its decorators), not parsed.
PARSE_BYTES = 4 << 20
#: At most this many other project modules are read to follow imports, per reading (the task files
#: of one source share them: a module read for one is not read again for the next).
FOLLOW_LIMIT = 32

_ENVIRONMENT = {
    "hud.Environment",
    "hud.environment.Environment",
    "hud.environment.environment.Environment",  # v5
    "hud.environment.env.Environment",  # v6
}
_TASK = {"hud.Task", "hud.eval.Task", "hud.eval.task.Task"}
_TASKSET = {"hud.Taskset", "hud.eval.Taskset", "hud.eval.taskset.Taskset"}
#: Names only the v6 `hud` package has at its top level.
_V6_TOP_LEVEL = ("Task", "Taskset")
_V6_DECORATOR = re.compile(rb"@\s*[\w.]+\.template\s*\(")
_V5_DECORATOR = re.compile(rb"@\s*[\w.]+\.scenario\s*\(")


@dataclass(frozen=True)
class Evidence:
    """One fact naming a generation: `where` is `file` or `file:line`, `what` says what was seen."""

    generation: str
    file: str
    line: int | None
    what: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


# -- data files -------------------------------------------------------------------------------------


def row_generation(row: Any) -> str | None:
    """`v6` for a row with `id` and a string `env`, `v5` for one with `scenario` or an `env`
    object, None when the row says neither."""
    if not isinstance(row, dict):
        return None
    env = row.get("env")
    if "scenario" in row or isinstance(env, dict):
        return "v5"
    if "id" in row and (isinstance(env, str) or env is None):
        return "v6"
    return None


def _row_what(generation: str, row: dict[str, Any]) -> str:
    if generation == "v6":
        return "a row with id" + (" and env as a string" if isinstance(row.get("env"), str) else "") + " and no scenario"
    return "a row with " + ("scenario" if "scenario" in row else "env as an object")


def _head(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            return handle.read(SNIFF_BYTES).decode("utf-8-sig", "ignore")
    except OSError:
        return None


def _json_rows(text: str, jsonl: bool) -> Iterator[tuple[Any, int]]:
    """The rows (value, line) of a JSON or JSONL file's head; stops at the first it cannot read
    (discovery reports that, with its line)."""
    if jsonl:
        for number, line in enumerate(text.split("\n"), 1):
            if line.strip():
                try:
                    value = json.loads(line)
                except (ValueError, RecursionError):
                    return
                yield value, number
        return
    decoder = json.JSONDecoder()
    whitespace = json.decoder.WHITESPACE
    position = whitespace.match(text, 0).end()
    in_list = text[position : position + 1] == "["
    if in_list:
        position = whitespace.match(text, position + 1).end()
    line, counted = 1, 0
    while position < len(text) and text[position] != "]":
        try:
            value, end = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            return
        line += text.count("\n", counted, position)
        counted = position
        yield value, line
        if not in_list:
            return
        position = whitespace.match(text, end).end()
        if text[position : position + 1] != ",":
            return
        position = whitespace.match(text, position + 1).end()


_YAML_ITEM = re.compile(r"^(\s*)-(?:\s+|$)(.*)$")
_YAML_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:(?:\s+(.*)|\s*)$")


def _yaml_rows(text: str) -> Iterator[tuple[dict[str, Any], int]]:
    """The top-level keys of each task of a YAML list (or of a single mapping), read as text: an
    `env:` with nothing after it, or `{...}`, is an object; any other value a string."""
    lines = text.split("\n")
    indent: int | None = None  # the column of the task list's dashes
    row: dict[str, Any] | None = None
    row_line = 0
    key_column: int | None = 0  # None: a dash alone, its keys at the column of the next line
    pending_env = False
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            continue
        column = len(raw) - len(raw.lstrip())
        if pending_env and row is not None:
            pending_env = False
            if column > key_column:
                row["env"] = {}
        item = _YAML_ITEM.match(raw)
        if item and (indent is None or len(item.group(1)) == indent):
            if row is not None:
                yield row, row_line
            indent = len(item.group(1))
            row, row_line = {}, number
            rest = item.group(2)
            key_column = len(raw) - len(rest) if rest else None
            if rest:
                pending_env = _yaml_key(row, rest)
            continue
        if row is not None and key_column is None and column > indent:
            key_column = column
        if row is None and indent is None and column == 0:
            match = _YAML_KEY.match(stripped)
            if match and match.group(1) != "tasks":  # a single task written as a mapping
                row, row_line, key_column, indent = {}, number, 0, -1
        if row is not None and column == key_column:
            pending_env = _yaml_key(row, stripped)
    if row is not None:
        yield row, row_line


def _yaml_key(row: dict[str, Any], text: str) -> bool:
    """Record one `key: value` of a task; True when it is an `env:` whose value follows below."""
    match = _YAML_KEY.match(text)
    if not match:
        return False
    key, value = match.group(1), (match.group(2) or "").strip()
    if key in row:
        return False
    if key == "env" and not value:
        row[key] = None  # an object if the lines below are indented further
        return True
    row[key] = {} if key == "env" and value.startswith("{") else value
    return False


def data_evidence(path: Path, shown: str) -> list[Evidence]:
    """The first row of each generation in a data file's head."""
    text = _head(path)
    if text is None:
        return []
    suffix = path.suffix.lower()
    rows: Iterator[tuple[Any, int]]
    if suffix in (".json", ".jsonl"):
        rows = _json_rows(text, suffix == ".jsonl")
    elif suffix in (".yaml", ".yml"):
        rows = _yaml_rows(text)
    else:
        return []
    found: dict[str, Evidence] = {}
    for row, line in rows:
        if isinstance(row, list):  # a JSONL line holding a list: its first row speaks for it
            row = row[0] if row else None
        generation = row_generation(row)
        if generation and generation not in found:
            found[generation] = Evidence(generation, shown, line, _row_what(generation, row))
            if len(found) == 2:
                break
    return sorted(found.values(), key=lambda e: e.line or 0)


# -- Python files -----------------------------------------------------------------------------------


@dataclass
class _Module:
    """What another module of the project offers to a task file that imports it."""

    templates: dict[str, str] = field(default_factory=dict)  # name -> where it is defined
    envs: set[str] = field(default_factory=set)  # names bound to an Environment


class _Project:
    """Reads the project's other modules (never outside `root`), each once, at most FOLLOW_LIMIT."""

    def __init__(self, root: Path, base: Path) -> None:
        self.root = root
        self.base = base
        self.read: dict[Path, _Module | None] = {}

    def module(self, path: Path, trail: tuple[Path, ...] = ()) -> _Module | None:
        if path in self.read:
            return self.read[path]
        if len(self.read) >= FOLLOW_LIMIT or path in trail:
            return None
        self.read[path] = None  # an import cycle ends here
        tree = _parse(path)
        if tree is None:
            return None
        reader = _Reader(path, _shown(path, self.base), self, (*trail, path))
        reader.read(tree)
        module = _Module({name: where for name, where in reader.templates.items()}, set(reader.envs))
        self.read[path] = module
        return module

    def resolve(self, importer: Path, name: str, level: int) -> Path | None:
        """The project file `import name` (with `level` leading dots) means in `importer`."""
        if level:
            folders = [importer.parent]
            for _ in range(level - 1):
                folders = [folders[0].parent]
        else:  # what the import child puts on sys.path: the file's folder and its project's root
            folders = [importer.parent, _project_folder(importer.parent, self.root), self.root]
        parts = [p for p in name.split(".") if p]
        for folder in dict.fromkeys(folders):
            candidate = folder.joinpath(*parts) if parts else folder
            for path in (candidate.with_suffix(".py") if parts else None, candidate / "__init__.py"):
                if path is not None and path.is_file() and _inside(path, self.root):
                    return path.resolve()
        return None


def _project_folder(start: Path, root: Path) -> Path:
    """The project root the import child puts on `sys.path` (`discovery.find_project_root`), when
    it lies within `root`; else `root`."""
    from hud_sync_hook.discovery import find_project_root

    found = find_project_root(start)
    return found if found is not None and found.is_relative_to(root) else root


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def _parse(path: Path) -> ast.Module | None:
    try:
        if path.stat().st_size > PARSE_BYTES:
            return None
        source = path.read_bytes()
    except OSError:
        return None
    try:
        return ast.parse(source, filename=path.name)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # reported by discovery
        return None


def _shown(path: Path, base: Path) -> str:
    """`path` as a reason names it: relative to `base`, through `..` for a module of the repository
    above `base` (a reason may reach a PR comment: never the machine's own folders)."""
    from hud_sync_hook.discovery import display_path

    shown = display_path(path, base)
    if os.path.isabs(shown):
        shown = Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    return shown


class _Reader:
    """One Python file's syntax tree, read for evidence."""

    def __init__(self, path: Path, shown: str, project: _Project, trail: tuple[Path, ...]) -> None:
        self.path = path
        self.shown = shown
        self.project = project
        self.trail = trail
        self.aliases: dict[str, str] = {}  # local name -> `hud.x.Y`
        self.star: list[str] = []  # hud modules imported with `*`
        self.modules: dict[str, _Module] = {}  # local name -> a project module
        self.foreign: set[str] = set()  # names imported from anything else
        self.templates: dict[str, str] = {}  # name -> where the template is defined
        self.envs: set[str] = set()
        self.evidence: list[Evidence] = []

    def found(self, generation: str, node: ast.AST, what: str) -> None:
        self.evidence.append(Evidence(generation, self.shown, getattr(node, "lineno", None), what))

    def read(self, tree: ast.Module) -> None:
        nodes = list(ast.walk(tree))
        for node in nodes:
            if isinstance(node, ast.Import):
                self._import(node)
            elif isinstance(node, ast.ImportFrom):
                self._import_from(node)
        for node in nodes:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and self._is_env(node.value):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                self.envs.update(t.id for t in targets if isinstance(t, ast.Name))
        decorators: set[int] = set()
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for decorator in node.decorator_list:
                    decorators.add(id(decorator))
                    self._decorator(node, decorator)
        for node in nodes:
            if isinstance(node, ast.Call) and id(node) not in decorators:
                self._call(node)
            elif isinstance(node, ast.Dict):
                self._dict(node, nodes)

    # imports

    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "hud" or alias.name.startswith("hud."):
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    self.aliases["hud"] = "hud"
                continue
            local = alias.asname or alias.name.split(".")[0]
            path = self.project.resolve(self.path, alias.name if alias.asname else local, 0)
            module = self.project.module(path, self.trail) if path else None
            if module is not None:
                self.modules[local] = module
            else:
                self.foreign.add(local)

    def _import_from(self, node: ast.ImportFrom) -> None:
        source = node.module or ""
        if not node.level and (source == "hud" or source.startswith("hud.")):
            for alias in node.names:
                if alias.name == "*":
                    self.star.append(source)
                    continue
                self.aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
                if source == "hud" and alias.name in _V6_TOP_LEVEL:
                    self.found("v6", node, f"imports {alias.name} from hud (only hud 0.6 has it)")
            return
        path = self.project.resolve(self.path, source, node.level)
        module = self.project.module(path, self.trail) if path else None
        for alias in node.names:
            local = alias.asname or alias.name
            if alias.name == "*":
                if module is not None:
                    self.templates.update(module.templates)
                    self.envs.update(module.envs)
                continue
            submodule = self.project.resolve(self.path, f"{source}.{alias.name}" if source else alias.name, node.level)
            if module is not None and alias.name in module.templates:
                self.templates[local] = module.templates[alias.name]
            elif module is not None and alias.name in module.envs:
                self.envs.add(local)
            elif submodule is not None and (sub := self.project.module(submodule, self.trail)) is not None:
                self.modules[local] = sub
            else:
                self.foreign.add(local)

    def qualify(self, node: ast.AST) -> str | None:
        """`hud.x.Y` for a name or attribute that refers into the hud package, else None."""
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            if node.id in self.foreign or node.id in self.modules:
                return None
            for module in self.star:
                return f"{module}.{node.id}"
            return None
        if isinstance(node, ast.Attribute):
            owner = self.qualify(node.value)
            return f"{owner}.{node.attr}" if owner else None
        return None

    def _is_hud(self, node: ast.AST, names: set[str]) -> bool:
        qualified = self.qualify(node)
        return qualified in names if qualified else False

    def _is_task(self, func: ast.AST) -> bool:
        if self._is_hud(func, _TASK):
            return True
        # `Task` from no import at all (made elsewhere, or a star import of another module)
        return isinstance(func, ast.Name) and func.id == "Task" and func.id not in self.foreign and not self.aliases.get(func.id)

    def _is_env(self, node: ast.AST) -> bool:
        """An `Environment(...)` of hud, also with methods chained on it (`.connect_hub(...)`)."""
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call):
            node = node.func.value
        return isinstance(node, ast.Call) and self._is_hud(node.func, _ENVIRONMENT)

    def _is_env_value(self, node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in self.envs) or self._is_env(node)

    # what the file does

    def _decorator(self, function: ast.AST, decorator: ast.AST) -> None:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if not isinstance(target, ast.Attribute):
            return
        owner = _dotted(target.value)
        if target.attr == "template":
            name = getattr(function, "name", "")
            self.templates[name] = f"{self.shown}:{decorator.lineno}"
            self.found("v6", decorator, f"@{shortened(owner)}.template")
        elif target.attr == "scenario":
            self.found("v5", decorator, f"@{shortened(owner)}.scenario")

    def _dict(self, node: ast.Dict, nodes: list[ast.AST]) -> None:
        """A task written as a dict, as a row: `{"slug": ..., "env": ENV, "scenario": "checkout"}` is
        v5, `{"env": "letters", "id": "count"}` v6. Only a dict whose scenario or id is a string
        counts, so that other dicts holding such keys say nothing."""
        keys = [k.value if isinstance(k, ast.Constant) and isinstance(k.value, str) else None for k in node.keys]
        if None in keys or not ({"scenario", "id"} & set(keys)):
            return
        row: dict[str, Any] = {}  # each value: its string, {} for an object env, else ...
        for key, value in zip(keys, node.values):
            if key == "env":
                value = self._constant(value, nodes)
                row[key] = {} if isinstance(value, ast.Dict) else value.value if _is_str(value) else ...
            else:
                row[key] = value.value if _is_str(value) else ...
        if "scenario" in row and not isinstance(row["scenario"], str):
            return
        if "scenario" in row and not ({"env", "slug", "args"} & set(row)):
            return
        generation = row_generation(row)
        if generation == "v6" and not (isinstance(row.get("id"), str) and isinstance(row.get("env"), str)):
            return
        if generation:
            self.found(generation, node, _row_what(generation, row))

    def _constant(self, node: ast.AST, nodes: list[ast.AST]) -> ast.AST:
        """What a module-level name is assigned (once), for `"env": ENV`; else the node itself."""
        if not isinstance(node, ast.Name):
            return node
        assigned = [
            n.value for n in nodes
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in n.targets)
        ]
        return assigned[0] if len(assigned) == 1 else node

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if self._is_task(func):
            self._task(node)
        elif self._is_hud(func, _TASKSET):
            self.found("v6", node, "a Taskset (only hud 0.6 has it)")
        elif isinstance(func, ast.Name) and func.id in self.envs:
            self.found("v5", node, f"{shortened(func.id)}(...) calls an Environment to make a task (a hud 0.6 Environment cannot be called)")
        elif isinstance(func, ast.Name) and func.id in self.templates:
            where = self.templates[func.id]
            if not where.startswith(f"{self.shown}:"):
                self.found("v6", node, f"{shortened(func.id)}(...) calls the template defined at {where}")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            module = self.modules.get(func.value.id)
            if module is not None and func.attr in module.templates:
                self.found("v6", node, f"{shortened(func.value.id)}.{shortened(func.attr)}(...) calls the template defined at {module.templates[func.attr]}")
            elif module is not None and func.attr in module.envs:
                self.found("v5", node, f"{shortened(func.value.id)}.{shortened(func.attr)}(...) calls an Environment to make a task")
            elif func.attr == "template" and func.value.id in self.envs:
                self.found("v6", node, f"{shortened(func.value.id)}.template(...)")

    def _task(self, node: ast.Call) -> None:
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        env = keywords.get("env")
        if env is not None and (isinstance(env, ast.Dict) or self._is_env_value(env)):
            self.found("v5", node, "a Task with env as an Environment or an object")
        elif "scenario" in keywords:
            self.found("v5", node, "a Task with a scenario")
        elif env is not None and _is_text(env):
            self.found("v6", node, "a Task with env as a string" + (" and an id" if "id" in keywords else ""))
        elif "id" in keywords:
            self.found("v6", node, "a Task with an id and no scenario")


def _dotted(node: ast.AST) -> str:
    """`env` or `a.b.env` for a name or attribute chain, else `...`."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return "..."
    return ".".join([node.id, *reversed(parts)])


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_text(node: ast.AST) -> bool:
    """A string: a literal, an f-string, a concatenation of them, or `<env>.name`."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_text(node.left) or _is_text(node.right)
    return isinstance(node, ast.Attribute) and node.attr == "name"


def python_evidence(path: Path, shown: str, project: _Project) -> list[Evidence]:
    """What a Python file's syntax tree says; a file too large to parse is read for its decorators."""
    tree = _parse(path)
    if tree is None:
        return _decorator_text(path, shown)
    reader = _Reader(path.resolve(), shown, project, (path.resolve(),))
    reader.read(tree)
    by_line = {(e.line, e.generation): e for e in reversed(reader.evidence)}  # the first said on each line
    return sorted(by_line.values(), key=lambda e: (e.line or 0, e.generation))


def _decorator_text(path: Path, shown: str) -> list[Evidence]:
    try:
        with path.open("rb") as handle:
            data = handle.read(SNIFF_BYTES)
    except OSError:
        return []
    found = []
    for generation, pattern, what in (("v6", _V6_DECORATOR, "@env.template"), ("v5", _V5_DECORATOR, "@env.scenario")):
        match = pattern.search(data)
        if match:
            found.append(Evidence(generation, shown, data.count(b"\n", 0, match.start()) + 1, what))
    return found


# -- the project ------------------------------------------------------------------------------------

_V6_CONFIG_KEYS = ("version", "scope", "taskset_id", "registry_id", "project_id")


def config_evidence(data: dict[str, Any], shown: str) -> list[Evidence]:
    """The v6 schema (`version`, `scope`, snake_case ids) names v6; the camelCase keys both
    generations read name nothing."""
    keys = [key for key in _V6_CONFIG_KEYS if key in data]
    if keys:
        return [Evidence("v6", shown, None, "the hud 0.6 config schema, with " + ", ".join(keys[:3]))]
    return []


def installed_generation() -> str | None:
    """The generation of the HUD SDK installed next to hud-sync-hook, from its metadata only."""
    from importlib import metadata

    for distribution, generation in (("hud", "v6"), ("hud-python", None)):
        try:
            version = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
        if generation is None:
            generation = "v5" if version.startswith("0.5") else "v6"
        return generation
    return None


#: Root files neither generation reads from a folder.
_NEVER_READ = ("conftest.py", "setup.py", "__main__.py")


def candidate_files(source: Path) -> list[Path]:
    """The files either generation could read from `source`: the file itself, or a folder's root
    `.py` files (not those neither reads), `task.py` one level down, and its `tasks.*` data files."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        return []
    found = sorted(p for p in source.glob("*.py") if p.is_file() and p.name not in _NEVER_READ)
    found += sorted(p for p in source.glob("*/task.py") if p.is_file() and not p.parent.name.startswith((".", "_")))
    found += [source / name for name in ("tasks.json", "tasks.jsonl", "tasks.yaml", "tasks.yml") if (source / name).is_file()]
    return found


def project_root(source: Path, base: Path) -> Path:
    """The folder imports are followed within: the one discovery may read from
    (`discovery.containing_root`: the repository around `source`, else `base` when `source` is in
    it, else the source's folder). Resolved."""
    from hud_sync_hook.discovery import containing_root

    return containing_root(source, base)


def file_evidence(path: Path, shown: str, project: _Project | None = None) -> list[Evidence]:
    """What one task file says about its generation."""
    if path.suffix == ".py":
        return python_evidence(path, shown, project or _Project(project_root(path, path.parent), path.parent))
    return data_evidence(path, shown)


def gather(source: Path, base: Path, config_data: dict[str, Any], config_shown: str) -> list[Evidence]:
    """Every fact the config and the task files under `source` state, in that order; a file that
    is a link to outside the project says nothing (discovery refuses it)."""
    evidence = config_evidence(config_data, config_shown)
    project = _Project(project_root(source, base), base)
    for path in candidate_files(source):
        if _inside(path, project.root):
            evidence.extend(file_evidence(path, _shown(path, base), project))
    return evidence
