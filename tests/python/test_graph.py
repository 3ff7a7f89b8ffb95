"""The world graph a notebook shows (World._repr_html_ / World.to_svg): what it marks, and
that its layout keeps boxes apart and edges on their own ports, read from the SVG itself.
The same properties measured on the rendered page: test_graph_browser.py (slow tier)."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

import conjure
from graph_worlds import big_world

SVG = "{http://www.w3.org/2000/svg}"


def _groups(svg: str) -> list[tuple[ET.Element, tuple[float, float, float, float]]]:
    root = ET.fromstring(svg)
    out = []
    for g in root.iter(f"{SVG}g"):
        rect = g.find(f"{SVG}rect")
        assert rect is not None
        x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
        out.append((g, (x, y, x + w, y + h)))
    return out


def _shown(g: ET.Element) -> str:
    """The text a group shows (its <text> lines, not its tooltip)."""
    return " | ".join("".join(t.itertext()) for t in g.iter(f"{SVG}text"))


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.fixture(params=["drowned-abbey", "flawed-lighthouse", "big"])
def drawn(request, abbey_path) -> tuple[conjure.World, str]:
    world = (conjure.World.from_dict(big_world()) if request.param == "big"
             else conjure.World.from_file(abbey_path.parent / f"{request.param}.json"))
    return world, world._repr_html_()


def test_no_two_boxes_overlap(drawn):
    _, svg = drawn
    boxes = [box for _, box in _groups(svg)]
    clashes = [(a, b) for a, b in itertools.combinations(boxes, 2) if _overlap(a, b)]
    assert not clashes


def test_every_state_and_every_transition_has_its_own_box(drawn):
    world, svg = drawn
    groups = [g for g, _ in _groups(svg)]
    assert sorted(g.get("data-state") for g in groups if g.get("data-state")) == sorted(world.states)
    moving = [i for i, e in enumerate(world.events)
              if e["kind"] == "transition" and e.get("to") in world.states and set(e["from"]) - {e["to"]}]
    assert sorted(int(g.get("data-event")) for g in groups if g.get("data-event")) == moving


def test_edges_meet_states_at_distinct_ports(drawn):
    _, svg = drawn
    ends = []
    for path in ET.fromstring(svg).iter(f"{SVG}path"):
        if path.get("class") != "edge":
            continue
        nums = [float(n) for n in re.findall(r"-?\d+\.?\d*", path.get("d"))]
        ends += [(nums[0], nums[1]), (nums[-2], nums[-1])]
    states = [box for g, box in _groups(svg) if g.get("data-state")]
    on_states = [p for p in ends if any(b[0] <= p[0] <= b[2] and p[1] in (b[1], b[3]) for b in states)]
    assert on_states and len(on_states) == len(set(on_states))


def test_two_way_edge_is_a_pair_with_both_hotkeys_legible(abbey_path):
    world = conjure.World.from_file(abbey_path)
    svg = world._repr_html_()
    texts = {g.get("data-event"): _shown(g) for g, _ in _groups(svg) if g.get("data-event")}
    index = {e["name"]: str(i) for i, e in enumerate(world.events)}
    up, down = texts[index["Climb the bell tower"]], texts[index["Climb down the tower"]]
    assert up.startswith("C \u00b7") and down.startswith("R \u00b7")  # hotkey first, each in its own box
    boxes = {g.get("data-event"): box for g, box in _groups(svg) if g.get("data-event")}
    a, b = boxes[index["Climb the bell tower"]], boxes[index["Climb down the tower"]]
    assert a[1] == b[1] and not _overlap(a, b)  # side by side in one layer


def test_entrance_endings_locked_events_and_findings_are_marked(abbey_path, lighthouse_path):
    abbey = conjure.World.from_file(abbey_path)
    groups = {g.get("data-state") or "e" + g.get("data-event"): g for g, _ in _groups(abbey._repr_html_())}
    assert "entrance" in groups[abbey.entrance].get("class")
    assert "ending-win" in groups["shore"].get("class") and "ending-lose" in groups["drowned"].get("class")
    locked = [i for i, e in enumerate(abbey.events) if e.get("requires") and e["kind"] == "transition"]
    assert locked and all("locked" in groups[f"e{i}"].get("class") for i in locked)
    assert all("needs" in _shown(groups[f"e{i}"]) for i in locked)

    lighthouse = conjure.World.from_file(lighthouse_path)
    groups = {g.get("data-state"): g for g, _ in _groups(lighthouse._repr_html_()) if g.get("data-state")}
    flagged = {d.path.split("]")[0][6:] for d in conjure.lint(lighthouse, plugins=False) if d.path.startswith("state[")}
    assert flagged and all("finding-warning" in groups[s].get("class") for s in flagged)
    assert "negation" in _shown(groups["cliff"])
    clean = set(groups) - flagged
    assert all("finding" not in groups[s].get("class") for s in clean)


def test_to_svg_draws_the_diagnostics_it_is_given(lighthouse_path):
    world = conjure.World.from_file(lighthouse_path)
    error = conjure.Diagnostic("house.rule", "error", "state[sunrise].base", "no sunrises", None)
    groups = {g.get("data-state"): g for g, _ in _groups(world.to_svg([error])) if g.get("data-state")}
    assert "finding-error" in groups["sunrise"].get("class")
    assert all("finding" not in groups[s].get("class") for s in groups if s != "sunrise")


def test_a_world_with_no_states_draws(world_dict):
    world_dict["scene"]["states"] = {}
    world_dict["scene"]["events"] = []
    svg = conjure.World.from_dict(world_dict)._repr_html_()
    assert svg.startswith("<svg") and "data-state" not in svg
