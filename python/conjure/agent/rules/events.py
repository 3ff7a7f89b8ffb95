"""Rules about an existing action: once or again and again, secret or listed, its key, its
timer, taking it away, or taking one place out of where it can start."""

from __future__ import annotations

import re
from typing import Any

from conjure.agent.rules import link
from conjure.agent.rules.link import mentioned_states
from conjure.agent.scene import Clarify, display

_N = r"(?P<n>\d+(?:\.\d+)?|a|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty|forty|forty-five|fifty|sixty|ninety)"
_U = r"(?P<u>seconds?|secs?|s|minutes?|mins?)"
_NUMS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
         "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60,
         "ninety": 90}
_KEYS = r"(?P<key>[a-z0-9]|space|enter|tab|backspace)"


def _strip(ref: str) -> str:
    if re.fullmatch(r"\s*\u27e6\d+\u27e7\s*", re.sub(r"\b(?:make|the|a|an|action|event)\b", " ", ref)):
        return re.sub(r"\b(?:make|the|a|an|action|event)\b", " ", ref).strip()
    ref = re.sub(r"\b(?:you|players?|people|the player|someone|they)\s+(?:should|can|could)?\s*(?:only\s+)?(?:be able to\s+)?", "", ref)
    ref = re.sub(r"\b(?:should|must|can|could|only|be able to|make|let|a|an|the|action|thing|event|secret|hidden)\b", " ", ref)
    return re.sub(r"\s+", " ", ref).strip(" ,")


def _patch(p: Any, name: str, patch: dict[str, Any]) -> None:
    p.ops.append({"op": "update_event", "name": name, "patch": patch})


def once(p: Any) -> bool:
    t = p.t
    if re.search(r"\b(?:seconds?|minutes?)\b", t):
        return False
    repeat = re.search(r"\b(?:repeatable|as many times as|over and over|again and again|more than once|any number of times|every time|whenever)\b", t)
    single = re.search(r"\b(?:only\s+(?:be\s+able\s+to\s+)?.*\b(?:once|one time)|(?:once|one time)\s+only|one[- ]shot|single use|only (?:work|happen|fire)s? once|once)\b", t)
    if not (repeat or single):
        return False
    ref = re.sub(r"\b(?:repeatable|as many times as (?:they|you|he|she) (?:like|want)s?|over and over|again and again|more than once|any number of times|one[- ]shot|single use|one time|once|only)\b", " ", t)
    ref = _strip(re.sub(r"\b(?:should be|should|be|possible|work|happen|fire|able to)\b", " ", ref))
    if not ref:
        return False
    ranked = link.rank_events(p.sc, p.unq(ref))
    if not ranked or ranked[0][0] < 10:
        return False
    name = link.event(p.sc, p.unq(ref))
    _patch(p, name, {"oneShot": not repeat})
    return True


def secret(p: Any) -> bool:
    t = p.t
    show = re.search(r"\b(?:shouldn't be hidden|should not be hidden|not be hidden|un-?hide|reveal|visible|show up|listed)\b", t)
    hide = re.search(r"\b(?:secret|hidden|hide|invisible|from the menu|unlisted)\b", t)
    if not (show or hide):
        return False
    if re.search(r"\b(?:hide|put|leave|place)\s+(?:a|an|some)\b", t) or re.search(r"^(?:a|an|some)\s.+\bis hidden\b", t):
        return False  # hiding an item is a pickup
    if re.search(r"\bhidden\s+(?:in|inside|at|on|under|somewhere)\b", t) or re.match(r"^(?:add|create|build|put|there|i|we)\b", t):
        return False  # an item hidden somewhere, or a new hidden place
    if re.search(r"\bfrom\b.+\b(?:to|into|onto)\b", t) and len(mentioned_states(p.sc, t)) >= 2:
        return False  # a new secret way between two places
    ref = re.sub(r"\b(?:shouldn't be hidden|should not be hidden|not be hidden|unhide|un-hide|reveal|visible|secret|hidden|hide|invisible|from the menu|unlisted|shouldn't|should|be|is|make|in|into|a|an)\b", " ", t)
    ref = _strip(ref)
    ranked = link.rank_events(p.sc, p.unq(ref))
    if not ranked or ranked[0][0] < 10:
        return False
    name = link.event(p.sc, p.unq(ref))
    ev = link.event_dict(p.sc, name)
    patch: dict[str, Any] = {"hidden": not show}
    if not show and not ev.get("hotkey") and not (ev.get("timing") or {}).get("after"):
        patch["hotkey"] = p.sc.pick_key(p.sc.froms(ev), name)
    _patch(p, name, patch)
    return True


