"""The graph: read it, CRUD on states and events, the entrance, op batches, natural-language edits, validate and lint.

Every write is one op through the store (the same mechanism as ``/ops``) and passes
the kernel gate before it persists; a single op that cannot apply answers 400/404/409
and writes nothing.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any
from uuid import UUID

from fastapi import Body, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

import conjure
from conjure.agent import ProviderError
from conjure.agent import edit as agent_edit
from conjure.errors import BadInputError, ConflictError, GateError, NotFoundError
from conjure.server.deps import AnyKey, Principal, Secret, ServerState, state_of
from conjure.server.errors import SCHEMA_VERSION, ApiError, json_response
from conjure.server.routing import ETAG_HEADER, IDEMPOTENCY, IF_MATCH, IF_NONE_MATCH, etag, expected_rev, not_modified
from conjure.server.schemas import (
    EditResult,
    EditWorldRequest,
    EntranceRequest,
    Error,
    EventList,
    EventRead,
    GraphRead,
    GraphWriteResult,
    LintResult,
    OpsRequest,
    OpsResult,
    REF_MARK,
    StateList,
    StateRead,
    ValidateRequest,
    ValidateResult,
)
from conjure.server.views import edited, errors, graph_text, metered, public_world, raw_json_response, router, write_result

r = router("Graph editing")
StateId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
EventName = Annotated[str, Path(min_length=1, max_length=120, description="the event's name, URL-encoded")]
StateBody = Annotated[dict[str, Any], Body(json_schema_extra={REF_MARK: "SMState"})]
EventBody = Annotated[dict[str, Any], Body(json_schema_extra={REF_MARK: "SMEvent"})]
WRITE = {200: {"model": GraphWriteResult, "headers": ETAG_HEADER}, **errors(403, 404, 409, 422)}
WRITE_201 = {201: {"model": GraphWriteResult, "headers": ETAG_HEADER}, **errors(403, 404, 409, 422)}

_EXISTS_CODE = {"add_state": "state_exists", "add_event": "event_exists", "add_variant": "variant_exists"}


def _read(request: Request, key: Principal, world_id: UUID) -> tuple[dict[str, Any], str]:
    st = state_of(request)
    graph = st.call(st.scoped(key).get_graph, str(world_id))
    world = graph["world"] if key.kind == "secret" else public_world(graph["world"])
    request.app.state.entrance.add_to(world, str(key.app_id), str(key.mode))
    return world, graph["rev"]


def _read_response(request: Request, rev: str, body: dict[str, Any]) -> Response:
    if not_modified(request, rev):
        return Response(status_code=304, headers={"ETag": etag(rev)})
    return json_response({**body, "rev": rev}, 200, {"ETag": etag(rev)})


def _one_op(st: ServerState, key: Principal, request: Request, world_id: UUID, op: dict[str, Any]) -> dict[str, Any]:
    """Applies one op; an op that cannot apply raises (and nothing is written)."""
    result = st.call(st.scoped(key).apply_ops, str(world_id), [op], expected_rev(request))
    failures = result.get("applyErrors") or []
    if failures:
        failure = failures[0]
        message, code = failure.get("message", "the op could not apply"), failure.get("code")
        if code == "not_found":
            raise NotFoundError(message, code="not_found")
        if code == "conflict":
            raise ConflictError(message, code=_EXISTS_CODE.get(op["op"], "conflict"))
        raise BadInputError(message, code="bad_input")
    result.pop("applyErrors", None)
    return result


def _patch_of(body: dict[str, Any]) -> dict[str, Any]:
    """A PATCH body is the partial object itself, or ``{patch: {...}}``."""
    if set(body) == {"patch"} and isinstance(body["patch"], dict):
        return body["patch"]
    return body


def _world_arg(body: ValidateRequest | None) -> dict[str, Any] | None:
    if body is None:
        return None
    if body.world is not None and body.data is not None:
        raise BadInputError("give world or data, not both", code="bad_input")
    return body.world if body.world is not None else body.data


# ------------------------------------------------------------------ reads
@r.get(
    "/v1/worlds/{id}/graph",
    summary="Read the whole graph",
    responses={200: {"model": GraphRead, "headers": ETAG_HEADER}, 304: {"description": "Not modified"},
               **errors(403, 404)},
    openapi_extra=IF_NONE_MATCH,
)
async def get_graph(id: UUID, request: Request, key: AnyKey) -> Response:
    if key.kind == "secret":  # the stored text spliced into the envelope: no parse, no re-serialisation
        read = graph_text(request, key, id)  # a read of microseconds: no thread hop
        if isinstance(read, Response):
            return read
        text, rev = read
        tail = ',"rev":' + json.dumps(rev) + ',"schemaVersion":' + json.dumps(SCHEMA_VERSION) + "}"
        return raw_json_response(b'{"world":' + text.encode("utf-8") + tail.encode("utf-8"), rev)
    return await run_in_threadpool(_public_graph_response, request, key, id)


def _public_graph_response(request: Request, key: Principal, world_id: UUID) -> Response:
    """A publishable key's view: the parsed world, public fields only (builds Python objects: a worker thread)."""
    world, rev = _read(request, key, world_id)
    return _read_response(request, rev, {"world": world})


