"""Providers: what turns an instruction on a world into graph ops (or a question).

A provider answers :meth:`Provider.propose` with a :class:`Proposal` — ops to apply
(and, optionally, slot changes), or a clarifying question — and raises
:class:`ProviderError` when it cannot answer. Two are built in:

- :class:`OfflineProvider`: local, deterministic, no network (the grammar in docs/agent.md).
- :class:`OpenAICompatibleProvider`: any chat-completions endpoint (``POST {base_url}/chat/completions``).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from conjure import _core
from conjure.agent.rules import plan
from conjure.errors import ConjureError
from conjure.netguard import DestinationRefused, Resolver, check_host, resolve_host

__all__ = [
    "Proposal",
    "EditRequest",
    "Provider",
    "ProviderError",
    "OfflineProvider",
    "OpenAICompatibleProvider",
    "parse_reply",
    "world_summary",
]

OP_NAMES = (
    "add_state", "update_state", "delete_state", "add_event", "update_event", "delete_event",
    "set_entrance", "add_variant", "remove_variant",
)


class ProviderError(ConjureError):
    """The provider could not answer: unreachable, timed out, a server error, or an unusable reply."""

    default_code = "provider_failed"


class UnusableAnswer(ProviderError):
    """The model server answered, but not with usable ops or a question (malformed JSON, wrong
    ops). :func:`conjure.agent.edit` feeds the problem back for a bounded repair and, when the
    answer is still unusable, asks the user instead of failing."""



@dataclass(frozen=True)
class Proposal:
    """A provider's answer: ``ops`` (with optional ``slots`` changes) or a ``question``.

    Attributes:
        ops: graph ops in the vocabulary of docs/ops.md.
        question: a clarifying question; when set, nothing is changed.
        slots: a merge patch for ``scene.slots`` (name → prose, or None to remove a slot).
    """

    ops: list[dict[str, Any]] = field(default_factory=list)
    question: str | None = None
    slots: dict[str, Any] | None = None


@dataclass(frozen=True)
class EditRequest:
    """What a provider is asked.

    Attributes:
        world: the current working graph (a dict; do not modify it).
        instruction: the person's words.
        verified_objects: grounding hints (named objects the agent may reference).
        diagnostics: when a previous attempt failed, what went wrong (gate diagnostics and
            apply errors as dicts with ``lint``/``severity``/``path``/``message``).
        previous: the ops of that failed attempt.
    """

    world: dict[str, Any]
    instruction: str
    verified_objects: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: list[dict[str, Any]] | None = None
    previous: list[dict[str, Any]] | None = None


@runtime_checkable
class Provider(Protocol):
    """Turns an :class:`EditRequest` into a :class:`Proposal` (or raises :class:`ProviderError`)."""

    def propose(self, request: EditRequest) -> Proposal: ...


class OfflineProvider:
    """The built-in provider: the offline rules (:mod:`conjure.agent.rules`), deterministic, no network, no GPU."""

    def propose(self, request: EditRequest) -> Proposal:
        repair = frozenset(d.get("lint", "") for d in request.diagnostics or [] if isinstance(d, dict))
        planned = plan(request.world, request.instruction, request.verified_objects, repair)
        if planned.question is not None:
            return Proposal(question=planned.question)
        return Proposal(ops=planned.ops, slots=planned.slots)

    def generate_world(self, premise: str, *, seed: int = 0, frame: str | None = None) -> dict[str, Any]:
        """A world from a premise (see :func:`conjure.agent.generate`)."""
        from conjure.agent.generate import offline_world

        return offline_world(premise, seed=seed, frame=frame)


# ---------------------------------------------------------------------------
# Parsing a model's reply
# ---------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?\s*```\s*$", re.S)


def _json_object(text: str) -> dict[str, Any]:
    if not isinstance(text, str) or not text.strip():
        raise UnusableAnswer("the model answered with an empty message")
    body = text.strip()
    m = _FENCE.match(body)
    if m:
        body = m.group(1).strip()
    try:
        value = json.loads(body)
    except ValueError:
        # prose around one JSON object: take the outermost braces
        start, end = body.find("{"), body.rfind("}")
        if start < 0 or end <= start:
            raise UnusableAnswer("the model's answer is not JSON") from None
        try:
            value = json.loads(body[start : end + 1])
        except ValueError as exc:
            raise UnusableAnswer(f"the model's answer is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(value, dict):
        raise UnusableAnswer(f"the model's answer is JSON but not an object (got {type(value).__name__})")
    return value


def parse_reply(text: str) -> Proposal:
    """A :class:`Proposal` from a model's message: ``{ops: [...]}`` or ``{question: "..."}``.

    Tolerant of code fences and prose around the object; the ops are checked with the
    core's ``check_ops``. Raises :class:`ProviderError` with a clear message otherwise.
    """
    obj = _json_object(text)
    question = obj.get("question")
    if isinstance(question, str) and question.strip() and not obj.get("ops"):
        return Proposal(question=question.strip()[:1000])
    ops = obj.get("ops")
    if ops is None:
        raise UnusableAnswer("the model's answer has neither \"ops\" nor \"question\"")
    if not isinstance(ops, list) or not ops:
        raise UnusableAnswer("the model's \"ops\" is not a non-empty list")
    try:
        _core.check_ops(ops)
    except ConjureError as exc:
        raise UnusableAnswer(f"the model proposed malformed ops: {exc.message or exc}") from None
    slots = obj.get("slots")
    if slots is not None:
        if not isinstance(slots, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in slots.items()
        ):
            raise UnusableAnswer("the model's \"slots\" must map slot names to prose (or null)")
    return Proposal(ops=ops, slots=slots or None)


# ---------------------------------------------------------------------------
# The chat-completions provider
# ---------------------------------------------------------------------------

SYSTEM_PROMPT = """You edit playable worlds (SMWorld 1.0) through graph ops.
A world has states (places, keyed by id; prose fields base, camera {static,dynamic},
movement {static,dynamic}, ambient [..], variants [{label, base}], ending {kind: win|lose, title})
and events (addressed by unique name): kind transition (from [ids] -> to id), override (in-place,
timing.duration seconds) or terminal (ends the run, carries ending); hotkey (one key; never W, A, S, D
or a digit; unique among events firing from the same state); requires/grants (flag names);
hidden; oneShot; timing.after (seconds before it fires by itself).
Ops, applied in order:
  {"op":"add_state","id":ID,...state fields}   {"op":"update_state","id":ID,"patch":{...merge patch}}
  {"op":"delete_state","id":ID}                {"op":"add_event","name":N,"kind":K,"from":[IDS],"to":ID,"hotkey":KEY,...}
  {"op":"update_event","name":N,"patch":{...}} {"op":"delete_event","name":N}
  {"op":"set_entrance","state":ID}             {"op":"add_variant","state":ID,"label":L,"base":...}
  {"op":"remove_variant","state":ID,"label":L}
  {"op":"set_slot","name":N,"value":PROSE}  {"op":"remove_slot","name":N}
