"""Rules about places: where the game starts, what a place is called, whether it ends the
game, a new place (named by the head of its noun phrase), a way from one place to another."""

from __future__ import annotations

import re
from typing import Any

from conjure.agent import words as W
from conjure.agent.prose import article, sanitize, slug
from conjure.agent.rules import lexicon as L
from conjure.agent.rules import link
from conjure.agent.rules.link import mentioned_states
from conjure.agent.scene import Clarify, display

_WIN = r"(?:win|winning|won|victory|victorious|good|happy|success)"
_LOSE = r"(?:lose|losing|loss|lost|defeat|death|bad|game[\s-]over|fail|failure)"


def entrance(p: Any) -> bool:
    t = p.t
    m = re.match(r"^(?:the\s+)?(?:players?|you|the game|game|we|people|everyone|it)\s+(?:should|will|must|now)?\s*(?:begin|begins|start|starts)\s+(?:the game\s+)?(?:in|at|on|from)\s+(?P<ref>.+)$", t) \
        or re.match(r"^(?:begin|start)\s+(?:the game\s+|play\s+|off\s+)?(?:in|at|on|from)\s+(?P<ref>.+)$", t) \
        or re.match(r"^(?:make|set)\s+(?P<ref>.+?)\s+(?:the|as the)\s+(?:start|starting point|starting place|starting room|beginning|first place|first room|entrance|spawn|spawn point)$", t) \
        or re.match(r"^(?P<ref>.+?)\s+(?:should be|is)\s+(?:the|where the game)\s+(?:start|starting point|starting place|first place|beginning|starts)$", t)
    if not m:
        return False
    sid = link.state(p.sc, m.group("ref"))
    if p.sc.is_ending(sid):
        raise Clarify(f"The {display(sid)} is an ending, so the game cannot start there. Which place should it start in?")
    p.ops.append({"op": "set_entrance", "state": sid})
    return True


def _new_name(raw: str) -> str:
    raw = re.sub(r"\b(?:from now on|instead|now|please|really|in future)\b", " ", raw)
    raw = re.sub(r"^(?:the|a|an)\s+", "", raw.strip(" ,."))
    return raw.strip()


def rename(p: Any) -> bool:
    t = p.t
    m = re.match(r"^(?P<old>.+?)\s+(?:should|must|will)\s+(?:really\s+|now\s+|instead\s+)?be\s+(?:called|named|renamed(?:\s+to)?)\s+(?P<new>.+)$", t) \
        or re.match(r"^(?P<old>.+?)\s+should\s+be\s+(?:the\s+)?(?P<new>[a-z]+)$", t) \
        or re.match(r"^(?:change|switch)\s+the\s+name\s+of\s+(?P<old>.+?)\s+to\s+(?P<new>.+)$", t) \
        or re.match(r"^(?:rename|call)\s+(?P<old>.+?)\s+(?:to|as|into)\s+(?P<new>.+)$", t)
    if not m and t.startswith("call "):
        rest = t[5:]
        for sid in sorted(p.sc.states, key=lambda s: -len(display(s))):
            if display(sid) not in rest:
                continue
            mm = re.match(r"^(?:the\s+)?" + re.escape(display(sid)) + r"\s+(?P<new>.+)$", rest)
            if mm:
                return _rename_state(p, sid, mm.group("new"))
        return False
    if not m:
        return False
    old, new = m.group("old"), m.group("new")
    if p.quoted(old.strip()) is not None:
        return False  # an event by its quoted name: the grammar's rename
    if re.search(r"\bshould be (?:the )?[a-z]+$", t) and not re.search(r"called|named", t):
        # "the cockpit should be the bridge": only when the word is no adjective and no state
        if new in L.ADJECTIVES or new in p.sc.states or re.search(r"(?:ending|start|entrance|hidden|secret)", new):
            return False
    states = mentioned_states(p.sc, old)
    if len(states) == 1 and re.fullmatch(r"(?:the\s+)?" + re.escape(display(states[0])), old.strip()):
        return _rename_state(p, states[0], new)
    if states:
        return False
    return False


