"""Reading the instruction before any rule: bad input and injection refused, typos fixed
against the world's own words, vague requests turned into questions, several steps split
with their pronouns resolved."""

from __future__ import annotations

import re
from typing import Any

from conjure.agent import words as W
from conjure.agent.rules import lexicon as L
from conjure.agent.rules.link import memo, mentioned_states, stem
from conjure.agent.scene import Clarify, Scene, display

MAX_CHARS = 2000

_QUESTION_START = re.compile(r"^(?:what|where|how|why|is|are|does|do|did|which|who|whose|when)\b")
_VERBS = (
    "add|put|make|remove|delete|get rid of|rename|call|connect|link|set|start|begin|hide|give|use|let|lock|unlock|"
    "define|change|describe|place|leave|create|build|scrap|drop|bind|swap|move|turn"
)


def vocabulary(sc: Scene) -> set[str]:
    m = memo(sc)
    if "vocabulary" in m:
        return m["vocabulary"]
    words: set[str] = set()
    for sid in sc.states:
        words.update(display(sid).lower().split())
    for e in sc.events:
        words.update(re.findall(r"[a-z]+", e["name"].lower()))
    for name in sc.slots:
        words.update(re.findall(r"[a-z]+", name.lower()))
    for f in sc.granted_flags():
        words.update(re.findall(r"[a-z]+", f.lower()))
    m["vocabulary"] = words
    return words


def _bank_words() -> set[str]:
    out: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, str):
            out.update(re.findall(r"[a-z]+", v.lower()))
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, (list, tuple, set, frozenset)):
            for x in v:
                walk(x)

    for name in dir(W):
        if name.isupper():
            walk(getattr(W, name))
    return out


_BANK: set[str] | None = None


def _known(sc: Scene, sc_words: set[str]) -> set[str]:
    global _BANK
    m = memo(sc)
    if "known" in m:
        return m["known"]
    if _BANK is None:
        _BANK = _bank_words() | set(L.ENGLISH) | set(L.PLACE_NOUNS) | set(L.ADJECTIVES) | set(L.VAGUE) | set(L.COMMON)
    prose: set[str] = set()
    for st in sc.states.values():
        prose.update(re.findall(r"[a-z]+", str(st).lower()))
    for e in sc.events:
        prose.update(re.findall(r"[a-z]+", str(e).lower()))
    for v in sc.slots.values():
        prose.update(re.findall(r"[a-z]+", v.lower()))
    m["known"] = _BANK | sc_words | prose
    m["known_stems"] = {stem(k) for k in m["known"]}
    m["targets"] = sorted(w for w in m["known"] if len(w) >= 4) + ["add"]
    return m["known"]


def _typo_of(w: str, t: str) -> bool:
    """True when ``w`` is ``t`` typed with one letter left out (not the first), two neighbours
    swapped, or one letter doubled."""
    if len(t) == len(w) + 1 and t[0] == w[0]:
        return any(t[:i] + t[i + 1:] == w for i in range(1, len(t)))
    if len(t) == len(w):
        diff = [i for i in range(len(w)) if w[i] != t[i]]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and w[diff[0]] == t[diff[1]] and w[diff[1]] == t[diff[0]]
    if len(w) == len(t) + 1:
        return any(w[i] == w[i - 1] and w[:i] + w[i + 1:] == t for i in range(1, len(w)))
    return False


_SHORT_TYPOS = {"ad": "add", "nxt": "next", "thru": "through", "frm": "from", "nd": "and", "teh": "the", "adn": "and"}


def fix_typos(text: str, sc: Scene) -> str:
    """Words that are no known word (the world's, the agent's, common English) and are one
    typing slip from exactly one known word are corrected; quoted spans are never touched."""
    sc_words = vocabulary(sc)
    known = _known(sc, sc_words)
    targets = memo(sc)["targets"]

    def fix(m: re.Match[str]) -> str:
        w = m.group(0)
        if "'" in w or w in known:
            return w
        if w in _SHORT_TYPOS:
            return _SHORT_TYPOS[w]
        if len(w) < 4:
            return w
        cands = list(dict.fromkeys(t for t in targets if _typo_of(w, t)))
        if len(cands) == 1:
            return cands[0]
        in_world = [c for c in cands if c in sc_words]
        return in_world[0] if len(in_world) == 1 else w

    parts = re.split("(\u27e6\\d+\u27e7)", text)
    return "".join(p if p.startswith("\u27e6") else re.sub(r"[a-z']+", fix, p) for p in parts)


