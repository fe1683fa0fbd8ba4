"""One rule for where a project's `.hud/` lives, followed by the config, the local store and the
official CLI's layouts: a plan right after an apply is up to date from any folder of the project."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hud_sync_hook.config import project_dir
from tests.helpers.repo import make_repo, run_cli, write_files
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

ROWS = "".join(
    json.dumps({"slug": s, "scenario": "checkout", "env": {"name": "shop"}, "args": {"n": n}}) + "\n"
    for s, n in (("a", 1), ("b", 2))
)
ROW_C = json.dumps({"slug": "c", "scenario": "checkout", "env": {"name": "shop"}, "args": {"n": 3}}) + "\n"

# The README's layouts: (where the tasks are, how the project root is marked)
LAYOUTS = {
    "tasks-at-root": ("", "git"),
    "tasks-in-subfolder": ("tasks", "git"),
    "pyproject-at-root": ("tasks", "pyproject"),
}


def make_layout(root: Path, layout: str) -> Path:
    """The project at `root`; returns the task folder."""
    sub, marker = LAYOUTS[layout]
    folder = root / sub if sub else root
    files = {(f"{sub}/" if sub else "") + "tasks.jsonl": ROWS}
    if marker == "git":
        make_repo(root, files)
    else:
        write_files(root, {**files, "pyproject.toml": "[project]\nname = 'demo'\n"})
    return folder


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_rule_picks_the_project_root_from_any_folder(tmp_path, layout):
    root = tmp_path / "proj"
    folder = make_layout(root, layout)
    assert project_dir(folder, cwd=root) == root.resolve()
    assert project_dir(folder, cwd=folder) == root.resolve()
    assert project_dir(folder, cwd=tmp_path) == root.resolve()


def test_an_existing_config_wins_and_the_home_folder_is_not_a_project(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    make_repo(root, {"tasks/tasks.jsonl": ROWS})
    # `hud sync tasks` run inside tasks/ writes tasks/.hud/config.json: that config is the project's.
    write_files(root, {"tasks/.hud/config.json": {}})
    assert project_dir(root / "tasks") == (root / "tasks").resolve()
    # Outside any repository, without markers: the working directory when the source is inside it.
    loose = tmp_path / "home" / "loose"
    write_files(loose, {"tasks/tasks.jsonl": ROWS, "../.hud/config.json": {}})
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert project_dir(loose / "tasks", cwd=loose) == loose.resolve()
    assert project_dir(loose / "tasks", cwd=loose / "tasks") == (loose / "tasks").resolve()
    assert project_dir(loose / "tasks", cwd=tmp_path / "elsewhere") == (loose / "tasks").resolve()


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_local_store_and_config_follow_the_rule(tmp_path, layout):
    root = tmp_path / "proj"
    folder = make_layout(root, layout)
    source = os.path.relpath(folder, root)
    applied = run_cli("apply", "my-ts", source, "--api-url", "local", "--yes", cwd=root)
    assert applied.returncode == 0, applied.stderr
    # Exactly one .hud/, at the project root, holding both the config and the store.
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob(".hud")) == [".hud"]
    assert (root / ".hud" / "local-platform.sqlite").exists()
    assert json.loads((root / ".hud" / "config.json").read_text())["tasksetName"] == "my-ts"
    for cwd, args in ((root, ["--source", source]), (folder, [])):
        again = run_cli("plan", *args, "--api-url", "local", cwd=cwd)
        assert again.returncode == 0, again.stderr
        assert "All tasks up to date" in again.stdout and "Switching" not in again.stdout, again.stdout
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob(".hud")) == [".hud"]


def test_a_stored_id_unknown_to_this_platform_is_said_with_its_url(tmp_path):
    root = tmp_path / "proj"
    make_repo(root, {"tasks.jsonl": ROWS, ".hud/config.json": {"tasksetId": "12345678-1234-1234-1234-123456789abc"}})
    with start_serve(tmp_path) as server:
        named = run_cli("plan", "my-ts", "--api-url", server.url, cwd=root, env={"HUD_API_KEY": HUD_API_KEY})
        stored = run_cli("plan", "--api-url", server.url, cwd=root, env={"HUD_API_KEY": HUD_API_KEY})
    assert named.returncode == 0, named.stderr
    assert "Switching" not in named.stdout
    assert (
        f"tasksetId 12345678-1234-1234-1234-123456789abc in .hud/config.json is unknown to {server.url}; "
        "the first upload creates 'my-ts' there and stores its id instead"
    ) in named.stdout
    assert stored.returncode == 1
    assert f"was not found on the platform ({server.url})" in stored.stderr
    local = run_cli("plan", "my-ts", "--api-url", "local", cwd=root)
    assert "is unknown to the local platform in .hud/local-platform.sqlite" in local.stdout