def _rename_state(p: Any, sid: str, new_raw: str) -> bool:
    q = p.quoted(new_raw.strip())
    name = q if q is not None else _new_name(new_raw)
    if not name:
        return False
    p._rename_state(sid, name)
    return True


def _title(p: Any, t: str) -> str | None:
    m = re.search(r"\b(?:called|named|titled)\s+(?P<title>.+?)(?:[,:;]|$)", t)
    if m:
        title = p.unq(m.group("title")).strip(" '\"")
        return title[:1].upper() + title[1:]
    return None


def unending(p: Any) -> bool:
    t = p.t
    m = re.match(r"^(?P<ref>.+?)\s+(?:isn't|is not|shouldn't be|should not be|is no longer|should no longer be|no longer|won't be|isnt)\s+(?:an?\s+)?(?:ending|end)\b.*$", t) \
        or re.match(r"^(?P<ref>.+?)\s+(?:shouldn't|should not|should no longer|no longer|doesn't|does not|won't)\s+end\s+the\s+game.*$", t) \
        or re.match(r"^(?:no need for|remove|drop)\s+the\s+ending\s+(?:of|at|in|from)\s+(?P<ref>.+)$", t)
    if not m:
        return False
    states = mentioned_states(p.sc, m.group("ref"))
    if len(states) != 1:
        return False
    sid = states[0]
    if not p.sc.is_ending(sid):
        raise Clarify(f"The {display(sid)} is not an ending. What should change?")
    p.ops.append({"op": "update_state", "id": sid, "patch": {"ending": None}})
    if not p.sc.outgoing(sid) and p.sc.entrance and p.sc.entrance != sid:
        p.transition(sid, p.sc.entrance, f"Return to the {display(p.sc.entrance)}")
    return True


def ending(p: Any) -> bool:
    t = p.t
    if re.match(r"^(?:add|create|make)\s+(?:a|an|another|one more)\s+(?:new\s+)?", t) and re.search(r"\bending\b|\bway to\b", t) \
            and not re.match(r"^make\s+(?:the|it)\b", t):
        return False  # a new ending: the grammar's "add an ending"
    m = re.match(r"^(?:make|turn|set)\s+(?P<ref>.+?)\s+(?:into\s+)?(?:a|an|the)\s+(?P<kind>[a-z\- ]+?)\s*(?:ending|end)?(?P<rest>(?:\s+called|\s+named|:|,).*)?$", t) \
        or re.match(r"^(?:going into|entering|reaching|arriving (?:in|at)|getting to)\s+(?P<ref>.+?)\s+should\s+end\s+the\s+game(?:\s+(?:with|in|as)\s+(?:a|an)?\s*(?P<kind>[a-z\- ]+))?(?P<rest>.*)$", t) \
        or re.match(r"^(?P<ref>.+?)\s+(?:should|must|will|is going to)\s+(?:be|become|end the game(?:\s+with|\s+in|\s+as)?)\s+(?:a|an|the)?\s*(?P<kind>[a-z\- ]+?)\s*(?:ending|end)?(?:\s+(?:too|instead|now))?(?P<rest>(?:\s+called|\s+named|:|,).*)?$", t)
    if not m:
        return False
    kind_words = (m.group("kind") or "").strip()
    if re.search(_WIN, kind_words):
        kind = "win"
    elif re.search(_LOSE, kind_words):
        kind = "lose"
    else:
        return False
    if not re.search(r"\b(?:ending|end|win|loss|lose|losing|winning|victory|defeat|game over)\b", t):
        return False
    states = mentioned_states(p.sc, m.group("ref"))
    if len(states) != 1:
        return False
    sid = states[0]
    if sid == p.sc.entrance:
        raise Clarify(f"The {display(sid)} is where the game starts, so it cannot be an ending. Should the game start somewhere else first?")
    title = _title(p, t)
    if title is None:
        title = ("Escape from the " if kind == "win" else "Lost in the ") + display(sid)
        title = title[:1].upper() + title[1:]
    p.ops.append({"op": "update_state", "id": sid, "patch": {"ending": {"kind": kind, "title": title}}})
    for e in p.sc.outgoing(sid):
        froms = p.sc.froms(e)
        if len(froms) > 1:
            p.ops.append({"op": "update_event", "name": e["name"], "patch": {"from": [f for f in froms if f != sid]}})
        else:
            p.ops.append({"op": "delete_event", "name": e["name"]})
    return True


