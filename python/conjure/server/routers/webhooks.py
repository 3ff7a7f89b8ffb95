"""Webhook endpoints of an app, managed with a user token; their delivery log."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request
from starlette.responses import Response

from conjure.errors import BadInputError, NotFoundError
from conjure.server.deps import Principal, ServerState, User, state_of
from conjure.server.routing import IDEMPOTENCY
from conjure.server.errors import json_response
from conjure.server.schemas import (
    DEFAULT_WEBHOOK_EVENTS,
    CreatedWebhook,
    CreateWebhookRequest,
    DeliveryList,
    WebhookList,
)
from conjure.netguard import DestinationRefused
from conjure.server.workers import registrable_url
from conjure.server.views import Cursor, Limit, errors, owned_app, page, router

r = router("Webhooks")
AppQuery = Annotated[
    UUID | None,
    Query(description="the app; optional when you own exactly one app, or when the endpoint id alone finds it"),
]

WEBHOOK_FIELDS = ("id", "appId", "url", "events", "description", "createdAt")


def _webhook(info: dict[str, Any]) -> dict[str, Any]:
    return {k: info.get(k) for k in WEBHOOK_FIELDS}


def _attempt_rows(st: ServerState, delivery: dict[str, Any]) -> list[dict[str, Any]]:
    """A delivery's rows: one per attempt made, oldest first; a delivery not tried yet is one row, attempt 0."""
    base = {"id": delivery["id"], "eventId": delivery["eventId"], "type": delivery["type"]}
    attempts = st.call(st.store.list_delivery_attempts, delivery["id"])
    if not attempts:
        return [{**base, "attempt": 0, "status": delivery["status"], "responseStatus": None,
                 "createdAt": delivery["createdAt"], "nextAttemptAt": delivery.get("nextAttemptAt")}]
    rows = [{**base, "attempt": a["attempt"], "status": a["status"], "responseStatus": a["responseStatus"],
             "createdAt": a["createdAt"], "nextAttemptAt": None} for a in attempts]
    rows[-1]["nextAttemptAt"] = delivery.get("nextAttemptAt")  # when a pending delivery is tried again
    return rows


def _user_apps(st: ServerState, user: Principal) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        result = st.call(st.store.list_apps, user.user_id, 100, cursor)
        ids.extend(a["id"] for a in result["data"])
        cursor = result.get("nextCursor")
        if not cursor:
            return ids


def _app_of_webhook(st: ServerState, user: Principal, webhook_id: str, app_id: UUID | None) -> str:
    """The app (owned by the user) that holds the endpoint; NotFoundError otherwise (also for another user's)."""
    if app_id is not None:
        owned_app(st, user, str(app_id))
    app = st.call(st.store.get_webhook, webhook_id)["appId"]
    if app_id is not None and app != str(app_id):
        raise NotFoundError("webhook not found", code="not_found")
    try:
        owned_app(st, user, app)
    except NotFoundError:
        raise NotFoundError("webhook not found", code="not_found") from None
    return app


@r.post(
    "/v1/webhooks",
    status_code=201,
    summary="Register a webhook endpoint",
    description="Registers an https:// endpoint (plain http:// only to loopback, delivered for test-mode events "
    "only) for an app and returns its `whsec_` signing secret ONCE. Omit `events` to subscribe to every "
    "event: `world.generation.succeeded`, `world.generation.failed`, `world.edited` (every accepted graph write) and "
    "`session.started` (a play session admitted). Private, link-local, "
    "multicast, reserved and tunnelled (6to4, Teredo) destinations are refused, and so is a URL with "
    "credentials (`user:pass@`), a fragment, or a numeric host that is not a canonical address; the URL is "
    "stored as the sending client normalises it.",
    responses={201: {"model": CreatedWebhook}, **errors(403, 404)},
    openapi_extra=IDEMPOTENCY,
)
def create_webhook(body: CreateWebhookRequest, request: Request, user: User) -> Response:
    st = state_of(request)
    try:
        app_id = str(UUID(body.appId))
    except ValueError:
        raise BadInputError("appId: not a UUID", code="bad_input") from None
    owned_app(st, user, app_id)
    try:
        url = registrable_url(body.url)
    except DestinationRefused as exc:
        raise BadInputError(str(exc), code="bad_input") from None
    events = list(body.events) if body.events else list(DEFAULT_WEBHOOK_EVENTS)
    created = st.call(st.store.create_webhook, app_id, url, events, body.description or "")
    return json_response({**_webhook(created), "secret": created["secret"]}, 201)


@r.get(
    "/v1/webhooks",
    summary="List webhook endpoints",
    description="Endpoint metadata only: the signing secret is never returned after creation.",
    responses={200: {"model": WebhookList}, **errors(403, 404)},
)
def list_webhooks(request: Request, user: User, appId: AppQuery = None, limit: Limit = 20, cursor: Cursor = None) -> Response:
    st = state_of(request)
    if appId is None:
        apps = _user_apps(st, user)
        if len(apps) != 1:
            raise BadInputError("appId: required when you own more (or fewer) than one app", code="bad_input")
        app_id = apps[0]
    else:
        app_id = str(owned_app(st, user, str(appId))["id"])
    return json_response(page(st.call(st.store.list_webhooks, app_id, limit, cursor), _webhook))


def _delete(request: Request, user: Principal, webhook_id: UUID, app_id: UUID | None) -> Response:
    st = state_of(request)
    app = _app_of_webhook(st, user, str(webhook_id), app_id)
    st.call(st.store.delete_webhook, app, str(webhook_id))
    return json_response({"id": str(webhook_id), "deleted": True})


@r.delete(
    "/v1/webhooks/{id}",
    summary="Delete a webhook endpoint",
    responses={200: {"description": "Deleted: `{id, deleted: true}`"}, **errors(403, 404)},
)
def delete_webhook(id: UUID, request: Request, user: User, appId: AppQuery = None) -> Response:
    return _delete(request, user, id, appId)


@r.post(
    "/v1/webhooks/{id}/delete",
    summary="Delete a webhook endpoint (POST alias)",
    description="Same as DELETE, for environments that cannot send a DELETE verb.",
    responses={200: {"description": "Deleted: `{id, deleted: true}`"}, **errors(403, 404, 409)},
    openapi_extra=IDEMPOTENCY,
)
def delete_webhook_post(id: UUID, request: Request, user: User, appId: AppQuery = None) -> Response:
    return _delete(request, user, id, appId)


@r.get(
    "/v1/webhooks/{id}/deliveries",
    summary="List deliveries of an endpoint",
    description="Every attempt of every delivery (event × endpoint), oldest first: one row per attempt with its "
    "number, `status` (`succeeded` or `failed` for the attempt that ended the delivery, `pending` for a failed "
    "attempt that was or will be retried) and `responseStatus` (null when no answer came); a delivery not tried "
    "yet is one `pending` row with `attempt` 0. `nextAttemptAt` (on a delivery's latest row) is when a pending "
    "delivery is tried again. `limit` and `cursor` page by delivery.",
    responses={200: {"model": DeliveryList}, **errors(403, 404)},
)
def list_deliveries(
    id: UUID, request: Request, user: User, appId: AppQuery = None, limit: Limit = 20, cursor: Cursor = None
) -> Response:
    st = state_of(request)
    app = _app_of_webhook(st, user, str(id), appId)
    result = st.call(st.store.list_deliveries, app, str(id), limit, cursor)
    rows = [row for delivery in result["data"] for row in _attempt_rows(st, delivery)]
    return json_response({"data": rows, "nextCursor": result.get("nextCursor")})
