"""A straightforward pure-Python implementation of the kernel gate's checks
(spec/WORLD.md §2, docs/lints.md), the baseline of the gate benchmark.

``check(world, limits)`` takes an already-parsed, normalised world dict and
returns the set of ``(lint, path)`` findings the C++ gate reports for it: the
schema checks, every structural lint, slots (fill, undefined, cycle, unused,
limits), the doctrine lints with the word lists read from cpp/data/lints/*.txt
(whole words, case-insensitive), the budget with the documented word tokenizer,
and the graph lints (unreachable, stuck, unsatisfiable-requires, no-ending).
It is written the way a competent Python programmer would write it — dicts,
sets, compiled regular expressions, iterative walks — and is not made slow on
purpose. It does not build messages or resolved documents beyond the filled
prose the lints need.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LINT_DIR = ROOT / "cpp" / "data" / "lints"

ID_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}\Z")
SLOT_RE = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_.\-]{1,64})\}")
VERSION_RE = re.compile(r"([0-9]{1,9})[0-9.]*\Z")
RESERVED_KEYS = set("wasdWASD0123456789")
NAME_BAD_RE = re.compile("[\x00-\x1f\x7f\x80-\x9f]")


@dataclass
class Limits:
    max_states: int = 10000
    max_events: int = 50000
    max_prose_chars: int = 4000
    max_document_bytes: int = 2 << 20
    max_depth: int = 64
    budget_tokens: int = 77


# ---------------------------------------------------------------- text classes
# The character classes of docs/lints.md: ASCII letters and digits and every
# other code point that is neither listed punctuation nor space build words;
# ' and U+2019 between two word characters belong to the word.

_SPACE = "\t\n\v\f\r \x00-\x1f\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_WORD = ("0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u167f\u1681-\u1fff\u200b-\u200f"
         "\u2060-\u218f\u2c00-\u2fff\u3040-\ufefe\uff00\uff10-\ufffc\ufffe-\U0001efff"
         "\U0001fb00-\U0010ffff")
WORD_PATTERN = f"[{_WORD}]+(?:['\u2019][{_WORD}]+)*"
# Doctrine scanning: slot references and brace escapes break phrases.
SCAN_RE = re.compile(r"(\{\{|\}\}|\{[A-Za-z0-9_.\-]{1,64}\})|(" + WORD_PATTERN + ")")
JOIN_RE = re.compile(f"[{_SPACE}-]*")
# The default tokenizer ("conjure-words-v1"): a word costs one token per started
# 8 code points, any other non-space character one token, space nothing.
TOKEN_RE = re.compile(f"({WORD_PATTERN})|[^{_SPACE}]")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def count_tokens(text: str) -> int:
    n = 0
    for m in TOKEN_RE.finditer(text):
        w = m.group(1)
        n += (len(w) + 7) // 8 if w else 1
    return n


def scan_words(text: str) -> list[tuple[str, int, int, bool]]:
    """(lower-cased word, start, end, joined) for every word of `text`; joined:
    only spaces or hyphens separate it from the previous word."""
    words: list[tuple[str, int, int, bool]] = []
    prev_end = -1  # end of the previous word, -1 when a phrase cannot continue
    for m in SCAN_RE.finditer(text):
        if m.group(1):
            prev_end = -1
            continue
        start = m.start()
        joined = prev_end >= 0 and JOIN_RE.fullmatch(text, prev_end, start) is not None
        words.append((m.group(2).translate(_ASCII_LOWER).replace("\u2019", "'"), start, m.end(), joined))
        prev_end = m.end()
    return words


# ---------------------------------------------------------------- word lists

DOCTRINE_LINTS = ("negation", "whiteout", "intent", "lethal-override")


class WordList:
    """One doctrine lint's entries (cpp/data/lints/<lint>.txt): phrases keyed by
    their first word (longest first), and `*suffix` entries."""

    def __init__(self, lint: str) -> None:
        self.lint = lint
        self.first: dict[str, list[tuple[str, ...]]] = {}
        self.suffixes: list[str] = []
        for line in (LINT_DIR / f"{lint}.txt").read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("*"):
                if line[1:]:
                    self.suffixes.append(line[1:].translate(_ASCII_LOWER))
                continue
            words = [w[0] for w in scan_words(line)]
            if words:
                self.first.setdefault(words[0], []).append(tuple(words[1:]))
        for rests in self.first.values():
            rests.sort(key=len, reverse=True)

    def matches(self, words: list[tuple[str, int, int, bool]]) -> list[tuple[int, int]]:
        """Every non-overlapping match, longest at each position: (start, end) offsets."""
        out = []
        nxt = 0
        n = len(words)
        for i, (w, start, end, _) in enumerate(words):
            if i < nxt:
                continue
            length = 0
            for rest in self.first.get(w, ()):
                k = len(rest)
                if i + k >= n:
                    continue
                if all(words[i + 1 + j][3] and words[i + 1 + j][0] == rest[j] for j in range(k)):
                    length = k + 1
                    break
            if not length and any(w.endswith(s) for s in self.suffixes):
                length = 1
            if length:
                out.append((start, words[i + length - 1][2]))
                nxt = i + length
        return out


_LISTS: dict[str, WordList] | None = None


def word_lists() -> dict[str, WordList]:
    global _LISTS
    if _LISTS is None:
        _LISTS = {lint: WordList(lint) for lint in DOCTRINE_LINTS}
    return _LISTS


# ---------------------------------------------------------------- the checker


class _Checker:
    def __init__(self, world: Any, limits: Limits) -> None:
        self.world = world
        self.limits = limits
        self.found: set[tuple[str, str]] = set()
        self.slots: dict[str, str] = {}
        self.states: dict[str, dict[str, Any]] = {}   # id -> {"ending": present, "layers": {...}}
        self.events: list[dict[str, Any]] = []
        self.cutscenes: list[dict[str, Any]] = []
        self.prose: list[tuple[str, str, bool]] = []  # (path, text, override prose)
        self.entrance: str | None = None
        self.matches: list[tuple[str, str, int, int]] = []  # doctrine hits with offsets

    def add(self, lint: str, path: str) -> None:
        self.found.add((lint, path))

    # ---- schema and model ----
    @staticmethod
    def field(obj: dict, key: str) -> Any:
        v = obj.get(key)
        return v

    def opt_str(self, obj: dict, key: str, path: str) -> str | None:
        v = obj.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            self.add("schema", path)
            return None
        return v

    def req_str(self, obj: dict, key: str, path: str) -> str | None:
        if obj.get(key) is None:
            self.add("schema", path)
            return None
        return self.opt_str(obj, key, path)

    def opt_bool(self, obj: dict, key: str, path: str) -> bool:
        v = obj.get(key)
        if v is None:
            return False
        if not isinstance(v, bool):
            self.add("schema", path)
            return False
        return v

    def opt_seconds(self, obj: dict, key: str, path: str) -> float:
        v = obj.get(key)
        if v is None:
            return 0.0
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.add("schema", path)
            return 0.0
        if not (v >= 0) or not math.isfinite(v):
            self.add("schema", path)
            return 0.0
        return float(v)

    def str_list(self, obj: dict, key: str, path: str) -> list[str]:
        v = obj.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            self.add("schema", path)
            return []
        out = []
        for item in v:
            if isinstance(item, str):
                out.append(item)
            else:
                self.add("schema", path)
        return out

    def prose_field(self, obj: dict, key: str, path: str, override: bool = False) -> str | None:
        v = obj.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            self.add("schema", path)
            return None
        self.prose.append((path, v, override))
        return path

    def layer_pair(self, obj: dict, key: str, base: str, override: bool = False) -> tuple[Any, Any]:
        v = obj.get(key)
        if v is None:
            return None, None
        path = f"{base}.{key}"
        if not isinstance(v, dict):
            self.add("schema", path)
            return None, None
        return (self.prose_field(v, "static", path + ".static", override),
                self.prose_field(v, "dynamic", path + ".dynamic", override))

    def ambient(self, obj: dict, base: str) -> list[str]:
        v = obj.get("ambient")
        if v is None:
            return []
        path = base + ".ambient"
        if not isinstance(v, list):
            self.add("schema", path)
            return []
        out = []
        for i, item in enumerate(v):
            p = f"{path}[{i}]"
            if not isinstance(item, str):
                self.add("schema", p)
                continue
            self.prose.append((p, item, False))
            out.append(p)
        return out

    def ending(self, obj: dict, base: str) -> tuple[bool, bool]:
        v = obj.get("ending")
        if v is None:
            return False, False
        path = base + ".ending"
        if not isinstance(v, dict):
            self.add("schema", path)
            return True, False
        ok = True
        kind = v.get("kind")
        if kind not in ("win", "lose"):
            self.add("schema", path + ".kind")
            ok = False
        if self.req_str(v, "title", path + ".title") is None:
            ok = False
        self.opt_str(v, "subtitle", path + ".subtitle")
        return True, ok

    @staticmethod
    def valid_name(s: str) -> bool:
        return 0 < len(s) <= 120 and not NAME_BAD_RE.search(s)

    def build(self) -> bool:
        w = self.world
        if not isinstance(w, dict):
            self.add("schema", "world")
            return False
        ver = w.get("schemaVersion")
        if ver is not None:
            m = VERSION_RE.match(ver) if isinstance(ver, str) else None
            if m is None or m.group(1) != "1":
                self.add("schema", "schemaVersion")
                return False
        self.opt_str(w, "id", "id")
        self.req_str(w, "name", "name")
        self.opt_str(w, "description", "description")
        self.opt_str(w, "cover", "cover")
        vis = w.get("visibility")
        if vis is not None and vis not in ("private", "public"):
            self.add("schema", "visibility")
        ent = w.get("entrance")
        if ent is None or not isinstance(ent, dict):
            self.add("schema", "entrance")
        else:
            self.entrance = self.req_str(ent, "state", "entrance.state")
            img = ent.get("image")
            if img is not None:
                if not isinstance(img, dict):
                    self.add("schema", "entrance.image")
                else:
                    self.req_str(img, "src", "entrance.image.src")
                    self.opt_str(img, "label", "entrance.image.label")
        scene = w.get("scene")
        if scene is None or not isinstance(scene, dict):
            self.add("schema", "scene")
            return True
        self.build_slots(scene)
        self.build_states(scene)
        self.build_events(scene)
        self.build_cutscenes(scene)
        return True

    def build_slots(self, scene: dict) -> None:
        v = scene.get("slots")
        if v is None:
            return
        if not isinstance(v, dict):
            self.add("schema", "scene.slots")
            return
        for name, text in v.items():
            path = "scene.slots." + name
            if not ID_RE.match(name) or not isinstance(text, str):
                self.add("schema", path)
                continue
            self.slots[name] = text

    def build_states(self, scene: dict) -> None:
        v = scene.get("states")
        if v is None or not isinstance(v, dict):
            self.add("schema", "scene.states")
            return
        self.n_states = len(v)
        for sid, obj in v.items():
            path = f"state[{sid}]"
            if not ID_RE.match(sid):
                self.add("schema", path)
            st = {"ending": False, "layers": None}
            self.states[sid] = st
            if not isinstance(obj, dict):
                self.add("schema", path)
                continue
            base = self.prose_field(obj, "base", path + ".base")
            cs, cd = self.layer_pair(obj, "camera", path)
            ms, md = self.layer_pair(obj, "movement", path)
            amb = self.ambient(obj, path)
            present, _ = self.ending(obj, path)
            st["ending"] = present
            st["layers"] = (base, cs, cd, ms, md, amb)
            variants = obj.get("variants")
            if variants is None:
                continue
            vpath = path + ".variants"
            if not isinstance(variants, list):
                self.add("schema", vpath)
                continue
            for i, var in enumerate(variants):
                p = f"{vpath}[{i}]"
                if not isinstance(var, dict):
                    self.add("schema", p)
                    continue
                self.opt_str(var, "label", p + ".label")
                self.prose_field(var, "base", p + ".base")
                self.layer_pair(var, "camera", p)
                self.layer_pair(var, "movement", p)
                self.ambient(var, p)

    def build_events(self, scene: dict) -> None:
        v = scene.get("events")
        if v is None or not isinstance(v, list):
            self.add("schema", "scene.events")
            return
        self.n_events = len(v)
        for i, obj in enumerate(v):
            ev: dict[str, Any] = {"path": f"scene.events[{i}]", "name": None, "kind": None,
                                  "from": None, "has_to": False, "to": None, "hotkey": "",
                                  "requires": [], "grants": [], "hidden": False, "after": 0.0,
                                  "ending": False}
            self.events.append(ev)
            if not isinstance(obj, dict):
                self.add("schema", ev["path"])
                continue
            name = obj.get("name")
            if isinstance(name, str) and self.valid_name(name):
                ev["name"] = name
                ev["path"] = f"event[{name}]"
            else:
                self.add("schema", ev["path"] + ".name")
            path = ev["path"]
            kind = obj.get("kind")
            if kind in ("transition", "override", "terminal"):
                ev["kind"] = kind
            else:
                self.add("schema", path + ".kind")
            frm = obj.get("from")
            if frm is None or not isinstance(frm, list) or not frm:
                self.add("schema", path + ".from")
            else:
                good = [s for s in frm if isinstance(s, str)]
                if len(good) != len(frm):
                    self.add("schema", path + ".from")
                else:
                    ev["from"] = good
            to = obj.get("to")
            if to is not None:
                ev["has_to"] = True
                if isinstance(to, str):
                    ev["to"] = to
                else:
                    self.add("schema", path + ".to")
            ev["hotkey"] = self.opt_str(obj, "hotkey", path + ".hotkey") or ""
            ev["requires"] = self.str_list(obj, "requires", path + ".requires")
            ev["grants"] = self.str_list(obj, "grants", path + ".grants")
            ev["hidden"] = self.opt_bool(obj, "hidden", path + ".hidden")
            self.opt_bool(obj, "oneShot", path + ".oneShot")
            timing = obj.get("timing")
            if timing is not None:
                if not isinstance(timing, dict):
                    self.add("schema", path + ".timing")
                else:
                    ev["after"] = self.opt_seconds(timing, "after", path + ".timing.after")
                    self.opt_seconds(timing, "duration", path + ".timing.duration")
            if kind == "terminal":
                ev["ending"], _ = self.ending(obj, path)
            ov = kind == "override"
            self.prose_field(obj, "base", path + ".base", ov)
            self.prose_field(obj, "detail", path + ".detail", ov)
            self.layer_pair(obj, "camera", path, ov)
            self.layer_pair(obj, "movement", path, ov)

    def build_cutscenes(self, scene: dict) -> None:
        v = scene.get("cutscenes")
        if v is None:
            return
        if not isinstance(v, list):
            self.add("schema", "scene.cutscenes")
            return
        for i, obj in enumerate(v):
            cs = {"path": f"scene.cutscenes[{i}]", "name": None, "state": None}
            self.cutscenes.append(cs)
            if not isinstance(obj, dict):
                self.add("schema", cs["path"])
                continue
            name = obj.get("name")
            if isinstance(name, str) and self.valid_name(name):
                cs["name"] = name
                cs["path"] = f"cutscene[{name}]"
            else:
                self.add("schema", cs["path"] + ".name")
            cs["state"] = self.req_str(obj, "state", cs["path"] + ".state")
            self.opt_seconds(obj, "duration", cs["path"] + ".duration")
            self.prose_field(obj, "base", cs["path"] + ".base")

    # ---- slots ----
    def compile(self) -> dict[str, str]:
        """Checks slots and prose sizes; returns path -> filled text for fillable fields."""
        max_chars = self.limits.max_prose_chars
        slots = self.slots
        refs: dict[str, list[str]] = {}
        for name, text in slots.items():
            used = [m.group(1) for m in SLOT_RE.finditer(text) if m.group(1)]
            for u in used:
                if u not in slots:
                    self.add("slot-undefined", "scene.slots." + name)
            refs[name] = [u for u in used if u in slots]

        # Cycles: slots on a cycle (Tarjan's strongly connected components, iterative).
        cyclic = self.cyclic_nodes(list(slots), refs)
        for name in cyclic:
            self.add("slot-cycle", "scene.slots." + name)

        # Filled text of every slot (memoised, dependency order), None when unusable.
        filled: dict[str, str | None] = {}
        big = max_chars + 1

        def fill_slot(root: str) -> None:
            stack = [(root, 0)]
            while stack:
                name, k = stack.pop()
                deps = refs[name]
                if name in cyclic:
                    filled[name] = None
                    continue
                while k < len(deps) and deps[k] in filled:
                    k += 1
                if k < len(deps):
                    stack.append((name, k))
                    stack.append((deps[k], 0))
                    continue
                filled[name] = self.fill(slots[name], filled, big)

        for name in slots:
            if name not in filled:
                fill_slot(name)
        for name, text in slots.items():
            if len(text) > max_chars:
                self.add("limit", "scene.slots." + name)
            else:
                f = filled[name]
                if f is not None and f is not _TOO_BIG and len(f) > max_chars:
                    self.add("limit", "scene.slots." + name)
                elif f is _TOO_BIG:
                    self.add("limit", "scene.slots." + name)

        out: dict[str, str] = {}
        used_slots: set[str] = set()
        total = 0
        for path, text, _ in self.prose:
            names = [m.group(1) for m in SLOT_RE.finditer(text) if m.group(1)]
            bad = False
            for n in names:
                if n in slots:
                    used_slots.add(n)
                    if filled.get(n) is None:
                        bad = True
                else:
                    self.add("slot-undefined", path)
                    bad = True
            if len(text) > max_chars:
                self.add("limit", path)
                continue
            if bad:
                continue
            f = self.fill(text, filled, big)
            if f is _TOO_BIG or len(f) > max_chars:
                self.add("limit", path)
                continue
            total += len(f.encode("utf-8"))
            out[path] = f
        if total > self.limits.max_document_bytes * 8:
            self.add("limit", "scene")
            out = {}
        # slot-unused: slots no prose reaches, directly or through other slots.
        work = list(used_slots)
        while work:
            for dep in refs[work.pop()]:
                if dep not in used_slots:
                    used_slots.add(dep)
                    work.append(dep)
        for name in slots:
            if name not in used_slots:
                self.add("slot-unused", "scene.slots." + name)
        return out

    @staticmethod
    def fill(text: str, filled: dict[str, Any], big: int) -> Any:
        parts = []
        size = 0
        pos = 0
        for m in SLOT_RE.finditer(text):
            parts.append(text[pos:m.start()])
            tok = m.group(0)
            if tok == "{{":
                parts.append("{")
            elif tok == "}}":
                parts.append("}")
            else:
                f = filled.get(m.group(1))
                if f is None:
                    return None
                if f is _TOO_BIG:
                    return _TOO_BIG
                parts.append(f)
                size += len(f)
                if size > big:
                    return _TOO_BIG
            pos = m.end()
        parts.append(text[pos:])
        return "".join(parts)

    @staticmethod
    def cyclic_nodes(nodes: list[Any], adj: dict[Any, list[Any]]) -> set[Any]:
        index: dict[Any, int] = {}
        low: dict[Any, int] = {}
        on_stack: set[Any] = set()
        stack: list[Any] = []
        result: set[Any] = set()
        counter = 0
        for root in nodes:
            if root in index:
                continue
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            call = [(root, iter(adj.get(root, ())))]
            while call:
                v, it = call[-1]
                advanced = False
                for w in it:
                    if w not in index:
                        index[w] = low[w] = counter
                        counter += 1
                        stack.append(w)
                        on_stack.add(w)
                        call.append((w, iter(adj.get(w, ()))))
                        advanced = True
                        break
                    if w in on_stack:
                        low[v] = min(low[v], index[w])
                if advanced:
                    continue
                call.pop()
                if call:
                    parent = call[-1][0]
                    low[parent] = min(low[parent], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1 or v in adj.get(v, ()):
                        result.update(comp)
        return result

    # ---- structural ----
    def structural(self) -> None:
        lim = self.limits
        if getattr(self, "n_states", 0) > lim.max_states:
            self.add("limit", "scene.states")
        if getattr(self, "n_events", 0) > lim.max_events:
            self.add("limit", "scene.events")
        states = self.states
        if self.entrance is not None and self.entrance not in states:
            self.add("dangling-ref", "entrance.state")
        names: set[str] = set()
        hotkeys: dict[tuple[str, str], int] = {}
        for i, e in enumerate(self.events):
            p = e["path"]
            if e["name"] is not None:
                if e["name"] in names:
                    self.add("duplicate-name", p)
                names.add(e["name"])
            kind = e["kind"]
            if e["from"] is not None:
                for s in set(e["from"]):
                    if s not in states:
                        self.add("dangling-ref", p + ".from")
                    elif kind in ("transition", "override") and states[s]["ending"]:
                        self.add("ending-dead-end", p + ".from")
            if kind == "transition":
                if not e["has_to"]:
                    self.add("transition-needs-to", p + ".to")
                elif e["to"] is not None and e["to"] not in states:
                    self.add("dangling-ref", p + ".to")
            elif kind in ("override", "terminal"):
                if e["has_to"]:
                    self.add("override-forbids-to", p + ".to")
                if kind == "terminal" and not e["ending"]:
                    self.add("terminal-needs-ending", p + ".ending")
            hk = e["hotkey"]
            if hk:
                if hk in RESERVED_KEYS:
                    self.add("reserved-hotkey", p + ".hotkey")
                if e["from"] is not None:
                    key_l = hk.lower() if hk.isascii() else _ascii_lower(hk)
                    for s in e["from"]:
                        holder = hotkeys.setdefault((s, key_l), i)
                        if holder != i:
                            self.add("hotkey-clash", p + ".hotkey")
        cut_names: set[str] = set()
        for c in self.cutscenes:
            if c["name"] is not None:
                if c["name"] in cut_names:
                    self.add("duplicate-name", c["path"])
                cut_names.add(c["name"])
            if c["state"] is not None and c["state"] not in states:
                self.add("dangling-ref", c["path"] + ".state")

    # ---- graph ----
    def graph(self) -> None:
        states = self.states
        events = self.events
        # kernel-cycle: cycles of self-firing transitions.
        adj: dict[str, list[str]] = {}
        self_firing = []
        for e in events:
            if e["kind"] != "transition" or e["to"] is None or e["from"] is None:
                continue
            if not e["after"] > 0 or e["hotkey"] or e["requires"]:
                continue
            if e["to"] not in states:
                continue
            self_firing.append(e)
            for f in e["from"]:
                if f in states:
                    adj.setdefault(f, []).append(e["to"])
        if self_firing:
            comps = self.components(list(states), adj)
            reported = set()
            for e in self_firing:
                c = comps.get(e["to"])
                if c is None or c in reported:
                    continue
                if any(comps.get(f) == c for f in e["from"] if f in states):
                    reported.add(c)
                    self.add("kernel-cycle", e["path"])

        granted = {g for e in events for g in e["grants"]}
        for e in events:
            for r in e["requires"]:
                if r not in granted:
                    self.add("unsatisfiable-requires", e["path"] + ".requires")

        if self.entrance is None or self.entrance not in states:
            return
        # Fixpoint over reachable states and obtainable flags.
        live = [e for e in events if e["kind"] is not None and e["from"] is not None
                and not (e["hidden"] and not e["hotkey"] and not e["after"] > 0)]
        by_state: dict[str, list[int]] = {}
        by_flag: dict[str, list[int]] = {}
        pending = []
        for i, e in enumerate(live):
            need = set(e["requires"])
            pending.append(1 + len(need))
            for s in set(e["from"]):
                by_state.setdefault(s, []).append(i)
            for f in need:
                by_flag.setdefault(f, []).append(i)
        reached = {self.entrance}
        obtained: set[str] = set()
        fired = [False] * len(live)
        from_met = [False] * len(live)
        state_work = [self.entrance]
        flag_work: list[str] = []

        def fire(i: int) -> None:
            fired[i] = True
            e = live[i]
            for g in e["grants"]:
                if g not in obtained:
                    obtained.add(g)
                    flag_work.append(g)
            if e["kind"] == "transition" and e["to"] in states and e["to"] not in reached:
                reached.add(e["to"])
                state_work.append(e["to"])

        while state_work or flag_work:
            if state_work:
                s = state_work.pop()
                if states[s]["ending"]:
                    continue
                for i in by_state.get(s, ()):
                    if not from_met[i]:
                        from_met[i] = True
                        pending[i] -= 1
                        if pending[i] == 0:
                            fire(i)
            else:
                for i in by_flag.get(flag_work.pop(), ()):
                    pending[i] -= 1
                    if pending[i] == 0:
                        fire(i)

        ending_reachable = any(fired[i] and e["kind"] == "terminal" for i, e in enumerate(live))
        can_leave: set[str] = set()
        for i, e in enumerate(live):
            if fired[i] and e["kind"] in ("transition", "terminal"):
                can_leave.update(e["from"])
        for sid, st in states.items():
            if sid not in reached:
                self.add("unreachable", f"state[{sid}]")
            elif st["ending"]:
                ending_reachable = True
            elif sid not in can_leave:
                self.add("stuck", f"state[{sid}]")
        if not ending_reachable:
            self.add("no-ending", "scene")

    def components(self, nodes: list[str], adj: dict[str, list[str]]) -> dict[str, int]:
        """Node -> id of its cyclic strongly connected component (cyclic ones only)."""
        cyc = self.cyclic_nodes([n for n in nodes if n in adj], adj)
        # Group the cyclic nodes into components by mutual reachability inside `cyc`.
        comp: dict[str, int] = {}
        cid = 0
        for n in cyc:
            if n in comp:
                continue
            fwd = self.reach(n, adj, cyc)
            radj: dict[str, list[str]] = {}
            for v in fwd:
                for w in adj.get(v, ()):
                    radj.setdefault(w, []).append(v)
            back = self.reach(n, radj, fwd)
            for v in fwd & back:
                comp[v] = cid
            cid += 1
        return comp

    @staticmethod
    def reach(start: str, adj: dict[str, list[str]], within: set[str]) -> set[str]:
        seen = {start}
        work = [start]
        while work:
            for w in adj.get(work.pop(), ()):
                if w in within and w not in seen:
                    seen.add(w)
                    work.append(w)
        return seen

    # ---- doctrine and budget ----
    def doctrine(self) -> None:
        """Every match in the raw prose and in the slots (with its offsets), as the gate reports them."""
        lists = word_lists()
        plain = [lists["negation"], lists["whiteout"], lists["intent"]]
        lethal = lists["lethal-override"]
        fields = [(p, t, o) for p, t, o in self.prose]
        fields += [("scene.slots." + name, text, False) for name, text in self.slots.items()]
        for path, text, override in fields:
            words = scan_words(text)
            if not words:
                continue
            for wl in (plain + [lethal]) if override else plain:
                for start, end in wl.matches(words):
                    self.matches.append((wl.lint, path, start, end))
                    self.add(wl.lint, path)

    def budget(self, filled: dict[str, str]) -> None:
        limit = self.limits.budget_tokens
        for sid, st in self.states.items():
            layers = st["layers"]
            if layers is None:
                continue
            base, cs, cd, ms, md, amb = layers
            for parts in ((base, cs, ms), (base, cd, md)):
                texts = []
                ok = True
                for p in [*parts, *amb]:
                    if p is None:
                        continue
                    f = filled.get(p)
                    if f is None:
                        ok = False
                        break
                    if f:
                        texts.append(f)
                if ok and count_tokens(", ".join(texts)) > limit:
                    self.add("budget", f"state[{sid}]")

    def run(self) -> set[tuple[str, str]]:
        if not self.build():
            return self.found
        filled = self.compile()
        self.structural()
        self.graph()
        self.doctrine()
        self.budget(filled)
        return self.found


class _TooBig:
    def __len__(self) -> int:  # pragma: no cover - never measured
        raise TypeError


_TOO_BIG: Any = _TooBig()


def _ascii_lower(s: str) -> str:
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in s)


def check(world: Any, limits: Limits | None = None) -> set[tuple[str, str]]:
    """The (lint, path) findings of the gate for an already-parsed world."""
    if isinstance(world, dict):
        world = normalise(world)
    return _Checker(world, limits or Limits()).run()


def normalise(world: dict[str, Any]) -> dict[str, Any]:
    """What the core's normalise does, on a shallow copy: schemaVersion, `from` as a list."""
    w = dict(world)
    w.setdefault("schemaVersion", "1.0")
    scene = w.get("scene")
    if isinstance(scene, dict) and isinstance(scene.get("events"), list):
        events = []
        for e in scene["events"]:
            if isinstance(e, dict) and isinstance(e.get("from"), str):
                e = dict(e, **{"from": [e["from"]]})
            events.append(e)
        w["scene"] = dict(scene, events=events)
    return w
