"""Worlds: import or generate, list, read, metadata, delete, fork, generation jobs, uploaded frames."""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from conjure.errors import BadInputError, ConjureError, NotFoundError, QuotaExceededError
from conjure.server.assets import parse_multipart
from conjure.server.deps import AnyKey, Principal, Secret, ServerState, require_key, state_of
from conjure.server.errors import ApiError, json_response
from conjure.server.routing import ETAG_HEADER, IDEMPOTENCY, IF_MATCH, IF_NONE_MATCH, etag, expected_rev, not_modified
from conjure.server.schemas import (
    Error,
    ForkRequest,
    GenerateWorldRequest,
    ForkResult,
    GraphWriteResult,
    ImportWorldRequest,
    Job,
    JobAccepted,
    PatchWorldRequest,
    SMWorld,
    WorldList,
)
from conjure.server.workers import GENERATION_FAILED, GENERATION_SUCCEEDED, JOB_KIND, generate_document
from conjure.server.views import (
    Cursor, Limit, edited, errors, graph_text, metered, page, public_world, raw_json_response, router, world_summary, write_result,
)

r = router("Worlds")
FRAME_ONLY_PREMISE = "the place shown in the seed frame"
CREATE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"oneOf": [
            {"$ref": "#/components/schemas/ImportWorldRequest"},
            {"$ref": "#/components/schemas/GenerateWorldRequest"},
        ]}},
        "multipart/form-data": {"schema": {
            "type": "object",
            "properties": {
                "premise": {"type": "string", "minLength": 1, "maxLength": 4000},
                "seed": {"type": "integer", "minimum": 0},
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "async": {"type": "boolean"},
                "frame": {"type": "string", "format": "binary",
                          "description": "the seed frame: a JPEG, PNG or WebP image (becomes the entrance image)"},
            },
        }},
    },
}


def _invalid(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()])


def _json_request(raw: bytes, parsed: Any) -> ImportWorldRequest | GenerateWorldRequest:
    """The import or generate request of a JSON body (a worker thread: parsing and validation grow with the body)."""
    if parsed is None:
        try:
            parsed = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]) from None
    model = ImportWorldRequest if isinstance(parsed, dict) and "world" in parsed else GenerateWorldRequest
    try:
        return model.model_validate(parsed)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _form_request(content_type: str, raw: bytes) -> tuple[GenerateWorldRequest, bytes | None]:
    """A generate request from multipart fields (premise, seed, name, async, frame)."""
    parts = parse_multipart(content_type, raw)
    unknown = sorted(set(parts) - {"premise", "seed", "name", "async", "frame"})
    if unknown:
        raise ApiError(400, "invalid_request", "the request does not match the schema",
                       errors=[f"{name}: Extra inputs are not permitted" for name in unknown])
    data: dict[str, Any] = {}
    for name in ("premise", "name"):
        if name in parts:
            data[name] = parts[name].text()
    if "seed" in parts:
        text = parts["seed"].text().strip()
        # ASCII digits only ("²".isdigit() is true), and no more than a 64-bit seed has.
        if not (text.isascii() and text.isdigit() and len(text) <= 20):
            raise ApiError(400, "invalid_request", "the request does not match the schema",
                           errors=["seed: Input should be a valid integer of at most 20 digits"])
        data["seed"] = int(text)
    if "async" in parts:
        flag = parts["async"].text().strip().lower()
        if flag not in ("true", "false", "1", "0"):
            raise ApiError(400, "invalid_request", "the request does not match the schema",
                           errors=["async: Input should be a valid boolean"])
        data["async"] = flag in ("true", "1")
    try:
        request = GenerateWorldRequest.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from None
    frame = parts.get("frame")
    return request, (frame.data if frame is not None else None)


def _import(request: Request, st: ServerState, key: Principal, body: ImportWorldRequest) -> Response:
    with metered(st, key, "generate"):
        result = st.call(st.scoped(key).create_world, body.world)
    return write_result(result, 201, request=request, key=key)