# ------------------------------------------------------------------ new places

_REL = (
    r"(?:on top of|at the top of|at the bottom of|at the end of|next to|across from|down from|up from|upstairs from|"
    r"downstairs from|connected to|linked to|reachable from|leading off|leading from|off of|north of|south of|east of|"
    r"west of|beneath|underneath|below|under|above|over|behind|beyond|past|beside|near|nearby|by|off|outside|inside|"
    r"within|through|after|before|from|to|in|at|on)"
)
_OPEN = (
    r"^(?:(?:i|we)\s+(?:want|need|would like|'d like|d like)|i'd like|can we (?:get|have)|could we (?:get|have)|"
    r"let's have|lets have|there\s*(?:'s|is|should be|needs to be|must be)|theres|add|create|build|make|put in|put|give me|"
    r"include)\s+(?:in\s+)?"
)
_MODS = r"(?:,|\s+with\b|\s+where\b|\s+full of\b|\s+filled with\b|\s+that\b|\s+which\b|\s+for\b|\s+lit by\b|\s+whose\b|\?|\.)"


def head_name(np: str) -> str | None:
    """The id for a new place from its noun phrase: the head noun, with a noun modifier kept
    ("observation car" → observation_car, "ancient library" → library); None when the phrase
    ends in no noun (an adjective, a verb form, a pronoun)."""
    words = [w for w in re.findall(r"[a-z0-9']+", np.lower()) if w not in ("a", "an", "the", "some", "new", "another")]
    words = [w[:-2] if w.endswith("'s") else w for w in words]
    if not words:
        return None
    head = words[-1]
    if head in L.ADJECTIVES or head in L.PRONOUNS or head in L.VAGUE or (head.endswith(("ing", "ed")) and head not in L.PLACE_NOUNS):
        return None
    if len(words) >= 2:
        prev = words[-2]
        possessive = np.lower().find(prev + "'s") >= 0
        if not possessive and prev not in L.ADJECTIVES and not prev.endswith(("ed", "ful", "ous", "ish", "less", "ive", "ic", "al"))\
                and prev not in L.PRONOUNS and not prev.isdigit() and prev not in ("little", "secret", "hidden", "small", "big"):
            return f"{prev}_{head}"
    return head


