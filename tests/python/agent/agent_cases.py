"""Loads and checks the table-driven edit cases in tests/data/agent/*.json.

Each file: ``{description, world, cases: [...]}``; ``world`` (file-level or per case) is a
name of tests/data/agent/worlds/<name>.json or an inline world. A case has ``name``,
``instruction`` (or ``instruction_repeat: [text, times]``), optional ``setup`` (edits
applied first, each must succeed), optional ``verified_objects``, and ``expect``: the
checks listed in :data:`CHECKS`. Used by the pytest runner and by bench/agent/run.py.
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass
from typing import Any

import conjure
from conjure.agent import edit

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "agent"


@dataclass
class CaseResult:
    file: str
    name: str
    passed: bool
    problems: list[str]
    warnings: int
    error_world: bool
    reply: str


def load_world(ref: Any) -> dict[str, Any]:
    if isinstance(ref, dict):
        return ref
    return json.loads((DATA / "worlds" / f"{ref}.json").read_text())


def load_cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(file name, case, base world) for every case, in file order."""
    out = []
    for path in sorted(DATA.glob("*.json")):
        doc = json.loads(path.read_text())
        for case in doc["cases"]:
            world = load_world(case.get("world", doc.get("world")))
            out.append((path.name, case, world))
    return out


def _events(w: conjure.World) -> list[dict[str, Any]]:
    return w.events


def _event_matches(e: dict[str, Any], want: dict[str, Any]) -> bool:
    for k, v in want.items():
        if k == "from":
            if v not in (e.get("from") or []):
                return False
        elif k == "name_contains":
            if v.lower() not in str(e.get("name", "")).lower():
                return False
        elif k == "timing_after":
            if (e.get("timing") or {}).get("after") != v:
                return False
        elif k == "requires":
            if v not in (e.get("requires") or []):
                return False
        elif e.get(k) != v:
            return False
    return True


