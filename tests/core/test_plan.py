"""Diff classes, renames, filters, forcing, and the plan hash."""

from __future__ import annotations

import hashlib
import json

from hud_sync_hook.model import Location, task_from_mapping
from hud_sync_hook.plan import build_plan, offline_plan, plan_hash, select_tasks
from hud_sync_hook.render.json_plan import plan_dict
from hud_sync_hook.render.text import render_text


def local(slug: str, **args):
    return task_from_mapping({"slug": slug, "scenario": "s", "env": {"name": "e"}, "args": args}, Location("t.json", 1))


def remote(slug: str, env: str = "e", **args):
    return {"id": f"id-{slug}", "slug": slug, "scenario": f"{env}:s", "args": args, "env": {"name": env}, "extra": 1}


def plan_for(tasks, records, **kw):
    return build_plan(tasks, records, taskset_name="ts", taskset_id="11111111-1111-1111-1111-111111111111", taskset_exists=True, **kw)


def test_classes_and_never_delete():
    plan = plan_for(
        [local("new", a=1), local("same", a=1), local("changed", a=2), local("env-renamed", a=3)],
        [remote("same", a=1), remote("changed", a=1), remote("gone", a=9), remote("env-renamed", env="old-env", a=3)],
    )
    assert [t.slug for t in plan.create] == ["new"]
    assert [t.slug for t in plan.update] == ["changed"]
    assert [t.slug for t in plan.unchanged] == ["env-renamed", "same"]
    assert plan.remote_only == ["gone"]
    assert [t.slug for t in plan.to_upload] == ["new", "changed"]
    assert plan.summary() == "1 to create, 1 to update, 2 unchanged, 1 remote-only"


def test_legacy_external_id_records_match_by_slug():
    record = remote("x", a=1)
    record["external_id"] = record.pop("slug")
    assert [t.slug for t in plan_for([local("x", a=1)], [record]).unchanged] == ["x"]
    # A record with neither is no task of ours to plan for: not remote-only, not matched.
    nameless = {"id": "id-z", "scenario": "e:s", "args": {"a": 1}}
    plan = plan_for([local("x", a=1)], [nameless, record, {**remote("y"), "slug": None}])
    assert [t.slug for t in plan.unchanged] == ["x"] and plan.remote_only == [] and plan.update == []


def test_probable_renames_pair_each_remote_task_once():
    plan = plan_for([local("new-a", v=1), local("new-b", v=1), local("other", v=2)], [remote("old-a", v=1)])
    assert [(r.old, r.new) for r in plan.renames] == [("old-a", "new-a")]
    assert "'old-a' was renamed to 'new-a'" in render_text(plan)


def test_force_uploads_everything_and_filters_hide_remote_only_noise():
    tasks = [local("a", x=1), local("b", x=1), local("c", x=1)]
    records = [remote("a", x=1), remote("b", x=1), remote("c", x=1)]
    forced = plan_for(tasks, records, force=True)
    assert [t.slug for t in forced.update] == ["a", "b", "c"] and forced.forced
    kept, dropped = select_tasks(tasks, only="b")
    only_b = plan_for(kept, records, filtered_out=dropped)
    assert [t.slug for t in only_b.unchanged] == ["b"] and only_b.remote_only == []
    kept, dropped = select_tasks(tasks, exclude=["a", "c"])
    assert [t.slug for t in kept] == ["b"] and dropped == {"a", "c"}


def test_plan_hash_depends_only_on_what_would_be_uploaded():
    records = [remote("a", x=1)]
    base = plan_for([local("a", x=2), local("b", x=1)], records)
    same = plan_for([local("b", x=1), local("a", x=2)], records + [remote("z")])
    assert base.plan_hash == same.plan_hash
    assert plan_for([local("a", x=3), local("b", x=1)], records).plan_hash != base.plan_hash
    other_taskset = build_plan([local("a", x=2), local("b", x=1)], records, taskset_name="ts", taskset_id=None, taskset_exists=False)
    assert other_taskset.plan_hash != base.plan_hash
    assert len(base.plan_hash) == 64


def documented_plan_hash(taskset: str, entries) -> str:
    """The plan hash as the README describes it, written out independently of the code."""
    digest = hashlib.sha256(json.dumps({"taskset": taskset}).encode())
    for entry in sorted(entries):
        digest.update(b"\n" + json.dumps(list(entry), ensure_ascii=False).encode())
    return digest.hexdigest()


