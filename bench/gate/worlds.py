"""Deterministic generator of realistic SMWorld 1.0 documents for the gate benchmark.

``make_world(n_states, seed)`` builds a world of ``n_states`` states and exactly
``3 * n_states`` events that the kernel gate accepts (no error diagnostic):

- a spine of transitions walks every non-ending state, so every state is
  reachable; extra transitions jump forwards and backwards across the graph;
- about one state in twenty is an ending (win or lose) with no event leaving it;
- hotkeys never clash within a from-state and never use W/A/S/D or a digit;
- some events grant a flag that a later event requires (always satisfiable);
- a few overrides (in-place changes with a duration) and terminal lose events;
- timing on some events; self-firing transitions only ever go forwards, so no
  kernel cycle can form;
- pixel prose in base / camera / movement / ambient drawn from word banks,
  using the world's slots (which nest, without cycles); a small share of the
  prose carries doctrine hits (negation, whiteout, intent, lethal overrides) so
  the advisory lints have real work to do, and a few over-described states
  pass the token budget.

Run as a script to print a world's JSON: ``python bench/gate/worlds.py 100``.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

PLACES = [
    "courtyard", "cellar", "chapel", "library", "kitchen", "armoury", "cloister", "belfry",
    "crypt", "garden", "orchard", "stable", "forge", "harbour", "lighthouse", "mill",
    "greenhouse", "observatory", "ballroom", "gallery", "attic", "boathouse", "quarry",
    "market", "bridge", "tunnel", "cistern", "vineyard", "granary", "watchtower", "ferry",
    "terrace", "balcony", "workshop", "infirmary", "scriptorium", "refectory", "dormitory",
]
ADJECTIVES = [
    "mossy", "crumbling", "narrow", "vaulted", "sunlit", "rain-soaked", "dusty", "ivy-covered",
    "flooded", "frost-rimmed", "smoky", "cramped", "echoing", "candlelit", "weathered",
    "lopsided", "copper-roofed", "half-built", "overgrown", "whitewashed", "tiled", "timbered",
    "sagging", "polished", "cobbled", "shadowed", "amber", "rust-streaked", "salt-stained",
]
MATERIALS = [
    "oak", "slate", "granite", "brick", "brass", "iron", "marble", "pine", "sandstone",
    "bronze", "glass", "clay", "limestone", "tin", "walnut", "basalt",
]
OBJECTS = [
    "barrels", "lanterns", "ropes", "crates", "bookshelves", "tapestries", "anvils", "benches",
    "candles", "nets", "urns", "cauldrons", "ladders", "banners", "bells", "chests", "looms",
    "saddles", "statues", "cages", "maps", "mirrors", "wagons", "oars", "kettles", "baskets",
]
LIGHT = [
    "low golden light", "grey overcast light", "lantern glow", "moonlight through cracks",
    "warm firelight", "cold blue dusk", "dappled noon sun", "flickering torchlight",
    "pale dawn light", "orange sunset haze", "green light through leaves", "stormy half-light",
]
CAMERA_STATIC = [
    "eye level, wide lens", "low angle looking up", "slow drift at eye level", "high corner view",
    "over-the-shoulder framing", "centred symmetrical framing", "close on the floor",
    "three-quarter view from the doorway", "steady tripod shot", "gentle push in",
]
CAMERA_DYNAMIC = [
    "handheld sway", "slow pan left", "tracking forward", "tilt up to the ceiling",
    "quick whip pan", "dolly past the pillars", "crane down from above", "orbit to the right",
]
MOVEMENT_STATIC = [
    "dust motes drifting", "still water, drifting mist", "flags stirring", "leaves skittering",
    "candle flames trembling", "smoke curling upward", "rain streaking the panes",
    "cobwebs swaying", "birds hopping on the ledge", "laundry flapping on a line",
]
MOVEMENT_DYNAMIC = [
    "gravel crunching underfoot", "boots splashing through puddles", "a door swinging open",
    "a cart rolling past", "the floorboards flexing", "a rope ladder swaying",
    "shadows sliding along the wall", "a crowd parting", "a lantern swinging in hand",
]
AMBIENT = [
    "crows circling the bell tower", "a cat asleep on a sill", "steam rising from a vent",
    "moths around a lamp", "a weathervane turning", "gulls over the water", "sparks from a chimney",
    "bats under the eaves", "snow settling on the roofs", "fireflies above the grass",
    "a dog trotting past", "clouds racing overhead", "a distant sail", "ivy rustling",
]
VERBS = [
    "Open", "Climb", "Cross", "Search", "Push", "Light", "Follow", "Unlock", "Enter", "Descend",
    "Ring", "Lift", "Pull", "Row", "Read", "Wade", "Squeeze", "Shout into", "Knock on", "Inspect",
]
SLOT_SUBJECTS = [
    "a ruined gothic abbey", "a fishing village on stilts", "a walled mountain town",
    "a sprawling clockwork mansion", "a desert caravanserai", "a frozen harbour fort",
    "an abandoned rail depot", "a terraced tea estate", "a sunken marble palace",
    "a lantern-lit canal city", "a salt marsh monastery", "a cliffside observatory",
]
SLOT_DETAILS = [
    "half sunk in a grey lake", "under a bruised violet sky", "wrapped in morning fog banks",
    "with copper domes gone green", "on a ridge of black rock", "beside a roaring weir",
    "ringed by pine forest", "at the edge of dunes", "strung with prayer flags",
]

# Doctrine hits, sprinkled into a small share of prose fields.
NEGATION = ["no people in sight", "nothing moves on the shelves", "a hall without windows",
            "the well is not lit"]
WHITEOUT = ["a blinding white light floods the room", "fade to white at the doorway",
            "fog filling the view"]
INTENT = ["the player should feel uneasy here", "this is where the story turns",
          "the statue symbolises lost faith"]
LETHAL = ["the guard dies in the collapse", "a miner is killed by falling rock",
          "the boatman drowns in the swell"]

# Hotkeys: letters and named keys, never W/A/S/D or a digit.
HOTKEYS = [c for c in "EFQRTYUIOPGHJKLZXCVBNM"] + ["Space", "Enter", "Tab", "Backspace"]

DOCTRINE_RATE = 0.05
BUSY_RATE = 0.03


class _Gen:
    def __init__(self, n_states: int, seed: int) -> None:
        if n_states < 2:
            raise ValueError("a benchmark world needs at least 2 states")
        self.n = n_states
        self.rng = random.Random(seed * 1_000_003 + n_states)
        self.used_hotkeys: dict[str, set[str]] = {}
        self.event_names: set[str] = set()
        self.events: list[dict[str, Any]] = []

    # ---- prose ----
    def pick(self, seq: list[str]) -> str:
        return self.rng.choice(seq)

    def doctrine(self, bank: list[str]) -> str | None:
        return self.pick(bank) if self.rng.random() < DOCTRINE_RATE else None

    def base_prose(self, place: str) -> str:
        r = self.rng
        parts = []
        if r.random() < 0.6:
            parts.append("{" + self.pick(self.slot_names) + "}")
        parts.append(f"a {self.pick(ADJECTIVES)} {place} of {self.pick(MATERIALS)}")
        parts.append(f"{self.pick(OBJECTS)} and {self.pick(OBJECTS)}")
        parts.append(self.pick(LIGHT))
        hit = self.doctrine(NEGATION) or self.doctrine(WHITEOUT) or self.doctrine(INTENT)
        if hit:
            parts.append(hit)
        if r.random() < BUSY_RATE:  # an over-described scene: passes the token budget
            parts += [f"{self.pick(ADJECTIVES)} {self.pick(OBJECTS)} beside {self.pick(OBJECTS)}"
                      for _ in range(8)]
        return ", ".join(parts)

    def state_body(self, place: str) -> dict[str, Any]:
        r = self.rng
        body: dict[str, Any] = {"base": self.base_prose(place)}
        camera = {"static": self.pick(CAMERA_STATIC)}
        if r.random() < 0.7:
            camera["dynamic"] = self.pick(CAMERA_DYNAMIC)
        body["camera"] = camera
        movement = {"static": self.pick(MOVEMENT_STATIC)}
        if r.random() < 0.7:
            movement["dynamic"] = self.doctrine(NEGATION) or self.pick(MOVEMENT_DYNAMIC)
        body["movement"] = movement
        body["ambient"] = [self.pick(AMBIENT) for _ in range(r.randint(1, 2))]
        if r.random() < 0.05:
            body["variants"] = [{"label": "B", "base": self.base_prose(place)}]
        return body

    # ---- events ----
    def name(self, verb: str, obj: str) -> str:
        base = f"{verb} the {self.pick(ADJECTIVES)} {obj}"
        name, k = base, 2
        while name in self.event_names:
            name = f"{base} {k}"
            k += 1
        self.event_names.add(name)
        return name

    def hotkey(self, states: list[str]) -> str:
        taken = set().union(*(self.used_hotkeys.setdefault(s, set()) for s in states))
        free = [k for k in HOTKEYS if k not in taken]
        key = self.pick(free)
        for s in states:
            self.used_hotkeys[s].add(key)
        return key

    def add_transition(self, src: str, dst: str, *, self_firing: bool = False,
                       requires: str | None = None, grants: str | None = None) -> None:
        r = self.rng
        ev: dict[str, Any] = {
            "name": self.name(self.pick(VERBS), self.pick(OBJECTS).rstrip("s")),
            "kind": "transition",
            "from": [src],
            "to": dst,
        }
        if self_firing:
            ev["timing"] = {"after": r.randint(3, 12), "duration": 0}
        else:
            ev["hotkey"] = self.hotkey([src])
            if r.random() < 0.1:
                ev["timing"] = {"after": 0, "duration": r.randint(1, 4)}
        if r.random() < 0.5:
            ev["base"] = f"{self.pick(MOVEMENT_DYNAMIC)}, {self.pick(LIGHT)}"
        if r.random() < 0.3:
            ev["detail"] = f"{self.pick(OBJECTS)} in the foreground, {self.pick(AMBIENT)}"
        if requires:
            ev["requires"] = [requires]
        if grants:
            ev["grants"] = [grants]
        if r.random() < 0.05:
            ev["oneShot"] = True
        if r.random() < 0.03:
            ev["hidden"] = True
        self.events.append(ev)

    def add_override(self, src: str) -> None:
        r = self.rng
        prose = self.doctrine(LETHAL) or f"{self.pick(AMBIENT)}, {self.pick(LIGHT)}"
        ev: dict[str, Any] = {
            "name": self.name("Watch", self.pick(OBJECTS).rstrip("s")),
            "kind": "override",
            "from": [src],
            "base": prose,
            "timing": {"after": r.randint(0, 8), "duration": r.randint(2, 5)},
        }
        if ev["timing"]["after"] == 0 or r.random() < 0.5:
            ev["hotkey"] = self.hotkey([src])
        self.events.append(ev)

    def add_terminal(self, src: str) -> None:
        ev = {
            "name": self.name("Fall from", self.pick(OBJECTS).rstrip("s")),
            "kind": "terminal",
            "from": [src],
            "hotkey": self.hotkey([src]),
            "base": f"a figure tumbling past {self.pick(OBJECTS)}, {self.pick(LIGHT)}",
            "ending": {"kind": "lose", "title": "A long fall", "subtitle": "Try the stairs next time"},
        }
        self.events.append(ev)

    # ---- the world ----
    def build(self) -> dict[str, Any]:
        r = self.rng
        n = self.n
        n_slots = max(4, min(200, n // 10))
        self.slot_names = [f"{self.pick(PLACES)}_{i}" for i in range(n_slots)]
        slots: dict[str, str] = {}
        for i, name in enumerate(self.slot_names):
            text = f"{self.pick(SLOT_SUBJECTS)} {self.pick(SLOT_DETAILS)}"
            if i > 0 and r.random() < 0.3:  # nested slots only point backwards: no cycles
                text = "{" + self.slot_names[r.randrange(i)] + "}, " + text
            slots[name] = text

        ids = [f"{PLACES[i % len(PLACES)]}-{i}" for i in range(n)]
        ending = [False] * n
        for i in range(19, n, 20):
            ending[i] = True
        ending[n - 1] = True
        ending[0] = False
        live = [i for i in range(n) if not ending[i]]
        live_pos = {i: k for k, i in enumerate(live)}

        states: dict[str, Any] = {}
        for i, sid in enumerate(ids):
            body = self.state_body(PLACES[i % len(PLACES)])
            if ending[i]:
                win = r.random() < 0.5
                body["ending"] = {
                    "kind": "win" if win else "lose",
                    "title": "Safe harbour" if win else "Lost in the dark",
                }
                if r.random() < 0.5:
                    body["ending"]["subtitle"] = f"Ending {i}"
            states[sid] = body

        flag_no = 0
        pending_flags: list[tuple[int, str]] = []  # (granting live position, flag)
        for k, i in enumerate(live):
            src = ids[i]
            # 1. the spine: on to the next live state (and into the ending right after, if any)
            nxt = live[k + 1] if k + 1 < len(live) else n - 1
            self_firing = r.random() < 0.08 and nxt > i
            self.add_transition(src, ids[nxt], self_firing=self_firing)
            # 2. a jump: into the ending after this state, else anywhere, sometimes gated by a flag
            if i + 1 < n and ending[i + 1] and nxt != i + 1:
                dst = i + 1
            else:
                dst = r.randrange(n)
            requires = None
            ready = [p for p in pending_flags if p[0] < k]
            if ready and r.random() < 0.5:
                _, requires = ready[0]
                pending_flags.remove(ready[0])
            self.add_transition(src, ids[dst], requires=requires)
            # 3. an override, a terminal, or a transition that grants a flag
            roll = r.random()
            if roll < 0.15:
                self.add_override(src)
            elif roll < 0.20:
                self.add_terminal(src)
            else:
                flag_no += 1
                flag = f"token_{flag_no}"
                pending_flags.append((k, flag))
                self.add_transition(src, ids[live[r.randrange(len(live))]], grants=flag)

        # Every state counts 3 events: the endings' share goes to random live states.
        while len(self.events) < 3 * n:
            i = live[r.randrange(len(live))]
            if len(self.used_hotkeys.get(ids[i], ())) >= len(HOTKEYS) - 2:
                continue
            dst = live[(live_pos[i] + r.randint(1, 5)) % len(live)]
            self.add_transition(ids[i], ids[dst])

        cutscenes = [
            {"name": f"Bells over the {PLACES[j % len(PLACES)]} {j}", "state": ids[live[j * 7 % len(live)]],
             "base": f"{self.pick(AMBIENT)}, {self.pick(LIGHT)}", "duration": r.randint(2, 6)}
            for j in range(max(1, n // 50))
        ]

        return {
            "schemaVersion": "1.0",
            "name": f"Benchmark world of {n} states",
            "description": "Generated by bench/gate/worlds.py for the gate benchmark.",
            "visibility": "private",
            "entrance": {"state": ids[0], "image": {"src": "https://example.org/entrance.jpg",
                                                   "label": "the way in"}},
            "scene": {"slots": slots, "states": states, "events": self.events, "cutscenes": cutscenes},
        }


def make_world(n_states: int, seed: int = 7) -> dict[str, Any]:
    """A world of ``n_states`` states and ``3 * n_states`` events, the same for the same seed."""
    return _Gen(n_states, seed).build()


def world_text(n_states: int, seed: int = 7) -> str:
    """The world as compact JSON text (what a client sends)."""
    return json.dumps(make_world(n_states, seed), separators=(",", ":"), ensure_ascii=False)


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    print(json.dumps(make_world(size), indent=2))