def _generate(request: Request, key: Principal, body: GenerateWorldRequest, frame_bytes: bytes | None) -> Response:
    st = state_of(request)
    workers = request.app.state.workers
    if body.premise is None and frame_bytes is None and body.image is None:
        raise ApiError(400, "invalid_request", "the request does not match the schema",
                       errors=["premise: give a premise, a seed frame, or both (or a world to import)"])
    frame = body.image.url if body.image is not None else None
    if frame_bytes is not None:
        frame = request.app.state.assets.put(frame_bytes, str(key.app_id), str(key.mode)).url
    premise = body.premise if body.premise is not None else FRAME_ONLY_PREMISE
    scoped = st.scoped(key)
    if body.async_:
        reservation = st.call(st.store.meter_reserve, str(key.app_id), "generate", 1)
        payload = {"premise": premise, "seed": body.seed, "frame": frame, "name": body.name,
                   "reservation": reservation["id"]}
        try:
            job = st.call(scoped.create_job, JOB_KIND, payload)
        except BaseException:
            st.call(st.store.meter_refund, reservation["id"])
            raise
        workers.job_queued()
        return json_response({"jobId": job["id"], "status": "queued"}, 202)
    try:
        with metered(st, key, "generate"):
            world = generate_document(st.settings, premise, body.seed, frame)
            if body.name is not None:
                world["name"] = body.name
            result = st.call(scoped.create_world, world)
    except ConjureError as exc:
        if not isinstance(exc, QuotaExceededError):
            scoped.enqueue_event(GENERATION_FAILED, {"jobId": None, "error": f"{exc.code}: {exc.message or exc.code}"})
            workers.event_queued()
        raise
    data = {"jobId": None, "worldId": result["world"]["id"], "rev": result["rev"]}
    scoped.enqueue_event(GENERATION_SUCCEEDED, data)
    workers.event_queued()
    return write_result(result, 201, request=request, key=key)


@r.post(
    "/v1/worlds",
    status_code=201,
    summary="Create a world",
    description="Two ways, one endpoint. **Import**: `{world}` — the document passes the kernel gate and the "
    "server assigns its `id`. **Generate**: `{premise, seed?, image?: {url}, name?, async?}` as JSON, or "
    "multipart/form-data with the same fields and a `frame` upload (JPEG, PNG or WebP; stored as an asset and "
    "used as the entrance image; `image.url` is used as given and never fetched). The world is valid and "
    "playable (at least four places, a reachable ending) and the same premise and seed give the same world. "
    "`async: true` answers 202 `{jobId, status}` at once (poll `GET /v1/worlds/jobs/{jobId}`; webhooks "
    "`world.generation.succeeded` / `failed`). Reserves one unit of the daily `generate` meter (402 past the "
    "limit, nothing charged; refunded when nothing is created). A failed model server is 502 `provider_failed`.",
    responses={
        201: {"model": GraphWriteResult, "headers": ETAG_HEADER},
        202: {"model": JobAccepted, "description": "Accepted: the world is generated by a job"},
        **errors(402, 403, 409, 422),
        502: {"description": "The agent's model server failed; nothing was created or charged", "model": Error},
    },
    openapi_extra={**IDEMPOTENCY, "requestBody": CREATE_BODY},
)
async def create_world(request: Request, key: Secret) -> Response:
    st = state_of(request)
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        body, frame_bytes = await run_in_threadpool(_form_request, content_type, raw)
        return await run_in_threadpool(_generate, request, key, body, frame_bytes)
    parsed = await run_in_threadpool(_json_request, raw, getattr(request, "_json", None))
    if isinstance(parsed, ImportWorldRequest):
        return await run_in_threadpool(_import, request, st, key, parsed)
    return await run_in_threadpool(_generate, request, key, parsed, None)


