"""Linking words to the world: which state or event a phrase means, by id, name, the words of
its name and its prose, with verb forms folded ("ringing the bell" → ‘Ring the bell’), or a
question naming the candidates when two fit equally well or none does."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from conjure.agent.scene import Clarify, Scene, display

_FILLER = frozenset(
    """
    the a an that this those these its it his her their my our your some any to of in on at into onto by for
    and or as is are be from with up down back out off over action actions event events thing things one
    should only can could player players you people someone them they let make made be being able time times
    """.split()
)
_GENERIC_VERBS = frozenset({"go", "enter", "take", "open", "return", "back", "climb", "descend", "move", "walk", "head", "get"})


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude verb/noun stem: ringing, rings, rang-less forms → ring; overriding, override → overrid."""
    w = word.lower().strip("'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ing"):
        w = w[:-3]
        if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "aeiouls":
            w = w[:-1]
    elif len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith("ed") and not w.endswith("eed"):
        w = w[:-2]
        if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "aeiouls":
            w = w[:-1]
    elif len(w) > 3 and w.endswith("es") and w[:-2].endswith(("ch", "sh", "x", "ss")):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def stems(text: str) -> list[str]:
    return [stem(w) for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in _FILLER]


def rank_events(sc: Scene, phrase: str) -> list[tuple[float, str]]:
    """(score, event name) for every event that shares words with ``phrase``, best first."""
    want = stems(phrase)
    if not want:
        return []
    out: list[tuple[float, str]] = []
    m = memo(sc)
    if "event_stems" not in m:
        table = []
        for e in sc.events:
            to = e.get("to") if isinstance(e.get("to"), str) else ""
            prose = " ".join(x for x in (e.get("base"), e.get("detail")) if isinstance(x, str))
            table.append((e["name"], stems(e["name"]), set(stems(display(to))) if to else set(), set(stems(prose))))
        m["event_stems"] = table
    for name, name_stems, to_stems, prose_stems in m["event_stems"]:
        if phrase.strip().lower() == name.lower():
            out.append((1000.0, name))
            continue
        score = 0.0
        for i, t in enumerate(want):
            if t in name_stems:
                first = name_stems and name_stems[0] == t
                score += (3 if t in _GENERIC_VERBS else 12 if first else 10)
            elif t in to_stems:
                score += 4
            elif t in prose_stems:
                score += 1
        if score and all(t in want for t in name_stems):
            score += 5
        if score and name_stems and want[-1] == name_stems[-1]:
            score += 3  # the phrase ends on the name's object: "the lamp" → ‘Light the lamp’
        if score:
            out.append((score, name))
    out.sort(key=lambda x: (-x[0], x[1]))
    return out


def event(sc: Scene, phrase: str, *, what: str = "action") -> str:
    """The event ``phrase`` means, or :class:`Clarify` naming the candidates."""
    ranked = rank_events(sc, phrase)
    shown = phrase.strip()
    if not ranked:
        names = [f"\u2018{e['name']}\u2019" for e in sc.events[:8]]
        raise Clarify(f"I couldn\u2019t find the {what} \u201c{shown}\u201d. The actions are {', '.join(names)}. Which one do you mean?")
    top = ranked[0][0]
    ties = [n for s, n in ranked if s == top]
    if len(ties) > 1:
        shown_names = ", ".join(f"\u2018{n}\u2019" for n in ties[:6])
        raise Clarify(f"Which {what} do you mean by \u201c{shown}\u201d: {shown_names}?")
    return ranked[0][1]


def degree(sc: Scene, sid: str) -> int:
    degs = getattr(sc, "_degrees", None)
    if degs is None:
        degs = {}
        for e in sc.events:
            for f in set(sc.froms(e)):
                degs[f] = degs.get(f, 0) + 1
            to = e.get("to")
            if isinstance(to, str):
                degs[to] = degs.get(to, 0) + 1
        sc._degrees = degs  # type: ignore[attr-defined]
    return degs.get(sid, 0)


_PHRASES: dict[tuple, list[tuple[str, str]]] = {}
_MEMO: dict[tuple, dict[str, Any]] = {}


def memo(sc: Scene) -> dict[str, Any]:
    """Per-world values the rules reuse, keyed by the world's rev, ids, wiring and prose (the
    strings' hashes are cached by Python): a world is read once, not once per rule or per edit."""
    mine = getattr(sc, "_memo", None)
    if mine is not None:
        return mine
    key = (sc.world.get("rev"), tuple(sc.states), hash(tuple(str(st.get("base")) for st in sc.states.values())),
           tuple((e["name"], tuple(sc.froms(e)), e.get("to"), str(e.get("base"))) for e in sc.events),
           tuple(sc.slots.items()))
    mine = _MEMO.get(key)
    if mine is None:
        if len(_MEMO) > 64:
            _MEMO.clear()
        mine = _MEMO[key] = {"key": key}
    sc._memo = mine  # type: ignore[attr-defined]
    return mine


