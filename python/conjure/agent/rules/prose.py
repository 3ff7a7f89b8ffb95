"""Rules about how a place looks: a new description (also asked for as a look or a scene
fragment), a detail in the picture, what the camera or the scene does when the player stands
still or moves."""

from __future__ import annotations

import re
from typing import Any

from conjure.agent.prose import article, fit_base, sanitize
from conjure.agent.rules import lexicon as L
from conjure.agent.rules.link import mentioned_states
from conjure.agent.scene import Clarify, display

_PREP = r"(?:at|in|during|under|on|with|by|lit by|covered in|after|before|full of|at night|as)"


def _set_base(p: Any, sid: str, desc: str) -> None:
    desc = sanitize(desc)
    if not desc:
        raise Clarify(f"How should the {display(sid)} look? Describe what can be seen there.")
    new_base = fit_base(p.sc.states[sid], p._keep_slots(sid, desc), p.sc.slots)
    p.ops.append({"op": "update_state", "id": sid, "patch": {"base": new_base}})


def describe(p: Any) -> bool:
    t = p.t
    m = re.match(r"^(?:describe|depict|show|paint|picture|render)\s+(?P<ref>.+?)\s+(?P<desc>" + _PREP + r"\b.+)$", t)
    if m and not m.group("desc").startswith("as "):
        states = mentioned_states(p.sc, m.group("ref"))
        if len(states) == 1 and re.fullmatch(r"(?:the\s+)?" + re.escape(display(states[0])), m.group("ref").strip()):
            sid = states[0]
            _set_base(p, sid, f"{article(display(sid))} {p.unq(m.group('desc'))}")
            return True
    m = re.match(r"^make\s+(?P<ref>.+?)\s+(?:just|simply|into|look like)?\s*(?P<desc>(?:a|an)\s+.+)$", t)
    if m and not re.search(r"\b(?:ending|end|start|entrance|variant|version|one-shot|secret|hidden|slot|action)\b", m.group("desc")):
        states = mentioned_states(p.sc, m.group("ref"))
        if len(states) == 1 and re.fullmatch(r"(?:the\s+)?" + re.escape(display(states[0])) + r"s?", m.group("ref").strip()):
            _set_base(p, states[0], p.unq(m.group("desc")))
            return True
    m = re.match(r"^(?P<ref>.+?)\s+should\s+(?:show|depict|be of)\s+(?P<desc>.+)$", t)
    if m:
        states = mentioned_states(p.sc, m.group("ref"))
        if len(states) == 1:
            sid = states[0]
            _set_base(p, sid, f"{article(display(sid))} with {p.unq(m.group('desc'))}")
            return True
    m = re.match(r"^(?P<ref>.+?)\s+(?:looks|should look|look|is|should be|seems)\s+like\s+(?P<desc>.+)$", t)
    if m:
        states = mentioned_states(p.sc, m.group("ref"))
        if len(states) == 1:
            _set_base(p, states[0], p.unq(m.group("desc")))
            return True
    # a scene fragment with no verb: "the platform in a blizzard", "the cave at dusk, fireflies over the pool"
    for sid in sorted(p.sc.states, key=lambda s: -len(display(s))):
        if not t.startswith((display(sid), "the " + display(sid))):
            continue
        fm = re.match(r"^(?:the\s+)?" + re.escape(display(sid)) + r"\s+(?P<desc>" + _PREP + r"\b.+)$", t)
        if fm and not re.search(r"\b(?:should|must|needs?|requires?|is|are|isn't|shouldn't|can|will|leads?|goes|add|remove|delete)\b", fm.group("desc")):
            _set_base(p, sid, f"{article(display(sid))} {p.unq(fm.group('desc'))}")
            return True
    return False


def _append_ambient(p: Any, sid: str, detail: str) -> None:
    detail = sanitize(detail)
    if not detail:
        raise Clarify(f"What should be added to the {display(sid)}? Describe what can be seen.")
    st = p.sc.states[sid]
    ambient = [a for a in st.get("ambient") or [] if isinstance(a, str)]
    p.ops.append({"op": "update_state", "id": sid, "patch": {"ambient": ambient + [detail]}})


