"""Rules about items: a way that needs one (or no longer does), an item left somewhere to pick
up, an item given on the way in."""

from __future__ import annotations

import re
from typing import Any

from conjure.agent import words as W
from conjure.agent.prose import slug
from conjure.agent.rules import lexicon as L
from conjure.agent.rules import link
from conjure.agent.rules.link import flag_in, mentioned_states, required_flags
from conjure.agent.scene import Clarify, display, tokens

_NEG = r"(?:shouldn't|should not|don't|doesn't|does not|do not|no longer|not|won't|needn't|without)\s+(?:need|needs|needing|require|requires|requiring)"


def _item_np(text: str) -> str:
    text = re.sub(r"^(?:the|a|an|some|any|that|this|your|their)\s+", "", text.strip())
    text = re.sub(r"^(?:pair|set|bunch|piece|box|bag|jar)\s+of\s+", "", text)
    text = re.sub(r"\s+(?:too|also|as well|first|to get (?:up |in |through )?(?:there|in|inside|through)?|to get .+|to go .+|to enter|to open .+)$", "", text)
    return text.strip(" ,")


def unneed(p: Any) -> bool:
    t = p.t
    neg = re.search(_NEG, t) or re.search(r"\bno\s+(?P<x>[a-z ]+?)\s+needed\b", t) or re.search(r"\bno need for\b", t)
    if not neg:
        return False
    flags = required_flags(p.sc)
    named = flag_in(t, flags)
    anything = re.search(r"\b(?:anything|any items?|nothing)\b", t)
    rest = re.sub(_NEG, " ", t)
    if not named and not anything:
        if re.search(r"\b(?:need|needs|require|requires|needed)\b", t) and flags:
            names = ", ".join(display(f) for f in flags[:6])
            raise Clarify(f"Which item should no longer be needed: {names}?")
        return False
    cands = []
    for e in p.sc.events:
        req = [r for r in e.get("requires") or [] if isinstance(r, str)]
        hit = [r for r in req if r in named] if named else req
        if hit:
            cands.append((e, hit))
    if not cands:
        return False
    if len(cands) > 1:
        ctx = rest
        for f in named:
            ctx = re.sub(r"\b" + re.escape(display(f)) + r"\b", " ", ctx)
        scored = []
        for e, hit in cands:
            s = link.rank_events(p.sc, ctx)
            score = next((sc for sc, n in s if n == e["name"]), 0.0)
            scored.append((score, e, hit))
        scored.sort(key=lambda x: -x[0])
        if scored[0][0] == scored[1][0]:
            names = ", ".join(f"\u2018{e['name']}\u2019" for _, e, _ in scored[:6])
            raise Clarify(f"Which action should stop needing it: {names}?")
        cands = [(scored[0][1], scored[0][2])]
    e, hit = cands[0]
    keep = [r for r in e.get("requires") or [] if r not in hit]
    p.ops.append({"op": "update_event", "name": e["name"], "patch": {"requires": keep or None}})
    return True


_SRC = (r"(?:,?\s*(?:which|that)\s+(?:is|are|'s)\s+|\s*,?\s*(?:that's|which's)\s+|\s+)?"
        r"(?:(?:found|hidden|kept|lying|stored|placed|located|left|sitting|waiting|resting)\s+)?(?:somewhere\s+)?(?:in|inside|from|at|on)\s+")


def need(p: Any) -> bool:
    t = p.t
    if not re.search(r"\b(?:need|needs|require|requires|required|locked|lock)\b", t) or re.search(_NEG, t):
        return False
    item = target = source = None
    m = re.match(r"^(?:lock|gate|block)\s+(?P<target>.+?)(?::|,|;| -)\s*(?:you|the player|players)\s+(?:need|needs|must have)\s+(?P<item>.+)$", t) \
        or re.match(r"^(?:lock|gate|block)\s+(?P<target>.+?)\s+(?:behind|with|using)\s+(?P<item>.+)$", t) \
        or re.match(r"^to\s+(?:get\s+to|get\s+into|get\s+in|enter|reach|open|go\s+to|go\s+into|use|cross)\s+(?P<target>.+?),?\s+(?:you|the player|players)\s+(?:need|needs|must have|have to have)\s+(?P<item>.+)$", t) \
        or re.match(r"^(?P<target>.+?)\s+(?:is|should be|must be)\s+locked(?:\s*,\s*|\s+and\s+|\s*:\s*)(?:the\s+)?(?P<item>.+?)\s+(?:is|are|lies|lie|can be found)\s+(?P<source>(?:in|inside|at|on)\s+.+)$", t) \
        or re.match(r"^(?P<target>.+?)\s+(?:should|must|will)?\s*(?:be\s+)?locked\s+(?:behind|with|by)\s+(?P<item>.+)$", t) \
        or re.match(r"^(?P<target>.+?)\s+(?:should|must|will|to)?\s*(?:need|needs|require|requires)\s+(?!to\b)(?P<item>.+)$", t)
    if not m:
        return False
    target, item = m.group("target"), m.group("item")
    if re.match(r"^(?:i|we|you|they|people|players?|the player)$", target.strip()):
        return False
    if m.groupdict().get("source"):
        source = m.group("source")
    else:
        for phrase, sid in link.phrases(p.sc):
            if phrase not in item:
                continue
            sm = re.search(_SRC + r"(?:the\s+)?" + re.escape(phrase) + r"\b.*$", item)
            if sm:
                source = display(sid)
                item = item[: sm.start()]
                break
    item = _item_np(item)
    if not item or not tokens(item):
        return False
    granted = p.sc.granted_flags()
    reuse = flag_in(item, granted)
    flag, item = (reuse[0], display(reuse[0])) if len(reuse) == 1 else p._item(item)
    if source is None and flag not in granted:
        places = ", ".join(display(s) for s in list(p.sc.states)[:8])
        raise Clarify(f"Where can the {item} be found? Name the place (the places are {places}).")
    names = _lock_targets(p, target)
    for name in names:
        ev = link.event_dict(p.sc, name)
        req = [r for r in ev.get("requires") or [] if isinstance(r, str)]
        if flag not in req:
            p.ops.append({"op": "update_event", "name": name, "patch": {"requires": req + [flag]}})
    if source is not None and flag not in granted:
        src = link.state(p.sc, re.sub(r"^(?:in|inside|at|on|from)\s+", "", source))
        p._pickup(display(src), flag, item)
    return True


