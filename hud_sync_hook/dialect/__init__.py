"""The two HUD SDK generations behind one seam, and the choice between them.

v5 (`hud-python` 0.5.x) and v6 (`hud` 0.6.x) differ in where tasks are found, how a row reads, what
is valid, the content signature, the upload record, the platform API and the config schema. Each
generation is a `Dialect` value (`v5.py`, `v6.py`); the pipeline asks its dialect instead of
branching. The choice is made once, before any task file is imported, by `choose`: `sniff` reads
the project statically (syntax trees, row shapes, the config schema; no project code runs) and
`decide`, a pure function, chooses from what it found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from hud_sync_hook.errors import HudSyncError

NAMES = ("v5", "v6")
CHOICES = ("auto", *NAMES)
LABELS = {"v5": "HUD SDK v5 (hud-python 0.5)", "v6": "HUD SDK v6 (hud 0.6)"}
_PACKAGES = {"v5": "hud-python 0.5", "v6": "hud 0.6"}


@dataclass(frozen=True)
class Dialect:
    """One SDK generation's rules. Every part is a plain function so that a generation can reuse
    another's by assignment."""

    name: str
    label: str
    #: source folder -> the Python file groups tried in order (standard library only)
    python_groups: Callable[[Path], list[list[Path]]]
    #: data file names read from a folder, in order (empty: the generation reads none)
    data_names: tuple[str, ...]
    #: (source, base, import_timeout, allow_python) -> Discovery
    discover: Callable[..., Any]
    #: (mapping, Location) -> a task value
    task_from_mapping: Callable[..., Any]
    #: tasks -> problems
    validate: Callable[..., Any]
    #: remote task record -> (slug, signature digest) or None
    remote_entry: Callable[[dict[str, Any]], Any]
    #: how a task is compared for the plan's field-level changes: a `diff.Rules` (the same slug
    #: and signature as `remote_entry`, and the fields an update shows)
    diff: Any
    #: (api_url, api_key, project_root=, timeout=) -> platform client
    open_platform: Callable[..., Any]
    #: config data (a dict) -> (taskset id, registry id) as this generation reads them
    config_ids: Callable[[dict[str, Any]], tuple[Any, Any]]
    #: the loaded `ProjectConfig` -> the view of it this generation reads and writes
    adapt_config: Callable[[Any], Any]
    #: (platform, local tasks) -> None: what the generation asks the platform before planning
    before_plan: Callable[[Any, Any], None]
    #: (local tasks, taskset id, name) -> whether `.hud/config.json` changed, after an upload
    remember_taskset: Callable[[Any, Any, Any], bool]
    #: (remote task records, output path) -> None: `export` in this generation's row shape
    write_export: Callable[[list[dict[str, Any]], Path], None]
    #: (config, platform, environment) -> None: store the linked environment (`link-env`); the
    #: environment's `registryName` is the name `hud sync env` records for it
    link_env: Callable[[Any, Any, dict[str, Any]], None]


def get(name: str) -> Dialect:
    """The dialect called `name` (`v5` or `v6`), imported only when asked for."""
    if name == "v5":
        from hud_sync_hook.dialect.v5 import DIALECT
    elif name == "v6":
        from hud_sync_hook.dialect.v6 import DIALECT
    else:
        raise HudSyncError(f"--sdk must be one of {', '.join(CHOICES)}, got {name!r}")
    return DIALECT


@dataclass(frozen=True)
class Choice:
    """Which generation, and the evidence it was chosen from (for the plan and for messages)."""

    name: str
    reason: str


def row_generation(row: Any) -> str | None:
    """`v6` for a row with `id` and a string `env`, `v5` for one with `scenario` or an `env`
    object, None when the row says neither."""
    from hud_sync_hook.dialect.sniff import row_generation as generation

    return generation(row)


def installed_generation() -> str | None:
    """The generation of the HUD SDK installed next to hud-sync-hook, from its metadata only."""
    from hud_sync_hook.dialect.sniff import installed_generation as installed

    return installed()


def file_generation(path: Path) -> str | None:
    """What one task file says about its generation, read statically; None when it says nothing
    or says both."""
    from hud_sync_hook.dialect.sniff import file_evidence

    said = {evidence.generation for evidence in file_evidence(path, path.name)}
    return said.pop() if len(said) == 1 else None


def decide(evidence: Sequence[Any], installed: str | None) -> Choice:
    """The generation the project's facts name (pure: no I/O).

    `evidence` (`sniff.Evidence`: generation, file, line, what) comes from the config and the
    task files. Both generations among them is an error naming, for each, the files (with the
    line) where it was seen. One generation among them is chosen, and the plan says from where.
    Nothing at all: the installed SDK's generation (`installed`), else v5."""
    by_generation: dict[str, dict[str, Any]] = {"v5": {}, "v6": {}}
    for item in evidence:
        by_generation[item.generation].setdefault(item.file, item)  # the first per file
    v5, v6 = (list(by_generation[name].values()) for name in NAMES)
    if v5 and v6:
        raise HudSyncError(
            "this project mixes two HUD SDK generations: v5 in "
            + _listed(v5)
            + "; v6 in "
            + _listed(v6)
            + ". Keep one generation per project (move the other's tasks to their own folder), "
            "or pass --sdk v5|v6"
        )
    for name, found in (("v6", v6), ("v5", v5)):
        if found:
            first = found[0]
            more = f" (and {len(found) - 1} more file{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
            return Choice(name, f"chosen by {first.where}: {first.what}{more}")
    if installed:
        return Choice(installed, f"chosen by the installed SDK ({_PACKAGES[installed]}): nothing in the project names a generation")
    return Choice("v5", "the default: nothing in the project names a generation, and no HUD SDK is installed")


def _listed(found: list[Any]) -> str:
    shown = ", ".join(f"{item.where} ({item.what})" for item in found[:5])
    return shown + (f" and {len(found) - 5} more" if len(found) > 5 else "")


def choose(
    flag: str | None,
    source: Path,
    *,
    config_data: dict[str, Any] | None = None,
    config_shown: str = ".hud/config.json",
    base: Path | None = None,
) -> Choice:
    """Pick the generation before anything is imported: the flag; else what the config schema and
    the task files say, read statically (`sniff`); else the installed SDK; else v5 (`decide`)."""
    if flag and flag != "auto":
        get(flag)  # an unknown name is an error
        return Choice(flag, f"chosen by --sdk {flag}")
    from hud_sync_hook.dialect import sniff

    base = base or Path.cwd()
    evidence = sniff.gather(Path(source), base, config_data or {}, config_shown)
    installed = None if evidence else sniff.installed_generation()
    return decide(evidence, installed)
