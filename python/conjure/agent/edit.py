"""Natural-language edits: ask a provider for ops, apply them through the gate, repair, reply."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from conjure import _core
from conjure.agent.rules import meaning
from conjure.agent.providers import EditRequest, OfflineProvider, Proposal, Provider, ProviderError, UnusableAnswer
from conjure.agent.scene import display
from conjure.errors import ConjureError
from conjure.gate import Diagnostic, apply_ops, diff, validate
from conjure.world import World, WorldLike

__all__ = ["EditOutcome", "edit", "summarize"]


@dataclass(frozen=True)
class EditOutcome:
    """The result of :func:`edit`.

    Attributes:
        world: the edited world (gate-clean) — the unchanged input world for a question —
            or None when the edit failed.
        ops: the ops that were applied (empty for a question or a failure).
        diagnostics: the gate's findings on ``world`` (advisory only when ``world`` is set),
            or what blocked the last attempt when the edit failed.
        reply: a friendly summary of what changed, the clarifying question, or why nothing changed.
        changed: True when the world differs from the input.
        clarification: True when ``reply`` is a question and nothing changed.
        attempts: how many times the provider was asked.
        understanding: how the instruction was read: ``"encoder"`` (the offline rules with the
            sentence encoder), ``"lexical"`` (the offline rules without it) or ``"model"``.
    """

    world: World | None
    ops: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    reply: str = ""
    changed: bool = False
    clarification: bool = False
    attempts: int = 0
    understanding: str = ""

    @property
    def ok(self) -> bool:
        """True unless the edit failed (a question counts as ok: nothing broke)."""
        return self.world is not None


def _as_world(world: WorldLike) -> World:
    if isinstance(world, World):
        return world
    if isinstance(world, dict):
        return World.from_dict(world)
    return World.from_json(world)


def slot_ops(slots: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A merge patch for ``scene.slots`` as ops: ``set_slot`` per value, ``remove_slot`` per null."""
    out: list[dict[str, Any]] = []
    for name, value in (slots or {}).items():
        if value is None:
            out.append({"op": "remove_slot", "name": name})
        else:
            out.append({"op": "set_slot", "name": name, "value": value})
    return out


def _feedback(apply_errors: list[dict[str, Any]], diagnostics: list[Diagnostic]) -> list[dict[str, Any]]:
    out = [
        {"lint": "apply", "severity": "error", "path": f"ops[{e.get('index')}]", "message": str(e.get("message", ""))}
        for e in apply_errors
    ]
    out += [d.to_dict() for d in diagnostics if d.severity == "error"]
    return out


def edit(
    world: WorldLike,
    instruction: str,
    *,
    provider: Provider | None = None,
    verified_objects: list[dict[str, Any]] | None = None,
    max_attempts: int = 3,
) -> EditOutcome:
    """Edits a world from a natural-language instruction.

    The provider proposes ops (or a question). The ops are applied with
    :func:`conjure.apply_ops`; when an op cannot apply or the gate refuses the result,
    the provider is asked again with what went wrong, up to ``max_attempts`` times.
    Nothing that fails the gate is ever returned.

    Args:
        world: a World, a dict or JSON text.
        instruction: what to change, in prose.
        provider: the op provider (the offline grammar when None).
        verified_objects: grounding hints passed to the provider.
        max_attempts: how many proposals to try before giving up (at least 1).
    """
    outcome = _edit(world, instruction, provider=provider, verified_objects=verified_objects, max_attempts=max_attempts)
    how = meaning.path() if provider is None or isinstance(provider, OfflineProvider) else "model"
    return replace(outcome, understanding=how)


