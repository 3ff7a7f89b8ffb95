"""Which characters stand in a world's state, for the runtime's `state` message.

A world places characters with its top-level `characters: [{id, states}]`. For one
play session the runtime lists, with every `state` message, the characters placed in
the player's state: `characters: [{id, name, stance}]`, the stance being the one the
session's talk turns left (the store's talk memory) or the character's entrance.
"""

from __future__ import annotations

import json
from typing import Any

from conjure.errors import NotFoundError


def is_state(payload: str) -> bool:
    """Cheap test for a `state` message (the engine writes compact JSON)."""
    return '"type":"state"' in payload


class Presence:
    """The characters of one session's world (read once) and their stances (read per state)."""

    def __init__(self, scoped: Any, world: dict[str, Any], session: str):
        self.scoped = scoped
        self.session = session
        self.by_state: dict[str, list[str]] = {}
        self.characters: dict[str, dict[str, Any]] = {}
        for placement in world.get("characters") or []:
            if not isinstance(placement, dict) or not isinstance(placement.get("id"), str):
                continue
            cid = placement["id"]
            try:
                doc = scoped.get_character(cid)["character"]
            except NotFoundError:
                continue
            self.characters[cid] = {
                "name": doc.get("name") or cid,
                "entrance": str((doc.get("entrance") or {}).get("state") or ""),
            }
            for state in placement.get("states") or []:
                self.by_state.setdefault(str(state), []).append(cid)

    @classmethod
    def of(cls, scoped: Any, world_id: str, session: str) -> "Presence | None":
        """None when the world places no character (its `state` messages stay as they are)."""
        world = scoped.get_graph(world_id)["world"]
        if not world.get("characters"):
            return None
        return cls(scoped, world, session)

    def present(self, state: str) -> list[dict[str, Any]]:
        out = []
        for cid in self.by_state.get(state, []):
            info = self.characters[cid]
            memory = self.scoped.get_talk(self.session, cid) if self.session else None
            stance = memory.get("stance") if isinstance(memory, dict) and memory.get("stance") else info["entrance"]
            out.append({"id": cid, "name": info["name"], "stance": stance})
        return out

    def annotate(self, payload: str) -> str:
        """A `state` message with `characters` added; any other message as it is."""
        if not is_state(payload):
            return payload
        data = json.loads(payload)
        if data.get("type") != "state":
            return payload
        data["characters"] = self.present(str(data.get("state")))
        return json.dumps(data, separators=(",", ":"))