@r.get(
    "/v1/assets/{assetId}",
    summary="Get an uploaded frame",
    description="A seed frame stored by `POST /v1/worlds` (content-addressed: `<sha256>.<jpg|png|webp>`), "
    "readable by the keys of the app and mode that uploaded it (404 for any other).",
    responses={200: {"description": "The image", "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
               **errors(403, 404)},
)
def get_asset(assetId: Annotated[str, PathParam(max_length=80)], request: Request, key: AnyKey) -> Response:
    asset = request.app.state.assets.get(assetId, str(key.app_id), str(key.mode))
    return FileResponse(asset.path, media_type=asset.media_type,
                        headers={"Cache-Control": "private, max-age=31536000, immutable"})


@r.get(
    "/v1/worlds/{id}/entrance.jpg",
    summary="The world's rendered entrance frame",
    description="The entrance state drawn by the preview renderer (JPEG), at the world's current rev. Worlds "
    "without a user-given entrance image point `entrance.image.src` here with a signed, expiring query "
    "(`app`, `mode`, `exp`, `sig`) that an `<img>` loads with no credential; a key of the world's app and mode "
    "reads it without the query. A bad or expired signature is 404.",
    responses={200: {"description": "The frame", "content": {"image/jpeg": {}}}, **errors(403, 404)},
)
async def entrance_image(id: UUID, request: Request) -> Response:
    images = request.app.state.entrance
    q = request.query_params
    if "sig" in q:
        app, mode = q.get("app", ""), q.get("mode", "")
        if not images.verify(str(id), app, mode, q.get("exp", ""), q.get("sig", "")):
            raise NotFoundError("world not found", code="not_found")
        cache = "public, max-age=3600"
    else:
        key = await require_key(request)
        app, mode = str(key.app_id), str(key.mode)
        cache = "private, max-age=60"
    try:
        frame = await run_in_threadpool(images.render, app, mode, str(id))
    except TimeoutError:
        raise ApiError(503, "overloaded", "the renderer is busy; retry shortly", headers={"Retry-After": "1"}) from None
    return Response(frame, media_type="image/jpeg", headers={"Cache-Control": cache})


@r.get(
    "/v1/worlds/jobs/{jobId}",
    summary="Get generation job status",
    responses={200: {"model": Job}, **errors(403, 404)},
)
def get_job(jobId: UUID, request: Request, key: Secret) -> Response:
    st = state_of(request)
    job = st.call(st.scoped(key).get_job, str(jobId))
    result = job.get("result")
    world_id = None
    if isinstance(result, dict):
        world = result.get("world")
        world_id = result.get("worldId") or (world.get("id") if isinstance(world, dict) else None)
    return json_response({"jobId": job["id"], "status": job["status"], "worldId": world_id, "error": job.get("error")})


@r.get(
    "/v1/worlds",
    summary="List your worlds",
    description="Oldest first, cursor paginated. Test keys list test worlds, live keys live ones.",
    responses={200: {"model": WorldList}, **errors(403)},
)
def list_worlds(request: Request, key: AnyKey, limit: Limit = 20, cursor: Cursor = None) -> Response:
    st = state_of(request)
    return json_response(page(st.call(st.scoped(key).list_worlds, limit, cursor), world_summary))


def _graph(request: Request, key: Principal, world_id: UUID) -> dict[str, Any]:
    st = state_of(request)
    return st.call(st.scoped(key).get_graph, str(world_id))


@r.get(
    "/v1/worlds/{id}",
    summary="Get a world",
    description="The SMWorld; `ETag` is its rev. A publishable key reads the public fields only.",
    responses={200: {"model": SMWorld, "headers": ETAG_HEADER}, 304: {"description": "Not modified"}, **errors(403, 404)},
    openapi_extra=IF_NONE_MATCH,
)
async def get_world(id: UUID, request: Request, key: AnyKey) -> Response:
    if key.kind == "secret":  # the stored document as it is (it always carries its schemaVersion)
        read = graph_text(request, key, id)  # a read of microseconds: no thread hop
        if isinstance(read, Response):
            return read
        text, rev = read
        return raw_json_response(text.encode("utf-8"), rev)
    return await run_in_threadpool(_public_world_response, request, key, id)


def _public_world_response(request: Request, key: Principal, world_id: UUID) -> Response:
    """A publishable key's view: the parsed world, public fields only (builds Python objects: a worker thread)."""
    graph = _graph(request, key, world_id)
    if not_modified(request, graph["rev"]):
        return Response(status_code=304, headers={"ETag": etag(graph["rev"])})
    world = request.app.state.entrance.add_to(public_world(graph["world"]), str(key.app_id), str(key.mode))
    return json_response(world, 200, {"ETag": etag(graph["rev"])})


@r.patch(
    "/v1/worlds/{id}",
    summary="Update world metadata",
    description="Any of name, description, cover, visibility, characters (`null` deletes the field). "
    "`characters: [{id, states}]` places characters of the same app and mode in the world's states.",
    responses={200: {"model": GraphWriteResult, "headers": ETAG_HEADER}, **errors(403, 404, 409, 422)},
    openapi_extra=IF_MATCH,
)
def patch_world(id: UUID, body: PatchWorldRequest, request: Request, key: Secret) -> Response:
    st = state_of(request)
    patch = body.model_dump(exclude_unset=True)
    if not patch:
        raise BadInputError("give any of name, description, cover, visibility, characters", code="bad_input")
    result = st.call(st.scoped(key).patch_world, str(id), patch, expected_rev=expected_rev(request))
    return write_result(edited(request, key, id, result, "metadata"), request=request, key=key)


@r.delete(
    "/v1/worlds/{id}",
    status_code=204,
    summary="Delete a world",
    description="The world is gone for every later call (404). With `If-Match`, a rev mismatch is 409.",
    responses={204: {"description": "Deleted"}, **errors(403, 404, 409)},
    openapi_extra=IF_MATCH,
)
def delete_world(id: UUID, request: Request, key: Secret) -> Response:
    st = state_of(request)
    # With If-Match, a compare-and-delete in one store transaction (409 when the rev moved).
    st.call(st.scoped(key).delete_world, str(id), expected_rev(request))
    return Response(status_code=204)


@r.post(
    "/v1/worlds/{id}/fork",
    status_code=201,
    summary="Fork a world",
    description="Copies your own world, or another app's public world of the same mode, into a new private world.",
    responses={201: {"model": ForkResult, "headers": ETAG_HEADER}, **errors(403, 404, 409, 422)},
    openapi_extra=IDEMPOTENCY,
)
def fork_world(id: UUID, request: Request, key: Secret, body: ForkRequest | None = None) -> Response:
    st = state_of(request)
    name = body.name if body is not None else None
    return write_result(st.call(st.scoped(key).fork_world, str(id), name), 201, request=request, key=key)