def hotkey(p: Any) -> bool:
    pats = [
        r"^(?:change|set|switch|make)\s+(?:the\s+)?(?:hot)?key\s+(?:of|for)\s+(?P<ref>.+?)\s+(?:to|into|as)\s+(?:the\s+)?(?:key\s+)?" + _KEYS + r"$",
        r"^(?:the\s+)?(?:hot)?key\s+(?:of|for)\s+(?P<ref>.+?)\s+(?:should be|is|=)\s+(?:the\s+)?(?:key\s+)?" + _KEYS + r"$",
        r"^(?:change|set|switch|make)\s+(?P<ref>.+?)(?:'s)?\s+(?:hot)?key\s+(?:to|into|as)\s+(?:the\s+)?" + _KEYS + r"$",
        r"^(?:bind|map|assign)\s+(?P<ref>.+?)\s+to\s+(?:the\s+)?(?:key\s+)?" + _KEYS + r"(?:\s+key)?$",
        r"^(?P<ref>.+?)\s+should\s+(?:use|be on|be bound to)\s+(?:the\s+)?(?:key\s+)?" + _KEYS + r"(?:\s+key)?$",
        r"^use\s+(?:the\s+)?(?:key\s+)?" + _KEYS + r"\s+(?:key\s+)?(?:for|to trigger|to fire)\s+(?P<ref>.+)$",
    ]
    for pat in pats:
        m = re.match(pat, p.t)
        if not m:
            continue
        ref = _strip(m.group("ref"))
        name = link.event(p.sc, p.unq(ref))
        p.key = m.group("key")
        ev = link.event_dict(p.sc, name)
        key = p.user_key(p.sc.froms(ev), ignore=name)
        _patch(p, name, {"hotkey": key})
        return True
    return False


def timer(p: Any) -> bool:
    m = re.match(r"^(?P<ref>.+?)\s+should\s+(?P<what>(?:\w+\s+){0,4}?)after\s+" + _N + r"\s+" + _U + r"(?P<rest>.*)$", p.t)
    if not m:
        m = re.match(r"^(?:make\s+)?(?P<ref>.+?)\s+(?:fire|happen|trigger|go off)\s+(?P<what>)after\s+" + _N + r"\s+" + _U + r"(?P<rest>.*)$", p.t)
    if not m:
        return False
    ref = _strip(m.group("ref") + " " + re.sub(r"\b(?:happen|come|fire|trigger|by itself|on its own|automatically)\b", " ", m.group("what")))
    ranked = link.rank_events(p.sc, p.unq(ref))
    if not ranked or ranked[0][0] < 10:
        return False
    name = link.event(p.sc, p.unq(ref))
    n = m.group("n")
    secs = float(_NUMS.get(n, 0) or n)
    if m.group("u").startswith("m"):
        secs *= 60
    ev = link.event_dict(p.sc, name)
    timing = dict(ev.get("timing") or {})
    timing["after"] = int(secs) if secs == int(secs) else secs
    _patch(p, name, {"timing": timing})
    return True


