"""conjure.agent.edit: the loop, the reply, and robustness against any instruction."""

from __future__ import annotations

import pathlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import conjure
from conjure.agent import EditOutcome, EditRequest, Proposal, edit

WORLDS = pathlib.Path(__file__).resolve().parents[2] / "data" / "agent" / "worlds"
ABBEY = conjure.World.from_file(WORLDS / "abbey.json")

VOCAB = [
    "add", "remove", "rename", "connect", "make", "the", "a", "cellar", "vault", "tower", "roof", "with", "C", "W", "to",
    "from", "and", "win", "lose", "ending", "called", "'Dawn'", "needs", "key", "found", "in", "hide", "after", "10",
    "seconds", "variant", "night", "slot", "{abbey}", "define", "as", "start", "darker", "describe", "one-shot", ",",
    "lock", "behind", "let", "player", "climb", "\u27e6", "\u27e7", "''", "\"", "{", "}", "no", "never", "where",
]


def test_an_edit_reply_names_what_changed_and_never_the_ops():
    out = edit(ABBEY, "add a flooded crypt below the chapel")
    assert isinstance(out, EditOutcome) and out.changed
    assert out.reply.startswith("Added state crypt")
    assert "\u2192" in out.reply and "Descend to the crypt" in out.reply
    for leak in ("add_state", "add_event", "op", "{"):
        assert leak not in out.reply.split() and "add_" not in out.reply


def test_the_input_world_is_never_modified():
    data = ABBEY.to_dict()
    edit(data, "remove the vault")
    edit(data, "rename the cellar to undercroft")
    assert data == ABBEY.to_dict()


def test_a_clarification_returns_the_world_unchanged_with_its_diagnostics():
    out = edit(ABBEY, "remove the attic")
    assert out.clarification and not out.changed and out.ops == []
    assert out.world == ABBEY
    assert "cellar" in out.reply


def test_an_edit_that_changes_nothing_says_so():
    world = edit(ABBEY, "make 'Open the vault door' a one-shot").world
    again = edit(world, "make 'Open the vault door' a one-shot")
    assert again.world is not None and not again.changed
    assert "nothing changed" in again.reply


def test_a_world_given_as_json_text_is_accepted():
    out = edit(ABBEY.to_json(), "start the game in the chapel")
    assert out.world.entrance == "chapel"


class Flaky:
    """Proposes a clashing hotkey first, then the fix, and records what it was told."""

    def __init__(self) -> None:
        self.seen: list[EditRequest] = []

    def propose(self, request: EditRequest) -> Proposal:
        self.seen.append(request)
        key = "C" if request.diagnostics is None else "Y"
        return Proposal(ops=[{"op": "add_event", "name": "Dig", "kind": "transition", "from": ["courtyard"], "to": "vault", "hotkey": key}])


def test_the_repair_loop_passes_the_gate_diagnostics_back_to_the_provider():
    flaky = Flaky()
    out = edit(ABBEY, "dig to the vault", provider=flaky)
    assert out.world is not None and out.attempts == 2
    assert flaky.seen[1].diagnostics and flaky.seen[1].diagnostics[0]["lint"] == "hotkey-clash"
    assert flaky.seen[1].previous[0]["hotkey"] == "C"


def test_attempts_are_bounded():
    class Stubborn:
        calls = 0

        def propose(self, request: EditRequest) -> Proposal:
            Stubborn.calls += 1
            return Proposal(ops=[{"op": "set_entrance", "state": "attic"}])

    out = edit(ABBEY, "start in the attic", provider=Stubborn(), max_attempts=2)
    assert out.world is None and Stubborn.calls == 2
    assert "Nothing was changed" in out.reply


def test_a_timed_cycle_is_repaired_by_the_offline_provider():
    world = edit(ABBEY, "after 5 seconds in the hall the floor tips into the library").world
    assert world is not None
    out = edit(world, "after 5 seconds in the library the shelves slide back to the hall")
    assert out.world is not None and conjure.validate(out.world).ok
    assert out.attempts == 2
    timed = [e for e in out.world.events if (e.get("timing") or {}).get("after")]
    assert any(e.get("hotkey") for e in timed)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(VOCAB), max_size=14).map(" ".join) | st.text(max_size=200))
def test_any_instruction_gives_a_question_or_a_clean_world(instruction):
    out = edit(ABBEY, instruction)
    assert isinstance(out.reply, str) and out.reply
    if out.world is not None and not out.clarification:
        assert conjure.validate(out.world).ok
    if out.clarification:
        assert out.world == ABBEY


def test_pathological_instructions_return_a_question():
    for text in ("make " + "darker and " * 400 + "wetter", "a" * 2500, "add " + "(" * 1000, "\u27e6" * 50, "rename \u27e65\u27e7 to x"):
        out = edit(ABBEY, text)
        assert out.world is not None
