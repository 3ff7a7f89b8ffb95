"""Worlds for the graph drawing tests: a generated 100-state world with two-way corridors,
branches, back edges, locked doors, endings and in-place events."""

from __future__ import annotations

import random
from typing import Any

_KEYS = "BCEFGHIJKLMNOPQRTUVXYZ"
_PLACES = ["hall", "cellar", "gallery", "stair", "vault", "garden", "chapel", "attic", "well", "forge"]


def big_world(n: int = 100, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    ids = [f"{_PLACES[i % len(_PLACES)]}_{i}" for i in range(n)]
    states: dict[str, Any] = {sid: {"base": f"a {sid.split('_')[0]} of grey stone, lamps along the walls, number {i}"}
                              for i, sid in enumerate(ids)}
    events: list[dict[str, Any]] = []

    def add(kind: str, name: str, src: str, to: str | None = None, **extra: Any) -> None:
        ev: dict[str, Any] = {"name": name, "kind": kind, "from": [src], "hotkey": _KEYS[len(events) % len(_KEYS)]}
        if to is not None:
            ev["to"] = to
        ev.update(extra)
        events.append(ev)

    for i in range(n - 1):
        a, b = ids[i], ids[i + 1]
        if i % 17 == 16:
            states[b]["ending"] = {"kind": "lose", "title": f"Lost in the {b}"}
            add("transition", f"Fall into the {b}", a, b)
            continue
        if states[a].get("ending"):
            continue
        extra = {"requires": [f"key_{i}"]} if i % 11 == 5 else {}
        add("transition", f"Go on to the {b}", a, b, **extra)
        if i % 3 == 0:
            add("transition", f"Go back to the {a}", b, a)
        if i % 7 == 2 and i + 5 < n:
            add("transition", f"Take the long way to {ids[i + 5]}", a, ids[i + 5])
        if i % 9 == 4:
            add("override", f"Listen at the door of {a}", a, grants=[f"key_{i + 1}"])
        if i % 13 == 8 and i > 10:
            add("transition", f"Run back to the {ids[i - 8]}", a, ids[i - 8 + (1 if states[ids[i - 8]].get('ending') else 0)])
    states[ids[-1]]["ending"] = {"kind": "win", "title": "Out into the light"}
    return {"schemaVersion": "1.0", "name": f"A {n}-state test world", "entrance": {"state": ids[0]},
            "scene": {"slots": {}, "states": states, "events": events}}
