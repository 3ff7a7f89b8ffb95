"""Pixel prose for the agent: the doctrine word lists, a sanitiser, the token budget.

The word lists and the token count are the kernel's (through ``conjure._core``). The agent
uses them to write prose the gate accepts without doctrine
warnings: clauses that negate or state intent are dropped, whiteout phrases are
replaced by safe ones, and a state's composed prompt is kept inside the token budget.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from conjure import _core

__all__ = [
    "NEGATION",
    "INTENT",
    "WHITEOUT",
    "LETHAL",
    "doctrine_hits",
    "is_lethal",
    "sanitize",
    "count_tokens",
    "composed_tokens",
    "fit_base",
    "slug",
    "article",
    "gerund",
    "base_verb",
    "BUDGET",
]

BUDGET = 77

# The doctrine word lists are the kernel's own (cpp/data/lints/*.txt, compiled into the core).
NEGATION: tuple[str, ...] = tuple(_core.doctrine_words("negation"))
INTENT: tuple[str, ...] = tuple(_core.doctrine_words("intent"))
WHITEOUT: tuple[str, ...] = tuple(_core.doctrine_words("whiteout"))
LETHAL: tuple[str, ...] = tuple(_core.doctrine_words("lethal-override"))

# Safe stand-ins for whiteout phrases (longest phrases are matched first).
_WHITEOUT_SWAPS: dict[str, str] = {
    "bright white light": "warm amber light",
    "blinding white": "pale gold",
    "blinding light": "warm glow",
    "blinding": "glaring",
    "white light": "pale light",
    "flash of white": "flicker of pale light",
    "white flash": "pale flicker",
    "flash of light": "flicker of lamplight",
    "pure white": "pale grey",
    "all white": "pale grey",
    "whiteout": "swirling snow",
    "white out": "swirling snow",
    "engulfed in fog": "wrapped in low fog",
    "engulfed in smoke": "wreathed in thin smoke",
    "engulfed in light": "bathed in warm light",
}

_WORD = "A-Za-z0-9"


def _entry_pattern(entry: str) -> str:
    if entry.startswith("*"):
        suffix = re.escape(entry[1:]).replace("'", "['\u2019]")
        return rf"[A-Za-z]+{suffix}(?![{_WORD}])"
    words = [re.escape(w).replace("'", "['\u2019]") for w in entry.split()]
    sep = r"[\s-]+"
    return rf"(?<![{_WORD}]){sep.join(words)}(?![{_WORD}])"


@lru_cache(maxsize=None)
def _compiled(entries: tuple[str, ...]) -> re.Pattern[str]:
    ordered = sorted(entries, key=len, reverse=True)
    return re.compile("|".join(_entry_pattern(e) for e in ordered), re.IGNORECASE)


def doctrine_hits(text: str, *, lethal: bool = False) -> list[str]:
    """Every doctrine match in ``text`` (negation, intent, whiteout; lethal words too when asked)."""
    hits: list[str] = []
    lists: list[tuple[str, ...]] = [NEGATION, INTENT, WHITEOUT]
    if lethal:
        lists.append(LETHAL)
    for entries in lists:
        hits.extend(m.group(0) for m in _compiled(entries).finditer(text))
    return hits


def is_lethal(text: str) -> bool:
    """True when ``text`` holds a word of the lethal-override list."""
    return _compiled(LETHAL).search(text) is not None


_CLAUSE_SPLIT = re.compile(r"\s*(?:[,;]|\s+but\s+|\s+and\s+(?=(?:no|not|never|without|nothing|none)\b))\s*", re.IGNORECASE)


def _swap_whiteout(text: str) -> str:
    keys = sorted(_WHITEOUT_SWAPS, key=len, reverse=True)
    for key in keys:
        text = re.sub(_entry_pattern(key), _WHITEOUT_SWAPS[key], text, flags=re.IGNORECASE)
    return text


def sanitize(text: str) -> str:
    """Pixel prose from free text: whiteout phrases swapped, negating or intent clauses dropped.

    Returns the cleaned prose ("" when nothing describable is left).

    >>> sanitize("a dusty hall with no windows, tall shelves")
    'tall shelves'
    >>> sanitize("a white flash over the lake")
    'a pale flicker over the lake'
    """
    text = re.sub(r"\s+", " ", str(text)).strip().strip(".!?")
    text = _swap_whiteout(text)
    kept: list[str] = []
    for clause in _CLAUSE_SPLIT.split(text):
        clause = clause.strip(" .")
        if not clause:
            continue
        if _compiled(NEGATION).search(clause) or _compiled(INTENT).search(clause):
            continue
        if _compiled(WHITEOUT).search(clause):
            continue
        kept.append(clause)
    return ", ".join(kept)


def count_tokens(text: str) -> int:
    """The kernel's default token count (``conjure-words-v1``, the ``budget`` lint's)."""
    return _core.count_tokens(text)


_SLOT_REF = re.compile(r"(?<!\{)\{([A-Za-z0-9_.\-]+)\}(?!\})")


def fill_slots(text: str, slots: dict[str, str], depth: int = 0) -> str:
    """``text`` with ``{slot}`` references filled (recursively; unknown slots are left as written)."""
    if depth > 16:
        return text

    def repl(m: re.Match[str]) -> str:
        value = slots.get(m.group(1))
        if not isinstance(value, str):
            return m.group(0)
        return fill_slots(value, slots, depth + 1)

    return _SLOT_REF.sub(repl, text)


def composed_tokens(state: dict, slots: dict[str, str]) -> int:
    """The larger of a state's static and dynamic prompt token counts, as the budget lint counts them."""
    worst = 0
    for layer in ("static", "dynamic"):
        parts: list[str] = []
        base = state.get("base")
        if isinstance(base, str) and base:
            parts.append(base)
        for key in ("camera", "movement"):
            block = state.get(key)
            if isinstance(block, dict) and isinstance(block.get(layer), str) and block[layer]:
                parts.append(block[layer])
        ambient = state.get("ambient")
        if isinstance(ambient, list):
            parts.extend(a for a in ambient if isinstance(a, str) and a)
        composed = ", ".join(fill_slots(p, slots) for p in parts)
        worst = max(worst, count_tokens(composed))
    return worst