def _get_path(obj: dict[str, Any], dotted: str) -> Any:
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def check(expect: dict[str, Any], before: conjure.World, outcome: Any) -> list[str]:
    """Problems with ``outcome`` against ``expect`` (empty when every check holds)."""
    problems: list[str] = []
    if expect.get("clarification"):
        if not outcome.clarification:
            problems.append(f"expected a question, got: {outcome.reply}")
        if outcome.world != before:
            problems.append("a question changed the world")
        if outcome.changed:
            problems.append("a question reported a change")
    elif outcome.clarification or outcome.world is None:
        return [f"expected an edit, got: {outcome.reply}"]
    w = outcome.world if outcome.world is not None else before
    states = w.states
    events = _events(w)
    new_states = [s for s in states if s not in before.states]

    def as_list(v: Any) -> list[Any]:
        return v if isinstance(v, list) and (not v or isinstance(v[0], (dict, str))) else [v]

    for key, value in expect.items():
        if key in ("clarification",):
            continue
        if key == "state_exists":
            for sid in as_list(value):
                if sid not in states:
                    problems.append(f"state {sid} missing (states: {sorted(states)})")
        elif key == "state_absent":
            if value in states:
                problems.append(f"state {value} still present")
        elif key == "event":
            for want in as_list(value):
                if not any(_event_matches(e, want) for e in events):
                    problems.append(f"no event like {want}")
        elif key == "no_event":
            if any(_event_matches(e, value) for e in events):
                problems.append(f"an event like {value} exists")
        elif key == "event_exists":
            if not any(e.get("name") == value for e in events):
                problems.append(f"event {value!r} missing")
        elif key == "event_absent":
            if any(e.get("name") == value for e in events):
                problems.append(f"event {value!r} still present")
        elif key == "event_field":
            name, field, want = value
            ev = next((e for e in events if e.get("name") == name), None)
            if ev is None:
                problems.append(f"event {name!r} missing")
            elif _get_path(ev, field) != want:
                problems.append(f"event {name!r} {field} = {_get_path(ev, field)!r}, expected {want!r}")
        elif key == "entrance":
            if w.entrance != value:
                problems.append(f"entrance is {w.entrance}, expected {value}")
        elif key == "ending":
            cands = [value["state"]] if "state" in value else list(states)
            ok = False
            for sid in cands:
                ending = states.get(sid, {}).get("ending")
                if not isinstance(ending, dict) or ending.get("kind") != value["kind"]:
                    continue
                if "title" in value and ending.get("title") != value["title"]:
                    continue
                if "title_contains" in value and value["title_contains"].lower() not in str(ending.get("title", "")).lower():
                    continue
                if "state" not in value and sid not in new_states:
                    continue
                ok = True
            if not ok:
                problems.append(f"no ending like {value}")
        elif key == "no_ending":
            if isinstance(states.get(value, {}).get("ending"), dict):
                problems.append(f"{value} is still an ending")
        elif key in ("prose_contains", "prose_lacks"):
            sid, *words = value
            base = str(states.get(sid, {}).get("base", "")).lower()
            for word in words:
                if (word.lower() in base) != (key == "prose_contains"):
                    problems.append(f"{sid}.base {'lacks' if key == 'prose_contains' else 'has'} {word!r}: {base!r}")
        elif key == "prose_of_new_contains":
            if not any(value.lower() in str(states[s].get("base", "")).lower() for s in new_states):
                problems.append(f"no new state's prose has {value!r}")
        elif key == "ambient_contains":
            sid, word = value
            amb = " ".join(states.get(sid, {}).get("ambient") or []).lower()
            if word.lower() not in amb:
                problems.append(f"{sid}.ambient lacks {word!r}")
        elif key == "requires":
            name, flag = value
            ev = next((e for e in events if e.get("name") == name), None)
            if ev is None or flag not in (ev.get("requires") or []):
                problems.append(f"{name!r} does not require {flag}")
        elif key == "grants":
            if not any(value["from"] in (e.get("from") or []) and value["flag"] in (e.get("grants") or []) for e in events):
                problems.append(f"nothing in {value['from']} grants {value['flag']}")
        elif key == "slot":
            name, text = value
            slots = w.to_dict().get("scene", {}).get("slots", {})
            if text.lower() not in str(slots.get(name, "")).lower():
                problems.append(f"slot {name} = {slots.get(name)!r}")
        elif key in ("variant", "no_variant", "variant_contains"):
            sid, label = value
            variants = states.get(sid, {}).get("variants") or []
            if key == "variant":
                before_n = len(before.states.get(sid, {}).get("variants") or [])
                if len(variants) != before_n + 1 or (label is not None and not any(v.get("label") == label for v in variants)):
                    problems.append(f"{sid} variants {variants}")
            elif key == "no_variant":
                if any(v.get("label") == label for v in variants):
                    problems.append(f"{sid} still has variant {label}")
            else:
                if not any(label.lower() in str(v.get("base", "")).lower() for v in variants):
                    problems.append(f"no variant of {sid} mentions {label!r}")
        elif key == "reply_contains":
            if value.lower() not in outcome.reply.lower():
                problems.append(f"reply lacks {value!r}: {outcome.reply}")
        elif key == "no_warnings":
            warns = [d for d in outcome.diagnostics if d.severity == "warning"]
            if warns:
                problems.append(f"warnings: {[(d.lint, d.path) for d in warns]}")
        elif key == "hotkey_free":
            keys = [e.get("hotkey") for e in events if value in (e.get("from") or []) and e.get("hotkey")]
            if len(keys) != len(set(k.upper() for k in keys)):
                problems.append(f"hotkeys clash in {value}: {keys}")
        else:
            problems.append(f"unknown check {key!r}")
    return problems


def run_case(file: str, case: dict[str, Any], world: dict[str, Any]) -> CaseResult:
    current = conjure.World.from_dict(world)
    problems: list[str] = []
    for step in case.get("setup", []):
        out = edit(current, step)
        if out.world is None or out.clarification:
            problems.append(f"setup {step!r} failed: {out.reply}")
            break
        current = out.world
    instruction = case.get("instruction")
    if instruction is None:
        text, times = case["instruction_repeat"]
        instruction = text * times
    outcome = edit(current, instruction, verified_objects=case.get("verified_objects"))
    error_world = False
    if outcome.world is not None:
        error_world = not conjure.validate(outcome.world).ok
        if error_world:
            problems.append("the returned world fails the gate")
    if not problems:
        problems = check(case["expect"], current, outcome)
    warnings = sum(1 for d in outcome.diagnostics if d.severity == "warning") if outcome.world is not None else 0
    return CaseResult(file, case["name"], not problems, problems, warnings, error_world, outcome.reply)
