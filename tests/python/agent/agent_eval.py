"""The edit eval: cases in tests/data/agent/eval/{dev,test}.jsonl over the worlds in
tests/data/agent/eval/worlds/, and the one checker that interprets their expectations.

A case is one JSON line: ``{"id", "world", "instruction", "repeat"?, "expect"}`` (``repeat``: the
instruction is that many copies of the text, for the over-long input cases). ``expect`` is either
``{"ask": true, "names"?: [...]}`` (the right answer is a question, naming each of
``names``, and the world must be unchanged) or ``{"effects": [...]}``: every effect must hold
on the resulting world, and every change between the world before and after must be
*claimed* by one of the effects (nothing else may change). The effect vocabulary is
documented in :data:`EFFECTS`; :func:`world_delta` lists the changes at field level.

Used by bench/agent/eval.py and by the tests. The split is deterministic: within each
world, cases sorted by the sha256 of their id, the first 60 % (rounded up) are dev.
"""

from __future__ import annotations

import hashlib
import json
import math
import pathlib
import re
from dataclasses import dataclass, field
from typing import Any

EVAL = pathlib.Path(__file__).resolve().parents[2] / "data" / "agent" / "eval"

EFFECTS = {
    "new_state": "one new state whose id has a word in `head` (a list of alternatives); optional `from` "
    "(an added event from that place into it), `back` (true: an added event from it to `from`), "
    "`prose` (words its base must contain), `ending` (win|lose). Claims the state and added events touching it.",
    "gone_state": "`id` was removed. Claims events into or only out of it, and its removal from other `from` lists.",
    "renamed_state": "`id` moved to one of `to`. Claims the move and the references and names that followed it.",
    "state": "`id`'s `field` (alternatives a|b; base, ambient, camera, movement, variants, or a dotted sub-field) contains every "
    "word of `has` (a|b = either) and none of `lacks`. Claims that field of that state.",
    "ending": "`id` is an ending of `kind`, its title has `title_has`. Claims its ending and detached events.",
    "not_ending": "`id` is no longer an ending. Claims its ending and added events leaving it.",
    "entrance": "the entrance is `id`.",
    "new_event": "an added event with `from` in its from-list and `to` (or `kind`, `hotkey`, `name_has`, "
    "`requires`, `after`); `two_way`: also one back. Claims the matching added events.",
    "gone_event": "the event `name` was removed.",
    "event": "the event `name` has every field of `set` (oneShot, hidden, hotkey, after, name for a rename). "
    "Claims those fields (a rename claims the old and the new name).",
    "requires": "the event `name`, or every transition into `into`, requires a flag matching `flag`; with `src`, "
    "something in `src` grants it. Claims those requires and the granting event.",
    "unrequire": "the event `name`, or every transition into `into`, no longer requires a flag matching `flag`.",
    "grant": "an event from a place whose id has the word `in`, the event `name`, or an event into or out of `into` grants a flag matching `flag`. Claims it.",
    "slot": "scene.slots `name` contains every word of `has`.",
    "slot_gone": "scene.slots `name` was removed.",
    "variant": "`id` gained a variant whose label matches `label` (alternatives) and whose base has `has`.",
    "variant_gone": "`id` lost the variant labelled `label`.",
    "any": "`of` is a list of effect lists; the first that holds (fewest problems, then fewest unclaimed changes) counts.",
    "allow": "tolerates one more change: `key` as listed by world_delta (e.g. [\"statef\", \"hall\", \"ambient\"]).",
}


# --------------------------------------------------------------------------- normalising

