"""Shared pieces of the routers: response builders, projections, pagination and quota."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from conjure.errors import NotFoundError
from conjure.server.deps import Principal, ServerState, state_of
from conjure.server.errors import json_response
from conjure.server.routing import ConjureRoute, etag, not_modified
from conjure.server.schemas import Error, GraphValidationError

__all__ = [
    "router",
    "write_result",
    "Limit",
    "Cursor",
    "public_world",
    "world_summary",
    "key_metadata",
    "ERRORS",
    "errors",
    "metered",
    "metered_app",
    "owned_app",
    "edited",
]

T = TypeVar("T")


def router(tag: str) -> APIRouter:
    return APIRouter(tags=[tag], route_class=ConjureRoute)


Limit = Annotated[int, Query(ge=1, le=100, description="page size, 1-100")]
Cursor = Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$", description="nextCursor of the previous page (opaque)")]

ERRORS: dict[int, tuple[str, type]] = {
    400: ("Bad input: malformed JSON, wrong types, an inapplicable op", Error),
    401: ("No credential, or an invalid or revoked one", Error),
    402: ("Over the daily quota; nothing was charged", Error),
    403: ("The credential lacks the right (a publishable key on a write, a key on a user endpoint, ...)", Error),
    404: ("Not found (also another tenant's resource)", Error),
    409: ("Rev mismatch, already exists, or Idempotency-Key reused / in flight", Error),
    413: ("Request body too large", Error),
    422: ("Failed the kernel gate; nothing was persisted", GraphValidationError),
    429: ("Rate limited; see Retry-After", Error),
    503: ("The store is unavailable", Error),
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error statuses (always 400, 401, 413, 429, 503)."""
    wanted = sorted(set(codes) | {400, 401, 413, 429, 503})
    return {c: {"description": ERRORS[c][0], "model": ERRORS[c][1]} for c in wanted}


def edited(request: Any, key: Principal, world_id: Any, result: dict[str, Any], via: str) -> dict[str, Any]:
    """Queues ``world.edited`` (API.md "Webhook deliveries") for an accepted graph write; returns ``result``.

    ``via`` names the kind of write (``ops``, ``state``, ``event``, ``entrance``, ``edit``,
    ``checkout``, ``metadata``). The event is queued right after the write's transaction.
    """
    from conjure.server.workers import WORLD_EDITED

    st = request.app.state.conjure
    st.scoped(key).enqueue_event(WORLD_EDITED, {"worldId": str(world_id), "rev": result["rev"], "via": via})
    request.app.state.workers.event_queued()
    return result


def write_result(result: dict[str, Any], status: int = 200, *, request: Any, key: Principal) -> Response:
    """A GraphWriteResult response with the new rev as ``ETag`` (the world with its entrance image)."""
    world = result.get("world")
    if isinstance(world, dict):
        request.app.state.entrance.add_to(world, str(key.app_id), str(key.mode))
    return json_response(result, status, {"ETag": etag(result["rev"])})


PUBLIC_WORLD_FIELDS = ("schemaVersion", "id", "name", "description", "cover", "visibility", "entrance", "scene")


def public_world(world: dict[str, Any]) -> dict[str, Any]:
    """What a publishable key may read of a world: the playable document, without extension fields."""
    return {k: world[k] for k in PUBLIC_WORLD_FIELDS if k in world}


def world_summary(info: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": info["id"],
        "name": info.get("name") or None,
        "description": info.get("description") or None,
        "cover": info.get("cover") or None,
        "visibility": info.get("visibility") or "private",
        "createdAt": info["createdAt"],
        "updatedAt": info["updatedAt"],
    }


KEY_FIELDS = ("id", "appId", "type", "mode", "name", "prefix", "last4", "createdAt", "lastUsedAt", "revokedAt")


def key_metadata(info: dict[str, Any]) -> dict[str, Any]:
    return {k: info.get(k) for k in KEY_FIELDS}


def page(result: dict[str, Any], item: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    return {"data": [item(x) for x in result["data"]], "nextCursor": result.get("nextCursor") or None}


@contextmanager
def metered(st: ServerState, principal: Principal, meter: str, amount: int = 1) -> Iterator[None]:
    """Reserves ``amount`` of a meter (402 past the limit, nothing charged); commits on success, refunds on failure."""
    with metered_app(st, str(principal.app_id), meter, amount):
        yield


class Spend:
    """What a metered block used, when it is not what it reserved (None: the reservation)."""

    used: int | None = None


@contextmanager
def metered_app(st: ServerState, app_id: str, meter: str, amount: int = 1) -> Iterator[Spend]:
    """``metered`` for an app named by id (a session token's app); set ``spend.used`` to charge less."""
    reservation = st.call(st.store.meter_reserve, app_id, meter, amount)
    spend = Spend()
    try:
        yield spend
    except BaseException:
        st.call(st.store.meter_refund, reservation["id"])
        raise
    st.call(st.store.meter_commit, reservation["id"], spend.used)


def owned_app(st: ServerState, principal: Principal, app_id: str) -> dict[str, Any]:
    """The app when the user owns it; NotFoundError otherwise (another user's app is not found)."""
    app = st.call(st.store.get_app, app_id)
    if app.get("ownerId") != principal.user_id:
        raise NotFoundError("app not found", code="not_found")
    return app


def graph_text(request: Request, key: Principal, world_id: UUID) -> tuple[str, str] | Response:
    """The working graph's stored JSON text and rev, or the 304 answer when ``If-None-Match`` names the rev.

    With ``If-None-Match`` the rev is read first (no document), so a 304 never reads the graph.
    Both are read transactions of microseconds with the GIL released (no Python objects
    built but two strings), so async handlers call this on the event loop.
    """
    st = state_of(request)
    scoped = st.scoped(key)
    if request.headers.get("if-none-match") is not None:
        rev = st.call(scoped.world_info, str(world_id))["rev"]
        if not_modified(request, rev):
            return Response(status_code=304, headers={"ETag": etag(rev)})
    text, rev = st.call(scoped.get_graph_json, str(world_id))
    if not_modified(request, rev):  # written between the two reads, back to the named rev
        return Response(status_code=304, headers={"ETag": etag(rev)})
    # A world without an entrance image is answered with its rendered entrance (a text edit, no parse).
    return request.app.state.entrance.add_to_text(text, str(world_id), str(key.app_id), str(key.mode)), rev


def raw_json_response(body: bytes, rev: str) -> Response:
    """A 200 JSON answer whose body was assembled from stored text (not re-serialised), ``ETag`` the rev."""
    return Response(body, status_code=200, headers={"ETag": etag(rev)}, media_type="application/json")
