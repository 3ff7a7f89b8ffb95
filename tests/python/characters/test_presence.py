"""The runtime's `state` message lists the characters placed in the player's state, with their stances."""

from __future__ import annotations

import json

from conjure.characters.presence import Presence
from conjure.errors import NotFoundError


class _Scoped:
    def __init__(self, world, characters, talks):
        self.world, self.characters, self.talks = world, characters, talks

    def get_graph(self, world_id):
        return {"world": self.world, "rev": "1"}

    def get_character(self, cid):
        if cid not in self.characters:
            raise NotFoundError("character not found")
        return {"character": self.characters[cid], "rev": "1"}

    def get_talk(self, session, cid):
        return self.talks.get((session, cid))


WORLD = {"characters": [{"id": "k", "states": ["hall"]}, {"id": "gone", "states": ["hall"]},
                        {"id": "m", "states": ["hall", "yard"]}]}
CHARS = {"k": {"name": "Keeper", "entrance": {"state": "wary"}}, "m": {"name": "Monk", "entrance": {"state": "idle"}}}


def test_state_messages_list_present_characters_with_the_sessions_stance():
    scoped = _Scoped(WORLD, CHARS, {("jti1", "k"): {"stance": "friendly", "turns": []}})
    presence = Presence.of(scoped, "w", "jti1")
    msg = json.loads(presence.annotate('{"events":[],"flags":[],"state":"hall","type":"state"}'))
    assert msg["characters"] == [{"id": "k", "name": "Keeper", "stance": "friendly"},
                                 {"id": "m", "name": "Monk", "stance": "idle"}]
    assert json.loads(presence.annotate('{"state":"yard","type":"state"}'))["characters"] == [
        {"id": "m", "name": "Monk", "stance": "idle"}]
    assert json.loads(presence.annotate('{"state":"cellar","type":"state"}'))["characters"] == []
    fired = '{"event":"Go","state":"yard","type":"fired"}'
    assert presence.annotate(fired) == fired


def test_a_world_without_characters_leaves_state_messages_alone():
    assert Presence.of(_Scoped({}, {}, {}), "w", "jti1") is None