Slots are the lexicon used as {name} in prose.
Rules: prose describes only what is seen (pixels); never negate (no, not, without, never...),
never state intent or story (the player should, the goal, represents...), never blown-out white
light or fog filling the view. A state with an ending has no outgoing events. Delete or detach events
before deleting the states they reference.
Answer with ONE JSON object and nothing else: {"ops": [...]} (optionally with "slots"),
or {"question": "..."} when the instruction is ambiguous."""

GENERATE_PROMPT = """You write playable worlds (SMWorld 1.0 JSON documents) from a premise.
Shape: {"schemaVersion":"1.0","name":...,"entrance":{"state":ID},"scene":{"slots":{...},
"states":{ID:{"base":...,"camera":{"static","dynamic"},"movement":{"static","dynamic"},"ending"?:{kind,title}}},
"events":[{"name","kind":"transition"|"override","from":[ids],"to"?,"hotkey","requires"?,"grants"?}]}}.
Include at least 4 states, a win ending and a lose ending reachable from the entrance, an item that
one event grants and another requires, and slots used in prose. Hotkeys: never W, A, S, D or digits;
unique per state. Prose describes only what is seen: no negation, no intent or story words, no
blown-out white light. Answer with the JSON document only."""


RESPONSE_FORMATS = ("json_schema", "json_object", "none")

OP_NAMES = ("add_state", "update_state", "delete_state", "add_event", "update_event", "delete_event",
            "set_entrance", "add_variant", "remove_variant", "set_slot", "remove_slot")

# The shape of an edit answer: ops (checked in full by the core's check_ops) or a question.
EDIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ops": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "object", "properties": {"op": {"enum": list(OP_NAMES)}}, "required": ["op"]},
        },
        "slots": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
        "question": {"type": "string", "minLength": 1},
    },
    "anyOf": [{"required": ["ops"]}, {"required": ["question"]}],
}

# The shape of a generated world (the gate checks the rest).
WORLD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "schemaVersion": {"type": "string"},
        "name": {"type": "string"},
        "entrance": {"type": "object", "properties": {"state": {"type": "string"}}, "required": ["state"]},
        "scene": {
            "type": "object",
            "properties": {
                "slots": {"type": "object", "additionalProperties": {"type": "string"}},
                "states": {"type": "object", "additionalProperties": {"type": "object"}},
                "events": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["states", "events"],
        },
    },
    "required": ["entrance", "scene"],
}


def world_summary(world: dict[str, Any], max_chars: int = 12000) -> str:
    """A compact text picture of a world for a prompt: entrance, slots, states, events."""
    scene = world.get("scene") if isinstance(world.get("scene"), dict) else {}
    states = scene.get("states") if isinstance(scene.get("states"), dict) else {}
    events = scene.get("events") if isinstance(scene.get("events"), list) else []
    slots = scene.get("slots") if isinstance(scene.get("slots"), dict) else {}
    entrance = world.get("entrance", {}).get("state") if isinstance(world.get("entrance"), dict) else None
    lines = [f"entrance: {entrance}"]
    if slots:
        lines.append("slots: " + "; ".join(f"{{{k}}} = {v}" for k, v in slots.items() if isinstance(v, str)))
    lines.append("states:")
    for sid, st in states.items():
        if not isinstance(st, dict):
            continue
        ending = st.get("ending")
        tag = f" [ending {ending.get('kind')}: {ending.get('title')}]" if isinstance(ending, dict) else ""
        variants = [v.get("label") for v in st.get("variants") or [] if isinstance(v, dict)]
        vtag = f" [variants {', '.join(map(str, variants))}]" if variants else ""
        lines.append(f"  {sid}{tag}{vtag}: {st.get('base', '')}")
    lines.append("events:")
    for e in events:
        if not isinstance(e, dict):
            continue
        bits = [f"{e.get('kind')}", f"from {e.get('from')}"]
        for k in ("to", "hotkey", "requires", "grants", "hidden", "oneShot", "timing"):
            if e.get(k) not in (None, [], False):
                bits.append(f"{k} {json.dumps(e.get(k))}")
        lines.append(f"  \"{e.get('name')}\": " + ", ".join(bits))
    text = "\n".join(lines)
    return text if len(text) <= max_chars else text[: max_chars - 20] + "\n  … (truncated)"


class OpenAICompatibleProvider:
    """A provider backed by any OpenAI-compatible chat-completions endpoint.

    Args:
        base_url: the API root, e.g. ``https://api.example.com/v1`` (``/chat/completions`` is appended).
        model: the model name sent in each request.
        api_key: sent as ``Authorization: Bearer …`` when given.
        timeout: seconds for the whole request.
        allow_private: allow base URLs that resolve to private, link-local or reserved addresses.
        allow_loopback: allow 127.0.0.0/8 and ::1 (a local model server).
        transport: an ``httpx`` transport (tests).
        resolver: host name → addresses (tests); defaults to the system resolver.
        response_format: how the answer's shape is asked for: ``"json_schema"`` (OpenAI's
            ``{"type": "json_schema", "json_schema": {...}}``), ``"json_object"`` (llama.cpp's
            server: ``{"type": "json_object", "schema": {...}}``, a grammar-constrained answer) or
            ``"none"``. A server that refuses the field (400) is asked once more without it.

    Redirects are never followed. Every failure (unreachable, timeout, a non-2xx answer,
    an unusable reply) raises :class:`ProviderError` with a message that names no secret.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        *,
        allow_private: bool = False,
        allow_loopback: bool = False,
        temperature: float = 0.0,
        response_format: str = "json_schema",
        transport: Any = None,
        resolver: Resolver | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(str(base_url))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ProviderError(f"the provider URL must be http(s)://host/…, got {base_url!r}", code="bad_input")
        if parsed.username or parsed.password:
            raise ProviderError("the provider URL must not carry credentials; pass api_key", code="bad_input")
        if not model or not isinstance(model, str):
            raise ProviderError("a model name is required", code="bad_input")
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ProviderError("timeout must be a positive number of seconds", code="bad_input")
        self.base_url = str(base_url).rstrip("/")
        self.model = model
        self._api_key = api_key
        self.timeout = float(timeout)
        self.allow_private = allow_private
        self.allow_loopback = allow_loopback
        if response_format not in RESPONSE_FORMATS:
            raise ProviderError(f"response_format must be one of {', '.join(RESPONSE_FORMATS)}", code="bad_input")
        self.temperature = temperature
        self.response_format = response_format
        self._transport = transport
        self._resolver = resolver or resolve_host
        self._host = parsed.hostname

    def __repr__(self) -> str:
        return f"OpenAICompatibleProvider(base_url={self.base_url!r}, model={self.model!r})"

    # ----------------------------------------------------------------- guard
    def check_destination(self) -> None:
        """Refuses a base URL whose host resolves to an address this provider may not reach."""
        try:
            check_host(
                self._host,
                allow_private=self.allow_private,
                allow_loopback=self.allow_loopback,
                resolver=self._resolver,
                what="the provider host",
                loopback_hint="set allow_loopback to use a local model server",
            )
        except DestinationRefused as exc:
            raise ProviderError(str(exc)) from None

    # --------------------------------------------------------------- request
    def response_format_for(self, schema: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
        """The ``response_format`` field asking for an answer of ``schema``'s shape."""
        if schema is None or self.response_format == "none":
            return None
        if self.response_format == "json_object":
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}

    def complete(self, messages: list[dict[str, str]], *, schema: dict[str, Any] | None = None, name: str = "answer") -> str:
        """One chat completion; returns the assistant message text."""
        import httpx

        self.check_destination()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
        fmt = self.response_format_for(schema, name)
        if fmt is not None:
            body["response_format"] = fmt
        url = self.base_url + "/chat/completions"
        try:
            with httpx.Client(
                timeout=self.timeout, follow_redirects=False, transport=self._transport, trust_env=False
            ) as client:
                response = client.post(url, json=body, headers=headers)
                if response.status_code == 400 and fmt is not None:
                    body.pop("response_format")  # a server without structured output: ask in prose
                    response = client.post(url, json=body, headers=headers)
        except httpx.TimeoutException:
            raise ProviderError(f"the model server did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise ProviderError(f"the model server could not be reached ({type(exc).__name__})") from None
        if 300 <= response.status_code < 400:
            raise ProviderError(f"the model server answered with a redirect ({response.status_code}); redirects are not followed")
        if response.status_code >= 500:
            raise ProviderError(f"the model server failed ({response.status_code})")
        if response.status_code >= 400:
            raise ProviderError(f"the model server refused the request ({response.status_code})")
        try:
            payload = response.json()
            content = payload["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise ProviderError("the model server's answer is not a chat completion") from None
        if not isinstance(content, str):
            raise ProviderError("the model server's answer has no message text")
        return content

    def propose(self, request: EditRequest) -> Proposal:
        user = [
            "World:",
            world_summary(request.world),
            "",
            f"Instruction: {request.instruction}",
        ]
        if request.verified_objects:
            user += ["", "Verified objects: " + json.dumps(request.verified_objects)[:4000]]
        if request.diagnostics:
            user += [
                "",
                "Your previous ops failed. Problems:",
                *(f"- {d.get('path', '')}: {d.get('message', '')}" for d in request.diagnostics[:30]),
                "Previous ops: " + json.dumps(request.previous or [])[:6000],
                "Answer with corrected ops.",
            ]
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(user)}]
        return parse_reply(self.complete(messages, schema=EDIT_SCHEMA, name="edit"))

    def generate_world(
        self,
        premise: str,
        *,
        seed: int = 0,
        frame: str | None = None,
        diagnostics: list[dict[str, Any]] | None = None,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A world document from a premise (raises :class:`ProviderError` when the answer is unusable)."""
        user = [f"Premise: {premise}", f"Seed: {seed}"]
        if diagnostics:
            user += [
                "",
                "Your previous world failed the gate. Problems:",
                *(f"- {d.get('path', '')}: {d.get('message', '')}" for d in diagnostics[:30]),
                "Previous world: " + json.dumps(previous or {})[:12000],
                "Answer with the corrected world.",
            ]
        messages = [{"role": "system", "content": GENERATE_PROMPT}, {"role": "user", "content": "\n".join(user)}]
        obj = _json_object(self.complete(messages, schema=WORLD_SCHEMA, name="world"))
        world = obj.get("world") if isinstance(obj.get("world"), dict) else obj
        if not isinstance(world.get("scene"), dict):
            raise ProviderError("the model's world has no scene")
        return world
