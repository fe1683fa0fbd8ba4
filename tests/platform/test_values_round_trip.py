"""Values come back from the platform exactly as uploaded, so an unchanged task stays unchanged."""

from __future__ import annotations

import pytest

from hud_sync_hook.model import remote_signature, signature
from hud_sync_hook.platform.http import HttpPlatform
from hud_sync_hook.platform.local import LocalPlatform
from tests.helpers.serve import start_serve

ARGS = {"big": 2**70, "neg": -(2**65), "small": 1.5e-05, "float16": 1e16, "text": "é😀", "nested": [{"z": 0, "a": None}]}


def record() -> dict:
    return {"slug": "big", "env": {"name": "e"}, "scenario": "e:s", "args": ARGS}


@pytest.mark.parametrize("kind", ["local", "http"])
def test_big_integers_and_floats_round_trip(tmp_path, kind):
    if kind == "local":
        platform = LocalPlatform(tmp_path / "p.sqlite")
        fetched = _upload_and_fetch(platform)
    else:
        with start_serve(tmp_path) as server, HttpPlatform(server.url, None) as platform:
            fetched = _upload_and_fetch(platform)
    assert fetched["args"] == ARGS
    assert type(fetched["args"]["big"]) is int
    assert remote_signature(fetched) == signature("e:s", ARGS, None, None, None)


def _upload_and_fetch(platform) -> dict:
    result = platform.upload("values", [record()], None)
    _name, records = platform.fetch_tasks(result.taskset_id)
    platform.close()
    (fetched,) = records
    return fetched