def fit_base(state: dict, base: str, slots: dict[str, str], budget: int = BUDGET) -> str:
    """``base`` shortened (middle clauses dropped first, then trailing words) so the state fits the budget."""
    clauses = [c for c in (p.strip() for p in base.split(",")) if c]
    trial = dict(state)
    while True:
        trial["base"] = ", ".join(clauses)
        if composed_tokens(trial, slots) <= budget or len(clauses) <= 2:
            break
        del clauses[-2]
    while composed_tokens(trial, slots) > budget and len(clauses) >= 1:
        words = clauses[-1].split()
        if len(words) <= 2:
            if len(clauses) == 1:
                break
            clauses.pop()
        else:
            clauses[-1] = " ".join(words[:-1])
        trial["base"] = ", ".join(clauses)
    return trial["base"]


def slug(text: str, sep: str = "_", max_len: int = 48) -> str:
    """A state id / flag name from free text: lower-case ``[a-z0-9]`` words joined by ``sep``."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))
    out = sep.join(words)[:max_len].strip(sep)
    return out


def article(phrase: str) -> str:
    """``phrase`` with an indefinite article unless it already starts with a determiner."""
    p = phrase.strip()
    first = p.split(" ", 1)[0].lower() if p else ""
    if first in {"a", "an", "the", "some", "this", "that", "its", "his", "her", "their", "my", "our", "two", "three"}:
        return p
    if p.startswith("{"):
        return p
    if not p:
        return p
    return ("an " if p[0].lower() in "aeiou" else "a ") + p


_IRREGULAR_GERUND = {
    "die": "dying", "lie": "lying", "tie": "tying", "be": "being", "see": "seeing", "flee": "fleeing",
    "run": "running", "swim": "swimming", "slip": "slipping", "step": "stepping", "drop": "dropping",
    "get": "getting", "sit": "sitting", "trip": "tripping", "fall": "falling", "spin": "spinning",
    "sink": "sinking", "dig": "digging", "stop": "stopping", "plan": "planning", "grab": "grabbing",
}
_IRREGULAR_BASE = {
    "is": "be", "has": "have", "does": "do", "goes": "go", "dies": "die", "lies": "lie", "flies": "fly",
    "tries": "try", "cries": "cry", "carries": "carry", "hurries": "hurry",
}


def base_verb(word: str) -> str:
    """The base form of a third-person verb: ``falls`` → ``fall``, ``escapes`` → ``escape``."""
    w = word.lower()
    if w in _IRREGULAR_BASE:
        return _IRREGULAR_BASE[w]
    if w.endswith(("ches", "shes", "sses", "xes", "zzes")):
        return w[:-2]
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        return w[:-1]
    return w


def gerund(verb: str) -> str:
    """The -ing form of a base verb: ``fall`` → ``falling``, ``escape`` → ``escaping``."""
    v = verb.lower()
    if v in _IRREGULAR_GERUND:
        return _IRREGULAR_GERUND[v]
    if v.endswith("ing"):
        return v
    if v.endswith("ie"):
        return v[:-2] + "ying"
    if v.endswith("e") and not v.endswith(("ee", "ye", "oe")) and len(v) > 2:
        return v[:-1] + "ing"
    return v + "ing"


def join_clauses(parts: Iterable[str]) -> str:
    """Non-empty parts joined with commas."""
    return ", ".join(p.strip() for p in parts if p and p.strip())


def dedupe(seq: Sequence[str]) -> list[str]:
    """``seq`` without repeats, order kept."""
    seen: set[str] = set()
    out: list[str] = []
    for item in seq:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
