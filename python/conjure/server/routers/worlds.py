"""Worlds: import, list, read, metadata, delete, fork, generation jobs."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from starlette.responses import Response

from conjure.errors import BadInputError, ConflictError
from conjure.server.deps import Principal, require_key, require_secret, state_of
from conjure.server.errors import json_response
from conjure.server.routing import etag, expected_rev, not_modified
from conjure.server.schemas import (
    ForkRequest,
    ForkResult,
    GraphWriteResult,
    ImportWorldRequest,
    Job,
    PatchWorldRequest,
    SMWorld,
    WorldList,
)
from conjure.server.views import Cursor, Limit, errors, metered, page, public_world, router, world_summary, write_result

r = router("Worlds")
Secret = Annotated[Principal, Depends(require_secret)]
AnyKey = Annotated[Principal, Depends(require_key)]
IF_MATCH = {"parameters": [{"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                             "description": "the rev you last read; a mismatch is 409"}]}
IF_NONE_MATCH = {"parameters": [{"name": "If-None-Match", "in": "header", "required": False,
                                  "schema": {"type": "string"}, "description": "a rev; 304 when it is current"}]}
IDEMPOTENCY = {"parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                "schema": {"type": "string", "maxLength": 255},
                                "description": "a retry with the same key and body replays the first answer"}]}
ETAG_HEADER = {"ETag": {"description": "the rev, quoted", "schema": {"type": "string"}}}


@r.post(
    "/v1/worlds",
    status_code=201,
    summary="Create a world",
    description="Imports a world document through the kernel gate; the server assigns its `id`. "
    "Reserves one unit of the daily `generate` meter (402 past the limit, nothing charged; refunded "
    "when the world is refused).",
    responses={201: {"model": GraphWriteResult, "headers": ETAG_HEADER}, **errors(402, 403, 409, 422)},
    openapi_extra=IDEMPOTENCY,
)
def create_world(body: ImportWorldRequest, request: Request, key: Secret) -> Response:
    st = state_of(request)
    with metered(st, key, "generate"):
        result = st.call("create_world", st.scoped(key).create_world, body.world)
    return write_result(result, 201)


@r.get(
    "/v1/worlds/jobs/{jobId}",
    summary="Get generation job status",
    responses={200: {"model": Job}, **errors(403, 404)},
)
def get_job(jobId: UUID, request: Request, key: Secret) -> Response:
    st = state_of(request)
    job = st.call("get_job", st.scoped(key).get_job, str(jobId))
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
    return json_response(page(st.call("list_worlds", st.scoped(key).list_worlds, limit, cursor), world_summary))


def _graph(request: Request, key: Principal, world_id: UUID) -> dict[str, Any]:
    st = state_of(request)
    return st.call("get_graph", st.scoped(key).get_graph, str(world_id))


@r.get(
    "/v1/worlds/{id}",
    summary="Get a world",
    description="The SMWorld; `ETag` is its rev. A publishable key reads the public fields only.",
    responses={200: {"model": SMWorld, "headers": ETAG_HEADER}, 304: {"description": "Not modified"}, **errors(403, 404)},
    openapi_extra=IF_NONE_MATCH,
)
def get_world(id: UUID, request: Request, key: AnyKey) -> Response:
    graph = _graph(request, key, id)
    if not_modified(request, graph["rev"]):
        return Response(status_code=304, headers={"ETag": etag(graph["rev"])})
    world = graph["world"] if key.kind == "secret" else public_world(graph["world"])
    return json_response(world, 200, {"ETag": etag(graph["rev"])})


@r.patch(
    "/v1/worlds/{id}",
    summary="Update world metadata",
    description="Any of name, description, cover, visibility (`null` deletes the field).",
    responses={200: {"model": GraphWriteResult, "headers": ETAG_HEADER}, **errors(403, 404, 409, 422)},
    openapi_extra=IF_MATCH,
)
def patch_world(id: UUID, body: PatchWorldRequest, request: Request, key: Secret) -> Response:
    st = state_of(request)
    patch = body.model_dump(exclude_unset=True)
    if not patch:
        raise BadInputError("give any of name, description, cover, visibility", code="bad_input")
    result = st.call("patch_world", st.scoped(key).patch_world, str(id), patch, expected_rev=expected_rev(request))
    return write_result(result)


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
    want = expected_rev(request)
    if want is not None:
        current = _graph(request, key, id)["rev"]
        if current != want:
            raise ConflictError("the world's rev is not the expected one", code="conflict")
    st.call("delete_world", st.scoped(key).delete_world, str(id))
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
    return write_result(st.call("fork_world", st.scoped(key).fork_world, str(id), name), 201)