def _scene(world: dict[str, Any]) -> dict[str, Any]:
    scene = world.get("scene")
    return scene if isinstance(scene, dict) else {}


@r.get(
    "/v1/worlds/{id}/states",
    summary="List states (nodes)",
    responses={200: {"model": StateList, "headers": ETAG_HEADER}, 304: {"description": "Not modified"},
               **errors(403, 404)},
    openapi_extra=IF_NONE_MATCH,
)
def list_states(id: UUID, request: Request, key: AnyKey) -> Response:
    world, rev = _read(request, key, id)
    states = _scene(world).get("states")
    return _read_response(request, rev, {"data": states if isinstance(states, dict) else {}})


@r.get(
    "/v1/worlds/{id}/states/{stateId}",
    summary="Get one state",
    responses={200: {"model": StateRead, "headers": ETAG_HEADER}, 304: {"description": "Not modified"},
               **errors(403, 404)},
    openapi_extra=IF_NONE_MATCH,
)
def get_state(id: UUID, stateId: StateId, request: Request, key: AnyKey) -> Response:
    world, rev = _read(request, key, id)
    states = _scene(world).get("states")
    if not isinstance(states, dict) or stateId not in states:
        raise NotFoundError(f"no state {stateId!r}", code="not_found")
    return _read_response(request, rev, {"id": stateId, "state": states[stateId]})


@r.get(
    "/v1/worlds/{id}/events",
    summary="List events (edges)",
    responses={200: {"model": EventList, "headers": ETAG_HEADER}, 304: {"description": "Not modified"},
               **errors(403, 404)},
    openapi_extra=IF_NONE_MATCH,
)
def list_events(id: UUID, request: Request, key: AnyKey) -> Response:
    world, rev = _read(request, key, id)
    events = _scene(world).get("events")
    return _read_response(request, rev, {"data": events if isinstance(events, list) else []})


@r.get(
    "/v1/worlds/{id}/events/{name:path}",
    summary="Get one event",
    description="Events are addressed by their unique name (URL-encoded), never by index.",
    responses={200: {"model": EventRead, "headers": ETAG_HEADER}, 304: {"description": "Not modified"},
               **errors(403, 404)},
    openapi_extra=IF_NONE_MATCH,
)
def get_event(id: UUID, name: EventName, request: Request, key: AnyKey) -> Response:
    world, rev = _read(request, key, id)
    events = _scene(world).get("events")
    for event in events if isinstance(events, list) else []:
        if isinstance(event, dict) and event.get("name") == name:
            return _read_response(request, rev, {"event": event})
    raise NotFoundError(f"no event named {name!r}", code="not_found")


# ------------------------------------------------------------------ state writes
@r.post(
    "/v1/worlds/{id}/states",
    status_code=201,
    summary="Add a state (node)",
    description="Omit `id` to have a readable one derived from the prose. An existing id is 409 `state_exists`.",
    responses=WRITE_201,
    openapi_extra={"parameters": IF_MATCH["parameters"] + IDEMPOTENCY["parameters"]},
)
def add_state(id: UUID, body: StateBody, request: Request, key: Secret) -> Response:
    st = state_of(request)
    op = {k: v for k, v in body.items() if k != "op"}
    return write_result(edited(request, key, id, _one_op(st, key, request, id, {"op": "add_state", **op}), "state"), 201, request=request, key=key)


@r.patch(
    "/v1/worlds/{id}/states/{stateId}",
    summary="Update a state",
    description="The body is the partial state (`null` deletes a field), or `{patch: {...}}`.",
    responses=WRITE,
    openapi_extra=IF_MATCH,
)
def update_state(id: UUID, stateId: StateId, body: StateBody, request: Request, key: Secret) -> Response:
    st = state_of(request)
    result = _one_op(st, key, request, id, {"op": "update_state", "id": stateId, "patch": _patch_of(body)})
    return write_result(edited(request, key, id, result, "state"), request=request, key=key)


@r.delete(
    "/v1/worlds/{id}/states/{stateId}",
    summary="Delete a state",
    description="Refused (400) for the entrance or a state an event or cutscene references.",
    responses=WRITE,
    openapi_extra=IF_MATCH,
)
def delete_state(id: UUID, stateId: StateId, request: Request, key: Secret) -> Response:
    st = state_of(request)
    return write_result(edited(request, key, id, _one_op(st, key, request, id, {"op": "delete_state", "id": stateId}), "state"), request=request, key=key)