def _norm_event(e: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in e.items():
        if k == "from" and isinstance(v, str):
            v = [v]
        if k == "timing" and isinstance(v, dict):
            v = {tk: tv for tk, tv in v.items() if tv not in (0, 0.0, None)}
        if v in (None, False, [], {}, ""):
            continue
        out[k] = v
    return out


def _norm_state(s: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in s.items() if v not in (None, [], {}, "")}


def _scene(w: dict[str, Any]) -> dict[str, Any]:
    return w.get("scene") or {}


def world_delta(before: dict[str, Any], after: dict[str, Any]) -> set[tuple[str, ...]]:
    """Every change from ``before`` to ``after`` at field level, as tuples:
    ("top", key), ("entrance",), ("slot", name), ("state+", id), ("state-", id),
    ("statef", id, field), ("event+", name), ("event-", name), ("eventf", name, field),
    ("cutscene", name), ("scene", key)."""
    delta: set[tuple[str, ...]] = set()
    for k in set(before) | set(after):
        if k in ("scene", "id", "rev", "entrance", "schemaVersion"):
            continue
        if before.get(k) != after.get(k):
            delta.add(("top", k))
    eb, ea = before.get("entrance") or {}, after.get("entrance") or {}
    if eb.get("state") != ea.get("state"):
        delta.add(("entrance",))
    if {k: v for k, v in eb.items() if k != "state"} != {k: v for k, v in ea.items() if k != "state"}:
        delta.add(("top", "entrance.image"))
    sb, sa = _scene(before), _scene(after)
    slb, sla = sb.get("slots") or {}, sa.get("slots") or {}
    for n in set(slb) | set(sla):
        if slb.get(n) != sla.get(n):
            delta.add(("slot", n))
    stb, sta = sb.get("states") or {}, sa.get("states") or {}
    for sid in set(stb) | set(sta):
        if sid not in sta:
            delta.add(("state-", sid))
        elif sid not in stb:
            delta.add(("state+", sid))
        else:
            x, y = _norm_state(stb[sid]), _norm_state(sta[sid])
            for f in set(x) | set(y):
                if x.get(f) != y.get(f):
                    delta.add(("statef", sid, f))
    evb = {e.get("name"): _norm_event(e) for e in sb.get("events") or []}
    eva = {e.get("name"): _norm_event(e) for e in sa.get("events") or []}
    for n in set(evb) | set(eva):
        if n not in eva:
            delta.add(("event-", n))
        elif n not in evb:
            delta.add(("event+", n))
        else:
            for f in set(evb[n]) | set(eva[n]):
                if evb[n].get(f) != eva[n].get(f):
                    delta.add(("eventf", n, f))
    cb = {c.get("name"): c for c in sb.get("cutscenes") or []}
    ca = {c.get("name"): c for c in sa.get("cutscenes") or []}
    for n in set(cb) | set(ca):
        if cb.get(n) != ca.get(n):
            delta.add(("cutscene", n))
    for k in set(sb) | set(sa):
        if k not in ("slots", "states", "events", "cutscenes") and sb.get(k) != sa.get(k):
            delta.add(("scene", k))
    return delta


# --------------------------------------------------------------------------- matching helpers

def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def _sing(w: str) -> str:
    if len(w) > 3 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "xes", "sses")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def _id_has_head(sid: str, heads: list[str]) -> bool:
    toks = {_sing(t) for t in _words(sid)}
    joined = "_".join(_words(sid))
    for h in heads:
        hw = [_sing(t) for t in _words(h)]
        if len(hw) == 1 and hw[0] in toks:
            return True
        if len(hw) > 1 and "_".join(_words(h)) in joined:
            return True
    return False


def _flag_matches(flag: str, alts: list[str]) -> bool:
    toks = {_sing(t) for t in _words(flag)}
    alts = [x for a in alts for x in a.split("|")]
    for a in alts:
        aw = [_sing(t) for t in _words(a)]
        if aw and all(t in toks for t in aw):
            return True
    return False


def _text_has(text: str, pattern: str) -> bool:
    low = text.lower()
    return any(alt.strip().lower() in low for alt in pattern.split("|"))


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _get(obj: Any, dotted: str) -> Any:
    cur = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _flat(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False)


# --------------------------------------------------------------------------- the checker

@dataclass
class Verdict:
    passed: bool
    kind: str  # "edit" | "question" | "unchanged" | "failed"
    problems: list[str] = field(default_factory=list)
    unclaimed: list[tuple[str, ...]] = field(default_factory=list)