def add_place(p: Any) -> bool:
    t = p.t
    m = re.match(_OPEN + r"(?:(?:a|an|another|one more|some|the)\s+)(?P<np>.+)$", t)
    if not m:
        return False
    rest = m.group("np")
    if re.search(r"\bbetween\b", t):
        return False
    if re.search(r"\b(?:ending|variant|version|slot|action|event|way to (?:win|lose)|hotkey|key|called|named)\b", rest.split(",")[0]) \
            or "\u27e6" in rest:
        return False
    p.take_key()
    rest = re.match(_OPEN + r"(?:(?:a|an|another|one more|some|the)\s+)(?P<np>.+)$", p.t).group("np")
    found = None
    for phrase, sid in link.phrases(p.sc):
        if phrase not in rest:
            continue
        rm = re.search(r"\s(?P<rel>" + _REL + r")\s+(?:the\s+)?" + re.escape(phrase) + r"s?\b", rest)
        if rm and (found is None or rm.start() < found[1]):
            found = (sid, rm.start(), rm.end(), rm.group("rel"))
    cut = re.search(r"\s(?:" + _REL + r"|with|where|full of|filled with|that|which|for|lit by|whose|reachable|leading|connected|"
                    r"hanging|standing|sitting|lying|wheeling|floating|and)\b|[,?.:;]", rest)
    core = (rest[: cut.start()] if cut else rest).strip()
    tail = rest[cut.start():] if cut else ""
    if not core:
        return False
    name = head_name(core)
    if name is None:
        return False
    head = name.split("_")[-1]
    plural = head.endswith("s") and not head.endswith(("ss", "us", "is")) and head not in L.PLACE_NOUNS
    if head not in L.PLACE_NOUNS and (plural or head in W.ITEM_WORDS):
        return False
    rel_word = found[3] if found is not None else None
    if found is None:
        um = re.match(r"^\s(?P<rel>" + _REL + r")\s+(?P<ref>(?:the\s+)?[a-z' ]+?)(?=$|[,.?;:])", tail)
        if um and um.group("rel") not in ("for", "with", "to", "in", "at", "on", "by"):
            sid = link.state(p.sc, um.group("ref"))  # asks, naming the candidates, when it is not one place
            found = (sid, 0, 0, um.group("rel"))
            rel_word = um.group("rel")
    if head not in L.PLACE_NOUNS and found is None and not re.match(r"^(?:add|create|build)\b", t):
        return False
    if found is not None and rel_word in ("in", "at", "on", "to") and head not in L.PLACE_NOUNS:
        return False
    if name in p.sc.states:
        raise Clarify(f"There is already a place called {display(name)}. What should the new one be called?")
    prose_src = core + " " + tail
    if found is not None and found[2]:
        before_anchor = rest[: found[1]]
        after_anchor = rest[found[2]:]
        prose_src = before_anchor + after_anchor
    prose_src = re.sub(r"\s(?:reachable|leading|connected)\s*$", "", prose_src)
    prose = sanitize(re.sub(r"\s+", " ", prose_src.replace("?", ",").replace(".", ",")).strip(" ,"))
    prose = re.sub(r"\s+(?:reachable|leading|connected)(?=\s*(?:,|$|\s+with))", "", prose)
    detail = W.PLACE_DETAILS.get(head) or ""
    if detail and detail.split(" ")[-1] in prose:
        detail = ""
    base = ", ".join(x for x in (article(prose) if prose else article(display(name)), detail) if x)
    sid = p.sc.free_state_id(name)
    p.add_state_op(sid, base)
    src = found[0] if found is not None else p.sc.entrance
    if src is None:
        return True
    fwd, back = W.RELATION_VERBS.get(rel_word or "", ("Go to", "Return to"))
    if rel_word in ("below", "under", "beneath", "underneath", "downstairs from", "down from"):
        fwd, back = "Descend to", "Climb back up to"
    elif rel_word in ("above", "over", "on top of", "upstairs from", "up from"):
        fwd, back = "Climb to", "Climb back down to"
    p.connect_new(src, sid, fwd, back)
    return True


def remove(p: Any) -> bool:
    """"the bell tower shouldn't be in the game any more", "the sleeper has to go"."""
    m = re.match(r"^(?P<ref>.+?)\s+(?:shouldn't|should not|mustn't)\s+be\s+(?:in the game|in the world|there|here|part of the game)\b.*$", p.t) \
        or re.match(r"^(?P<ref>.+?)\s+(?:has to|needs to|can|should)\s+go(?:\s+away)?$", p.t)
    if not m:
        return False
    states = mentioned_states(p.sc, m.group("ref"))
    if len(states) != 1:
        return False
    p.t = "remove the " + display(states[0])
    return bool(p.r_remove())