def _edit(
    world: WorldLike,
    instruction: str,
    *,
    provider: Provider | None,
    verified_objects: list[dict[str, Any]] | None,
    max_attempts: int,
) -> EditOutcome:
    before = _as_world(world)
    provider = provider or OfflineProvider()
    attempts = max(1, int(max_attempts))
    text = instruction if isinstance(instruction, str) else ""
    verified = [o for o in (verified_objects or []) if isinstance(o, dict)]
    trusted = isinstance(provider, OfflineProvider)  # reads the world, never changes it
    before_data = before._data if trusted else before.to_dict()
    feedback: list[dict[str, Any]] | None = None
    previous: list[dict[str, Any]] | None = None
    last_diagnostics: list[Diagnostic] = []
    last_problem = ""
    unusable: str | None = None
    for attempt in range(1, attempts + 1):
        request = EditRequest(
            world=before_data if trusted else copy.deepcopy(before_data),
            instruction=text,
            verified_objects=copy.deepcopy(verified),
            diagnostics=feedback,
            previous=previous,
        )
        try:
            proposal = provider.propose(request)
        except UnusableAnswer as exc:
            feedback = [{"lint": "answer", "severity": "error", "path": "answer", "message": exc.message or str(exc)}]
            previous = []
            unusable = exc.message or str(exc)
            continue
        except ProviderError as exc:
            return _failed(f"I couldn\u2019t work that out: {exc.message or exc}. Nothing was changed.", [], attempt)
        if not isinstance(proposal, Proposal):
            return _failed("I couldn\u2019t work that out. Nothing was changed.", [], attempt)
        if proposal.question is not None:
            return EditOutcome(
                world=before,
                ops=[],
                diagnostics=validate(before).diagnostics,
                reply=proposal.question,
                changed=False,
                clarification=True,
                attempts=attempt,
            )
        unusable = None
        ops = slot_ops(proposal.slots) + list(proposal.ops)
        try:
            if not ops:
                raise ConjureError("the proposal holds no ops", code="bad_input")
            _core.check_ops(ops)
            result = apply_ops(before_data, ops)
        except ConjureError as exc:
            feedback = [{"lint": "ops", "severity": "error", "path": "ops", "message": exc.message or str(exc)}]
            previous = ops
            last_problem = exc.message or str(exc)
            continue
        if result.ok and not result.apply_errors:
            changes = diff(before, result.world)
            changed = _has_changes(changes)
            reply = summarize(changes, before, result.world) if changed else "That is already the case; nothing changed."
            return EditOutcome(
                world=result.world,
                ops=ops,
                diagnostics=result.diagnostics,
                reply=reply,
                changed=changed,
                clarification=False,
                attempts=attempt,
            )
        feedback = _feedback(result.apply_errors, result.diagnostics)
        previous = ops
        last_diagnostics = [d for d in result.diagnostics if d.severity == "error"]
        first = feedback[0] if feedback else {"message": "the result was refused"}
        last_problem = str(first.get("message", ""))
    if unusable is not None:
        # the model kept answering with something that is neither ops nor a question: ask
        return EditOutcome(
            world=before,
            ops=[],
            diagnostics=validate(before).diagnostics,
            reply="I couldn\u2019t work out a change from that. Could you say it another way, naming the place or "
            "action and what should change?",
            changed=False,
            clarification=True,
            attempts=attempts,
        )
    return _failed(
        f"I couldn\u2019t make that change cleanly: {last_problem or 'the result was refused'}. Nothing was changed.",
        last_diagnostics,
        attempts,
    )


def _failed(reply: str, diagnostics: list[Diagnostic], attempts: int) -> EditOutcome:
    return EditOutcome(world=None, ops=[], diagnostics=diagnostics, reply=reply, changed=False, clarification=False, attempts=attempts)


def _has_changes(d: dict[str, Any]) -> bool:
    for part in ("states", "events", "slots"):
        sec = d.get(part) or {}
        if any(sec.get(k) for k in ("added", "removed", "changed")):
            return True
    return d.get("entrance") is not None


# ---------------------------------------------------------------------------
# The reply
# ---------------------------------------------------------------------------


def _quote(name: str) -> str:
    return f"\u2018{name}\u2019"


def _flags(items: Any) -> str:
    return ", ".join(str(x).replace("_", " ") for x in items) if isinstance(items, list) else ""