def check_effects(effects: list[dict[str, Any]], before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], list[tuple[str, ...]]]:
    """(problems, unclaimed changes) of ``after`` against ``effects``."""
    delta = world_delta(before, after)
    claimed: set[tuple[str, ...]] = set()
    problems: list[str] = []
    sb, sa = _scene(before), _scene(after)
    stb, sta = sb.get("states") or {}, sa.get("states") or {}
    evb = {e["name"]: _norm_event(e) for e in sb.get("events") or []}
    eva = {e["name"]: _norm_event(e) for e in sa.get("events") or []}
    added_events = [eva[n] for n in eva if n not in evb]
    new_states = [s for s in sta if s not in stb]

    def claim_event(name: str) -> None:
        for d in delta:
            if d[0] in ("event+", "event-", "eventf") and d[1] == name:
                claimed.add(d)

    def claim_state(sid: str, fieldname: str | None = None) -> None:
        for d in delta:
            if d[0] in ("state+", "state-") and d[1] == sid and fieldname is None:
                claimed.add(d)
            if d[0] == "statef" and d[1] == sid and (fieldname is None or d[2] == fieldname):
                claimed.add(d)

    for eff in effects:
        op = eff["op"]
        if op == "any":
            branches = []
            for alt in eff["of"]:
                p, u = check_effects(alt, before, after)
                branches.append((len(p), len(u), p, u))
            branches.sort(key=lambda b: (b[0], b[1]))
            p, u = branches[0][2], branches[0][3]
            problems.extend(p)
            claimed |= delta - set(u)
            continue
        if op == "new_state":
            heads = _as_list(eff["head"])
            cands = [s for s in new_states if _id_has_head(s, heads)]
            if len(cands) != 1:
                problems.append(f"expected one new state named like {heads}, new states: {new_states}")
                continue
            sid = cands[0]
            claim_state(sid)
            for e in added_events:
                if sid in (e.get("from") or []) or e.get("to") == sid:
                    claim_event(e["name"])
            base = _flat(sta[sid].get("base"))
            for word in eff.get("prose", []):
                if not _text_has(base, word):
                    problems.append(f"{sid}.base lacks {word!r}: {base!r}")
            if "from" in eff and not any(eff["from"] in (e.get("from") or []) and e.get("to") == sid for e in added_events):
                problems.append(f"no way from {eff['from']} into {sid}")
            if eff.get("back") and not any(sid in (e.get("from") or []) and e.get("to") == eff["from"] for e in added_events):
                problems.append(f"no way back from {sid} to {eff['from']}")
            if "ending" in eff:
                end = sta[sid].get("ending")
                if not isinstance(end, dict) or end.get("kind") != eff["ending"]:
                    problems.append(f"{sid} is not a {eff['ending']} ending: {end}")
        elif op == "gone_state":
            sid = eff["id"]
            if sid in sta:
                problems.append(f"state {sid} still there")
                continue
            claim_state(sid)
            for n, e in evb.items():
                if sid in (e.get("from") or []) or e.get("to") == sid:
                    for d in delta:
                        if d[0] in ("event-", "eventf") and d[1] == n:
                            claimed.add(d)
            for c in sb.get("cutscenes") or []:
                if c.get("state") == sid:
                    claimed.add(("cutscene", c.get("name")))
        elif op == "renamed_state":
            old, new = eff["id"], [t for t in _as_list(eff["to"])]
            hit = [s for s in new if s in sta and s not in stb]
            if old in sta or not hit:
                problems.append(f"{old} not moved to any of {new}; states: {sorted(sta)}")
                continue
            claim_state(old)
            claim_state(hit[0])
            for n, e in evb.items():
                if old in (e.get("from") or []) or e.get("to") == old:
                    claim_event(n)
            for n, e in eva.items():
                if hit[0] in (e.get("from") or []) or e.get("to") == hit[0]:
                    claim_event(n)
            if ("entrance",) in delta and (before.get("entrance") or {}).get("state") == old:
                claimed.add(("entrance",))
            for c in sb.get("cutscenes") or []:
                if c.get("state") == old:
                    claimed.add(("cutscene", c.get("name")))
        elif op == "state":
            sid = eff["id"]
            if sid not in sta:
                problems.append(f"state {sid} missing")
                continue
            best: list[str] | None = None
            for fname in eff["field"].split("|"):
                mine: list[str] = []
                text = _flat(_get(sta[sid], fname))
                for word in eff.get("has", []):
                    if not _text_has(text, word):
                        mine.append(f"{sid}.{fname} lacks {word!r}: {text!r}")
                for word in eff.get("lacks", []):
                    if _text_has(text, word):
                        mine.append(f"{sid}.{fname} still has {word!r}: {text!r}")
                if eff.get("changed", True) and _get(stb.get(sid, {}), fname) == _get(sta[sid], fname):
                    mine.append(f"{sid}.{fname} unchanged")
                if best is None or len(mine) < len(best):
                    best = mine
                claim_state(sid, fname.split(".")[0])
            problems.extend(best or [])
        elif op == "ending":
            sid = eff["id"]
            end = (sta.get(sid) or {}).get("ending")
            if not isinstance(end, dict) or end.get("kind") != eff["kind"]:
                problems.append(f"{sid} is not a {eff['kind']} ending: {end}")
            elif "title_has" in eff and not _text_has(_flat(end.get("title")), eff["title_has"]):
                problems.append(f"{sid} ending title {end.get('title')!r} lacks {eff['title_has']!r}")
            claim_state(sid, "ending")
            for n, e in evb.items():
                if sid in (e.get("from") or []):
                    claim_event(n)
        elif op == "not_ending":
            sid = eff["id"]
            if isinstance((sta.get(sid) or {}).get("ending"), dict):
                problems.append(f"{sid} is still an ending")
            claim_state(sid, "ending")
            for e in added_events:
                if sid in (e.get("from") or []):
                    claim_event(e["name"])
        elif op == "entrance":
            if (after.get("entrance") or {}).get("state") != eff["id"]:
                problems.append(f"entrance is {(after.get('entrance') or {}).get('state')}, expected {eff['id']}")
            claimed.add(("entrance",))
        elif op == "new_event":
            def ok(e: dict[str, Any], src: str, dst: str | None) -> bool:
                if src not in (e.get("from") or []):
                    return False
                if dst is not None and e.get("to") != dst:
                    return False
                if "kind" in eff and e.get("kind") != eff["kind"]:
                    return False
                if "hotkey" in eff and str(e.get("hotkey", "")).lower() != eff["hotkey"].lower():
                    return False
                if "name_has" in eff and not _text_has(e.get("name", ""), eff["name_has"]):
                    return False
                if "requires" in eff and not any(_flag_matches(f, _as_list(eff["requires"])) for f in e.get("requires") or []):
                    return False
                if "after" in eff and (e.get("timing") or {}).get("after") != eff["after"]:
                    return False
                return True
            fwd = [e for e in added_events if ok(e, eff["from"], eff.get("to"))]
            if not fwd:
                problems.append(f"no added event like {eff}")
            for e in fwd:
                claim_event(e["name"])
            if eff.get("two_way"):
                back = [e for e in added_events if eff.get("to") in (e.get("from") or []) and e.get("to") == eff["from"]]
                if not back:
                    problems.append(f"no added way back from {eff.get('to')} to {eff['from']}")
                for e in back:
                    claim_event(e["name"])
        elif op == "gone_event":
            if eff["name"] in eva:
                problems.append(f"event {eff['name']!r} still there")
            claim_event(eff["name"])
        elif op == "event":
            name = eff["name"]
            want = dict(eff["set"])
            new_name = want.pop("name", None)
            cur_name = new_name or name
            if new_name is not None:
                if name in eva or new_name not in eva:
                    problems.append(f"event {name!r} not renamed to {new_name!r}")
                    continue
                claim_event(name)
            if cur_name not in eva:
                problems.append(f"event {cur_name!r} missing")
                continue
            e = eva[cur_name]
            for k, v in want.items():
                got = (e.get("timing") or {}).get("after", 0) if k == "after" else e.get(k, False if isinstance(v, bool) else None)
                if isinstance(v, str) and isinstance(got, str):
                    good = got.lower() == v.lower()
                else:
                    good = got == v
                if not good:
                    problems.append(f"event {cur_name!r} {k} = {got!r}, expected {v!r}")
            fields = {("timing" if k == "after" else k) for k in want}
            if "hidden" in want:
                fields.add("hotkey")
            if "after" in want:
                fields.add("hotkey")
            for d in delta:
                if d[0] == "eventf" and d[1] == cur_name and d[2] in fields:
                    claimed.add(d)
                if new_name is not None and d[0] == "event+" and d[1] == new_name:
                    claimed.add(d)
        elif op in ("requires", "unrequire"):
            alts = _as_list(eff["flag"])
            if "name" in eff:
                targets = [eff["name"]]
            else:
                targets = [n for n, e in evb.items() if e.get("kind", "transition") == "transition" and e.get("to") == eff["into"]]
                if not targets:
                    problems.append(f"nothing leads into {eff['into']}")
            for n in targets:
                e = eva.get(n)
                if e is None:
                    problems.append(f"event {n!r} missing")
                    continue
                has = any(_flag_matches(f, alts) for f in e.get("requires") or [])
                if has != (op == "requires"):
                    problems.append(f"event {n!r} requires {e.get('requires')}: expected {'a' if op == 'requires' else 'no'} flag like {alts}")
                for d in delta:
                    if d[0] == "eventf" and d[1] == n and d[2] == "requires":
                        claimed.add(d)
            if op == "requires" and "src" in eff:
                granting = [n for n, e in eva.items() if eff["src"] in (e.get("from") or []) and any(_flag_matches(f, alts) for f in e.get("grants") or [])]
                if not granting:
                    problems.append(f"nothing in {eff['src']} grants a flag like {alts}")
                for n in granting:
                    if n not in evb:
                        claim_event(n)
                    else:
                        for d in delta:
                            if d[0] == "eventf" and d[1] == n and d[2] == "grants":
                                claimed.add(d)
        elif op == "grant":
            alts = _as_list(eff["flag"])
            pool = [e for e in eva.values() if e["name"] == eff.get("name") or ("in" in eff and any(_id_has_head(f, [eff["in"]]) for f in e.get("from") or []))
                    or (eff.get("into") is not None and eff["into"] in (e.get("from") or []) + [e.get("to")])]
            granting = [e for e in pool if any(_flag_matches(f, alts) for f in e.get("grants") or [])]
            if not granting:
                problems.append(f"nothing grants a flag like {alts} in {eff.get('in') or eff.get('name')}")
            for e in granting:
                if e["name"] not in evb:
                    claim_event(e["name"])
                else:
                    for d in delta:
                        if d[0] == "eventf" and d[1] == e["name"] and d[2] in ("grants", "oneShot"):
                            claimed.add(d)
        elif op == "slot":
            val = _flat((sa.get("slots") or {}).get(eff["name"]))
            if not val:
                problems.append(f"slot {eff['name']} undefined")
            for word in eff.get("has", []):
                if not _text_has(val, word):
                    problems.append(f"slot {eff['name']} = {val!r} lacks {word!r}")
            claimed.add(("slot", eff["name"]))
        elif op == "slot_gone":
            if eff["name"] in (sa.get("slots") or {}):
                problems.append(f"slot {eff['name']} still defined")
            claimed.add(("slot", eff["name"]))
        elif op in ("variant", "variant_gone"):
            sid = eff["id"]
            vb = (stb.get(sid) or {}).get("variants") or []
            va = (sta.get(sid) or {}).get("variants") or []
            labels = [str(v.get("label", "")) for v in va]
            alts = _as_list(eff.get("label", []))
            if op == "variant":
                fresh = [v for v in va if v not in vb]
                fit = [v for v in fresh if not alts or any(_text_has(str(v.get("label", "")), a) for a in alts)]
                fit = [v for v in fit if all(_text_has(_flat(v.get("base")), w) for w in eff.get("has", []))]
                if not fit:
                    problems.append(f"no new variant of {sid} like label {alts} has {eff.get('has', [])}: {va}")
            else:
                if any(lab.lower() in [a.lower() for a in alts] for lab in labels):
                    problems.append(f"{sid} still has variant {alts}")
            claim_state(sid, "variants")
        elif op == "allow":
            claimed.add(tuple(eff["key"]))
        else:
            raise ValueError(f"unknown effect {op!r}")
    unclaimed = sorted(delta - claimed)
    return problems, unclaimed


