"""The example prose lints, called directly and through the gate."""

from __future__ import annotations

import conjure
from conjure_lint_prose import repeated_opening, thin_base, vague_event


def world(states, events=()):
    return {"entrance": {"state": next(iter(states))}, "scene": {"states": states, "events": list(events)}}


def test_repeated_opening_flags_the_later_state():
    w = world({
        "a": {"base": "A long stone corridor lit by torches"},
        "b": {"base": "a long stone corridor, flooded to the knees"},
        "c": {"base": "a bright kitchen with copper pans"},
    })
    (f,) = list(repeated_opening(w))
    assert f["path"] == "state[b].base"
    assert "state[a].base" in f["message"]
    assert f["loc"] == {"field": "base", "start": 0, "end": 21, "match": "a long stone corridor"}


def test_vague_event_names_are_flagged_and_clear_ones_are_not():
    w = world({"a": {"base": "x"}}, [
        {"name": "Go", "hotkey": "E"}, {"name": "Event 3"}, {"name": "Open the cellar door"},
        {"name": "Next", "hidden": True},
    ])
    paths = [f["path"] for f in vague_event(w)]
    assert paths == ["event[Go].name", "event[Event 3].name"]


def test_thin_base_counts_words():
    w = world({"a": {"base": "a room"}, "b": {"base": "a tall room with red curtains and a piano"}})
    (f,) = list(thin_base(w))
    assert f["path"] == "state[a].base" and f["severity"] == "info" and "2 words" in f["message"]


def test_prose_lints_run_inside_the_gate():
    w = world(
        {"a": {"base": "a hall"}, "b": {"base": "a garden with roses and a stone sundial", "ending": {"kind": "win", "title": "t"}}},
        [{"name": "Go", "kind": "transition", "from": ["a"], "to": "b", "hotkey": "E"}],
    )
    lints = {d.lint for d in conjure.lint(w)}
    assert {"plugin.prose.vague-event", "plugin.prose.thin-base"} <= lints


def test_clean_example_world_passes_the_prose_lints():
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "examples" / "drowned-abbey.json"
    diags = conjure.lint(conjure.World.from_file(path))
    assert not [d for d in diags if d.lint.startswith("plugin.prose")]