def _event_phrase(e: dict[str, Any]) -> str:
    kind = e.get("kind")
    froms = e.get("from") if isinstance(e.get("from"), list) else [e.get("from")]
    froms_txt = ", ".join(display(str(f)) for f in froms if f)
    key = e.get("hotkey")
    key_txt = f" with {key}" if isinstance(key, str) and key else ""
    timing = e.get("timing") if isinstance(e.get("timing"), dict) else {}
    after = timing.get("after") or 0
    if kind == "transition":
        text = f"connected {froms_txt} \u2192 {display(str(e.get('to', '?')))}{key_txt} {_quote(e.get('name', ''))}"
    elif kind == "terminal":
        text = f"added the ending action {_quote(e.get('name', ''))}{key_txt} in {froms_txt}"
    else:
        text = f"added the action {_quote(e.get('name', ''))}{key_txt} in {froms_txt}"
    if isinstance(after, (int, float)) and after > 0:
        text += f", firing by itself after {after:g} s"
    if e.get("requires"):
        text += f" requiring {_flags(e['requires'])}"
    if e.get("grants"):
        text += f" granting {_flags(e['grants'])}"
    if e.get("hidden"):
        text += " (hidden)"
    if e.get("oneShot"):
        text += " (one-shot)"
    return text


def _state_change(sid: str, fields: list[str], st: dict[str, Any], old: dict[str, Any]) -> str:
    bits: list[str] = []
    if "ending" in fields or any(f.startswith("ending.") for f in fields):
        ending = st.get("ending")
        if isinstance(ending, dict):
            bits.append(f"made {display(sid)} a {ending.get('kind')} ending {_quote(str(ending.get('title', '')))}")
        else:
            bits.append(f"{display(sid)} is no longer an ending")
    if "base" in fields:
        bits.append(f"rewrote how {display(sid)} looks")
    if "variants" in fields:
        old_labels = [v.get("label") for v in old.get("variants") or [] if isinstance(v, dict)]
        new_labels = [v.get("label") for v in st.get("variants") or [] if isinstance(v, dict)]
        added = [x for x in new_labels if x not in old_labels]
        removed = [x for x in old_labels if x not in new_labels]
        if added:
            bits.append(f"added variant {', '.join(map(str, added))} of {display(sid)}")
        if removed:
            bits.append(f"removed variant {', '.join(map(str, removed))} of {display(sid)}")
    if "ambient" in fields:
        bits.append(f"added detail to {display(sid)}")
    rest = [f for f in fields if f.split(".")[0] not in {"ending", "base", "variants", "ambient"}]
    if rest:
        bits.append(f"updated {display(sid)} ({', '.join(rest)})")
    return "; ".join(bits)


def _event_change(name: str, fields: list[str], e: dict[str, Any], old: dict[str, Any]) -> str:
    bits: list[str] = []
    if "oneShot" in fields:
        bits.append(f"made {_quote(name)} one-shot" if e.get("oneShot") else f"made {_quote(name)} repeatable")
    if "hidden" in fields:
        bits.append(f"hid {_quote(name)}" if e.get("hidden") else f"made {_quote(name)} visible")
    if any(f.startswith("timing") for f in fields):
        after = (e.get("timing") or {}).get("after") if isinstance(e.get("timing"), dict) else None
        if after:
            bits.append(f"{_quote(name)} now fires by itself after {after:g} s")
        else:
            bits.append(f"changed the timing of {_quote(name)}")
    if "requires" in fields:
        req = e.get("requires") or []
        old_req = old.get("requires") or []
        added = [r for r in req if r not in old_req]
        removed = [r for r in old_req if r not in req]
        if added:
            bits.append(f"{_quote(name)} now requires {_flags(added)}")
        if removed:
            bits.append(f"{_quote(name)} no longer requires {_flags(removed)}")
    if "hotkey" in fields:
        bits.append(f"{_quote(name)} now uses {e.get('hotkey')}" if e.get("hotkey") else f"removed the key of {_quote(name)}")
    if "from" in fields or "to" in fields:
        bits.append(f"rerouted {_quote(name)}")
    rest = [f for f in fields if f.split(".")[0] not in {"oneShot", "hidden", "timing", "requires", "hotkey", "from", "to", "name"}]
    if rest:
        bits.append(f"updated {_quote(name)} ({', '.join(rest)})")
    return "; ".join(bits)


