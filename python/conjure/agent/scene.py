"""A read-only view of a world for the offline agent: loose reference resolution and hotkeys."""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass
from typing import Any

from conjure import _core
from conjure.agent.prose import fill_slots, slug

__all__ = ["Scene", "Clarify", "Match", "tokens", "display"]

_STOP = frozenset(
    """
    the a an that this those these its it his her their my our your some any
    room place area state scene location spot one ones
    with of in on at to from into onto by for and or as is are was be
    event action transition path called named where which who there here
    player players you me us them they
    please new old
    """.split()
)

_GENERIC_EVENT = frozenset({"go", "enter", "take", "open", "return", "back", "climb", "descend", "move", "walk"})


class Clarify(Exception):
    """Raised inside the grammar to answer with a clarifying question instead of ops."""

    def __init__(self, question: str) -> None:
        super().__init__(question)
        self.question = question


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[:-2].endswith(("ch", "sh", "x", "ss")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str, *, keep_stop: bool = False) -> list[str]:
    """Content words of ``text``, lower-cased and singular (``"the Barrels"`` → ``["barrel"]``)."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'s ", " ").replace("\u2019s ", " "))
    return [_stem(w) for w in words if keep_stop or w not in _STOP]


@lru_cache(maxsize=65536)
def display(state_id: str) -> str:
    """A state id as words: ``bell_tower`` → ``bell tower``."""
    return re.sub(r"[_\-.]+", " ", state_id).strip()


@dataclass(frozen=True)
class Match:
    """One resolved reference: ``kind`` is ``"state"`` or ``"event"``."""

    kind: str
    key: str
    score: float


_EXTRA_KEYS = ("Space", "Enter", "Tab", "Backspace")


class Scene:
    """The parts of a world the grammar reads, with helpers that keep new names and keys free."""

    def __init__(self, world: dict[str, Any]) -> None:
        scene = world.get("scene") if isinstance(world.get("scene"), dict) else {}
        states = scene.get("states") if isinstance(scene.get("states"), dict) else {}
        events = scene.get("events") if isinstance(scene.get("events"), list) else []
        slots = scene.get("slots") if isinstance(scene.get("slots"), dict) else {}
        cutscenes = scene.get("cutscenes") if isinstance(scene.get("cutscenes"), list) else []
        self.world = world
        self.states: dict[str, dict[str, Any]] = {k: v for k, v in states.items() if isinstance(v, dict)}
        self.events: list[dict[str, Any]] = [e for e in events if isinstance(e, dict) and isinstance(e.get("name"), str)]
        self.slots: dict[str, str] = {k: v for k, v in slots.items() if isinstance(v, str)}
        self.cutscenes = [c for c in cutscenes if isinstance(c, dict)]
        entrance = world.get("entrance")
        self.entrance: str | None = entrance.get("state") if isinstance(entrance, dict) else None
        # names and keys taken by ops planned in this batch
        self.pending_names: set[str] = set()
        self.pending_ids: set[str] = set()
        self.pending_keys: list[tuple[frozenset[str], str]] = []

    # ------------------------------------------------------------------ lookups
    def event(self, name: str) -> dict[str, Any] | None:
        for e in self.events:
            if e["name"] == name:
                return e
        return None

    @staticmethod
    def froms(event: dict[str, Any]) -> list[str]:
        f = event.get("from")
        if isinstance(f, str):
            return [f]
        return [x for x in f if isinstance(x, str)] if isinstance(f, list) else []

    def is_ending(self, state_id: str) -> bool:
        return isinstance(self.states.get(state_id, {}).get("ending"), dict)

    def base(self, state_id: str) -> str:
        base = self.states.get(state_id, {}).get("base")
        return base if isinstance(base, str) else ""

    def granted_flags(self) -> list[str]:
        out: list[str] = []
        for e in self.events:
            for g in e.get("grants") or []:
                if isinstance(g, str) and g not in out:
                    out.append(g)
        return out

    def incoming(self, state_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("kind") == "transition" and e.get("to") == state_id]

    def outgoing(self, state_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if state_id in self.froms(e)]

    # -------------------------------------------------------------- resolution
    def rank(self, phrase: str, *, kinds: tuple[str, ...] = ("state", "event")) -> list[Match]:
        """Candidates for a loose reference, best first (score > 0 only)."""
        raw = phrase.strip().strip("'\"\u201c\u201d\u2018\u2019").strip()
        low = raw.lower()
        low = re.sub(r"^(?:the|a|an|that|this)\s+", "", low)
        toks = tokens(raw)
        out: list[Match] = []
        if "state" in kinds:
            for sid, st in self.states.items():
                id_toks = tokens(display(sid), keep_stop=True)
                if low in (sid.lower(), display(sid).lower()):
                    out.append(Match("state", sid, 1000.0))
                    continue
                if not toks:
                    continue
                prose_toks = set(tokens(fill_slots(self.base(sid), self.slots)))
                title = st.get("ending", {}).get("title") if isinstance(st.get("ending"), dict) else None
                if isinstance(title, str):
                    prose_toks |= set(tokens(title))
                score = 0.0
                for t in toks:
                    if t in id_toks:
                        score += 10
                    elif t in prose_toks:
                        score += 2
                if score and all(t in toks for t in id_toks):
                    score += 5  # the whole id is named
                if score:
                    out.append(Match("state", sid, score))
        if "event" in kinds:
            for e in self.events:
                name = e["name"]
                if low == name.lower():
                    out.append(Match("event", name, 1000.0))
                    continue
                if not toks:
                    continue
                name_toks = set(tokens(name))
                prose = " ".join(x for x in (e.get("base"), e.get("detail")) if isinstance(x, str))
                prose_toks = set(tokens(fill_slots(prose, self.slots)))
                score = 0.0
                for t in toks:
                    if t in name_toks:
                        score += 10 if t not in _GENERIC_EVENT else 4
                    elif t in prose_toks:
                        score += 2
                if score and name_toks and all(t in toks for t in name_toks):
                    score += 5
                if score:
                    out.append(Match("event", name, score))
        out.sort(key=lambda m: (-m.score, m.kind, m.key))
        return out

    def resolve(self, phrase: str, *, kinds: tuple[str, ...] = ("state", "event"), what: str = "place") -> Match:
        """The one best candidate, or :class:`Clarify` naming the tied candidates (or all of them)."""
        ranked = self.rank(phrase, kinds=kinds)
        shown = phrase.strip()
        if not ranked:
            raise Clarify(self._none_question(shown, kinds, what))
        top = ranked[0]
        ties = [m for m in ranked if m.score == top.score]
        if len(ties) > 1:
            # a transition and the place it leads to are one target when both tie
            states = [m for m in ties if m.kind == "state"]
            events = [m for m in ties if m.kind == "event"]
            if len(states) == 1 and all(self.event(m.key) and self.event(m.key).get("to") == states[0].key for m in events):
                return states[0]
            names = [self.label(m) for m in ties[:6]]
            raise Clarify(f"Which {what} do you mean by \u201c{shown}\u201d: {_or_list(names)}?")
        return top

    def resolve_state(self, phrase: str) -> str:
        return self.resolve(phrase, kinds=("state",), what="place").key

    def resolve_event(self, phrase: str) -> str:
        return self.resolve(phrase, kinds=("event",), what="action").key

    def label(self, m: Match) -> str:
        return display(m.key) if m.kind == "state" else f"\u2018{m.key}\u2019"

    def _none_question(self, shown: str, kinds: tuple[str, ...], what: str) -> str:
        if kinds == ("event",):
            names = [f"\u2018{e['name']}\u2019" for e in self.events[:8]]
            have = f" The actions are {_and_list(names)}." if names else " This world has no actions yet."
        else:
            names = [display(s) for s in list(self.states)[:10]]
            have = f" The places are {_and_list(names)}." if names else " This world has no places yet."
        return f"I couldn\u2019t find the {what} \u201c{shown}\u201d.{have} Which one do you mean?"

    # ----------------------------------------------------------------- naming
    def free_state_id(self, wanted: str) -> str:
        base = slug(wanted) or "place"
        if base not in self.states and base not in self.pending_ids:
            self.pending_ids.add(base)
            return base
        n = 2
        while f"{base}-{n}" in self.states or f"{base}-{n}" in self.pending_ids:
            n += 1
        out = f"{base}-{n}"
        self.pending_ids.add(out)
        return out

    def free_event_name(self, wanted: str) -> str:
        taken = {e["name"] for e in self.events} | self.pending_names
        name = wanted[:120]
        if name not in taken:
            self.pending_names.add(name)
            return name
        for lead in ("Return to ", "Go to "):
            if not name.startswith(lead):
                continue
            for alt in ("Head back to ", "Go back to ", "Walk back to ", "Make for ", "Head for "):
                cand = (alt + name[len(lead):])[:120]
                if cand not in taken:
                    self.pending_names.add(cand)
                    return cand
        if name not in taken:
            self.pending_names.add(name)
            return name
        n = 2
        while f"{name} {n}" in taken:
            n += 1
        out = f"{name} {n}"
        self.pending_names.add(out)
        return out

    def keys_from(self, froms: list[str], *, ignore: str | None = None) -> set[str]:
        """Hotkeys (upper-cased) already used by events that can fire from any of ``froms``."""
        used: set[str] = set()
        fs = set(froms)
        for e in self.events:
            if e["name"] == ignore:
                continue
            hk = e.get("hotkey")
            if isinstance(hk, str) and fs & set(self.froms(e)):
                used.add(hk.upper())
        for pf, key in self.pending_keys:
            if fs & pf:
                used.add(key.upper())
        return used

    def pick_key(self, froms: list[str], name: str, *, ignore: str | None = None) -> str:
        """A free hotkey for an event named ``name`` firing from ``froms`` (never WASD or a digit)."""
        used = self.keys_from(froms, ignore=ignore)
        words = re.findall(r"[A-Za-z]+", name)
        skip = {"the", "a", "an", "to", "of", "in", "on", "at", "into", "and", "back"}
        firsts = [w[0].upper() for w in words if w.lower() not in skip]
        rest = [c.upper() for w in words for c in w[1:]]
        for c in firsts + rest + list("EFRTGQZXCVBNMHJKLUIOPY"):
            if c.isalpha() and not _core.is_reserved_hotkey(c) and c not in used:
                self.pending_keys.append((frozenset(froms), c))
                return c
        for k in _EXTRA_KEYS:
            if k.upper() not in used:
                self.pending_keys.append((frozenset(froms), k))
                return k
        raise Clarify("Every free key is already taken by actions in that place; remove one first.")

    def claim_key(self, froms: list[str], key: str) -> None:
        self.pending_keys.append((frozenset(froms), key))

    def key_owner(self, froms: list[str], key: str, *, ignore: str | None = None) -> str | None:
        fs = set(froms)
        for e in self.events:
            if e["name"] == ignore:
                continue
            hk = e.get("hotkey")
            if isinstance(hk, str) and hk.upper() == key.upper() and fs & set(self.froms(e)):
                return e["name"]
        return None


def _and_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _or_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
