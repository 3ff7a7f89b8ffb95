"""Versions: snapshot, the version tree, one version, checkout and structural diff."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, Request
from starlette.responses import Response

from conjure.errors import BadInputError
from conjure.server.deps import Secret, state_of
from conjure.server.errors import json_response
from conjure.server.routing import ETAG_HEADER, IDEMPOTENCY, IF_MATCH, expected_rev
from conjure.server.schemas import CheckoutResult, SnapshotRequest, Version, VersionDiff, VersionTree, VersionWithWorld
from conjure.server.views import edited, errors, router, write_result

r = router("Versions")


def _uuid_or_none(value: str | None) -> str | None:
    return None if value is None else str(UUID(value))


@r.post(
    "/v1/worlds/{id}/versions",
    status_code=201,
    summary="Snapshot a version",
    description="Snapshots the working graph. The parent is `parentVersionId` or HEAD; onto HEAD it advances "
    "HEAD, onto an older version it forks a branch and HEAD stays.",
    responses={201: {"model": Version}, **errors(403, 404)},
    openapi_extra=IDEMPOTENCY,
)
def snapshot(id: UUID, request: Request, key: Secret, body: SnapshotRequest | None = None) -> Response:
    st = state_of(request)
    parent = body.parentVersionId if body is not None else None
    message = (body.message if body is not None else None) or ""
    try:
        parent = _uuid_or_none(parent)
    except ValueError:
        raise BadInputError("parentVersionId: not a UUID", code="bad_input") from None
    return json_response(st.call(st.scoped(key).snapshot, str(id), parent, message), 201)


@r.get(
    "/v1/worlds/{id}/versions",
    summary="List the version tree",
    description="Oldest first; rebuild the tree from each node's `parentVersionId`.",
    responses={200: {"model": VersionTree}, **errors(403, 404)},
)
def list_versions(id: UUID, request: Request, key: Secret) -> Response:
    st = state_of(request)
    return json_response(st.call(st.scoped(key).versions, str(id)))


@r.get(
    "/v1/worlds/{id}/versions/diff",
    summary="Diff two versions",
    description="Structural diff from version `a` (base) to `b` (target).",
    responses={200: {"model": VersionDiff}, **errors(403, 404)},
)
def diff(id: UUID, request: Request, key: Secret, a: Annotated[UUID, Query()], b: Annotated[UUID, Query()]) -> Response:
    st = state_of(request)
    result = st.call(st.scoped(key).diff, str(id), str(a), str(b))
    return json_response({"a": str(a), "b": str(b), **result})


@r.get(
    "/v1/worlds/{id}/versions/{versionId}",
    summary="Get one version snapshot",
    responses={200: {"model": VersionWithWorld}, **errors(403, 404)},
)
def get_version(id: UUID, versionId: UUID, request: Request, key: Secret) -> Response:
    st = state_of(request)
    return json_response(st.call(st.scoped(key).get_version, str(id), str(versionId)))


@r.post(
    "/v1/worlds/{id}/versions/{versionId}/checkout",
    summary="Check out a version",
    description="Sets the working graph to the version's snapshot AND moves HEAD there, atomically, with a new rev.",
    responses={200: {"model": CheckoutResult, "headers": ETAG_HEADER}, **errors(403, 404, 409, 422)},
    openapi_extra={"parameters": IF_MATCH["parameters"] + IDEMPOTENCY["parameters"]},
)
def checkout(id: UUID, versionId: UUID, request: Request, key: Secret) -> Response:
    st = state_of(request)
    result = st.call(st.scoped(key).checkout, str(id), str(versionId), expected_rev(request))
    return write_result(edited(request, key, id, result, "checkout"), request=request, key=key)