def judge(expect: dict[str, Any], before: dict[str, Any], after: dict[str, Any] | None, question: str | None) -> Verdict:
    """The verdict on one outcome. ``after`` is the returned world (None when the edit failed),
    ``question`` the clarifying question when the agent asked."""
    changed = after is not None and bool(world_delta(before, after))
    if expect.get("ask"):
        if question and not changed:
            missing = [n for n in expect.get("names", []) if not _mentions(question, n)]
            if missing:
                return Verdict(False, "question", [f"the question does not name {missing}: {question}"])
            return Verdict(True, "question")
        if changed:
            return Verdict(False, "edit", ["changed the world instead of asking"])
        return Verdict(False, "failed" if after is None else "unchanged", ["no question"])
    if question and not changed:
        return Verdict(False, "question", [f"asked: {question}"])
    if after is None:
        return Verdict(False, "failed", ["no world"])
    if not changed:
        return Verdict(False, "unchanged", ["nothing changed"])
    problems, unclaimed = check_effects(expect["effects"], before, after)
    if unclaimed:
        problems.append(f"changed more than asked: {unclaimed}")
    return Verdict(not problems, "edit", problems, unclaimed)


def _mentions(text: str, name: str) -> bool:
    low = text.lower()
    return name.lower() in low or name.replace("_", " ").lower() in low


# --------------------------------------------------------------------------- loading and the split

def load_world(name: str) -> dict[str, Any]:
    return json.loads((EVAL / "worlds" / f"{name}.json").read_text())


def load_part(part: str) -> list[dict[str, Any]]:
    lines = (EVAL / f"{part}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def part_sha256(part: str) -> str:
    return hashlib.sha256((EVAL / f"{part}.jsonl").read_bytes()).hexdigest()


def split(cases: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(dev, test): per world, sorted by sha256(id); the first ceil(60 %) are dev."""
    dev: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    worlds = sorted({c["world"] for c in cases})
    for w in worlds:
        mine = sorted((c for c in cases if c["world"] == w), key=lambda c: hashlib.sha256(c["id"].encode()).hexdigest())
        k = math.ceil(len(mine) * 0.6)
        dev.extend(mine[:k])
        test.extend(mine[k:])
    return dev, test
