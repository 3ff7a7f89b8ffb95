"""Writes the seed corpora of the fuzz targets into tests/data/fuzz/<target>/.

Seeds are named seed-*; crash regressions (crash-*, timeout-*, oom-*) that the
fuzzers found live beside them and are never touched by this script. Run it
again after changing a seed: ``.venv/bin/python tests/cpp/fuzz/make_corpus.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench" / "gate"))

from worlds import make_world  # noqa: E402

OUT = ROOT / "tests" / "data" / "fuzz"
SEPARATOR = b"\n---ops---\n"


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


SMALL = {
    "name": "The Drowned Abbey",
    "entrance": {"state": "courtyard", "image": {"src": "https://example.org/a.jpg", "label": "gate"}},
    "scene": {
        "slots": {"abbey": "a ruined gothic abbey half sunk in a grey lake", "lake": "{abbey}, grey water"},
        "states": {
            "courtyard": {
                "base": "{abbey}, a moss-covered courtyard at dusk, lanterns glowing",
                "camera": {"static": "slow drift at eye level", "dynamic": "handheld sway"},
                "movement": {"static": "still water, drifting mist", "dynamic": "gravel crunching underfoot"},
                "ambient": ["crows circling the bell tower"],
                "variants": [{"label": "B", "base": "{lake} at night"}],
            },
            "cellar": {"base": "a vaulted cellar, barrels, {{torch}} light"},
            "shore": {"base": "{lake}, reeds", "ending": {"kind": "win", "title": "Out", "subtitle": "Free"}},
        },
        "events": [
            {"name": "Enter the cellar", "kind": "transition", "from": "courtyard", "to": "cellar",
             "hotkey": "E", "requires": ["lantern"], "grants": []},
            {"name": "Take the lantern", "kind": "override", "from": ["courtyard"], "hotkey": "F",
             "grants": ["lantern"], "base": "a lantern lifted from a hook", "timing": {"after": 0, "duration": 2}},
            {"name": "Wade out", "kind": "transition", "from": ["cellar"], "to": "shore", "hotkey": "Space",
             "oneShot": True, "hidden": True, "detail": "water to the knees"},
            {"name": "Drown", "kind": "terminal", "from": ["cellar"], "hotkey": "Q",
             "ending": {"kind": "lose", "title": "Under"}},
        ],
        "cutscenes": [{"name": "Bell tolls", "state": "courtyard", "base": "a bell swinging", "duration": 4}],
    },
    "futureField": {"kept": [1, 2, 3]},
}

BROKEN = {
    "schemaVersion": "1.0",
    "entrance": {"state": "nowhere"},
    "scene": {
        "slots": {"a": "{b} and {b}", "b": "{a}", "unused": "never used", "c": 12},
        "states": {
            "hall": {"base": "{a}, {ghost}, you should feel no fear, blinding white light",
                     "camera": {"static": 3}, "ambient": "not a list"},
            "end": {"base": "a dark end", "ending": {"kind": "draw"}},
            "bad id!": {"base": "x"},
            "loop1": {"base": "a loop"}, "loop2": {"base": "another loop"},
        },
        "events": [
            {"name": "Go", "kind": "transition", "from": ["hall"], "hotkey": "W"},
            {"name": "Go", "kind": "override", "from": ["end"], "to": "hall", "hotkey": "1",
             "base": "the knight dies"},
            {"name": "Stop", "kind": "terminal", "from": ["hall"], "hotkey": "E"},
            {"name": "Also", "kind": "transition", "from": ["hall"], "to": "end", "hotkey": "e",
             "requires": ["never-granted"]},
            {"name": "Tick", "kind": "transition", "from": ["loop1"], "to": "loop2", "timing": {"after": 2}},
            {"name": "Tock", "kind": "transition", "from": ["loop2"], "to": "loop1", "timing": {"after": 2}},
            {"name": "", "kind": "teleport", "from": [], "to": 5},
            {"kind": "transition"},
            "not an event",
        ],
        "cutscenes": [{"name": "C", "state": "void"}, {"name": "C", "state": "hall"}, {}],
    },
}

WRONG_TYPES = [
    {"scene": []},
    {"scene": {"states": [], "events": {}}},
    {"entrance": "courtyard", "scene": {"states": {"a": "just text"}, "events": [{"from": 7}]}},
    {"schemaVersion": "9.0", "scene": {"states": {}, "events": []}},
    {"schemaVersion": 1, "entrance": {"state": ["a"]}, "scene": {"slots": [], "states": {"a": {}}}},
    {"entrance": {"state": "a"}, "scene": {"states": {"a": {"base": None, "camera": [], "movement": "x",
                                                           "ambient": [1, None], "variants": {}}},
                                           "events": [{"name": "n", "kind": "transition", "from": ["a"],
                                                       "to": "a", "hotkey": 5, "requires": "x",
                                                       "grants": [1], "timing": {"after": -1, "duration": "x"},
                                                       "hidden": "yes", "oneShot": 0}]}},
]


def gate_seeds() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    small = dumps(SMALL)
    seeds["seed-small.json"] = small
    seeds["seed-small-pretty.json"] = json.dumps(SMALL, indent=2).encode()
    seeds["seed-generated-10.json"] = dumps(make_world(10, seed=1))
    seeds["seed-generated-30.json"] = dumps(make_world(30, seed=2))
    seeds["seed-broken.json"] = dumps(BROKEN)
    for i, w in enumerate(WRONG_TYPES):
        seeds[f"seed-wrong-types-{i}.json"] = dumps(w)
    for cut in (1, 17, len(small) // 3, len(small) // 2, len(small) - 1):
        seeds[f"seed-truncated-{cut}.json"] = small[:cut]
    for text in (b"", b"null", b"[]", b"{}", b"0", b"\"x\"", b"{\"scene\":null}", b"\xef\xbb\xbf{}"):
        seeds[f"seed-tiny-{len(seeds)}.json"] = text
    # Nesting: under the depth limit, just over it, and far over it.
    for depth in (60, 65, 5000):
        seeds[f"seed-deep-{depth}.json"] = b"[" * depth + b"]" * depth
    deep_prose = dict(SMALL, extra=json.loads("[" * 60 + "]" * 60))
    seeds["seed-deep-unknown-field.json"] = dumps(deep_prose)
    # Slot expansion: 8 references per level, 7 levels (8^7 copies if filled naively).
    slots = {f"s{i}": "".join("{s%d}" % (i + 1) for _ in range(8)) for i in range(7)}
    slots["s7"] = "a long corridor of mirrors"
    seeds["seed-slot-bomb.json"] = dumps({
        "entrance": {"state": "a"},
        "scene": {"slots": slots, "states": {"a": {"base": "{s0}"}, "b": {"base": "{s3} {{s0}}"}},
                  "events": [{"name": "Go", "kind": "transition", "from": ["a"], "to": "b", "hotkey": "E"}]},
    })
    seeds["seed-slot-long-chain.json"] = dumps({
        "entrance": {"state": "a"},
        "scene": {"slots": {**{f"k{i}": "{k%d}" % (i + 1) for i in range(3000)}, "k3000": "end"},
                  "states": {"a": {"base": "{k0}"}}, "events": []},
    })
    seeds["seed-slot-syntax.json"] = dumps({
        "entrance": {"state": "a"},
        "scene": {"slots": {"a.b-c_d": "ok", "": "empty name", "x" * 70: "long name"},
                  "states": {"a": {"base": "{a.b-c_d} {} {{ }} { spaced } {unclosed {{{a.b-c_d}}} }{"}},
                  "events": []},
    })
    # Invalid UTF-8 in prose, in a key, overlong and surrogate encodings; escaped lone surrogates.
    seeds["seed-utf8-prose.json"] = small.replace(b"lanterns glowing", b"lanterns \xff\xfe glowing")
    seeds["seed-utf8-key.json"] = small.replace(b"\"cellar\"", b"\"cel\xc3lar\"", 1)
    seeds["seed-utf8-overlong.json"] = small.replace(b"reeds", b"re\xc0\xafds")
    seeds["seed-utf8-surrogate.json"] = small.replace(b"reeds", b"re\xed\xa0\x80ds")
    seeds["seed-escaped-surrogate.json"] = small.replace(b"reeds", b"re\\ud800ds")
    seeds["seed-unicode-case.json"] = dumps(dict(SMALL, scene=dict(SMALL["scene"], states={
        "a": {"base": "İ NOT ǅ ＮＯ nO, dón't, ÑEVER, naïve NOTHING-at-all, ʼnothing"}})))
    # Limits: a prose field over 4,000 characters, and numbers at the edges.
    seeds["seed-long-prose.json"] = small.replace(b"reeds", b"reeds " * 800)
    seeds["seed-numbers.json"] = dumps({"entrance": {"state": "a"}, "scene": {"states": {"a": {"base": "x"}},
        "events": [{"name": "t", "kind": "override", "from": ["a"],
                    "timing": {"after": 1e308, "duration": -1e-308}}]}}).replace(b"1e+308", b"1e999")
    return seeds


OPS_ALL_KINDS = [
    {"op": "add_state", "id": "crypt", "base": "a crypt of bones", "camera": {"static": "low angle"}},
    {"op": "add_state", "base": "a dusty cellar with barrels"},
    {"op": "update_state", "id": "cellar", "patch": {"base": "a wet cellar", "camera": None,
                                                     "ambient": ["drips"]}},
    {"op": "add_event", "name": "Down", "kind": "transition", "from": "courtyard", "to": "crypt",
     "hotkey": "G"},
    {"op": "add_event", "kind": "override", "from": ["crypt"], "base": "candles gutter", "hotkey": None},
    {"op": "add_event", "name": "Crushed", "kind": "terminal", "from": ["crypt"], "hotkey": "T",
     "ending": {"kind": "lose", "title": "Crushed"}},
    {"op": "update_event", "name": "Wade out", "patch": {"hotkey": "R", "requires": ["lantern"],
                                                         "detail": None}},
    {"op": "delete_event", "name": "Drown"},
    {"op": "set_entrance", "state": "cellar", "image": {"src": "cellar.jpg", "label": "cellar"}},
    {"op": "add_variant", "state": "cellar", "base": "a dry cellar"},
    {"op": "add_variant", "state": "cellar", "label": "C", "base": "a lit cellar"},
    {"op": "remove_variant", "state": "courtyard", "label": "B"},
    {"op": "delete_state", "id": "crypt"},
]

OPS_FAILING = [
    {"op": "delete_state", "id": "courtyard"},
    {"op": "delete_state", "id": "ghost"},
    {"op": "add_state", "id": "cellar", "base": "again"},
    {"op": "update_event", "name": "ghost", "patch": {}},
    {"op": "remove_variant", "state": "cellar", "label": "Z"},
    {"op": "add_variant", "state": "courtyard", "label": "B", "base": "dup"},
    {"op": "set_entrance", "state": "nowhere"},
    {"op": "add_event", "name": "Enter the cellar", "kind": "transition", "from": ["courtyard"], "to": "shore"},
]

OPS_BAD_SHAPE = [
    [],
    {"op": "add_state"},
    [{"op": "teleport"}, {"id": "x"}, 5, {"op": "update_state", "id": 3, "patch": []}],
    [{"op": "add_event", "kind": "portal", "from": 3}, {"op": "set_entrance", "state": "a", "image": "x"}],
]


def ops_seeds() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    small = dumps(SMALL)
    seeds["seed-all-kinds.txt"] = small + SEPARATOR + dumps(OPS_ALL_KINDS)
    seeds["seed-failing.txt"] = small + SEPARATOR + dumps(OPS_FAILING)
    for i, ops in enumerate(OPS_BAD_SHAPE):
        seeds[f"seed-bad-shape-{i}.txt"] = small + SEPARATOR + dumps(ops)
    for i, op in enumerate(OPS_ALL_KINDS):
        seeds[f"seed-single-{i}-{op['op']}.txt"] = small + SEPARATOR + dumps([op])
    gen = dumps(make_world(20, seed=3))
    seeds["seed-generated-20.txt"] = gen + SEPARATOR + dumps([
        {"op": "delete_event", "name": make_world(20, seed=3)["scene"]["events"][0]["name"]},
        {"op": "update_state", "id": "cellar-1", "patch": {"ending": {"kind": "win", "title": "Early"}}},
        {"op": "add_state", "base": "{courtyard_0} at night"},
    ])
    seeds["seed-broken-world.txt"] = dumps(BROKEN) + SEPARATOR + dumps(OPS_ALL_KINDS)
    seeds["seed-non-object-world.txt"] = b"[1,2]" + SEPARATOR + dumps(OPS_ALL_KINDS[:2])
    seeds["seed-truncated.txt"] = small + SEPARATOR + dumps(OPS_ALL_KINDS)[:50]
    seeds["seed-utf8.txt"] = small + SEPARATOR + dumps(OPS_ALL_KINDS[:1]).replace(b"bones", b"bo\xffnes")
    # Structured form (no separator): the bytes drive the op builder.
    seeds["seed-bytes-0.bin"] = bytes(range(256))
    seeds["seed-bytes-1.bin"] = bytes((i * 37 + 11) % 256 for i in range(512))
    seeds["seed-bytes-2.bin"] = bytes([3, 2, 1, 0] * 64)
    seeds["seed-bytes-3.bin"] = b"\x00"
    return seeds


def write(target: str, seeds: dict[str, bytes]) -> None:
    folder = OUT / target
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("seed-*"):
        old.unlink()
    for name, data in seeds.items():
        (folder / name).write_bytes(data)
    print(f"{target}: {len(seeds)} seeds in {folder.relative_to(ROOT)}")


if __name__ == "__main__":
    write("fuzz_gate", gate_seeds())
    write("fuzz_ops", ops_seeds())