def test_plan_hash_has_fixed_values_that_stored_comments_rely_on():
    # Hashes are stored in pull-request comments and compared on merge: any change to how they are
    # computed (separator, JSON options, key names, what identifies the taskset) breaks every
    # comment already posted. These values must never change.
    entries = [("b", "update", "e|e:s|sig-é"), ("a", "create", "e|e:s|x")]
    fixed = "827c35fc04e300b3fe8dba1c8d71b10cb8ccc2be0249d121ae35f9cd678016fe"
    assert plan_hash("name:tâches", entries) == fixed == documented_plan_hash("name:tâches", entries)
    # Order independence: entries are sorted unless the caller says they already are.
    assert plan_hash("name:tâches", list(reversed(entries))) == fixed
    assert plan_hash("name:tâches", sorted(entries), presorted=True) == fixed
    assert plan_hash("name:tâches", entries, presorted=True) != fixed

    by_id = plan_for([local("new", a=1), local("changed", a=2), local("same", a=1)], [remote("changed", a=1), remote("same", a=1)])
    assert by_id.plan_hash == "24731268334fae447e8c8a0e0d0fbb4f11e3e605379ed57053fe47e2ca83c9bf"
    assert by_id.plan_hash == documented_plan_hash(
        "11111111-1111-1111-1111-111111111111",
        [(t.slug, action, f"e|e:s|{t.signature}") for action, t in (("create", by_id.create[0]), ("update", by_id.update[0]))],
    )
    by_name = build_plan([local("new", a=1)], [], taskset_name="ts", taskset_id=None, taskset_exists=False)
    assert by_name.plan_hash == "3d51d69dde8b7ab0c5e98e6a5af3d386713734d2da3684eddf8fd02ac1043fff"
    assert by_name.plan_hash == documented_plan_hash("name:ts", [("new", "create", f"e|e:s|{by_name.create[0].signature}")])


def test_plan_hash_changes_with_the_environment_even_when_the_scenario_is_qualified():
    # The signature leaves the environment out; the upload sends it, so the hash must cover it.
    def qualified(env):
        return task_from_mapping({"slug": "a", "scenario": "e:s", "env": {"name": env}, "args": {}}, Location("t.json", 1))

    first, second = plan_for([qualified("e")], []), plan_for([qualified("f")], [])
    assert first.create[0].signature == second.create[0].signature
    assert first.plan_hash != second.plan_hash
    no_env = task_from_mapping({"slug": "a", "scenario": "s", "args": {}}, Location("t.json", 1))
    assert plan_for([no_env], []).plan_hash == documented_plan_hash(
        "11111111-1111-1111-1111-111111111111", [("a", "create", f"|s|{no_env.signature}")]
    )


def test_has_changes_for_creates_or_updates_only():
    assert plan_for([local("a")], []).has_changes is True
    assert plan_for([local("a", x=2)], [remote("a", x=1)]).has_changes is True
    assert plan_for([local("a", x=1)], [remote("a", x=1), remote("b")]).has_changes is False
    assert plan_for([], [remote("b")]).has_changes is False


def test_a_plan_without_creates_has_no_renames():
    plan = plan_for([local("a", x=1)], [remote("a", x=1), remote("b", x=1)])
    assert plan.renames == [] and plan_dict(plan)["renames"] == []


def test_an_offline_plan_lists_every_task_and_claims_nothing_about_the_platform():
    plan = offline_plan([local("b"), local("a")], taskset_name="ts")
    assert [t.slug for t in plan.create] == ["a", "b"]
    assert (plan.taskset_name, plan.taskset_id, plan.taskset_exists, plan.remote_known) == ("ts", None, False, False)
    assert plan.forced is False and plan.plan_hash == ""
    assert plan.summary() == "2 tasks found, plan unavailable"


def test_json_rendering_lists_every_class():
    plan = plan_for([local("a", x=2), local("n")], [remote("a", x=1), remote("r", y=5)])
    data = plan_dict(plan)
    # A plan is for v5 tasks, with no reason claimed, unless a dialect's detection says otherwise.
    assert data["schema_version"] == 2 and data["sdk"] == "v5" and data["sdk_reason"] == ""
    assert render_text(plan).splitlines()[1] == "  HUD SDK v5 (hud-python 0.5)"
    assert data["counts"] == {"create": 1, "update": 1, "unchanged": 0, "remote_only": 1, "renames": 0}
    assert [t["slug"] for t in data["create"]] == ["n"]
    assert data["update"][0] == {
        "slug": "a", "scenario": "e:s", "file": "t.json", "line": 1,
        "changes": [{"field": "args", "key": "x", "change": "changed", "old": 1, "new": 2}],
    }
    assert data["remote_only"] == ["r"]


def test_text_rendering_says_all_up_to_date_and_taskset_creation():
    plan = plan_for([local("a", x=1)], [remote("a", x=1)])
    assert render_text(plan).rstrip().endswith("All tasks up to date (0 to create, 0 to update, 1 unchanged, 0 remote-only)")
    new = build_plan([local("a")], [], taskset_name="fresh", taskset_id=None, taskset_exists=False)
    assert "Taskset will be created" in render_text(new)


def test_a_plan_is_a_value_its_contents_not_the_rules_that_compared_them():
    from hud_sync_hook.dialect import get

    v5 = plan_for([], [remote("b")])
    v6 = plan_for([], [{"name": "b", "env": "e", "scenario": "s", "args": {}}], rules=get("v6").diff)
    assert v5 == v6 and v5.rules is not v6.rules
    assert "remote_only=['b']" in repr(v5) and "rules" not in repr(v5) and "<function" not in repr(v5)