def state(sc: Scene, phrase: str) -> str:
    """The state ``phrase`` means. When several tie and one of them is the hub the others hang
    off ("the north gate" → north_gate_square), the hub; else :class:`Clarify` naming them."""
    clean = re.sub(r"^(?:the|a|an|that|this)\s+", "", phrase.strip().lower())
    for ph, sid in phrases(sc):
        if clean in (ph, ph + "s"):
            return sid
    clean = re.sub(r"\s+(?:district|quarter|area|room|place)$", "", clean)
    ranked = sc.rank(clean or phrase, kinds=("state",))
    if ranked:
        top = ranked[0].score
        ties = [m.key for m in ranked if m.score == top]
        if len(ties) > 1:
            degs = sorted(((degree(sc, s), s) for s in ties), reverse=True)
            if degs[0][0] >= 2 * max(1, degs[1][0]) and degs[0][0] >= 4:
                return degs[0][1]
    else:
        from conjure.agent.rules import meaning

        hit = meaning.nearest_state(sc, clean or phrase)
        if hit is not None:
            return hit
    return sc.resolve_state(clean or phrase)


def phrases(sc: Scene) -> list[tuple[str, str]]:
    """(phrase, state) pairs a text may use for a state, longest first: its id's words, and the
    tail or head of them when only that state has it ("the fish market" → harbour_fish_market,
    "the market district" → market_square, the hub of the market states)."""
    cached = getattr(sc, "_phrases", None)
    if cached is not None:
        return cached
    key = memo(sc)["key"]
    hit = _PHRASES.get(key)
    if hit is not None:
        sc._phrases = hit  # type: ignore[attr-defined]
        return hit
    out: dict[str, str] = {}
    tails: dict[str, set[str]] = {}
    heads: dict[str, set[str]] = {}
    for sid in sc.states:
        words = display(sid).lower().split()
        out[" ".join(words)] = sid
        for i in range(1, len(words)):
            tails.setdefault(" ".join(words[i:]), set()).add(sid)
            heads.setdefault(" ".join(words[:i]), set()).add(sid)
    for tail, sids in tails.items():
        if len(sids) == 1 and tail not in out and tail not in ("room", "area", "place"):
            out[tail] = next(iter(sids))
    for head, sids in heads.items():
        if head in out or len(sids) < 3:
            continue
        degs = sorted(((degree(sc, s), s) for s in sids), reverse=True)
        if degs[0][0] >= 2 * max(1, degs[1][0]) and degs[0][0] >= 4:
            out[head] = degs[0][1]
            out[head + " district"] = degs[0][1]
            out[head + " quarter"] = degs[0][1]
    ranked = sorted(out.items(), key=lambda kv: -len(kv[0]))
    sc._phrases = ranked  # type: ignore[attr-defined]
    if len(_PHRASES) > 64:
        _PHRASES.clear()
    _PHRASES[key] = ranked
    return ranked


def mentioned_states(sc: Scene, text: str) -> list[str]:
    """States named in ``text`` (see :func:`phrases`), in the order they appear, no overlaps."""
    low = " " + re.sub(r"[^a-z0-9']+", " ", text.lower()).replace("'s ", " ") + " "
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for phrase, sid in phrases(sc):
        words = " " + phrase + " "
        i = low.find(words)
        if i < 0 and phrase.endswith("s"):
            i = low.find(" " + phrase[:-1] + " ")
        if i < 0 and not phrase.endswith("s"):
            i = low.find(" " + phrase + "s ")
        if i < 0:
            continue
        span = (i, i + len(words))
        if any(a < span[1] and span[0] < b for a, b in taken):
            continue
        taken.append(span)
        if sid not in [s for _, s in found]:
            found.append((i, sid))
    return [s for _, s in sorted(found)]


def find_state(sc: Scene, text: str) -> tuple[str, int, int] | None:
    """The first state named in ``text`` with the span of its words."""
    low = text.lower()
    best: tuple[str, int, int] | None = None
    for phrase, sid in phrases(sc):
        if phrase not in low:
            continue
        m = re.search(r"\b(?:the\s+)?" + re.escape(phrase) + r"s?\b", low)
        if m and (best is None or m.start() < best[1]):
            best = (sid, m.start(), m.end())
    return best


def flag_in(text: str, flags: list[str]) -> list[str]:
    """Flags whose words appear in ``text`` (a flag's last word is enough: "the card" → access_card)."""
    st = set(stems(text))
    out = []
    for f in flags:
        fs = stems(display(f))
        if fs and (all(t in st for t in fs) or fs[-1] in st):
            out.append(f)
    return out


def required_flags(sc: Scene) -> list[str]:
    out: list[str] = []
    for e in sc.events:
        for r in e.get("requires") or []:
            if isinstance(r, str) and r not in out:
                out.append(r)
    return out


def event_dict(sc: Scene, name: str) -> dict[str, Any]:
    return sc.event(name) or {}
