"""The offline agent's rules: a registry of small modules, tried in order on each step of an
instruction.

instruction → guard (bad input, injection, not English, a question, too vague) → typo fixes
against the world's own words → steps (several instructions in one sentence, pronouns
resolved) → for each step the first rule that recognises it adds its ops (or asks) → the names
of new places are checked (never an adjective, a verb or a pronoun) → one op batch, which
:func:`conjure.agent.edit` applies and gates once.

Each rule is ``fn(planner) -> bool``: it reads ``planner.t`` (the step, lower-cased, quoted text
kept aside) and the world through ``planner.sc``, appends ops, or raises :class:`Clarify`
with a question naming the candidates. The registry (:data:`REGISTRY`) lists them by name,
the grammar's older pattern rules last.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from conjure import _core
from conjure.agent.grammar import HELP, Plan, _Planner
from conjure.agent.rules import events, items, places, prose, slots
from conjure.agent.rules import lexicon as L
from conjure.agent.rules.link import mentioned_states
from conjure.agent.rules.text import fix_typos, guard, is_complaint, normalise, resolve_pronouns, split_steps
from conjure.agent.scene import Clarify, display

__all__ = ["REGISTRY", "plan", "rule_names"]

Rule = Callable[[Any], bool]

REGISTRY: list[tuple[str, Rule]] = [
    ("slots.remove", slots.remove),
    ("slots.define", slots.define),
    ("slots.use", slots.use),
    ("items.unneed", items.unneed),
    ("items.on_entry", items.on_entry),
    ("items.leave", items.leave),
    ("places.remove", places.remove),
    ("events.take_away", events.take_away),
    ("events.hotkey", events.hotkey),
    ("events.timer", events.timer),
    ("events.once", events.once),
    ("events.secret", events.secret),
    ("places.entrance", places.entrance),
    ("places.unending", places.unending),
    ("places.ending", places.ending),
    ("places.rename", places.rename),
    ("items.need", items.need),
    ("prose.camera", prose.camera),
    ("prose.describe", prose.describe),
    ("places.connect", places.connect),
    ("places.add_place", places.add_place),
    ("prose.detail", prose.detail),
]


def rule_names() -> list[str]:
    """Every rule in the order it is tried (the grammar's pattern rules come last)."""
    legacy = _Planner({}, "", [], frozenset())
    return [n for n, _ in REGISTRY] + [f"grammar.{m.__name__.removeprefix('r_')}" for m in legacy.rules()]


def _run(p: _Planner) -> str | None:
    for name, rule in REGISTRY:
        if rule(p):
            return name
    for method in p.rules():
        if method():
            return "grammar." + method.__name__.removeprefix("r_")
    return None


_NOT_A_PLACE = frozenset({"end", "found", "one", "action", "thing", "stuff", "you", "it", "them", "here", "there", "now", "instead"})


def _bad_name(sid: str) -> bool:
    head = re.sub(r"-\d+$", "", sid).split("_")[-1]
    return head in L.ADJECTIVES or head in L.PRONOUNS or head in L.VAGUE or head in _NOT_A_PLACE \
        or (head.endswith(("ing", "ed")) and head not in L.PLACE_NOUNS)


_STOPS = frozenset("the a an of on in into onto off at to from with by and or you your them it over under through "
                   "is are was were as".split())


def _clause_noun(step: str, sc: Any) -> str | None:
    """The head of the first noun phrase (after an article) that names no existing place and is
    not the ending itself: "the roof of the nave collapses" → roof, "a gust knocks you" → gust."""
    words = re.findall(r"[a-z']+", step.lower())
    for i, w in enumerate(words):
        if w not in ("the", "a", "an"):
            continue
        np: list[str] = []
        for x in words[i + 1: i + 5]:
            if x in _STOPS:
                break
            np.append(x)
        if len(np) > 1 and np[-1].endswith("s") and not np[-1].endswith("ss"):
            np = np[:-1]  # "the range explodes" → range
        phrase = " ".join(np)
        if not np or re.search(r"\b(?:ending|end|game|player|way|win|loss|lose|place|room|seconds?|minutes?)\b", phrase):
            continue
        if mentioned_states(sc, phrase):
            continue
        name = places.head_name(phrase)
        if name and not _bad_name(name):
            return name
    return None


def _check_names(ops: list[dict[str, Any]], step: str, sc: Any) -> None:
    for op in ops:
        if op.get("op") != "add_state" or not isinstance(op.get("id"), str):
            continue
        if _bad_name(op["id"]):
            better = _clause_noun(step, sc)
            if better is None and isinstance(op.get("ending"), dict):
                into = next((o for o in ops if o.get("to") == op["id"] and o.get("from")), None)
                anchor = into["from"][0] if into else "world"
                better = f"{anchor}_{'doom' if op['ending'].get('kind') == 'lose' else 'triumph'}"
            if better and better not in sc.states and not any(o.get("id") == better for o in ops):
                old = op["id"]
                for o in ops:
                    if o.get("id") == old:
                        o["id"] = better
                    if o.get("to") == old:
                        o["to"] = better
                    if isinstance(o.get("from"), list):
                        o["from"] = [better if f == old else f for f in o["from"]]
                    if o.get("state") == old:
                        o["state"] = better
                continue
            raise Clarify(
                f"I\u2019m not sure which place you mean to add: \u201c{display(op['id'])}\u201d is not the name of a place. "
                "What should the new place be, and next to which place?"
            )


def _focus(p: _Planner, step: str) -> dict[str, Any]:
    focus: dict[str, Any] = {}
    for op in p.ops:
        if op.get("op") == "add_state":
            focus["state"] = op["id"]
        if op.get("op") == "set_slot":
            focus["slot"] = op["name"]
    if "state" not in focus:
        named = mentioned_states(p.sc, step)
        if named:
            focus["state"] = named[0]
    m = re.search(r"\b([a-z][a-z0-9_]*) slot\b", step)
    if m and "slot" not in focus:
        focus["slot"] = m.group(1)
    return focus


def plan(
    world: dict[str, Any],
    instruction: str,
    verified_objects: list[dict[str, Any]] | None = None,
    repair: frozenset[str] = frozenset(),
) -> Plan:
    """Ops (or a question) for one instruction on one world, deterministically."""
    if not isinstance(instruction, str):
        return Plan(question=HELP)
    verified = [o for o in (verified_objects or []) if isinstance(o, dict)]
    world = world if isinstance(world, dict) else {}
    try:
        first = _Planner(world, instruction[:4000], verified, repair)
        t = normalise(first.t)
        guard(instruction, t, first.sc, quoted=bool(first.quotes))
        t = fix_typos(t, first.sc)
        steps = split_steps(t)
        ops: list[dict[str, Any]] = []
        current = world
        focus: dict[str, Any] = {}
        for i, step in enumerate(steps):
            p = _Planner(current, "", verified, repair)
            p.quotes = first.quotes
            p.t = step
            if len(steps) > 1 and re.fullmatch(r"(?:(?:put|add|make|do|fit)\s+(?:it|that|this|one)(?:\s+in)?|please|thanks|thank you)", step):
                continue
            if i:
                step = resolve_pronouns(step, focus)
                p.t = step
            if len(steps) > 1 and is_complaint(step):
                focus = _focus(p, step)
                continue
            if _run(p) is None:
                if len(steps) > 1:
                    raise Clarify(f"I understood part of that, but not \u201c{p.unq(step)}\u201d. Could you say that part another way?")
                raise Clarify("I\u2019m not sure what to change. " + HELP)
            _check_names(p.ops, step, p.sc)
            ops.extend(p.ops)
            if p.slots:
                ops.extend({"op": "set_slot", "name": k, "value": v} if v is not None else {"op": "remove_slot", "name": k}
                           for k, v in p.slots.items())
            focus = _focus(p, step)
            if i < len(steps) - 1 and ops:
                current, _ = _core.apply_ops(world, ops)  # the ops alone: the gate runs once, on the whole batch
        return Plan(ops=ops)
    except Clarify as c:
        return Plan(question=c.question)