def _lock_targets(p: Any, target: str) -> list[str]:
    target = re.sub(r"^(?:the\s+)?(?:way|path|door|entrance)\s+(?:to|into)\s+", "", target.strip())
    target = re.sub(r"\b(?:should|must|will|also|too)\b", " ", target).strip()
    words = re.findall(r"[a-z]+", target)
    states = mentioned_states(p.sc, target)
    gerund = bool(words) and words[0].endswith("ing") and words[0] not in ("building", "landing", "dining", "sleeping")
    ranked = link.rank_events(p.sc, target)
    if gerund or (not states and ranked) or (ranked and ranked[0][0] >= 15 and not re.fullmatch(r"(?:the\s+)?" + re.escape(display(states[0])) if states else "", target)):
        name = link.event(p.sc, target)
        return [name]
    sid = link.state(p.sc, target)
    names = [e["name"] for e in p.sc.incoming(sid)]
    if not names:
        raise Clarify(f"Nothing leads to the {display(sid)} yet, so there is no way in to lock. Connect a place to it first.")
    return names


def leave(p: Any) -> bool:
    """"put a silver chalice in the nave", "a locket is hidden in the attic",
    "there's a datapad in the cockpit the player can pick up"."""
    t = p.t
    m = re.match(r"^(?:put|place|hide|leave|drop|stash|add)\s+(?P<item>(?:a|an|the|some|one)\s+.+?)\s+(?:somewhere\s+)?(?:in|inside|on|into|under|at)\s+(?P<src>.+?)(?:\s+(?:for|so)\s+.+)?$", t) \
        or re.match(r"^(?:there's|there is|there should be)\s+(?P<item>(?:a|an|the|some)\s+.+?)\s+(?:in|inside|on|at)\s+(?P<src>.+?)(?:\s+(?:that|which|the player|players|you)\s+.*(?:pick|take|grab).*)$", t) \
        or re.match(r"^(?P<item>(?:a|an|the|some)\s+.+?)\s+(?:is|lies|should be)\s+(?:hidden|lying|left|waiting)\s+(?:in|inside|on|at)\s+(?P<src>.+)$", t)
    if not m:
        return False
    item = _item_np(m.group("item"))
    words = re.findall(r"[a-z]+", item)
    if not words:
        return False
    head = words[-1]
    if head in L.PLACE_NOUNS and head not in W.ITEM_WORDS:
        return False
    if t.startswith("add ") and head not in W.ITEM_WORDS:
        return False  # "add a raven on the sundial": scenery, not an item
    plural = head.endswith("s") and not head.endswith("ss") and head not in W.ITEM_WORDS and not re.match(r"^(?:a|an)\s", m.group("item"))
    if plural and not t.startswith(("hide", "leave")):
        return False
    src_states = mentioned_states(p.sc, m.group("src"))
    if not src_states:
        return False
    flag_words = [w for w in words if w not in ("pair", "of", "set")]
    flag = slug(" ".join(flag_words))
    p._pickup(display(src_states[0]) if len(src_states) == 1 else m.group("src"), flag, item)
    return True


def on_entry(p: Any) -> bool:
    """"when you go into the crypt you should get the relic", "entering the pyramid gives you the map"."""
    t = p.t
    m = re.match(r"^(?:when|once|as soon as|if)\s+(?:you|the player|players)\s+(?:go|goes|get|gets|come|comes|walk|step)?\s*(?:into|in|to|inside)?\s*(?:enter|enters|reach|reaches)?\s*(?P<place>.+?),?\s+(?:you|they|the player|he|she)\s+(?:should\s+)?(?:get|gets|receive|receives|find|finds|pick up|picks up|obtain|obtains|are given|is given)\s+(?P<item>.+)$", t) \
        or re.match(r"^(?:entering|going into|reaching|arriving (?:in|at))\s+(?P<place>.+?)\s+(?:gives|grants|should give)\s+(?:you\s+|the player\s+|players\s+)?(?P<item>.+)$", t)
    if not m:
        return False
    states = mentioned_states(p.sc, m.group("place"))
    if len(states) != 1:
        return False
    sid = states[0]
    item = _item_np(m.group("item"))
    if not item:
        return False
    flag = slug(item)
    ways = p.sc.incoming(sid)
    if not ways:
        raise Clarify(f"Nothing leads into the {display(sid)} yet. Connect a place to it first.")
    for e in ways:
        grants = [g for g in e.get("grants") or [] if isinstance(g, str)]
        if flag not in grants:
            p.ops.append({"op": "update_event", "name": e["name"], "patch": {"grants": grants + [flag]}})
    return True


RULES = [unneed, on_entry, need, leave]