def take_away(p: Any) -> bool:
    """"don't let players X", "delete swimming the rapids", "remove the whistle action",
    "the player shouldn't be able to go back to the courtyard from the cellar"."""
    t = p.t
    m = re.match(r"^(?:the\s+)?(?:players?|you|people|they)\s+(?:shouldn't|should not|can't|cannot|mustn't)\s+(?:be able to\s+)?(?P<ref>.+)$", t) \
        or re.match(r"^(?:don't|do not|never)\s+let\s+(?:the\s+)?(?:players?|people|anyone|them|you)\s+(?P<ref>.+)$", t) \
        or re.match(r"^(?P<ref>(?:the\s+)?\w+)\s+(?:shouldn't|should not|mustn't)\s+(?:lead|go)\s+(?P<back>back\s+)?to\s+(?P<to>.+)$", t)
    if m and m.groupdict().get("to"):
        src = mentioned_states(p.sc, m.group("ref"))
        dst = mentioned_states(p.sc, m.group("to"))
        if len(src) == 1 and len(dst) == 1:
            return _cut(p, src[0], dst[0])
        return False
    if m:
        ref = m.group("ref")
        fm = re.match(r"^(?:go|get|walk|head|return|come)\s+back\s+(?:to|into)\s+(?P<to>.+?)\s+from\s+(?P<src>.+)$", ref) \
            or re.match(r"^(?:go|get|walk|head|return|come)\s+(?:back\s+)?(?:down\s+|up\s+)?from\s+(?P<src>.+?)(?:\s+(?:back\s+)?to\s+(?P<to>.+))?$", ref)
        if fm:
            src = mentioned_states(p.sc, fm.group("src"))
            dst = mentioned_states(p.sc, fm.group("to") or "")
            if len(src) == 1 and len(dst) <= 1:
                return _cut(p, src[0], dst[0] if dst else None, ref)
        return _delete(p, ref)
    m = re.match(r"^(?:remove|delete|get rid of|scrap|drop|take out)\s+(?P<ref>.+)$", t)
    if not m:
        return False
    ref = m.group("ref")
    q = p.quoted(ref.replace(" action", "").replace("the ", "", 1).strip())
    if q is not None and p.sc.event(q):
        p.ops.append({"op": "delete_event", "name": q})
        return True
    words = re.findall(r"[a-z]+", ref)
    gerund = words and words[0] != "the" and words[0].endswith("ing") and words[0] not in ("building", "landing", "ceiling", "clearing", "crossing", "dining", "sleeping")
    named = re.search(r"\b(?:action|thing|event|trigger|option|ability)\b", ref)
    if not (gerund or named or re.search(r"\b\w+ing\b", ref) and not mentioned_states(p.sc, ref)):
        return False
    return _delete(p, re.sub(r"\b(?:the action that|the action|action|thing|event|trigger|option|ability)\b", " ", ref))


def _delete(p: Any, ref: str) -> bool:
    """Deletes the action ``ref`` names when its words clearly point at one (else no match)."""
    ref = _strip(ref)
    ranked = link.rank_events(p.sc, p.unq(ref))
    if not ranked or ranked[0][0] < 10:
        return False
    p.ops.append({"op": "delete_event", "name": link.event(p.sc, p.unq(ref))})
    return True


def _cut(p: Any, src: str, dst: str | None, ref: str = "") -> bool:
    cands = [e for e in p.sc.events if src in p.sc.froms(e) and e.get("kind", "transition") == "transition"
             and (dst is None or e.get("to") == dst)]
    if not cands:
        raise Clarify(f"Nothing leads from the {display(src)}{' to the ' + display(dst) if dst else ''} yet. What should change?")
    if len(cands) > 1:
        names = ", ".join(f"\u2018{e['name']}\u2019" for e in cands[:6])
        raise Clarify(f"Which way out of the {display(src)} do you mean: {names}?")
    ev = cands[0]
    froms = p.sc.froms(ev)
    if len(froms) > 1:
        _patch(p, ev["name"], {"from": [f for f in froms if f != src]})
    else:
        p.ops.append({"op": "delete_event", "name": ev["name"]})
    return True


RULES = [take_away, hotkey, timer, once, secret]