# ------------------------------------------------------------------ event writes
@r.post(
    "/v1/worlds/{id}/events",
    status_code=201,
    summary="Add an event (edge)",
    description="A `transition` needs `to`; an `override` must not carry it. An existing name is 409 `event_exists`.",
    responses=WRITE_201,
    openapi_extra={"parameters": IF_MATCH["parameters"] + IDEMPOTENCY["parameters"]},
)
def add_event(id: UUID, body: EventBody, request: Request, key: Secret) -> Response:
    st = state_of(request)
    op = {k: v for k, v in body.items() if k != "op"}
    return write_result(edited(request, key, id, _one_op(st, key, request, id, {"op": "add_event", **op}), "event"), 201, request=request, key=key)


@r.patch(
    "/v1/worlds/{id}/events/{name:path}",
    summary="Update an event",
    description="The body is the partial event (`null` deletes a field), or `{patch: {...}}`.",
    responses=WRITE,
    openapi_extra=IF_MATCH,
)
def update_event(id: UUID, name: EventName, body: EventBody, request: Request, key: Secret) -> Response:
    st = state_of(request)
    result = _one_op(st, key, request, id, {"op": "update_event", "name": name, "patch": _patch_of(body)})
    return write_result(edited(request, key, id, result, "event"), request=request, key=key)


@r.delete(
    "/v1/worlds/{id}/events/{name:path}",
    summary="Delete an event",
    responses=WRITE,
    openapi_extra=IF_MATCH,
)
def delete_event(id: UUID, name: EventName, request: Request, key: Secret) -> Response:
    st = state_of(request)
    return write_result(edited(request, key, id, _one_op(st, key, request, id, {"op": "delete_event", "name": name}), "event"), request=request, key=key)


@r.put(
    "/v1/worlds/{id}/entrance",
    summary="Set the entrance",
    description="Points the entry at an existing state (+ optional seed image).",
    responses=WRITE,
    openapi_extra=IF_MATCH,
)
def set_entrance(id: UUID, body: EntranceRequest, request: Request, key: Secret) -> Response:
    st = state_of(request)
    op: dict[str, Any] = {"op": "set_entrance", "state": body.state}
    if body.image is not None:
        op["image"] = body.image.model_dump(exclude_none=True)
    return write_result(edited(request, key, id, _one_op(st, key, request, id, op), "entrance"), request=request, key=key)


# ------------------------------------------------------------------ batches
@r.post(
    "/v1/worlds/{id}/ops",
    summary="Apply a batch of graph ops",
    description="Ops apply in order; those that cannot apply are skipped and reported in `applyErrors`; the "
    "result passes the kernel gate ONCE. A 422 rejects the whole batch: nothing persists.",
    responses={200: {"model": OpsResult, "headers": ETAG_HEADER}, **errors(403, 404, 409, 422)},
    openapi_extra={"parameters": IF_MATCH["parameters"] + IDEMPOTENCY["parameters"]},
)
def apply_ops(id: UUID, body: OpsRequest, request: Request, key: Secret) -> Response:
    st = state_of(request)
    rev = expected_rev(request, body.expectedRev)
    result = st.call(st.scoped(key).apply_ops, str(id), body.ops, rev)
    result["applyErrors"] = [_apply_error_text(e) for e in result.get("applyErrors") or []]
    if len(result["applyErrors"]) < len(body.ops):  # some op applied: the graph was written
        edited(request, key, id, result, "ops")
    return write_result(result, request=request, key=key)


