"""Properties over generated worlds and op sequences."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import conjure
from conjure import _core

IDS = st.text(alphabet="abcdefgh_-", min_size=1, max_size=6)
PROSE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | PROSE,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
UNKNOWN = st.dictionaries(st.text(min_size=1, max_size=6).map(lambda s: "x-" + s), JSONISH, max_size=2)


@st.composite
def worlds(draw):
    ids = draw(st.lists(IDS, min_size=1, max_size=6, unique=True))
    states = {}
    for sid in ids:
        state = {"base": draw(PROSE)}
        state.update(draw(UNKNOWN))
        states[sid] = state
    names = draw(st.lists(st.text(alphabet="ABCDEFG ", min_size=1, max_size=8), max_size=6, unique=True))
    events = []
    for name in names:
        ev = {
            "name": name,
            "kind": draw(st.sampled_from(["transition", "override", "terminal"])),
            "from": draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2)),
            "to": draw(st.sampled_from(ids + ["missing"])),
        }
        ev.update(draw(UNKNOWN))
        events.append(ev)
    world = {"schemaVersion": "1.0", "entrance": {"state": draw(st.sampled_from(ids))},
             "scene": {"states": states, "events": events}}
    world.update(draw(UNKNOWN))
    return world


OPS = st.one_of(
    st.fixed_dictionaries({"op": st.just("add_state"), "base": PROSE}, optional={"id": IDS}),
    st.fixed_dictionaries({"op": st.just("update_state"), "id": IDS, "patch": st.dictionaries(st.sampled_from(["base", "x-a"]), PROSE | st.none(), max_size=2)}),
    st.fixed_dictionaries({"op": st.just("delete_state"), "id": IDS}),
    st.fixed_dictionaries({"op": st.just("add_event"), "kind": st.sampled_from(["transition", "override", "terminal"]),
                           "from": st.lists(IDS, min_size=1, max_size=2)}, optional={"name": PROSE, "to": IDS}),
    st.fixed_dictionaries({"op": st.just("update_event"), "name": PROSE, "patch": st.dictionaries(st.sampled_from(["to", "hotkey"]), IDS | st.none(), max_size=2)}),
    st.fixed_dictionaries({"op": st.just("delete_event"), "name": PROSE}),
    st.fixed_dictionaries({"op": st.just("set_entrance"), "state": IDS}),
    st.fixed_dictionaries({"op": st.just("add_variant"), "state": IDS}, optional={"label": st.sampled_from(["A", "B"])}),
    st.fixed_dictionaries({"op": st.just("remove_variant"), "state": IDS, "label": st.sampled_from(["A", "B"])}),
)


def _dangling(world: dict) -> bool:
    states = world.get("scene", {}).get("states", {})
    if world.get("entrance", {}).get("state") not in states:
        return True
    for ev in world.get("scene", {}).get("events", []):
        if any(f not in states for f in ev.get("from", [])):
            return True
        if "to" in ev and ev["to"] not in states:
            return True
    return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_serialise_then_parse_is_identity(world):
    loaded = conjure.World.from_dict(world)
    assert conjure.World.from_json(loaded.to_json()) == loaded
    assert json.loads(loaded.to_json()) == loaded.to_dict()
    assert loaded.to_dict()["scene"]["states"] == world["scene"]["states"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), st.lists(OPS, min_size=1, max_size=8))
def test_op_sequences_never_crash_and_gate_refuses_dangling_refs(world, ops):
    result = conjure.apply_ops(world, ops, plugins=False)
    for err in result.apply_errors:
        assert {"index", "code", "message"} <= set(err)
        assert 0 <= err["index"] < len(ops)
    if _dangling(result.world.to_dict()):
        assert not result.ok
    verdict = conjure.validate(result.world, plugins=False)
    assert verdict.ok == result.ok