def _read(w: World) -> tuple[dict[str, Any], list[Any]]:
    """A world's states and events without copying them (summarize only reads)."""
    scene = w._data.get("scene")
    states = scene.get("states") if isinstance(scene, dict) else None
    events = scene.get("events") if isinstance(scene, dict) else None
    return (states if isinstance(states, dict) else {}), (events if isinstance(events, list) else [])


def summarize(changes: dict[str, Any], before: WorldLike, after: WorldLike) -> str:
    """A friendly sentence of what changed, from :func:`conjure.diff` of ``before`` and ``after``."""
    b = _as_world(before)
    a = _as_world(after)
    (b_states, b_list), (a_states, a_list) = _read(b), _read(a)
    b_events = {e.get("name"): e for e in b_list}
    a_events = {e.get("name"): e for e in a_list}
    parts: list[str] = []
    st = changes.get("states") or {}
    ev = changes.get("events") or {}
    added_states = list(st.get("added") or [])
    removed_states = list(st.get("removed") or [])
    # a renamed state: one removed, one added with the same look
    renamed: dict[str, str] = {}
    for old in removed_states:
        for new in added_states:
            ob = dict(b_states.get(old, {}))
            nb = dict(a_states.get(new, {}))
            if ob.get("camera") == nb.get("camera") and ob.get("movement") == nb.get("movement") and new not in renamed.values():
                renamed[old] = new
                break
    for old, new in renamed.items():
        parts.append(f"renamed {display(old)} to {display(new)}")
    for sid in added_states:
        if sid in renamed.values():
            continue
        ending = a_states.get(sid, {}).get("ending")
        if isinstance(ending, dict):
            parts.append(f"added the {ending.get('kind')} ending {display(sid)} {_quote(str(ending.get('title', '')))}")
        else:
            parts.append(f"added state {display(sid)}")
    for sid in removed_states:
        if sid not in renamed:
            parts.append(f"removed state {display(sid)}")
    for item in st.get("changed") or []:
        sid = item.get("id")
        text = _state_change(sid, list(item.get("fields") or []), a_states.get(sid, {}), b_states.get(sid, {}))
        if text:
            parts.append(text)
    renamed_events: dict[str, str] = {}
    for name in ev.get("removed") or []:
        old = b_events.get(name, {})
        for new in ev.get("added") or []:
            ne = a_events.get(new, {})
            if new not in renamed_events.values() and ne.get("kind") == old.get("kind") and ne.get("hotkey") == old.get("hotkey") \
                    and (ne.get("to") == old.get("to") or ne.get("to") in renamed.values()):
                renamed_events[name] = new
                break
    for old, new in renamed_events.items():
        if not renamed:
            parts.append(f"renamed {_quote(old)} to {_quote(new)}")
    order = {e.get("name"): i for i, e in enumerate(a_list)}
    for name in sorted(ev.get("added") or [], key=lambda n: order.get(n, 0)):
        if name in renamed_events.values():
            continue
        parts.append(_event_phrase(a_events.get(name, {"name": name})))
    for name in ev.get("removed") or []:
        if name not in renamed_events:
            parts.append(f"removed {_quote(name)}")
    for item in ev.get("changed") or []:
        name = item.get("name")
        fields = list(item.get("fields") or [])
        if renamed and set(fields) <= {"from", "to", "name"}:
            continue
        text = _event_change(name, fields, a_events.get(name, {}), b_events.get(name, {}))
        if text:
            parts.append(text)
    ent = changes.get("entrance")
    if isinstance(ent, dict) and ent.get("to") and ent.get("from") != ent.get("to"):
        if not (ent.get("from") in renamed and renamed[ent["from"]] == ent["to"]):
            parts.append(f"the game now starts in {display(str(ent['to']))}")
    slots = changes.get("slots") or {}
    for name in slots.get("added") or []:
        parts.append(f"defined the slot {{{name}}}")
    for name in slots.get("changed") or []:
        parts.append(f"redefined the slot {{{name}}}")
    for name in slots.get("removed") or []:
        parts.append(f"removed the slot {{{name}}}")
    if not parts:
        return "Done."
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."
