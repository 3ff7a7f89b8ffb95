"""The offline agent's pattern rules: everyday edit instructions → graph ops, or a question.

They run after the rule modules of :mod:`conjure.agent.rules` (which also owns the entry
point, :func:`conjure.agent.rules.plan`).

Deterministic and local. Each rule is a small set of patterns over the lower-cased
instruction (quoted text kept aside verbatim); references ("the cellar", "that vault
door", "the room with the barrels") are resolved loosely against state ids, event
names and prose by :class:`~conjure.agent.scene.Scene`. The grammar is documented
with examples in docs/agent.md.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conjure.agent import words as W
from conjure.agent.prose import (
    BUDGET,
    article,
    base_verb,
    composed_tokens,
    fit_base,
    gerund,
    is_lethal,
    sanitize,
    slug,
)
from conjure import _core
from conjure.agent.scene import Clarify, Scene, display, tokens

__all__ = ["Plan", "HELP"]

HELP = (
    "I can add, remove or rename a place; connect two places (with a key, e.g. \u201cwith C\u201d); "
    "make a place a win or lose ending or add a new ending; lock a path behind an item found somewhere; "
    "describe a place or make it darker, wetter, older\u2026; set where the game starts; make an action "
    "hidden, one-shot or timed; add a variant of a place; define a slot or use one in a place. "
    "What would you like to change?"
)


@dataclass
class Plan:
    """What the grammar decided: ops (and slot changes) to apply, or a question to ask."""

    ops: list[dict[str, Any]] = field(default_factory=list)
    question: str | None = None
    slots: dict[str, Any] | None = None


_KEY = r"(?P<key>[a-z0-9]|space|enter|tab|backspace|shift|q)"
_NUM_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
}
_NUM = r"(?P<n>\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty|forty|fifty|sixty)"
_UNIT = r"(?P<unit>seconds?|secs?|s|minutes?|mins?)"
_KINDS = r"(?P<kind>win(?:ning)?|lose|losing|loss|victory|defeat|good|bad|happy|sad|game[\s-]over|death)"
_WIN = {"win", "winning", "victory", "good", "happy"}
_SUBJECT = re.compile(r"^(?:the\s+)?(?:player|players|hero|heroine|you|they|he|she|we|i|someone|the\s+party)\s+", re.I)
_PREPS = ("into", "in", "onto", "on", "off", "from", "through", "under", "over", "across", "to", "down", "up", "by",
          "with", "out", "toward", "towards", "at", "beneath", "below", "above", "behind")
_RELATIONS = (
    "on top of|at the top of|at the bottom of|at the end of|next to|across from|down from|up from|connected to|"
    "linked to|reachable from|leading off|leading from|off of|north of|south of|east of|west of|below|beneath|"
    "underneath|under|above|over|behind|beyond|past|beside|near|off|outside|inside|through|after|from|by"
)


_CONNECTORS = (
    r"\b(?:door|doorway|path|passage|tunnel|stairs|staircase|stairway|stair|bridge|ladder|gate|way|road|corridor|"
    r"route|exit|link|connection|portal|trapdoor|rope|elevator|lift|hatch|shortcut|slide|chute|transition)\b"
)


def _cap(s: str) -> str:
    s = s.strip()
    return s[:1].upper() + s[1:] if s else s


def _num(text: str) -> float:
    text = text.strip().lower()
    if text in _NUM_WORDS:
        return float(_NUM_WORDS[text])
    return float(text)


def _seconds(n: str, unit: str) -> float:
    value = _num(n)
    return value * 60 if unit.startswith("m") else value


def _pick(bank: tuple[str, ...] | list[str], key: str) -> str:
    return bank[zlib.crc32(key.encode()) % len(bank)]


def _strip_det(phrase: str) -> str:
    return re.sub(r"^(?:the|a|an|some|that|this|my|our|its)\s+", "", phrase.strip(), flags=re.I)


def _head_noun(np: str) -> str:
    """The id-worthy noun of a noun phrase: its last word (two words when the last is generic)."""
    ws = re.findall(r"[a-z0-9]+", np.lower())
    ws = [w for w in ws if w not in {"here", "there", "please", "too", "also"}]
    if not ws:
        return "place"
    if ws[-1] in {"room", "chamber", "area", "hall", "house", "yard", "way", "tower", "deck", "bay"} and len(ws) > 1 \
            and ws[-2] not in {"a", "an", "the", "new", "old", "big", "small", "dark", "flooded", "great", "large"}:
        return f"{ws[-2]}_{ws[-1]}"
    return ws[-1]


class _Planner:
    def __init__(self, world: dict[str, Any], instruction: str, verified: list[dict[str, Any]], repair: frozenset[str]):
        self.sc = Scene(world)
        self.raw = instruction
        self.verified = verified
        self.repair = repair
        self.ops: list[dict[str, Any]] = []
        self.slots: dict[str, Any] | None = None
        self.quotes: list[str] = []
        self.key: str | None = None
        self.t = self._prepare(instruction)

    # ---------------------------------------------------------------- text
    def _prepare(self, text: str) -> str:
        text = re.sub(r"\s+", " ", text.replace("\u27e6", "").replace("\u27e7", "")).strip()
        text = text.replace("\u2019", "'").replace("\u2018", "'")

        def keep(m: re.Match[str]) -> str:
            self.quotes.append(next(g for g in m.groups() if g is not None))
            return f" \u27e6{len(self.quotes) - 1}\u27e7 "

        text = re.sub(r"[\"\u201c\u201d]([^\"\u201c\u201d]{1,200})[\"\u201c\u201d]", keep, text)
        text = re.sub(r"(?:(?<=^)|(?<=[\s(:]))'([^']{1,200}?)'(?=$|[\s,.;:!?)])", keep, text)
        t = re.sub(r"\s+", " ", text.lower()).strip().rstrip(".!").strip()
        for _ in range(3):
            t = re.sub(
                r"^(?:please|pls|ok|okay|now|also|then|and|hey|so|next|finally|can you|could you|would you|"
                r"i want to|i'd like to|i would like to|i want you to|let's|lets|go ahead and)[,\s]+",
                "",
                t,
            )
        t = re.sub(r"[,\s]+(?:please|thanks|thank you|for me)$", "", t)
        return t.strip(" ,")

    def unq(self, s: str) -> str:
        """``s`` with the quoted spans put back where their markers stand (original case)."""
        return re.sub(r"\s*\u27e6(\d+)\u27e7\s*", lambda m: " " + self.quotes[int(m.group(1))] + " ", s).strip()

    def quoted(self, s: str) -> str | None:
        m = re.fullmatch(r"\s*\u27e6(\d+)\u27e7\s*", s)
        return self.quotes[int(m.group(1))] if m else None

    def take_key(self) -> None:
        m = re.search(
            r"(?:,?\s+(?:with|using|on|via|by pressing|press|bound to)\s+(?:the\s+)?(?:hot)?(?:key\s+)?|\s*\(\s*(?:hot)?(?:key\s+)?)"
            + _KEY + r"(?:\s+(?:hot)?key)?\s*\)?$",
            self.t,
        )
        if not m:
            m = re.search(r",?\s+(?:hot)?key\s+" + _KEY + r"$", self.t)
        if m:
            self.key = m.group("key")
            self.t = self.t[: m.start()].strip(" ,")

    # ----------------------------------------------------------- references
    def state(self, phrase: str) -> str:
        q = self.quoted(phrase)
        if q is not None:
            phrase = q
        phrase = re.sub(r"'s$", "", phrase.strip())
        return self.sc.resolve_state(phrase)

    def event(self, phrase: str) -> str:
        q = self.quoted(phrase)
        return self.sc.resolve_event(q if q is not None else phrase)

    # ------------------------------------------------------------- keys
    def user_key(self, froms: list[str], ignore: str | None = None) -> str | None:
        if self.key is None:
            return None
        key = self.key.upper() if len(self.key) == 1 else self.key.capitalize()
        if _core.is_reserved_hotkey(key):
            raise Clarify(
                f"{key} is reserved ({'WASD move the player' if key.isalpha() else 'digits pick listed actions'}). "
                "Which other key should it use?"
            )
        owner = self.sc.key_owner(froms, key, ignore=ignore)
        if owner is not None:
            raise Clarify(f"{key} is already the key of \u2018{owner}\u2019 there. Which other key should it use?")
        self.sc.claim_key(froms, key)
        return key

    # ------------------------------------------------------------- builders
    def add_state_op(self, state_id: str, base: str, **extra: Any) -> dict[str, Any]:
        h = state_id + base
        st: dict[str, Any] = {
            "base": base,
            "camera": {"static": _pick(W.CAMERA_STATIC, h), "dynamic": _pick(W.CAMERA_DYNAMIC, h)},
            "movement": {"static": _pick(W.MOVEMENT_STATIC, h + "m"), "dynamic": _pick(W.MOVEMENT_DYNAMIC, h + "m")},
        }
        st.update(extra)
        st["base"] = fit_base(st, base, self.sc.slots)
        op = {"op": "add_state", "id": state_id, **st}
        self.ops.append(op)
        return op

    def transition(self, frm: str, to: str, name: str, *, key: str | None = None, **extra: Any) -> dict[str, Any]:
        name = self.sc.free_event_name(name)
        op: dict[str, Any] = {"op": "add_event", "name": name, "kind": "transition", "from": [frm], "to": to}
        self_firing = bool(extra.get("timing")) and not key and "kernel-cycle" not in self.repair
        if not self_firing:  # a timed transition fires by itself; others need a key
            op["hotkey"] = key or self.sc.pick_key([frm], name)
        op.update({k: v for k, v in extra.items() if v is not None})
        self.ops.append(op)
        return op

    def place_prose(self, np: str) -> tuple[str, str]:
        """(id, base) for a new place described by a noun phrase."""
        clean = sanitize(np)
        if not clean:
            raise Clarify("How should that place look? Describe what can be seen there.")
        noun = _head_noun(clean)
        detail = W.PLACE_DETAILS.get(noun.split("_")[-1]) or _pick(W.GENERIC_DETAILS, noun)
        if detail.split(" ")[-1] in clean:
            detail = ""
        base = ", ".join(p for p in (article(clean), detail) if p)
        return noun, base

    def connect_new(self, anchor: str, new_id: str, fwd: str, back: str | None) -> None:
        if self.sc.is_ending(anchor):
            raise Clarify(
                f"The {display(anchor)} is an ending, so nothing can lead on from it. "
                "Which place should lead to the new one?"
            )
        key = self.user_key([anchor])
        self.transition(anchor, new_id, f"{fwd} the {display(new_id)}", key=key)
        if back:
            self.transition(new_id, anchor, f"{back} the {display(anchor)}")

    # ================================================================= rules
    def run(self) -> Plan:
        t = self.t
        if not t or not re.search(r"[a-z]", self.unq(t).lower()):
            raise Clarify(HELP)
        if len(self.raw) > 2000:
            raise Clarify("That is a long instruction. Ask for one change at a time, in a sentence or two.")
        for rule in self.rules():
            if rule():
                return Plan(ops=self.ops, slots=self.slots)
        raise Clarify("I\u2019m not sure what to change. " + HELP)

    def rules(self) -> list[Callable[[], bool]]:
        return [
            self.r_slot_define,
            self.r_slot_use,
            self.r_entrance,
            self.r_variant_remove,
            self.r_variant_add,
            self.r_ending_remove,
            self.r_ending_make,
            self.r_ending_add,
            self.r_timed_new,
            self.r_timed_existing,
            self.r_oneshot,
            self.r_hidden,
            self.r_unlock,
            self.r_item_gate,
            self.r_item_place,
            self.r_rename,
            self.r_describe,
            self.r_add_detail,
            self.r_make_adj,
            self.r_connect,
            self.r_remove,
            self.r_add_state,
        ]

    def r_slot_define(self) -> bool:
        pats = [
            r"^(?:define|set|create|add|make|declare)\s+(?:a\s+|the\s+)?(?:new\s+)?slot\s+(?:called\s+|named\s+)?\{?(?P<name>[a-z0-9_.\-]+)\}?\s*(?:as|to|=|:|meaning|for|with)\s*(?P<val>.+)$",
            r"^(?:define|set)\s+\{(?P<name>[a-z0-9_.\-]+)\}\s*(?:as|to|=|:)\s*(?P<val>.+)$",
            r"^let\s+\{?(?P<name>[a-z0-9_.\-]+)\}?\s+(?:be|mean|stand for)\s+(?P<val>.+)$",
            r"^\{(?P<name>[a-z0-9_.\-]+)\}\s+(?:is|means|=|stands for)\s+(?P<val>.+)$",
        ]
        for p in pats:
            m = re.match(p, self.t)
            if m:
                name = m.group("name")
                raw_val = self.quoted(m.group("val")) or self.unq(m.group("val"))
                val = sanitize(raw_val)
                if not val:
                    raise Clarify(f"What should {{{name}}} describe? Give a short picture, e.g. \u201ca ruined gothic abbey\u201d.")
                if re.search(r"\{" + re.escape(name) + r"\}", val):
                    raise Clarify(f"The slot {{{name}}} cannot be defined through itself. What should it describe?")
                self.slots = {name: val}
                return True
        return False

    def r_slot_use(self) -> bool:
        pats = [
            r"^(?:use|put|insert|add|mention|include|place|show)\s+(?:the\s+)?(?:slot\s+)?\{(?P<name>[a-z0-9_.\-]+)\}(?:\s+slot)?\s+(?:in|into|to|on|inside)\s+(?:the\s+)?(?:description\s+of\s+|prose\s+of\s+)?(?P<ref>.+?)(?:'s)?(?:\s+(?:description|prose|base))?$",
            r"^(?:use|put|insert|add|mention|include)\s+the\s+(?P<name>[a-z0-9_.\-]+)\s+slot\s+(?:in|into|to|on)\s+(?P<ref>.+?)(?:'s)?(?:\s+(?:description|prose))?$",
        ]
        for p in pats:
            m = re.match(p, self.t)
            if m:
                name = m.group("name")
                sid = self.state(m.group("ref"))
                if name not in self.sc.slots and not (self.slots and name in self.slots):
                    known = ", ".join("{" + s + "}" for s in self.sc.slots) or "none yet"
                    raise Clarify(
                        f"There is no slot {{{name}}} yet (slots: {known}). What should it describe? "
                        f"Say \u201cdefine the slot {name} as \u2018\u2026\u2019\u201d."
                    )
                base = self.sc.base(sid)
                if "{" + name + "}" in base:
                    raise Clarify(f"The {display(sid)} already uses {{{name}}}. What else should change?")
                st = self.sc.states[sid]
                new_base = fit_base(st, f"{base}, {{{name}}}" if base else f"{{{name}}}", self.sc.slots)
                self.ops.append({"op": "update_state", "id": sid, "patch": {"base": new_base}})
                return True
        return False

    # ------------------------------------------------------------ entrance
    def r_entrance(self) -> bool:
        pats = [
            r"^(?:start|begin)\s+(?:the\s+)?(?:game|world|story|run|play|adventure|players?)?\s*(?:off\s+)?(?:in|at|from|inside|on)\s+(?P<ref>.+)$",
            r"^(?:make|set)\s+(?P<ref>.+?)\s+(?:as\s+|be\s+|into\s+)?(?:the\s+)?(?:entrance|start|starting (?:room|point|state|place|location|scene)|first (?:room|scene|state|place))$",
            r"^(?:set|change|move|put)\s+the\s+(?:entrance|start|starting (?:point|room|state|place|location))\s+(?:to|at|in|into)\s+(?P<ref>.+)$",
            r"^(?:the\s+)?(?:game|player|players|story|run|world|adventure)\s+(?:should\s+)?(?:starts?|begins?)\s+(?:in|at|from|inside)\s+(?P<ref>.+)$",
            r"^use\s+(?P<ref>.+?)\s+as\s+the\s+(?:entrance|start|starting (?:point|room|place))$",
            r"^(?:the\s+)?(?:entrance|start)\s+(?:should be|is)\s+(?P<ref>.+)$",
        ]
        for p in pats:
            m = re.match(p, self.t)
            if m:
                sid = self.state(m.group("ref"))
                if self.sc.is_ending(sid):
                    raise Clarify(f"The {display(sid)} is an ending, so the game would end at once. Which place should it start in?")
                if sid == self.sc.entrance:
                    raise Clarify(f"The game already starts in the {display(sid)}. What else should change?")
                self.ops.append({"op": "set_entrance", "state": sid})
                return True
        return False

    # ------------------------------------------------------------ variants
    def r_variant_remove(self) -> bool:
        pats = [
            r"^(?:remove|delete|drop)\s+(?:the\s+)?variant\s+(?P<label>\S+)\s+(?:of|from)\s+(?P<ref>.+)$",
            r"^(?:remove|delete|drop)\s+(?:the\s+)?(?P<label>\S+)\s+(?:variant|version|variation)\s+(?:of|from)\s+(?P<ref>.+)$",
        ]
        for p in pats:
            m = re.match(p, self.t)
            if m:
                sid = self.state(m.group("ref"))
                label = self.quoted(m.group("label")) or m.group("label")
                variants = self.sc.states[sid].get("variants") or []
                labels = [v.get("label") for v in variants if isinstance(v, dict) and isinstance(v.get("label"), str)]
                hit = [lab for lab in labels if lab.lower() == label.lower()]
                if not hit:
                    have = ", ".join(labels) if labels else "none"
                    raise Clarify(f"The {display(sid)} has no variant \u201c{label}\u201d (variants: {have}). Which one should go?")
                self.ops.append({"op": "remove_variant", "state": sid, "label": hit[0]})
                return True
        return False

    def r_variant_add(self) -> bool:
        m = re.match(
            r"^(?:add|create|make|give)\s+(?:(?P<ref0>.+?)\s+)?(?:a|an|another)\s+(?:new\s+)?(?:(?P<adj>[\w\- ]+?)\s+)?(?:variant|version|variation|alternative|alternate version)"
            r"(?:\s+(?:of|for|to)\s+(?P<ref>.+?))?(?:\s*(?::|where|with|in which|showing)\s*(?P<desc>.+))?$",
            self.t,
        )
        if not m or not (m.group("ref") or m.group("ref0")):
            return False
        sid = self.state(m.group("ref") or m.group("ref0"))
        st = self.sc.states[sid]
        adj = (m.group("adj") or "").strip()
        desc = sanitize(self.unq(m.group("desc") or ""))
        base = self.sc.base(sid)
        if desc:
            extra = desc
        elif adj:
            extra = W.VARIANT_DETAILS.get(adj.split()[-1]) or W.ADJ_DETAILS.get(adj.split()[-1]) or sanitize(f"{adj} everywhere")
        else:
            raise Clarify(f"What should the new variant of the {display(sid)} look like (night, winter, flooded\u2026)?")
        if not extra:
            raise Clarify(f"What should the new variant of the {display(sid)} look like?")
        vbase = fit_base(st, f"{base}, {extra}" if base else extra, self.sc.slots)
        op: dict[str, Any] = {"op": "add_variant", "state": sid, "base": vbase}
        label = slug(adj, "-") if adj else ""
        labels = {v.get("label") for v in st.get("variants") or [] if isinstance(v, dict)}
        if label and label not in labels:
            op["label"] = label
        self.ops.append(op)
        return True

    # ------------------------------------------------------------- endings
    def _ending_kind(self, word: str) -> str:
        return "win" if word.split()[0] in _WIN else "lose"

    def r_ending_remove(self) -> bool:
        pats = [
            r"^(?:remove|delete|drop|take away)\s+(?:the\s+)?ending\s+(?:from|of|in|at)\s+(?P<ref>.+)$",
            r"^(?:make\s+)?(?P<ref>.+?)\s+(?:is\s+)?(?:no longer|not)\s+(?:be\s+)?(?:an|a)\s+ending$",
            r"^(?:make|turn)\s+(?P<ref>.+?)\s+(?:into\s+)?(?:a\s+)?(?:normal|regular|ordinary)\s+(?:room|place|state)(?:\s+again)?$",
        ]
        for p in pats:
            m = re.match(p, self.t)
            if m:
                sid = self.state(m.group("ref"))
                if not self.sc.is_ending(sid):
                    raise Clarify(f"The {display(sid)} is not an ending. What should change about it?")
                self.ops.append({"op": "update_state", "id": sid, "patch": {"ending": None}})
                if self.sc.entrance and self.sc.entrance != sid:
                    self.transition(sid, self.sc.entrance, f"Return to the {display(self.sc.entrance)}")
                return True
        return False

    def _title(self, m: re.Match[str]) -> str | None:
        raw = m.groupdict().get("title")
        if not raw:
            return None
        q = self.quoted(raw)
        return (q if q is not None else _cap(self.unq(raw))).strip()[:120] or None

    def r_ending_make(self) -> bool:
        tail = r"(?:\s*,?\s+(?:called|named|titled|with the title)\s+(?P<title>.+))?$"
        pats = [
            r"^(?:make|turn|set)\s+(?P<ref>.+?)\s+(?:into\s+|as\s+)?(?:a|an|the)\s+" + _KINDS + r"\s+ending" + tail,
            r"^(?:make|turn|set)\s+(?P<ref>.+?)\s+(?:into\s+|as\s+)?(?:a|an|the)\s+ending\s+(?:where|in which)\s+(?:the\s+)?(?:player\s+|you\s+)?(?P<kind>wins?|loses?)" + tail,
            r"^(?P<ref>.+?)\s+(?:should be|is|becomes|will be)\s+(?:a|an|the)\s+" + _KINDS + r"\s+ending" + tail,
            r"^(?:reaching|getting to|arriving at|entering|arriving in)\s+(?P<ref>.+?)\s+(?P<kind>wins|loses)\s+(?:the\s+)?(?:game|run)" + tail,
            r"^(?:the\s+)?(?:player|players|you)\s+(?P<kind>wins?|loses?)\s+(?:by\s+)?(?:reaching|at|in|on|when reaching|upon reaching)\s+(?P<ref>.+?)" + tail,
        ]
        for p in pats:
            m = re.match(p, self.t)
            if not m:
                continue
            ref = m.group("ref")
            try:
                sid = self.state(ref)
            except Clarify:
                if re.match(r"^(?:a|an)\s", ref):
                    return False
                raise
            kind = "win" if m.group("kind").startswith(("win", "victory", "good", "happy")) else "lose"
            if sid == self.sc.entrance:
                raise Clarify(f"The game starts in the {display(sid)}; as an ending it would end at once. Which place should be the ending?")
            title = self._title(m) or ("The " + display(sid))
            self.ops.append({"op": "update_state", "id": sid, "patch": {"ending": {"kind": kind, "title": title}}})
            # an ending is a sink: detach what leaves it
            for e in self.sc.outgoing(sid):
                rest = [f for f in self.sc.froms(e) if f != sid]
                if rest:
                    self.ops.append({"op": "update_event", "name": e["name"], "patch": {"from": rest}})
                else:
                    self.ops.append({"op": "delete_event", "name": e["name"]})
            if not self.sc.incoming(sid):
                src = self.sc.entrance
                if src and src in self.sc.states and not self.sc.is_ending(src):
                    self.transition(src, sid, f"Go to the {display(sid)}", key=self.user_key([src]))
            return True
        return False

    def r_ending_add(self) -> bool:
        m = re.match(
            r"^(?:add|create|make|give(?:\s+the\s+(?:game|world))?|put)\s+(?:a|an|another)\s+(?:new\s+)?" + _KINDS + r"\s+ending"
            r"(?:\s*,?\s+(?:called|named|titled)\s+(?P<title>\u27e6\d+\u27e7|[\w' \-]+?))?"
            r"(?:\s+(?:in|at|from|after|off|to|reached from|next to|beside)\s+(?P<anchor>.+?))?"
            r"(?:\s*,?\s+(?:called|named|titled)\s+(?P<title2>\u27e6\d+\u27e7|[\w' \-]+?))?"
            r"(?:\s*(?:,|:|where|when|in which|if|:)\s*(?P<clause>.+))?$",
            self.t,
        )
        if not m:
            return False
        kind = "win" if m.group("kind").split()[0] in _WIN else "lose"
        clause_raw = self.unq(m.group("clause") or "")
        anchor_phrase = m.group("anchor")
        anchor: str | None = None
        if anchor_phrase:
            anchor = self.state(anchor_phrase)
        clause = _SUBJECT.sub("", clause_raw.strip())
        clause = re.sub(r"^(?:gets?|is|are)\s+", "", clause) if clause.startswith(("get", "is ", "are ")) else clause
        words = clause.split()
        verb_phrase = ""
        prose = ""
        if words:
            had_subject = clause != clause_raw.strip()
            if had_subject:
                v = base_verb(words[0])
                verb_phrase = " ".join([v] + words[1:])
                prose = " ".join([gerund(v)] + words[1:])
                prose = sanitize(f"a lone figure {prose}")
            else:
                prose = sanitize(clause)
                verb_phrase = ""
        if anchor is None:
            ranked = [x for x in self.sc.rank(clause or "", kinds=("state",)) if not self.sc.is_ending(x.key)]
            if ranked and (len(ranked) == 1 or ranked[0].score > ranked[1].score):
                anchor = ranked[0].key
            else:
                anchor = self.sc.entrance
        if not anchor or anchor not in self.sc.states:
            raise Clarify("Which place should the ending be reached from?")
        if self.sc.is_ending(anchor):
            raise Clarify(f"The {display(anchor)} is already an ending. Which place should lead to the new ending?")
        title = self._title(m)
        if not title and m.group("title2"):
            q = self.quoted(m.group("title2"))
            title = (q if q is not None else _cap(self.unq(m.group("title2")))).strip()[:120] or None
        if not title:
            if verb_phrase:
                first = verb_phrase.split()
                title = _cap(" ".join(first[1:])) if len(first) > 1 and first[1] in _PREPS else _cap(verb_phrase)
            elif clause:
                title = _cap(clause)
            else:
                title = "Victory" if kind == "win" else "The end"
        title = title[:120]
        content = [w for w in re.findall(r"[a-z]+", (clause or title).lower()) if w not in _PREPS and w not in {"the", "a", "an"}]
        noun = content[-1] if content else ("victory" if kind == "win" else "end")
        mood = "golden light breaking over the horizon" if kind == "win" else "shadows closing in from every side"
        body = prose or sanitize(title.lower())
        base = ", ".join(p for p in (body, mood) if p)
        if m.group("title") or m.group("title2"):
            noun = slug(title) or noun
        sid = self.sc.free_state_id(noun)
        self.add_state_op(sid, base, ending={"kind": kind, "title": title})
        name = _cap(verb_phrase) if verb_phrase else (f"Reach the {display(sid)}" if kind == "win" else _cap(title))
        self.transition(anchor, sid, name, key=self.user_key([anchor]))
        return True

    # --------------------------------------------------------------- timing
    def _split_ref_clause(self, rest: str) -> tuple[str, str]:
        if "," in rest:
            ref, clause = rest.split(",", 1)
            return ref.strip(), clause.strip()
        ws = rest.split()
        for i in range(1, len(ws)):
            head = " ".join(ws[:i])
            last = tokens(ws[i - 1])
            if not last:
                continue
            for sid in self.sc.states:
                if last[0] in tokens(display(sid)) and (i == len(ws) or tokens(ws[i]) == [] or tokens(ws[i])[0] not in tokens(display(sid))):
                    try:
                        self.state(head)
                    except Clarify:
                        continue
                    return head, " ".join(ws[i:])
        raise Clarify("Which place does the timer start in? Try \u201cafter 10 seconds in the crypt, \u2026\u201d.")

    def r_timed_new(self) -> bool:
        m = re.match(r"^after\s+" + _NUM + r"\s+" + _UNIT + r"\s+(?:in|inside|at|spent in|of standing in|of waiting in)\s+(?P<rest>.+)$", self.t)
        if not m:
            return False
        after = _seconds(m.group("n"), m.group("unit"))
        ref, clause = self._split_ref_clause(m.group("rest"))
        src = self.state(ref)
        if self.sc.is_ending(src):
            raise Clarify(f"The {display(src)} is an ending, so nothing happens there after it is reached. Which place should the timer run in?")
        clause = self.unq(clause).strip(" ,")
        if not clause:
            raise Clarify(f"What happens after {after:g} seconds in the {display(src)}?")
        lethal = is_lethal(clause) or re.search(r"\b(?:knocks?|sweeps?|throws?|pulls?|drags?|crushe?s?)\s+(?:you|the player|them)\b", clause)
        if lethal:
            from conjure.agent.rules.link import stems

            words = set(stems(clause))
            for sid, st in self.sc.states.items():
                end = st.get("ending")
                if isinstance(end, dict) and end.get("kind") == "lose" and words & set(stems(display(sid) + " " + str(end.get("title", "")))):
                    self.transition(src, sid, _cap(clause), timing={"after": after})
                    return True
        # "... to/into the flooded hall": a timed transition
        tm = None if lethal else re.match(r"^(?P<what>.*?)\s*\b(?:to|into|toward|towards|onto)\s+(?P<target>.+)$", clause, re.I)
        if tm and tm.group("target").strip():
            target_phrase = tm.group("target").strip()
            try:
                target = self.state(target_phrase)
            except Clarify:
                if self.sc.rank(target_phrase, kinds=("state",)):
                    raise
                target_np = _strip_det(target_phrase)
                noun, base = self.place_prose(target_np)
                target = self.sc.free_state_id(noun)
                self.add_state_op(target, base)
                self.transition(target, src, f"Return to the {display(src)}")
            if target == src:
                raise Clarify("The timer would lead back into the same place. Where should it lead?")
            name = _cap(clause)
            ev_base = sanitize(clause)
            key = self.user_key([src]) if self.key else None
            self.transition(src, target, name, key=key, timing={"after": after}, base=ev_base or None)
            return True
        prose = sanitize(clause)
        if not prose:
            raise Clarify(f"What can be seen happening after {after:g} seconds in the {display(src)}?")
        if lethal or is_lethal(prose):
            # a lethal moment ends the run: a timed transition to a lose ending
            bare = _SUBJECT.sub("", clause)
            ws = bare.split()
            if bare != clause and ws:
                prose = sanitize("a lone figure " + " ".join([gerund(base_verb(ws[0]))] + ws[1:]))
            sid = self.sc.free_state_id("end")
            self.add_state_op(sid, f"{prose}, shadows closing in from every side",
                              ending={"kind": "lose", "title": f"Lost in the {display(src)}"})
            self.transition(src, sid, _cap(clause), timing={"after": after})
            return True
        name = self.sc.free_event_name(_cap(clause))
        op: dict[str, Any] = {"op": "add_event", "name": name, "kind": "override", "from": [src], "base": prose,
                              "timing": {"after": after, "duration": 3}}
        if self.key or "kernel-cycle" in self.repair:
            op["hotkey"] = self.user_key([src]) or self.sc.pick_key([src], name)
        self.ops.append(op)
        return True

    def r_timed_existing(self) -> bool:
        pats = [
            r"^make\s+(?P<ref>.+?)\s+(?:fire|happen|trigger|occur|go off|start)\s+(?:by itself\s+|automatically\s+|on its own\s+)?after\s+" + _NUM + r"\s+" + _UNIT + r"$",
            r"^(?P<ref>.+?)\s+(?:should\s+)?(?:fires?|happens?|triggers?|occurs?|goes off)\s+(?:by itself\s+|automatically\s+|on its own\s+)?after\s+" + _NUM + r"\s+" + _UNIT + r"$",
            r"^(?:time|set a timer on|put a timer on)\s+(?P<ref>.+?)\s+(?:to|for|at)\s+" + _NUM + r"\s+" + _UNIT + r"$",
        ]
        for p in pats:
            m = re.match(p, self.t)
            if m:
                name = self.event(m.group("ref"))
                after = _seconds(m.group("n"), m.group("unit"))
                self.ops.append({"op": "update_event", "name": name, "patch": {"timing": {"after": after}}})
                return True
        return False

    # ---------------------------------------------------------- event flags
    def r_oneshot(self) -> bool:
        on = [
            r"^(?:make|set|turn)\s+(?P<ref>.+?)\s+(?:into\s+)?(?:a\s+|an\s+)?(?:one[\s-]?shot|one[\s-]?time(?:\s+only)?|single[\s-]use|once[\s-]only)(?:\s+(?:event|action|thing))?$",
            r"^(?P<ref>.+?)\s+(?:can|should|may|must)\s+(?:only\s+)?(?:happen|fire|be used|work|trigger|be done)\s+(?:only\s+)?once$",
            r"^make\s+(?P<ref>.+?)\s+(?:happen|fire|work|trigger)\s+(?:only\s+)?once$",
            r"^(?:only\s+)?(?:let|allow)\s+(?P<ref>.+?)\s+(?:to\s+)?(?:happen|fire|be used|work)\s+(?:only\s+)?once$",
        ]
        off = [
            r"^(?:let|allow)\s+(?P<ref>.+?)\s+(?:to\s+)?(?:happen|fire|be used|work|be repeated)\s+(?:again(?:\s+and\s+again)?|repeatedly|many times|more than once|any number of times)$",
            r"^make\s+(?P<ref>.+?)\s+(?:repeatable|reusable)$",
        ]
        for pats, value in ((on, True), (off, False)):
            for p in pats:
                m = re.match(p, self.t)
                if m:
                    name = self.event(m.group("ref"))
                    self.ops.append({"op": "update_event", "name": name, "patch": {"oneShot": value}})
                    return True
        return False

    def r_hidden(self) -> bool:
        on = [
            r"^(?:hide|conceal)\s+(?P<ref>.+)$",
            r"^make\s+(?P<ref>.+?)\s+(?:hidden|secret|invisible|unlisted)$",
            r"^(?P<ref>.+?)\s+should\s+be\s+(?:hidden|secret|invisible|unlisted)$",
        ]
        off = [
            r"^(?:unhide|reveal|show|list)\s+(?P<ref>.+)$",
            r"^make\s+(?P<ref>.+?)\s+(?:visible|listed|shown|public)(?:\s+again)?$",
        ]
        for pats, value in ((on, True), (off, False)):
            for p in pats:
                m = re.match(p, self.t)
                if not m:
                    continue
                ref = m.group("ref")
                if value and re.search(r"\s(?:in|inside|under|behind)\s", ref) and re.match(r"^(?:a|an|some)\s", ref):
                    return False  # "hide a key in the cellar" places an item
                name = self.event(ref)
                patch: dict[str, Any] = {"hidden": value}
                ev = self.sc.event(name) or {}
                timed = isinstance(ev.get("timing"), dict) and (ev["timing"].get("after") or 0) > 0
                if value and not ev.get("hotkey") and not timed:
                    patch["hotkey"] = self.sc.pick_key(self.sc.froms(ev), name, ignore=name)
                self.ops.append({"op": "update_event", "name": name, "patch": patch})
                return True
        return False

    # ---------------------------------------------------------- items
    def _item(self, phrase: str) -> tuple[str, str]:
        """(flag, readable item) for an item phrase; reuses a flag already granted when it matches."""
        q = self.quoted(phrase)
        text = q if q is not None else self.unq(phrase)
        text = _strip_det(text).strip(" ,")
        for obj in self.verified:
            name = obj.get("name") if isinstance(obj, dict) else None
            if isinstance(name, str) and name.strip() and set(tokens(name)) & set(tokens(text)):
                text = name.strip()
                break
        if not text or not tokens(text):
            raise Clarify("Which item should it need?")
        flag = slug(text)
        granted = self.sc.granted_flags()
        if flag in granted:
            return flag, text
        toks = set(tokens(text))
        near = [g for g in granted if toks and toks <= set(tokens(display(g)))]
        if len(near) == 1:
            return near[0], display(near[0])
        return flag, text

    def _lock(self, target_phrase: str, flag: str) -> list[str]:
        """Adds ``flag`` to ``requires`` of the targeted event(s); returns their names."""
        ref = self.quoted(target_phrase) or target_phrase
        ranked = self.sc.rank(ref)
        if not ranked:
            self.sc.resolve(ref)  # raises the question
        top = ranked[0]
        ties = [x for x in ranked if x.score == top.score]
        chosen = top
        if len(ties) > 1:
            chosen = self.sc.resolve(ref)
        if chosen.kind == "event":
            names = [chosen.key]
        else:
            names = [e["name"] for e in self.sc.incoming(chosen.key)]
            if not names:
                raise Clarify(f"Nothing leads to the {display(chosen.key)} yet, so there is no way in to lock. Connect a place to it first.")
        for name in names:
            ev = self.sc.event(name) or {}
            req = [r for r in ev.get("requires") or [] if isinstance(r, str)]
            if flag in req:
                continue
            self.ops.append({"op": "update_event", "name": name, "patch": {"requires": req + [flag]}})
        return names

    def _pickup(self, source_phrase: str, flag: str, item: str) -> None:
        src = self.state(source_phrase)
        if self.sc.is_ending(src):
            raise Clarify(f"The {display(src)} is an ending, so nothing can be picked up there. Where should the {item} be?")
        desc = None
        for obj in self.verified:
            if isinstance(obj, dict) and obj.get("name") == item and isinstance(obj.get("description"), str):
                desc = sanitize(obj["description"])
        name = self.sc.free_event_name(f"Pick up the {item}")
        base = desc or f"{article(item)} glinting in the lamplight"
        self.ops.append({
            "op": "add_event", "name": name, "kind": "override", "from": [src],
            "hotkey": self.sc.pick_key([src], name), "base": base, "grants": [flag], "oneShot": True,
            "timing": {"duration": 3},
        })

    _SOURCE = r"(?:\s*,?\s+(?:which\s+is\s+|that\s+is\s+|that's\s+)?(?:(?:found|hidden|kept|lying|stored|placed|located|waiting|sitting|left|resting)\s+(?:in|at|on|inside|under)|from|(?:that|which)\s+(?:is\s+)?in)\s+(?P<source>.+))?$"

    def r_item_gate(self) -> bool:
        pats = [
            r"^(?:lock|gate|bar|block)\s+(?P<target>.+?)\s+(?:behind|with|using|by)\s+(?P<item>.+?)" + self._SOURCE,
            r"^(?P<target>.+?)\s+(?:needs|requires|require|need|should need|should require|is locked by|opens with|only opens with|can only be opened with)\s+(?P<item>.+?)" + self._SOURCE,
            r"^(?:make\s+)?(?P<target>.+?)\s+(?:need|require)\s+(?P<item>.+?)" + self._SOURCE,
            r"^to\s+(?:enter|open|reach|use|get into)\s+(?P<target>.+?),?\s+(?:you|the player|players)\s+(?:need|needs|must have)\s+(?P<item>.+?)" + self._SOURCE,
        ]
        for p in pats:
            m = re.match(p, self.t)
            if not m:
                continue
            item_phrase = m.group("item")
            flag, item = self._item(item_phrase)
            source = m.group("source")
            if source is None and flag not in self.sc.granted_flags():
                raise Clarify(f"Where can the {item} be found? For example: \u201c\u2026 needs the {item}, found in the {display(next(iter(self.sc.states), 'cellar'))}\u201d.")
            self._lock(m.group("target"), flag)
            if source is not None:
                self._pickup(source, flag, item)
            return True
        return False

    def r_unlock(self) -> bool:
        pats = [
            r"^(?P<target>.+?)\s+(?:no longer|doesn't|does not|shouldn't|should not)\s+(?:needs?|requires?)\s+(?P<item>.+)$",
            r"^(?:unlock|ungate)\s+(?P<target>.+)$",
            r"^remove\s+(?:the\s+)?(?P<item>.+?)\s+requirement\s+(?:from|of|on)\s+(?P<target>.+)$",
        ]
        for p in pats:
            m = re.match(p, self.t)
            if not m:
                continue
            ranked = self.sc.rank(self.quoted(m.group("target")) or m.group("target"))
            if not ranked:
                self.sc.resolve(m.group("target"))
            chosen = self.sc.resolve(self.quoted(m.group("target")) or m.group("target"))
            names = [chosen.key] if chosen.kind == "event" else [e["name"] for e in self.sc.incoming(chosen.key)]
            flag = None
            if m.groupdict().get("item"):
                flag, _ = self._item(m.group("item"))
            changed = False
            for name in names:
                ev = self.sc.event(name) or {}
                req = [r for r in ev.get("requires") or [] if isinstance(r, str)]
                keep = [r for r in req if flag is not None and r != flag and set(tokens(display(r))) != set(tokens(display(flag)))]
                if keep != req:
                    self.ops.append({"op": "update_event", "name": name, "patch": {"requires": keep or None}})
                    changed = True
            if not changed:
                raise Clarify(f"Nothing there needs {'that item' if flag else 'an item'}. What should change?")
            return True
        return False

    def r_item_place(self) -> bool:
        m = re.match(
            r"^(?:put|place|hide|leave|drop|add)\s+(?P<item>(?:a|an|the|some)\s+.+?)\s+(?:in|inside|on|under|into)\s+(?P<source>.+)$",
            self.t,
        )
        if not m:
            return False
        item_words = set(re.findall(r"[a-z]+", m.group("item")))
        if not (item_words & W.ITEM_WORDS) and not any(
            set(tokens(o.get("name", ""))) & set(tokens(m.group("item"))) for o in self.verified if isinstance(o, dict)
        ):
            return False
        flag, item = self._item(m.group("item"))
        self._pickup(m.group("source"), flag, item)
        return True

    # ---------------------------------------------------------- renaming
    def r_rename(self) -> bool:
        pats = [
            r"^(?:rename|retitle)\s+(?P<ref>.+?)\s+(?:to|as|into)\s+(?P<new>.+)$",
            r"^change\s+the\s+name\s+of\s+(?P<ref>.+?)\s+to\s+(?P<new>.+)$",
            r"^call\s+(?P<ref>.+?)\s+(?:the\s+|an?\s+)?(?P<new>\u27e6\d+\u27e7|[\w\-]+)(?:\s+instead)?$",
        ]
        for p in pats:
            m = re.match(p, self.t)
            if not m:
                continue
            ref = m.group("ref")
            q = self.quoted(ref)
            new_raw = self.quoted(m.group("new").strip()) or self.unq(m.group("new"))
            new_raw = _strip_det(new_raw).strip()
            if not new_raw:
                raise Clarify("What should the new name be?")
            target = self.sc.resolve(q if q is not None else ref)
            if target.kind == "event":
                new_name = _cap(new_raw)[:120]
                if self.sc.event(new_name) is not None and new_name != target.key:
                    raise Clarify(f"An action called \u2018{new_name}\u2019 already exists. Which other name should it get?")
                self.ops.append({"op": "update_event", "name": target.key, "patch": {"name": new_name}})
                return True
            self._rename_state(target.key, new_raw)
            return True
        return False

    def _rename_state(self, old: str, new_raw: str) -> None:
        new = slug(new_raw)
        if not new:
            raise Clarify("What should the new name be (letters and digits)?")
        if new == old:
            raise Clarify(f"The place is already called {display(old)}. What should it be called instead?")
        if new in self.sc.states:
            raise Clarify(f"There is already a place called {display(new)}. Which other name should it get?")
        users = [c.get("name", "?") for c in self.sc.cutscenes if c.get("state") == old]
        if users:
            raise Clarify(
                f"The cutscene \u2018{users[0]}\u2019 shows the {display(old)}, and cutscenes cannot be moved by an edit. "
                "Should I leave the name as it is?"
            )
        st = dict(self.sc.states[old])
        old_words = display(old)
        pat = re.compile(r"\b" + re.escape(old_words) + r"\b", re.I)
        if isinstance(st.get("base"), str):
            st["base"] = pat.sub(display(new), st["base"])
        self.ops.append({"op": "add_state", "id": new, **st})
        taken = {e["name"] for e in self.sc.events}
        for e in self.sc.events:
            froms = self.sc.froms(e)
            patch: dict[str, Any] = {}
            if old in froms:
                patch["from"] = [new if f == old else f for f in froms]
            if e.get("to") == old:
                patch["to"] = new
            if patch and pat.search(e["name"]):
                renamed = pat.sub(display(new), e["name"])
                if renamed not in taken:
                    patch["name"] = renamed
                    taken.add(renamed)
            if patch:
                self.ops.append({"op": "update_event", "name": e["name"], "patch": patch})
        if self.sc.entrance == old:
            self.ops.append({"op": "set_entrance", "state": new})
        self.ops.append({"op": "delete_state", "id": old})

    # ------------------------------------------------------------- prose
    def _keep_slots(self, sid: str, new_base: str) -> str:
        refs = re.findall(r"\{[A-Za-z0-9_.\-]+\}", self.sc.base(sid))
        missing = [r for r in dict.fromkeys(refs) if r not in new_base]
        return ", ".join(missing + [new_base]) if missing else new_base

    def r_describe(self) -> bool:
        pats = [
            r"^(?:describe|depict|paint|show|draw|render|picture)\s+(?P<ref>.+?)\s+as\s+(?P<desc>.+)$",
            r"^(?:change|set|rewrite|replace|update)\s+(?:the\s+)?(?:description|prose|look|picture|base)\s+(?:of\s+)?(?P<ref>.+?)\s+(?:to|with|as)\s+(?P<desc>.+)$",
            r"^(?:change|set|rewrite|replace|update)\s+(?P<ref>.+?)'s\s+(?:description|prose|look|base)\s+(?:to|with|as)\s+(?P<desc>.+)$",
            r"^(?:make\s+)?(?P<ref>.+?)\s+(?:should\s+)?look\s+like\s+(?P<desc>.+)$",
        ]
        for p in pats:
            m = re.match(p, self.t)
            if not m:
                continue
            sid = self.state(m.group("ref"))
            q = self.quoted(m.group("desc"))
            desc = sanitize(q if q is not None else self.unq(m.group("desc")))
            if not desc:
                raise Clarify(f"How should the {display(sid)} look? Describe what can be seen there.")
            noun = display(sid)
            if q is None and noun.split()[-1] not in desc.lower():
                # "as dusty with tall shelves" → "a dusty library with tall shelves"
                dm = re.match(r"^(?P<adjs>(?:[a-z\-]+(?:,\s*|\s+and\s+|\s+))*?[a-z\-]+?)(?P<rest>\s+(?:with|of|full of|under|lit by|covered in|where|and)\s+.+)?$", desc, re.I)
                if dm and dm.group("adjs") and len(dm.group("adjs").split()) <= 4 and not re.match(r"^(?:a|an|the)\s", desc):
                    desc = f"{article(dm.group('adjs') + ' ' + noun)}{dm.group('rest') or ''}"
                elif re.match(r"^(?:a|an|the)\s", desc):
                    desc = desc
                else:
                    desc = f"{article(noun)}, {desc}"
            new_base = fit_base(self.sc.states[sid], self._keep_slots(sid, desc), self.sc.slots)
            self.ops.append({"op": "update_state", "id": sid, "patch": {"base": new_base}})
            return True
        return False

    def r_add_detail(self) -> bool:
        pats = [
            r"^(?:add|put|place)\s+(?P<what>.+?)\s+(?:to|in|into|inside)\s+(?P<ref>.+?)(?:'s\s+(?:description|ambience|ambient|scene|background))?$",
            r"^give\s+(?P<ref>.+?)\s+(?P<what>(?:a|an|some|more)\s+.+)$",
            r"^fill\s+(?P<ref>.+?)\s+with\s+(?P<what>.+)$",
        ]
        for p in pats:
            m = re.match(p, self.t)
            if not m:
                continue
            what = m.group("what")
            if re.search(r"\b(?:ending|variant|version|slot|event|action|state|room|from)\b|" + _CONNECTORS, what):
                return False
            ranked = self.sc.rank(self.quoted(m.group("ref")) or m.group("ref"), kinds=("state",))
            if not ranked:
                return False
            sid = self.state(m.group("ref"))
            detail = sanitize(self.unq(re.sub(r"^(?:some|more)\s+", "", what)))
            if not detail:
                raise Clarify(f"What should be added to the {display(sid)}? Describe what can be seen.")
            st = self.sc.states[sid]
            ambient = [a for a in st.get("ambient") or [] if isinstance(a, str)]
            trial = dict(st, ambient=ambient + [detail])
            patch: dict[str, Any] = {"ambient": ambient + [detail]}
            if composed_tokens(trial, self.sc.slots) > BUDGET:
                short = fit_base(trial, self.sc.base(sid), self.sc.slots)
                trial["base"] = short
                if composed_tokens(trial, self.sc.slots) > BUDGET:
                    raise Clarify(f"The {display(sid)} is already described at full length. Should I rewrite its description instead?")
                patch["base"] = short
            self.ops.append({"op": "update_state", "id": sid, "patch": patch})
            return True
        return False

    def r_make_adj(self) -> bool:
        pats = [
            r"^make\s+(?P<ref>.+?)\s+(?:look\s+|feel\s+|seem\s+)?(?P<adjs>(?:(?:much\s+|a lot\s+|a bit\s+|even\s+|more\s+|very\s+)?[a-z\-]+(?:\s*,\s*(?:and\s+)?|\s+and\s+))*(?:much\s+|a lot\s+|a bit\s+|even\s+|more\s+|very\s+)?[a-z\-]+)$",
            r"^(?P<ref>.+?)\s+should\s+(?:be|look|feel|seem)\s+(?P<adjs>(?:(?:much\s+|a lot\s+|a bit\s+|even\s+|more\s+|very\s+)?[a-z\-]+(?:\s*,\s*(?:and\s+)?|\s+and\s+))*(?:much\s+|a lot\s+|a bit\s+|even\s+|more\s+|very\s+)?[a-z\-]+)$",
        ]
        for p in pats:
            m = re.match(p, self.t)
            if not m:
                continue
            words_ = [w for w in re.split(r"[\s,]+", m.group("adjs")) if w and w not in {"and", "much", "a", "lot", "bit", "even", "more", "very"}]
            adjs = []
            for w in words_:
                base = W.COMPARATIVES.get(w, w)
                if base in W.ADJ_DETAILS:
                    adjs.append(base)
                elif w.endswith("er") and w not in W.COMPARATIVES and len(w) > 4:
                    adjs.append(w[:-2])
                else:
                    adjs.append(w)
            known = [a for a in adjs if a in W.ADJ_DETAILS]
            if not known and not m.group("adjs").startswith("more "):
                return False
            sid = self.state(m.group("ref"))
            details = [W.ADJ_DETAILS.get(a) or f"{a} all around" for a in adjs]
            details = [sanitize(d) for d in details]
            base = self.sc.base(sid)
            existing = base.lower()
            add = [d for d in details if d and d.lower() not in existing]
            if not add:
                raise Clarify(f"The {display(sid)} already looks like that. What else should change?")
            new_base = fit_base(self.sc.states[sid], ", ".join([base] + add) if base else ", ".join(add), self.sc.slots)
            if new_base == base:
                raise Clarify(f"The {display(sid)} is already described at full length. Should I rewrite its description instead?")
            self.ops.append({"op": "update_state", "id": sid, "patch": {"base": new_base}})
            return True
        return False

    # ------------------------------------------------------------ connect
    def r_connect(self) -> bool:
        self.take_key()
        t = self.t
        one_way = bool(re.search(r"\bone[\s-]way\b", t))
        t = re.sub(r"\s*,?\s*\(?\bone[\s-]way\b\)?\s*", " ", t).strip()
        verb = None
        a = b = None
        two_way = False
        m = re.match(
            r"^(?:let|allow|have|make it so)\s+(?:the\s+)?(?:player|players|you|people|them|us)\s+(?:to\s+)?(?:be able to\s+)?(?P<verb>[a-z]+)(?:\s+(?:up|down|over|across|back|out|through|in|along))?\s+from\s+(?P<a>.+?)\s+(?:up to|down to|over to|across to|back to|to|into|onto|towards?|up into|down into)\s+(?P<b>.+)$",
            t,
        ) or re.match(
            r"^(?:the\s+)?(?:player|players|you)\s+(?:can|could|should be able to|may)\s+(?P<verb>[a-z]+)(?:\s+(?:up|down|over|across|back|out|through|in|along))?\s+from\s+(?P<a>.+?)\s+(?:up to|down to|to|into|onto|towards?)\s+(?P<b>.+)$",
            t,
        ) or re.match(
            r"^(?P<verb>go|move|travel|walk|run|climb|swim|jump|crawl|sail|fly|ride|descend|drive|teleport)\s+from\s+(?P<a>.+?)\s+(?:to|into|onto)\s+(?P<b>.+)$",
            t,
        )
        if m:
            verb, a, b = m.group("verb"), m.group("a"), m.group("b")
        else:
            m = re.match(r"^(?:connect|link|join|wire(?:\s+up)?)\s+(?P<a>.+?)\s+(?:and|with|to)\s+(?P<b>.+)$", t)
            if m:
                a, b = m.group("a"), m.group("b")
                two_way = not one_way
            else:
                m = re.match(
                    r"^(?:add|create|make|build|put|open)\s+(?:a|an)\s+(?P<what>(?:[\w\-]+\s+)?(?:door|doorway|path|passage|tunnel|stairs|staircase|stairway|stair|bridge|ladder|gate|way|road|corridor|route|exit|link|connection|portal|trapdoor|rope|elevator|lift|hatch|window|shortcut|slide|chute|transition))\s+"
                    r"(?:from\s+(?P<a>.+?)\s+(?:to|into)\s+(?P<b>.+)|between\s+(?P<a2>.+?)\s+and\s+(?P<b2>.+)|(?:to|into)\s+(?P<b3>.+?)\s+from\s+(?P<a3>.+))$",
                    t,
                )
                if m:
                    what = _strip_det(m.group("what"))
                    if m.group("a2"):
                        a, b, two_way = m.group("a2"), m.group("b2"), not one_way
                    elif m.group("a3"):
                        a, b = m.group("a3"), m.group("b3")
                    else:
                        a, b = m.group("a"), m.group("b")
                    verb = f"take the {what} to" if what not in {"transition", "connection", "link", "way", "route"} else None
                else:
                    m = re.match(r"^(?P<a>.+?)\s+(?:leads|goes|opens|connects)\s+(?:on\s*)?(?:to|into|onto)\s+(?P<b>.+)$", t)
                    if not m:
                        return False
                    a, b = m.group("a"), m.group("b")
        src = self.state(a)
        dst = self.state(b)
        if src == dst:
            raise Clarify(f"Both ends are the {display(src)}. Which two places should be connected?")
        if self.sc.is_ending(src):
            if two_way and not self.sc.is_ending(dst):
                src, dst = dst, src
                two_way = False
            else:
                raise Clarify(f"The {display(src)} is an ending, so nothing can lead on from it. Which place should the path start from?")
        if self.sc.is_ending(dst):
            two_way = False
        if verb is None:
            fwd = f"Go to the {display(dst)}"
        elif verb.startswith("take the "):
            fwd = _cap(f"{verb} the {display(dst)}")
        else:
            v = verb.lower()
            fwd = f"{_cap(v)} to the {display(dst)}"
        key = self.user_key([src])
        self.transition(src, dst, fwd, key=key)
        if two_way:
            self.transition(dst, src, f"Go to the {display(src)}")
        return True

    # ------------------------------------------------------------- remove
    def r_remove(self) -> bool:
        m = re.match(r"^(?:remove|delete|drop|get rid of|destroy|erase|cut|take out|eliminate)\s+(?P<ref>.+)$", self.t)
        if not m:
            return False
        ref = m.group("ref")
        kinds: tuple[str, ...] = ("state", "event")
        if re.match(r"^(?:the\s+)?(?:event|action|transition|path|door|passage)\s", ref):
            kinds = ("event", "state")
            ref = re.sub(r"^(?:the\s+)?(?:event|action|transition)\s+(?:called\s+|named\s+)?", "", ref)
        q = self.quoted(ref)
        if q is not None and self.sc.event(q):
            kinds = ("event", "state")
        target = self.sc.resolve(q if q is not None else ref, kinds=kinds)
        if target.kind == "event":
            self.ops.append({"op": "delete_event", "name": target.key})
            return True
        sid = target.key
        if sid == self.sc.entrance:
            raise Clarify(f"The game starts in the {display(sid)}. Where should it start instead, before I remove it?")
        users = [c.get("name", "?") for c in self.sc.cutscenes if c.get("state") == sid]
        if users:
            raise Clarify(f"The cutscene \u2018{users[0]}\u2019 shows the {display(sid)}, and cutscenes cannot be changed by an edit. Should I keep it?")
        for e in self.sc.events:
            froms = self.sc.froms(e)
            if e.get("to") == sid or froms == [sid] or (sid in froms and not [f for f in froms if f != sid]):
                self.ops.append({"op": "delete_event", "name": e["name"]})
            elif sid in froms:
                self.ops.append({"op": "update_event", "name": e["name"], "patch": {"from": [f for f in froms if f != sid]}})
        self.ops.append({"op": "delete_state", "id": sid})
        return True

    # ----------------------------------------------------------- add state
    def r_add_state(self) -> bool:
        self.take_key()
        m = re.match(
            r"^(?:add|create|make|build|put|place|insert|there should be|there is|include)\s+(?:a|an|another|one more|some)?\s*(?:new\s+)?"
            r"(?:(?:room|state|place|location|area|scene)\s*(?::|called|named)?\s+)?(?P<np>.+?)"
            r"(?:\s+(?:called|named)\s+(?P<name>\u27e6\d+\u27e7|[\w\-]+))?"
            r"(?:\s*,?\s+(?P<rel>" + _RELATIONS + r")\s+(?P<anchor>.+?))?"
            r"(?:\s*,?\s+(?:called|named)\s+(?P<name2>\u27e6\d+\u27e7|[\w\-]+))?$",
            self.t,
        )
        if not m:
            return False
        np = self.unq(m.group("np"))
        name = m.group("name") or m.group("name2")
        if np.strip() in {"", "room", "state", "place"} and not name:
            raise Clarify("What kind of place should I add, and where? For example: \u201cadd a flooded crypt below the chapel\u201d.")
        noun, base = self.place_prose(np if np.strip() not in {"room", "state", "place"} else (self.quoted(name or "") or name or "room"))
        if name:
            noun = slug(self.quoted(name) or name) or noun
        if noun in self.sc.states:
            raise Clarify(
                f"There is already a place called {display(noun)}. What should the new one be called? "
                f"For example: “add a {display(noun)} called ‘{noun}_2’”."
            )
        sid = self.sc.free_state_id(noun)
        self.add_state_op(sid, base)
        rel = m.group("rel")
        if rel and m.group("anchor"):
            anchor = self.state(m.group("anchor"))
        else:
            anchor = self.sc.entrance
            rel = None
        if anchor and anchor in self.sc.states:
            fwd, back = W.RELATION_VERBS.get(rel or "", ("Go to", "Return to"))
            if self.sc.is_ending(anchor):
                # the new place leads into the ending
                if self.sc.entrance and not self.sc.is_ending(self.sc.entrance):
                    self.transition(self.sc.entrance, sid, f"Go to the {display(sid)}", key=self.user_key([self.sc.entrance]))
                self.transition(sid, anchor, f"Go to the {display(anchor)}")
            else:
                self.connect_new(anchor, sid, fwd, back)
        return True
