"""World generation from a premise: offline (deterministic per seed) or through a provider."""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

from conjure.agent import words as W
from conjure.agent.prose import BUDGET, article, composed_tokens, fit_base, sanitize, slug
from conjure.agent.scene import display
from conjure.errors import BadInputError, ConjureError
from conjure.gate import Diagnostic, validate
from conjure.world import World

__all__ = ["generate", "offline_world", "GenerationError", "THEMES"]


class GenerationError(ConjureError):
    """A provider's world failed the gate after every repair (``diagnostics`` says why)."""

    default_code = "generation_failed"

    def __init__(self, message: str, *, diagnostics: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics or []


# Each theme: keywords that pick it, places (nouns), the item, the win and lose endings,
# a sky/backdrop slot, and adjectives for its places.
THEMES: dict[str, dict[str, Any]] = {
    "gothic": {
        "keys": "abbey monastery cathedral church chapel gothic crypt tomb grave cemetery graveyard vampire monk nun ruin ruined bell",
        "places": ["courtyard", "chapel", "crypt", "cellar", "tower", "library", "cloister", "graveyard"],
        "item": "iron key",
        "win": ("gate", "the abbey gate thrown open onto a misty dawn road", "Dawn on the road"),
        "lose": ("pit", "a collapsed floor over a black pit, broken flagstones tumbling", "Swallowed by the dark", "Step onto the cracked floor"),
        "sky": "a bruised violet sky over broken spires",
        "adjs": ["moss-covered", "candlelit", "crumbling", "vaulted", "shadowed"],
    },
    "sea": {
        "keys": "sea ocean ship boat pirate island harbor harbour port lighthouse coast beach shore sailor captain wreck reef tide storm fishing",
        "places": ["pier", "deck", "lighthouse", "beach", "harbor", "cove", "wreck", "tavern"],
        "item": "brass compass",
        "win": ("horizon", "a small boat under full sail toward a golden horizon", "Home across the water"),
        "lose": ("depths", "dark churning water under a capsized hull", "Lost at sea", "Dive from the rocks"),
        "sky": "a grey sea under low racing clouds",
        "adjs": ["salt-streaked", "weathered", "storm-lashed", "creaking", "foam-washed"],
    },
    "space": {
        "keys": "space station ship starship orbit planet alien asteroid moon mars galaxy robot android colony reactor astronaut cosmic star",
        "places": ["airlock", "corridor", "lab", "hangar", "reactor", "observatory", "cockpit", "bunker"],
        "item": "access card",
        "win": ("escape_pod", "an escape pod drifting toward a blue planet among the stars", "Safe in orbit"),
        "lose": ("void", "a cracked viewport venting sparks into the starfield", "Adrift in the void", "Override the hatch seal"),
        "sky": "a field of cold stars beyond thick glass",
        "adjs": ["humming", "steel-ribbed", "amber-lit", "chrome", "flickering"],
    },
    "forest": {
        "keys": "forest wood woods tree trees elf elves fairy fae witch druid grove glade mushroom wolf hunter ranger enchanted",
        "places": ["clearing", "grove", "river", "cabin", "waterfall", "ruins", "bridge", "cave"],
        "item": "silver amulet",
        "win": ("glade", "a sunlit glade ringed by ancient oaks, petals drifting", "The heart of the wood"),
        "lose": ("bog", "black bog water closing over tangled roots", "Taken by the bog", "Wade into the bog"),
        "sky": "green light falling through a high leaf canopy",
        "adjs": ["mossy", "fern-choked", "sun-dappled", "tangled", "ancient"],
    },
    "city": {
        "keys": "city street neon cyberpunk detective noir rain alley police gang hacker corporation rooftop subway tokyo london paris york",
        "places": ["street", "alley", "bar", "office", "rooftop", "market", "platform", "workshop"],
        "item": "keycard",
        "win": ("skyline", "a rooftop helipad above a glittering skyline at dawn", "Above the city"),
        "lose": ("gutter", "a rain-soaked gutter under a flickering sign, sirens glowing red", "Last call", "Step into the dark doorway"),
        "sky": "a rain-heavy sky lit by neon from below",
        "adjs": ["rain-slick", "neon-lit", "smoky", "crowded", "graffiti-covered"],
    },
    "desert": {
        "keys": "desert sand dune dunes pyramid pharaoh egypt oasis caravan nomad sun mirage canyon temple scorpion",
        "places": ["oasis", "canyon", "temple", "market", "tomb", "camp", "ruins", "well"],
        "item": "sun medallion",
        "win": ("oasis_gate", "a hidden valley of palms and clear pools under a rose sky", "The hidden valley"),
        "lose": ("quicksand", "sand pouring down a sinking slope under a white-hot sun", "Buried in the sand", "Cross the soft sand"),
        "sky": "a hard blue sky over rippling dunes",
        "adjs": ["sun-baked", "wind-carved", "dusty", "golden", "shimmering"],
    },
    "ice": {
        "keys": "ice snow arctic antarctic frozen winter glacier polar tundra mountain mountains peak blizzard yeti cold",
        "places": ["camp", "glacier", "cave", "peak", "cabin", "bridge", "station", "tunnel"],
        "item": "ice axe",
        "win": ("summit", "a windless summit above a sea of clouds at sunrise", "The summit"),
        "lose": ("crevasse", "a blue crevasse yawning under a snow bridge", "Into the crevasse", "Cross the snow bridge"),
        "sky": "a pale sky over endless snowfields",
        "adjs": ["frost-rimed", "snowbound", "wind-scoured", "icy", "glittering"],
    },
    "jungle": {
        "keys": "jungle rainforest tropical temple explorer expedition ruins vine vines jaguar amazon idol lost",
        "places": ["camp", "river", "temple", "waterfall", "ruins", "bridge", "cave", "pyramid"],
        "item": "jade idol",
        "win": ("airstrip", "a grass airstrip with a waiting plane, propeller turning", "Out of the jungle"),
        "lose": ("rapids", "white-capped rapids crashing over black rocks", "Swept away", "Swim the rapids"),
        "sky": "steaming green canopy under a heavy sky",
        "adjs": ["vine-draped", "steaming", "overgrown", "humid", "emerald"],
    },
    "castle": {
        "keys": "castle king queen knight dragon kingdom throne prince princess wizard sorcerer magic keep fortress siege medieval dungeon",
        "places": ["gate", "hall", "armory", "dungeon", "throne", "tower", "kitchen", "stable"],
        "item": "royal seal",
        "win": ("battlements", "the high battlements at sunrise, banners streaming", "The crown restored"),
        "lose": ("moat", "dark moat water churning below the walls", "The moat", "Climb onto the parapet"),
        "sky": "a windswept sky over grey battlements",
        "adjs": ["torchlit", "stone-flagged", "banner-hung", "ancient", "echoing"],
    },
    "mine": {
        "keys": "mine mines miner underground tunnel tunnels cave caves cavern dwarf dwarves gold gem gems crystal subterranean",
        "places": ["tunnel", "cavern", "mine", "forge", "well", "bridge", "workshop", "cave"],
        "item": "miner's lamp",
        "win": ("daylight", "a tunnel mouth opening onto green hills in daylight", "Daylight"),
        "lose": ("shaft", "a bottomless shaft, loose stones tumbling into the dark", "Down the shaft", "Edge along the shaft"),
        "sky": "dripping rock vaults lit by lamplight",
        "adjs": ["timber-propped", "lamplit", "dripping", "crystal-studded", "rusted"],
    },
    "house": {
        "keys": "house mansion manor haunted ghost ghosts attic victorian family estate hotel inn cottage doll mirror",
        "places": ["hall", "library", "kitchen", "attic", "study", "bedroom", "cellar", "gallery"],
        "item": "brass key",
        "win": ("garden", "a moonlit garden beyond the open front door, gravel path to the gate", "Out into the night"),
        "lose": ("stairwell", "a collapsing stairwell, banisters splintering into the dark", "The stairwell", "Descend the rotten stairs"),
        "sky": "a full moon behind bare branches",
        "adjs": ["creaking", "dust-sheeted", "candlelit", "faded", "wood-panelled"],
    },
}

_DEFAULT_THEME = "gothic"

_STOP = frozenset(
    """a an the and or of in on at to from into onto by for with as is are was were be been being that this these
    those it its their his her they them there where when while who whom which what after before over under
    through between across must should could would will can may might just only very much many some any
    every each all both few more most other such than then too so also where whose your you we our i me my
    find finds found searching search looking look tries try trying must has have had do does did get gets""".split()
)


def _rng(premise: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x00{premise}".encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


def _theme_of(words: list[str], rng: random.Random) -> str:
    scores = {}
    for name, th in THEMES.items():
        keys = set(th["keys"].split())
        scores[name] = sum(1 for w in words if w in keys or (w.endswith("s") and w[:-1] in keys))
    best = max(scores.values())
    if best == 0:
        return sorted(THEMES)[rng.randrange(len(THEMES))]
    tied = sorted(n for n, s in scores.items() if s == best)
    return tied[0] if len(tied) == 1 else tied[rng.randrange(len(tied))]


def _adjectives(words: list[str]) -> list[str]:
    out = []
    for w in words:
        if w in _STOP or len(w) < 4:
            continue
        if w in W.ADJ_DETAILS or w.endswith(("ous", "ful", "ic", "ish", "ed", "ent", "ive", "ant", "less", "y")) and not w.endswith(("ity", "ery", "ory", "ary")):
            if w not in out:
                out.append(w)
    return out


def _nouns(words: list[str], adjs: list[str]) -> list[str]:
    out = []
    for w in words:
        if w in _STOP or w in adjs or len(w) < 3 or w.endswith(("ing", "ly")):
            continue
        if w not in out:
            out.append(w)
    return out


def _title(premise_words: list[str], places: list[str], theme: str, adjs: list[str]) -> str:
    main = next((w for w in premise_words if w in W.PLACE_DETAILS), None) or places[0].split("_")[-1]
    adj = adjs[0] if adjs else None
    return "The " + " ".join(x.capitalize() for x in ([adj] if adj else []) + [display(main)])


class _Keys:
    def __init__(self) -> None:
        self.used: dict[str, set[str]] = {}

    def pick(self, frm: str, name: str) -> str:
        taken = self.used.setdefault(frm, set())
        letters = [w[0].upper() for w in re.findall(r"[A-Za-z]+", name) if w.lower() not in {"the", "to", "a", "an", "of", "into", "back"}]
        letters += [c.upper() for c in re.sub(r"[^A-Za-z]", "", name)] + list("EFRTGQZXCVBNMHJKLUIOPY")
        for c in letters:
            if c not in "WASD" and c not in taken:
                taken.add(c)
                return c
        raise GenerationError("no free hotkey left")


def offline_world(premise: str, *, seed: int = 0, frame: str | None = None) -> dict[str, Any]:
    """A playable world for ``premise``, deterministic for a given ``(premise, seed)``."""
    rng = _rng(premise, seed)
    clean = sanitize(premise)
    words = re.findall(r"[a-z][a-z'\-]*[a-z]|[a-z]", clean.lower())
    theme_name = _theme_of(words, rng)
    th = THEMES[theme_name]
    adjs = _adjectives(words)
    nouns = _nouns(words, adjs)
    adj_pool = adjs + [a for a in th["adjs"] if a not in adjs]

    # places: the premise's own place nouns first, then the theme's
    premise_places = [w for w in nouns if w in W.PLACE_DETAILS and w not in {"room", "place"}]
    theme_places = list(th["places"])
    rng.shuffle(theme_places)
    places: list[str] = []
    for p in premise_places + theme_places:
        if p not in places and p != th["win"][0] and p != th["lose"][0]:
            places.append(p)
    count = 4 + rng.randrange(3)  # 4..6 places before the endings
    places = places[:count]

    slot_main = slug(next((n for n in nouns if n in W.PLACE_DETAILS), nouns[0] if nouns else theme_name), "_")[:32] or "world"
    if slot_main in ("sky",):
        slot_main = "setting"
    setting_words = clean.split()
    setting = " ".join(setting_words[:14]).strip(" ,") if clean else th["sky"]
    slots = {slot_main: setting or th["sky"], "sky": th["sky"]}

    states: dict[str, Any] = {}
    for i, pid in enumerate(places):
        adj = adj_pool[(i + rng.randrange(2)) % len(adj_pool)]
        detail = W.PLACE_DETAILS.get(pid, W.GENERIC_DETAILS[rng.randrange(len(W.GENERIC_DETAILS))])
        noun_phrase = f"{adj} {display(pid)}"
        base = f"{article(noun_phrase)}, {detail}"
        if i == 0:
            base = f"{{{slot_main}}}, {base}"
        elif i == len(places) - 1:
            base = f"{base}, {{sky}} beyond"
        extra_noun = nouns[(i + 1) % len(nouns)] if nouns else None
        st = {
            "base": base,
            "camera": {"static": rng.choice(W.CAMERA_STATIC), "dynamic": rng.choice(W.CAMERA_DYNAMIC)},
            "movement": {"static": rng.choice(W.MOVEMENT_STATIC), "dynamic": rng.choice(W.MOVEMENT_DYNAMIC)},
        }
        if extra_noun and extra_noun not in base and extra_noun not in W.PLACE_DETAILS and rng.random() < 0.6:
            st["ambient"] = [f"signs of the {extra_noun} everywhere"]
        st["base"] = fit_base(st, st["base"], slots)
        if composed_tokens(st, slots) > BUDGET:
            st.pop("ambient", None)
        states[pid] = st

    win_id, win_base, win_title = th["win"]
    lose_id, lose_base, lose_title, lose_verb = th["lose"]
    states[win_id] = {
        "base": f"{win_base}, {{sky}} above",
        "camera": {"static": "wide shot, slow rise", "dynamic": "slow push toward the horizon"},
        "movement": {"static": "light spreading across the scene", "dynamic": "wind in the grass"},
        "ending": {"kind": "win", "title": win_title, "subtitle": _cap(clean)[:160] if clean else win_title},
    }
    states[lose_id] = {
        "base": lose_base,
        "camera": {"static": "tilting slowly", "dynamic": "lurching downward"},
        "movement": {"static": "debris falling", "dynamic": "everything sliding away"},
        "ending": {"kind": "lose", "title": lose_title},
    }

    keys = _Keys()
    events: list[dict[str, Any]] = []
    names: set[str] = set()

    def verb_to(pid: str) -> str:
        if pid in {"tower", "attic", "rooftop", "peak", "battlements", "observatory", "lighthouse", "deck", "bridge"}:
            return "Climb to"
        if pid in {"crypt", "cellar", "dungeon", "cave", "cavern", "mine", "tunnel", "well", "basement", "sewer"}:
            return "Descend to"
        return rng.choice(["Go to", "Head to", "Walk to", "Enter"])

    def add(ev: dict[str, Any]) -> None:
        name = ev["name"]
        if name in names and name.startswith("Return to "):
            for alt in ("Head back to ", "Go back to ", "Walk back to ", "Make for "):
                if alt + name[len("Return to "):] not in names:
                    ev["name"] = name = alt + name[len("Return to "):]
                    break
        n = 2
        while ev["name"] in names:
            ev["name"] = f"{name} {n}"
            n += 1
        names.add(ev["name"])
        if "hotkey" not in ev and not ev.get("timing", {}).get("after"):
            ev["hotkey"] = keys.pick(ev["from"][0], ev["name"])
        events.append(ev)

    def link(a: str, b: str, *, back: bool = True, **extra: Any) -> None:
        v = verb_to(b)
        add({"name": f"{v} the {display(b)}" if v != "Enter" else f"Enter the {display(b)}", "kind": "transition",
             "from": [a], "to": b, **extra})
        if back:
            add({"name": f"Return to the {display(a)}", "kind": "transition", "from": [b], "to": a})

    entrance = places[0]
    # a hub and branches: entrance <-> p1, entrance <-> p2, p1 <-> p3, p2 <-> p4, p3 <-> p5
    parents = {1: 0, 2: 0, 3: 1, 4: 2, 5: 3}
    for i in range(1, len(places)):
        link(places[parents[i]], places[i])

    item = th["item"]
    flag = slug(item)
    item_room = places[2] if len(places) > 2 else places[1]
    gate_room = places[-1] if places[-1] != item_room else places[1]
    add({
        "name": f"Pick up the {item}", "kind": "override", "from": [item_room],
        "base": f"{article(item)} glinting in the lamplight", "grants": [flag], "oneShot": True,
        "timing": {"duration": 3},
    })
    add({"name": f"Escape to the {display(win_id)}", "kind": "transition", "from": [gate_room], "to": win_id,
         "requires": [flag]})
    lose_from = places[1]
    add({"name": lose_verb, "kind": "transition", "from": [lose_from], "to": lose_id})

    # a touch of life: an in-place moment in the entrance, sometimes hidden or timed
    flourish = rng.randrange(3)
    ambient_noun = nouns[0] if nouns else th["adjs"][0]
    moment = {"name": "Look around", "kind": "override", "from": [entrance],
              "base": f"{{sky}}, {ambient_noun} caught in a shifting light" if ambient_noun not in W.PLACE_DETAILS else "{sky}, a shifting light over everything",
              "timing": {"duration": 3}}
    if flourish == 1:
        moment["hidden"] = True
        moment["name"] = "Listen closely"
    elif flourish == 2:
        moment["name"] = "The light shifts"
        moment["timing"] = {"after": float(5 + rng.randrange(10)), "duration": 3}
        moment["oneShot"] = True
    add(moment)

    variant_label = rng.choice(["night", "dawn", "storm"])
    states[entrance]["variants"] = [{"label": variant_label, "base": fit_base(
        states[entrance], f"{states[entrance]['base']}, {W.VARIANT_DETAILS[variant_label]}", slots)}]

    world: dict[str, Any] = {
        "schemaVersion": "1.0",
        "name": _title(words, places, theme_name, adjs),
        "description": _cap(clean) or "A generated world.",
        "entrance": {"state": entrance},
        "scene": {"slots": slots, "states": states, "events": events},
    }
    if frame is not None:
        world["entrance"]["image"] = {"src": frame, "label": f"The {display(entrance)}"}
    return world


def _cap(s: str) -> str:
    s = s.strip()
    return s[:1].upper() + s[1:] if s else s


def _check_args(premise: Any, seed: Any, frame: Any) -> None:
    if not isinstance(premise, str) or not premise.strip():
        raise BadInputError("premise: expected a non-empty string", code="bad_input")
    if len(premise) > 4000:
        raise BadInputError("premise: at most 4000 characters", code="bad_input")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise BadInputError("seed: expected an integer", code="bad_input")
    if frame is not None and (not isinstance(frame, str) or not frame.strip() or len(frame) > 2048):
        raise BadInputError("frame: expected an asset id or URL string (at most 2048 characters)", code="bad_input")


def generate(
    premise: str,
    *,
    seed: int = 0,
    frame: str | None = None,
    provider: Any = None,
    max_attempts: int = 3,
    fallback: bool = False,
) -> World:
    """A valid, playable world from a premise.

    Offline (no provider, or the :class:`~conjure.agent.OfflineProvider`) the world is
    built from the premise's own nouns and adjectives and themed word banks, and is the
    same for the same ``(premise, seed)``. With a provider that has ``generate_world``
    (an :class:`~conjure.agent.OpenAICompatibleProvider`), the model writes the world;
    when its output fails the gate, it is asked again with the diagnostics, up to
    ``max_attempts`` times, then :class:`GenerationError` is raised — or, with
    ``fallback=True``, the offline world is returned instead.

    Args:
        premise: what the world is about, in prose.
        seed: varies the world for the same premise.
        frame: an asset id or URL that becomes ``entrance.image.src``.

    Raises:
        BadInputError: an empty premise, a non-integer seed, a frame that is not a string.
        GenerationError: the provider's world failed the gate after every repair.
        ProviderError: the provider failed (unreachable, timeout, a server error, a malformed answer).
    """
    _check_args(premise, seed, frame)
    from conjure.agent.providers import OfflineProvider, ProviderError

    if provider is None or isinstance(provider, OfflineProvider) or not hasattr(provider, "generate_world"):
        data = offline_world(premise, seed=seed, frame=frame)
        result = validate(data)
        if not result.ok:
            raise GenerationError("the generated world failed the gate", diagnostics=result.errors)
        return World.from_dict(data)

    diagnostics: list[dict[str, Any]] | None = None
    previous: dict[str, Any] | None = None
    last: list[Diagnostic] = []
    for _ in range(max(1, int(max_attempts))):
        try:
            data = provider.generate_world(premise, seed=seed, frame=frame, diagnostics=diagnostics, previous=previous)
        except ProviderError:
            if fallback:
                return generate(premise, seed=seed, frame=frame)
            raise
        if not isinstance(data, dict):
            raise ProviderError("the provider's world is not a JSON object")
        data = dict(data)
        if frame is not None:
            entrance = dict(data.get("entrance") or {}) if isinstance(data.get("entrance"), dict) else {}
            entrance["image"] = {"src": frame}
            data["entrance"] = entrance
        try:
            result = validate(data)
        except ConjureError as exc:
            diagnostics = [{"lint": "schema", "severity": "error", "path": "world", "message": exc.message or str(exc)}]
            previous = data
            continue
        if result.ok:
            return World.from_dict(data)
        last = result.errors
        diagnostics = [d.to_dict() for d in last]
        previous = data
    if fallback:
        return generate(premise, seed=seed, frame=frame)
    first = last[0] if last else None
    detail = f"{first.path}: {first.message}" if first else "the world could not be read"
    raise GenerationError(
        f"the provider's world failed the gate after {max(1, int(max_attempts))} attempts ({detail})",
        diagnostics=last,
    )