def normalise(text: str) -> str:
    t = text
    t = re.sub(r"\bw/o\b", "without", t)
    t = re.sub(r"\bpls\b|\bplz\b", "please", t)
    t = re.sub(r"\b(?:any ?more|any longer)\b", "", t)
    for bare, full in (("shouldnt", "shouldn't"), ("dont", "don't"), ("doesnt", "doesn't"), ("isnt", "isn't"),
                       ("cant", "can't"), ("wont", "won't"), ("theres", "there's")):
        t = re.sub(r"\b" + bare + r"\b", full, t)
    t = re.sub(r"^after\s+(\S+\s+\S+)\s+(?:on|at|inside)\s+", r"after \1 in ", t)
    t = re.sub(r"\b(?:scrap|ditch|bin|axe)\s+(?=(?:the|it)\b)", "remove ", t)
    t = re.sub(r"\s+", " ", t).strip(" ,")
    return t


def guard(raw: str, t: str, sc: Scene, quoted: bool = False) -> None:
    """Questions for input no rule should see: empty, over-long, not English, an injection, a
    question about the world, a request too vague to act on."""
    if len(raw) > MAX_CHARS:
        raise Clarify("That is a long instruction. Ask for one change at a time, in a sentence or two.")
    letters = re.findall(r"[a-z]+", t)
    if not letters:
        raise Clarify(_help())
    for pat in L.INJECTION:
        if re.search(pat, raw, re.I):
            raise Clarify(
                "I only make the changes you describe to this world, one at a time, and I won\u2019t delete it wholesale. "
                "What would you like to change?"
            )
    sc_words = vocabulary(sc)
    known = _known(sc, sc_words)
    words = re.findall(r"[^\W\d_]+", raw.lower())
    known_stems = memo(sc)["known_stems"]
    ascii_known = [w for w in words if w in known or stem(w) in known_stems]
    if words and len(ascii_known) / len(words) < 0.34:
        raise Clarify("I couldn\u2019t read that as an instruction in English. " + _help())
    if raw.strip().endswith("?") and _QUESTION_START.match(t) and not re.match(r"^(?:can|could|would) (?:you|we|i)\b", t):
        raise Clarify("I change the world rather than answer questions about it. What should I change?")
    mentioned = quoted or mentioned_states(sc, t) or _mentions_event_or_slot(t, sc) or bool(sc.rank(t, kinds=("state",)))
    if not mentioned:
        content = [w for w in letters if w not in L.ENGLISH and w not in sc_words]
        content = [w for w in content if w not in L.VAGUE and w not in L.ADJECTIVES and w not in L.PRONOUNS
                   and w not in ("ending", "room", "place", "game", "world", "level", "scene", "feel", "look", "nicer",
                                 "please", "pop", "house", "something", "bit", "lot", "fix", "improve")]
        vague_verb = re.match(r"^(?:improve|fix|tweak|polish|enhance|change|redo|update)\b", t)
        if not content or (vague_verb and len(content) <= 1):
            places = ", ".join(display(s) for s in list(sc.states)[:8])
            raise Clarify(
                f"That could mean many changes. The places are {places}. What exactly should change, and where: "
                "a place to add or describe, an action to change, or an ending?"
            )


def _mentions_event_or_slot(t: str, sc: Scene) -> bool:
    low = t.lower()
    if any(re.search(r"\b" + re.escape(n.lower()) + r"\b", low) for n in sc.slots):
        return True
    st = {stem(w) for w in re.findall(r"[a-z]+", low)}
    for e in sc.events:
        ws = [stem(w) for w in re.findall(r"[a-z]+", e["name"].lower()) if w not in ("the", "a", "to", "of", "into", "back", "up", "down")]
        if ws and sum(1 for w in ws if w in st) >= max(1, len(ws) - 1):
            return True
    return False


