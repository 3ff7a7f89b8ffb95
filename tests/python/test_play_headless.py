"""conjure.play.Playthrough: a headless run on the native engine and renderer."""

from __future__ import annotations

import pytest

import conjure
from conjure.play import Playthrough


def test_playthrough_plays_the_abbey_to_its_win_with_frames_and_a_trace(abbey_path):
    with Playthrough(conjure.World.from_file(abbey_path), width=160, height=90) as run:
        assert run.state["state"] == "courtyard"
        locked = run.press("F")
        assert locked.refused is not None and locked.refused["reason"] == "missing_flags"
        assert run.state["state"] == "courtyard" and not locked.fired
        step = run.press("E")
        assert [f["event"] for f in step.fired] == ["Take the lantern"] and "lantern" in run.state["flags"]
        assert step.frame is not None and step.frame.jpeg[:2] == b"\xff\xd8" and step.frame._repr_jpeg_() == step.frame.jpeg
        for key in "FKUT":
            run.press(key)
        assert run.ended and run.ending["kind"] == "win"
        assert [m["event"] for m in run.trace] == ["Take the lantern", "Descend to the cellar", "Pick up the iron key",
                                                    "Unlock the crypt", "Swim the tunnel"]
        html = run.trace._repr_html_()
        assert html.count("<tr>") == 6 and "Swim the tunnel" in html
    with pytest.raises(conjure.BadInputError):
        run.press("E")


def test_an_unplayable_world_is_refused(world_dict):
    world_dict["entrance"] = {"state": "nowhere"}
    with pytest.raises(conjure.ConjureError):
        Playthrough(world_dict)