class _Watched:
    """Passes proposals through and remembers a provider failure (the agent answers it with a reply)."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider
        self.error: ProviderError | None = None

    def propose(self, request: Any) -> Any:
        try:
            return self.provider.propose(request)
        except ProviderError as exc:
            self.error = exc
            raise


@r.post(
    "/v1/worlds/{id}/edit",
    summary="Edit the graph from natural language",
    description="The server-side agent turns `instruction` (or its alias `message`) into graph ops, which pass "
    "the same op pipeline and kernel gate as `/ops`; when the gate refuses, the agent repairs from the "
    "diagnostics (bounded attempts) before giving up (422, nothing persisted). The answer is RESULT-ONLY: "
    "`{world, diagnostics, reply, rev}` — never the agent's prompt, op grammar, model or op trace. When the "
    "instruction is ambiguous the agent asks in `reply` and the world is unchanged. Reserves one unit of the "
    "daily `edit` meter (refunded on failure); a retry with the same `Idempotency-Key` replays the first "
    "answer and spends nothing. A failed model server is 502 `provider_failed`.",
    responses={
        200: {"model": EditResult, "headers": ETAG_HEADER},
        **errors(402, 403, 404, 409, 422),
        502: {"description": "The agent's model server failed; nothing was changed or charged", "model": Error},
    },
    openapi_extra={"parameters": IF_MATCH["parameters"] + IDEMPOTENCY["parameters"]},
)
def edit_world(id: UUID, body: EditWorldRequest, request: Request, key: Secret) -> Response:
    st = state_of(request)
    instruction = body.instruction if body.instruction is not None else body.message
    if body.instruction is not None and body.message is not None and body.instruction != body.message:
        raise BadInputError("give instruction or message (an alias), not two different texts", code="bad_input")
    if instruction is None or not instruction.strip():
        raise ApiError(400, "invalid_request", "the request does not match the schema",
                       errors=["instruction: required (or message)"])
    want = expected_rev(request, body.expectedRev)
    scoped = st.scoped(key)
    graph = st.call(scoped.get_graph, str(id))  # 404 before anything is reserved
    if want is not None and graph["rev"] != want:
        raise ConflictError("the world's rev is not the expected one", code="conflict")
    before, rev = graph["world"], graph["rev"]
    changed = False
    with metered(st, key, "edit"):
        provider = _Watched(st.settings.agent())
        outcome = agent_edit(before, instruction, provider=provider, verified_objects=body.verifiedObjects,
                             max_attempts=st.settings.agent_max_attempts)
        if outcome.world is None:
            if provider.error is not None:
                raise provider.error
            raise GateError(outcome.reply, diagnostics=outcome.diagnostics)
        if outcome.changed:
            after = outcome.world.to_dict()
            if not outcome.ops:
                result = st.call(scoped.put_world, str(id), after, rev)
            else:
                result = st.call(scoped.apply_ops, str(id), outcome.ops, rev)
            changed = True
        else:
            result = {"world": before, "diagnostics": [d.to_dict() for d in outcome.diagnostics], "rev": rev}
    if changed:
        edited(request, key, id, result, "edit")
    answer = {"world": result["world"], "diagnostics": result["diagnostics"], "reply": outcome.reply,
              "rev": result["rev"]}
    return write_result(answer, request=request, key=key)


def _apply_error_text(error: Any) -> str:
    """The seed's per-op message: ``ops[2] (delete_state): the state is the entrance ...``."""
    if not isinstance(error, dict):
        return str(error)
    return f"ops[{error.get('index')}]: {error.get('message', 'the op could not apply')}"


def _gate(st: ServerState, kind: str, world: Any) -> conjure.ValidationResult:
    start = time.perf_counter()
    try:
        # The very lints a write runs (plugins included), so /validate passes only what a write accepts.
        lints = st.store.plugin_lints() if hasattr(st.store, "plugin_lints") else True
        return conjure.validate(world, limits=st.limits, plugins=lints)
    finally:
        st.metrics.gate_seconds.labels(kind).observe(time.perf_counter() - start)


def _target(st: ServerState, key: Principal, world_id: UUID, body: ValidateRequest | None) -> Any:
    inline = _world_arg(body)
    stored = st.call(st.scoped(key).get_graph, str(world_id))["world"]  # 404 for an unknown world
    return inline if inline is not None else stored


@r.post(
    "/v1/worlds/{id}/validate",
    summary="Validate against the kernel gate",
    description="Runs the gate on an inline `world` (or `data`), else the stored world, without persisting. "
    "200 with the resolved world when clean, 422 with the diagnostics otherwise.",
    responses={200: {"model": ValidateResult}, **errors(403, 404, 422)},
    openapi_extra=IDEMPOTENCY,
)
def validate(id: UUID, request: Request, key: Secret, body: ValidateRequest | None = None) -> Response:
    st = state_of(request)
    result = _gate(st, "validate", _target(st, key, id, body))
    diagnostics = [d.to_dict() for d in result.diagnostics]
    if not result.ok:
        errs = result.errors
        detail = f"the world failed the kernel gate: {errs[0].path}: {errs[0].message}"
        if len(errs) > 1:
            detail += f" (and {len(errs) - 1} more)"
        return json_response({"detail": detail, "code": "gate_failed", "diagnostics": diagnostics}, 422)
    resolved = result.resolved.to_dict() if result.resolved is not None else None
    return json_response({"ok": True, "world": resolved, "diagnostics": diagnostics})


@r.post(
    "/v1/worlds/{id}/lint",
    summary="Lint (advisory)",
    description="Every finding of the gate on an inline `world`/`data` or the stored world; never 4xx on "
    "findings. `ok` is true when no finding has error severity.",
    responses={200: {"model": LintResult}, **errors(403, 404)},
    openapi_extra=IDEMPOTENCY,
)
def lint(id: UUID, request: Request, key: Secret, body: ValidateRequest | None = None) -> Response:
    st = state_of(request)
    result = _gate(st, "lint", _target(st, key, id, body))
    return json_response({"ok": result.ok, "diagnostics": [d.to_dict() for d in result.diagnostics]})