def _help() -> str:
    from conjure.agent.grammar import HELP

    return HELP


def split_steps(t: str) -> list[str]:
    """Several instructions in one sentence → one text per step (elliptic ones completed)."""
    t = re.sub(r"\.\s+(?!(?:" + _VERBS + r"|the\s+\S+(?:\s+\S+)?\s+(?:should|must|needs?))\b)", ", ", t)
    parts = [p.strip(" ,") for p in re.split(r"\s*(?:;|\.\s+|,?\s+and then\s+|,\s*then\s+)\s*", t) if p.strip(" ,")]
    out: list[str] = []
    for part in parts:
        out.extend(_split_and(part))
    return out


def _split_and(t: str) -> list[str]:
    m = re.match(rf"^(?P<a>.+?)(?:,\s*and|\s+and|,)\s+(?P<b>(?:{_VERBS})\b.+)$", t)
    if m and _verb_led(m.group("a")):
        return _split_and(m.group("a")) + _split_and(m.group("b"))
    m = re.match(r"^(?P<a>.+?),?\s+and\s+(?P<b>the\s+.+?\s+(?:should|must|needs|is|isn't|shouldn't)\b.+)$", t)
    if m:
        return _split_and(m.group("a")) + [m.group("b")]
    m = re.match(rf"^(?P<verb>{_VERBS})\s+(?P<a>.+?)\s+and\s+(?P<b>(?:the|a|an)\s+.+?)$", t)
    if m:
        b = m.group("b")
        a = m.group("a")
        # "make the shore a losing ending and the crypt a winning one"
        if re.match(r"^the\s+.+?\s+(?:a|an|the)\s+.+$", b) and re.search(r"\s(?:a|an|the)\s+\S+", a) and re.match(r"^(?:make|set|turn)$", m.group("verb")):
            noun = re.findall(r"[a-z]+", a)[-1]
            b = re.sub(r"\bone$", noun, b)
            return [f"{m.group('verb')} {a}", f"{m.group('verb')} {b}"]
        # "put a blanket in the sleeper and a teapot in the dining car"
        if re.search(r"\s(?:in|on|inside|into|under|at)\s+(?:the\s+)?\S+", a) and re.search(r"\s(?:in|on|inside|into|under|at)\s+(?:the\s+)?\S+", b):
            return [f"{m.group('verb')} {a}", f"{m.group('verb')} {b}"]
    return [t]


def _verb_led(t: str) -> bool:
    return bool(re.match(rf"^(?:{_VERBS}|the|a|an|there|i|we|you|it|players?|let)\b", t))


_COMPLAINT = re.compile(
    r"^(?:the\s+)?.+?\s+(?:can't|cannot|can not|isn't|is not|is|are|looks?|seems?|feels?)\s+"
    r"(?:be\s+)?(?:way\s+|much\s+|too\s+|so\s+|really\s+|a bit\s+)*"
    r"(?:reached|reachable|needed|necessary|used|too long|too short|long|short|weird|wrong|broken|boring|plain|ugly|empty|pointless|useless|unreachable)\b"
)


def is_complaint(step: str) -> bool:
    """A statement of what is wrong ("the boathouse can't be reached"): context for the next step."""
    return bool(_COMPLAINT.match(step))


def resolve_pronouns(step: str, focus: dict[str, Any]) -> str:
    """"it" / "there" in a later step → what the step before was about."""
    if focus.get("slot") and re.search(r"\buse it\b", step):
        return re.sub(r"\buse it\b", f"use the {focus['slot']} slot", step)
    if focus.get("state"):
        name = display(focus["state"])
        step = re.sub(r"\b(in|into|inside|to|from|on|of)\s+it\b", rf"\1 the {name}", step)
        if re.match(rf"^(?:{_VERBS})\s+it\b", step):
            step = re.sub(r"\bit\b(?!')", f"the {name}", step, count=1)
    return step
