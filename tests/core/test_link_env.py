"""`link-env` records what `hud sync env` (hud-python 0.5.41) records, and a platform that cannot
list the environment's scenarios leaves the link made, with a note: through the real CLI, against
the real `serve` or a real HTTP fake on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.attackers import logging_server
from tests.helpers.repo import make_repo, run_cli
from tests.helpers.secrets import HUD_API_KEY
from tests.helpers.serve import start_serve

SHOP = "00000000-0000-0000-0000-0000000000b1"
GARDEN = "00000000-0000-0000-0000-0000000000b2"
REGISTRY = [
    {"id": SHOP, "name": "shop", "name_display": "Shop Env", "scenarios": ["checkout"]},
    {"id": GARDEN, "name": "garden", "scenarios": []},
]
FAST = {"HUD_API_KEY": HUD_API_KEY, "HUD_SYNC_HOOK_MAX_ATTEMPTS": "1"}


@pytest.mark.parametrize(
    "typed, registry_id, registry_name",
    [
        ("Shop Env", SHOP, "Shop Env"),  # the display name, as the official picker and search show it
        ("shop", SHOP, "Shop Env"),  # found by its name: the display name is still what is recorded
        ("garden", GARDEN, "garden"),  # no display name: the name
        (SHOP, SHOP, "00000000..."),  # an id typed in full: its first 8 characters, as `hud sync env` does
    ],
)
def test_the_registry_name_is_the_one_hud_sync_env_records(tmp_path: Path, typed, registry_id, registry_name):
    root = tmp_path / "proj"
    make_repo(root, {"tasks.jsonl": '{"slug": "a", "env": {"name": "shop"}, "scenario": "checkout", "args": {}}\n'})
    (tmp_path / "registry.json").write_text(json.dumps(REGISTRY))
    with start_serve(tmp_path, "--registry", str(tmp_path / "registry.json")) as server:
        linked = run_cli("link-env", typed, "--api-url", server.url, cwd=root, env=FAST)
    assert linked.returncode == 0, linked.stderr
    config = json.loads((root / ".hud" / "config.json").read_text())
    assert (config["registryId"], config["registryName"]) == (registry_id, registry_name)


def test_scenarios_that_cannot_be_listed_leave_the_link_made_with_a_note(tmp_path: Path):
    root = tmp_path / "proj"
    make_repo(root, {"tasks.jsonl": '{"slug": "a", "env": {"name": "shop"}, "scenario": "checkout", "args": {}}\n'})
    routes = {"GET /registry/envs": (200, [{"id": SHOP, "name": "shop", "name_display": "Shop Env"}])}
    with logging_server("127.0.0.1", status=500, body={"detail": "scenario service down"}, routes=routes) as fake:
        linked = run_cli("link-env", "shop", "--api-url", fake.url, cwd=root, env=FAST)
        asked = [(s.method, s.path.split("?")[0]) for s in fake.seen]
    assert linked.returncode == 0, linked.stderr
    assert asked == [("GET", "/registry/envs"), ("GET", "/tasks/environments/shop/scenarios")]
    note = [line for line in linked.stderr.splitlines() if "scenarios could not be listed" in line]
    assert len(note) == 1 and "the environment is linked" in note[0] and "500" in note[0], linked.stderr
    assert "Traceback" not in linked.stderr and "Registered scenarios" not in linked.stdout
    config = json.loads((root / ".hud" / "config.json").read_text())
    assert (config["registryId"], config["registryName"]) == (SHOP, "Shop Env")


def test_a_plan_notes_scenarios_it_could_not_check(tmp_path: Path):
    """The plan of a linked project still comes when the scenario listing fails, and says what it
    did not check."""
    root = tmp_path / "proj"
    make_repo(root, {
        "tasks.jsonl": '{"slug": "a", "env": {"name": "shop"}, "scenario": "checkout", "args": {}}\n',
        ".hud/config.json": json.dumps({"registryId": SHOP}),
    })
    routes = {
        f"GET /registry/envs/{SHOP}": (200, {"id": SHOP, "name": "shop", "name_display": "Shop Env"}),
        "GET /tasks/environments/shop/scenarios": (503, {"detail": "try later"}),
    }
    # Everything else answers 404: the taskset is new.
    with logging_server("127.0.0.1", status=404, routes=routes) as fake:
        planned = run_cli("plan", "new-set", "--api-url", fake.url, cwd=root, env=FAST)
    assert planned.returncode == 0, planned.stderr
    assert "Note: the scenarios of 'shop' could not be listed, so they were not checked:" in planned.stdout, planned.stdout
    assert "1 to create" in planned.stdout


@pytest.mark.parametrize(
    "env, typed, expected",
    [
        ({"name": "shop", "name_display": "Shop Env"}, "shop", "Shop Env"),
        ({"name": "shop", "name_display": ""}, "shop", "shop"),
        ({"name": "shop", "name_display": {"html": "<b>"}}, None, "shop"),  # not a string: not stored
        ({"name": 7}, None, "unnamed"),
        ({"name": "shop"}, SHOP.upper(), SHOP.upper()[:8] + "..."),
    ],
)
def test_registry_name_rules(env, typed, expected):
    from hud_sync_hook.commands.link_env import registry_name

    assert registry_name(env, typed) == expected