# (pattern, where the verb is: "before" the match or a plain "go", whether it spans the whole text)
_WAYS = [
    (r"\bfrom\s+(?:the\s+)?(?P<a>.+?)\s+(?:straight\s+|directly\s+)?(?:(?:back|right|all the way)\s+)?(?:(?:up|down|over|out|across)\s+)?"
     r"(?:to|onto|into|toward|towards)\s+(?:the\s+)?(?P<b>.+?)(?:\s+directly|\s+straight|\s+and back.*)?$", "before", False),
    (r"\b(?:off|out of|down from|up from)\s+(?:the\s+)?(?P<a>.+?)\s+(?:(?:down|up|back)\s+)?(?:onto|into|to)\s+(?:the\s+)?(?P<b>.+?)$", "before", False),
    (r"\b(?:to|onto|into)\s+(?:the\s+)?(?P<b>.+?)\s+from\s+(?:the\s+)?(?P<a>.+?)(?:\s+and back.*)?$", "before", False),
    (r"^(?:let\s+|make\s+)?(?P<a>.+?)\s+(?:should\s+|can\s+)?(?:lead|leads|open|opens|go|goes)\s+(?:back\s+)?(?:on\s+)?(?:to|into|onto)\s+(?P<b>.+)$", "go", True),
    (r"^(?P<b>.+?)\s+(?:needs to be|should be|must be)\s+(?:reachable|accessible)\s+from\s+(?P<a>.+)$", "go", True),
]


def connect(p: Any) -> bool:
    """"let people go from the crypt straight back up to the courtyard", "players can swing on a
    vine from the jungle to the river with V", "the bridge should lead to the river",
    "the boathouse needs to be reachable from the cliff"."""
    t = p.t
    if re.match(r"^(?:connect|link|join)\b", t) or re.search(r"\bbetween\b", t):
        return False
    p.take_key()
    t = p.t
    pair: tuple[str, str] | None = None
    verb = None
    for pat, how, whole in _WAYS:
        m = (re.match if whole else re.search)(pat, t)
        if not m:
            continue
        a, b = mentioned_states(p.sc, m.group("a")), mentioned_states(p.sc, m.group("b"))
        if len(a) == 1 and len(b) == 1:
            pair = (a[0], b[0])
            verb = t[: m.start()] if how == "before" else "go"
            break
    if pair is None or pair[0] == pair[1]:
        return False
    if not re.search(r"\b(?:go|goes|walk|run|climb|crawl|swing|jump|swim|slide|drop|fall|lead|leads|way|path|passage|tunnel|door|bridge|route|shortcut|ladder|stair|stairs|rope|get|travel|move|head|reachable|accessible|sail|ride|fly|leap|shaft|hatch|chute|vent|duct|lift|elevator|portal|gate|trapdoor|corridor)\b", t):
        return False
    a, b = pair
    if p.sc.is_ending(a):
        raise Clarify(f"The {display(a)} is an ending, so nothing can lead on from it. Which place should lead to the {display(b)}?")
    vm = re.search(r"\b(?P<v>swing|jump|climb|crawl|slide|swim|drop|leap|run|walk|sail|ride|fly)\b(?P<obj>\s+(?:on|off|down|up|across|through|along|over)\s+(?:a|an|the)\s+[a-z]+)?", verb or t)
    if vm:
        v = vm.group("v").capitalize()
        obj = vm.group("obj") or ""
        name = f"{v}{obj} to the {display(b)}"
        if " off the " in obj or " down the " in obj:
            name = f"{v} to the {display(b)}"
    else:
        conn = re.search(r"\b(?:rope bridge|passage|tunnel|door|bridge|shortcut|ladder|path|stairs?|shaft|hatch|chute|vent|lift|elevator|portal|trapdoor|corridor)\b", t)
        name = f"Take the {conn.group(0)} to the {display(b)}" if conn else f"Go to the {display(b)}"
    key = p.user_key([a])
    p.transition(a, b, name, key=key)
    if re.search(r"\band back\b|\bboth ways\b|\btwo[- ]way\b", t) and not p.sc.is_ending(a):
        p.transition(b, a, f"Return to the {display(a)}")
    return True


RULES = [remove, entrance, unending, ending, rename, connect, add_place]
