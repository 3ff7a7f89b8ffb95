"""Rules about slots (the world's lexicon): define or change one, use one in a place, remove
one that nothing uses. Slot changes are ops (``set_slot`` / ``remove_slot``)."""

from __future__ import annotations

import re
from typing import Any

from conjure.agent.prose import sanitize, slug
from conjure.agent.rules.link import mentioned_states
from conjure.agent.scene import Clarify, display

_NAME = r"(?P<name>[a-z][a-z0-9_]*)"


def _value(p: Any, raw: str) -> str:
    q = p.quoted(raw.strip())
    return q if q is not None else sanitize(p.unq(raw).strip(" ,."))


def define(p: Any) -> bool:
    t = p.t
    m = re.match(r"^(?:define|add|create|make)\s+(?:a\s+|the\s+|new\s+)*slot\s+(?:called\s+|named\s+)?" + _NAME + r"\s*(?::|=|\bas\b|\bto be\b|\bmeaning\b|,)\s*(?P<value>.+)$", t) \
        or re.match(r"^(?:change|set|make|update|switch)\s+(?:the\s+)?" + _NAME + r"\s+slot\s+(?:to|to be|as|into|say|be|read)\s+(?P<value>.+)$", t) \
        or re.match(r"^(?:the\s+)?" + _NAME + r"\s+slot\s+should\s+(?:be|say|describe|read|become|mean)\s+(?P<value>.+)$", t)
    if not m:
        return False
    name = m.group("name")
    value = _value(p, m.group("value"))
    if not value:
        raise Clarify(f"What should the slot {name} say?")
    p.ops.append({"op": "set_slot", "name": slug(name) or name, "value": value})
    return True


def remove(p: Any) -> bool:
    m = re.match(r"^(?:remove|delete|get rid of|drop|scrap)\s+(?:the\s+)?" + _NAME + r"\s+slot$", p.t) \
        or re.match(r"^(?:remove|delete|get rid of|drop|scrap)\s+(?:the\s+)?slot\s+" + _NAME + r"$", p.t)
    if not m:
        return False
    name = m.group("name")
    if name not in p.sc.slots:
        names = ", ".join(p.sc.slots) or "none"
        raise Clarify(f"There is no slot called {name} (the slots are {names}). Which one do you mean?")
    users = [sid for sid, st in p.sc.states.items() if "{" + name + "}" in str(st)]
    users += [f"\u2018{e['name']}\u2019" for e in p.sc.events if "{" + name + "}" in str(e)]
    if users:
        shown = ", ".join(display(u) for u in users[:6])
        raise Clarify(f"The slot {name} is used by {shown}. Should I write its words into them, or remove it from their prose first?")
    p.ops.append({"op": "remove_slot", "name": name})
    return True


def use(p: Any) -> bool:
    m = re.match(r"^(?:use|put|add|include)\s+(?:the\s+)?(?:slot\s+)?\{?" + _NAME + r"\}?\s*(?:slot\s+)?(?:in|into|to)\s+(?P<ref>.+?)(?:'s)?(?:\s+(?:description|prose|base))?(?:\s+too|\s+as well)?$", p.t)
    if not m or m.group("name") not in p.sc.slots:
        return False
    states = mentioned_states(p.sc, m.group("ref"))
    if len(states) != 1:
        return False
    sid = states[0]
    ref = "{" + m.group("name") + "}"
    base = p.sc.base(sid)
    if ref in base:
        raise Clarify(f"The {display(sid)} already uses {ref}. What else should change?")
    p.ops.append({"op": "update_state", "id": sid, "patch": {"base": f"{ref}, {base}" if base else ref}})
    return True


RULES = [remove, define, use]