def detail(p: Any) -> bool:
    """"add some bats hanging from the ceiling of the crypt", "the stairs should have coils of
    rope on every landing", "sparks should be falling from the ceiling in the cockpit"."""
    t = p.t
    m = re.match(r"^(?:add|put|place|hang|scatter)\s+(?P<what>.+)$", t)
    have = re.match(r"^(?P<ref>.+?)\s+should\s+(?:have|contain|feature)\s+(?P<what>.+)$", t)
    falling = re.match(r"^(?P<what>.+?)\s+should\s+be\s+(?P<ing>\w+ing)\b(?P<rest>.*)$", t)
    if have:
        states = mentioned_states(p.sc, have.group("ref"))
        if len(states) == 1 and not re.search(r"\b(?:ending|variant|slot|key|action)\b", have.group("what")):
            _append_ambient(p, states[0], p.unq(have.group("what")))
            return True
        return False
    if falling and "camera" not in t:
        states = mentioned_states(p.sc, falling.group("rest"))
        what = falling.group("what")
        if len(states) == 1 and not mentioned_states(p.sc, what):
            sid = states[0]
            rest = _drop_state(falling.group("rest"), sid)
            _append_ambient(p, sid, f"{what} {falling.group('ing')}{rest}")
            return True
        return False
    if not m:
        return False
    what = m.group("what")
    states = mentioned_states(p.sc, what)
    if len(states) != 1 or "\u27e6" in what:
        return False
    sid = states[0]
    core = re.split(r"\s(?:to|in|on|of|from|outside|inside|around|at|into|off|next|behind|beside|near|below|above|under|"
                    r"over|past|beyond|called|named|with|reachable|leading)\s", " " + what + " ")[0]
    words = [w for w in re.findall(r"[a-z]+", core) if w not in ("a", "an", "the", "some", "more", "few")]
    if not words:
        return False
    head = words[-1] if not words[-1].endswith("ing") else (words[-2] if len(words) > 1 else words[-1])
    if head in L.PLACE_NOUNS or re.search(r"\b(?:ending|variant|version|slot|action|event|way|path|door|passage|tunnel)\b", what):
        return False
    text = _drop_state(what, sid)
    _append_ambient(p, sid, text)
    return True


def _drop_state(text: str, sid: str) -> str:
    name = re.escape(display(sid))
    text = re.sub(r"\s+(?:to|in|into|inside|at|of|for)\s+(?:the\s+)?" + name + r"\b", "", text)
    text = re.sub(r"\b(?:the\s+)?" + name + r"(?:'s)?\b", "the", text)
    text = re.sub(r"\bthe\s+the\b", "the", text)
    return re.sub(r"\s+", " ", text).strip(" ,")


def camera(p: Any) -> bool:
    t = p.t
    if not re.search(r"\bcamera\b", t) and not re.search(r"\bwhile\s+(?:you|the player)\s+(?:stand|walk|move)", t):
        return False
    states = mentioned_states(p.sc, t)
    if len(states) != 1:
        return False
    sid = states[0]
    moving = re.search(r"\b(?:walks?|walking|moves?|moving|climbs?|climbing|runs?|running|as you|as the player|when they move|follow|follows|following|crawls?|crawling)\b", t)
    still = re.search(r"\b(?:still|stand|stands|standing|idle|stop|stops|stopped|wait|waits)\b", t)
    layer = "dynamic" if moving and not still else "static"
    cm = re.search(r"\bcamera\s+(?:should\s+|to\s+|will\s+)?(?:be\s+)?(?P<what>.+?)(?=\s+(?:when|while|as|if|whenever)\b|,|$)", t)
    field = "camera"
    if cm:
        what = cm.group("what")
    else:
        lm = re.match(r"^(?:(?:as|while|when)\s+[^,]+,\s*)?(?P<what>.+?)\s+should\s+(?P<v>.+)$", t)
        if not lm:
            return False
        what = f"{lm.group('what')} {lm.group('v')}"
        field = "movement"
    what = re.sub(r"\b(?:in|on|at|inside|of)\s+(?:the\s+)?" + re.escape(display(sid)) + r"\b", "", what)
    what = re.sub(r"\b(?:the player|them|they|you|the camera|camera)\b", lambda m: "the camera" if "camera" in m.group(0) else "", what)
    what = re.sub(r"\s+", " ", what).strip(" ,")
    if field == "camera":
        what = re.sub(r"^(?:slowly\s+)?(?P<v>\w+)", lambda m: (("slow " if "slowly" in t else "") + m.group("v")), what)
    prose = sanitize(what)
    if not prose:
        return False
    cur = p.sc.states[sid].get(field) if isinstance(p.sc.states[sid].get(field), dict) else {}
    p.ops.append({"op": "update_state", "id": sid, "patch": {field: dict(cur, **{layer: prose})}})
    return True


RULES = [camera, describe, detail]
