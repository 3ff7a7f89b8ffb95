"""Play sessions (RUNTIME.md "The two-token rule") and the runtime socket.

``POST /v1/sessions/token`` (secret key) mints a session token ``st_…`` and
charges the app's ``session`` meter. The browser then exchanges that token
(``Authorization: Bearer st_…``) for a connect token ``ct_…`` under the
concurrency caps and the ``session_minutes`` budget, opens ``GET /v1/runtime``
with it, binds the session and settles it when it leaves. ``bind`` and
``settle`` also take the token in the JSON body (``{"sessionId", "token"}``) so
that ``navigator.sendBeacon`` (which cannot set headers) can settle on page
unload; their body is read as JSON whatever its content type.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from conjure.errors import BadInputError, NotFoundError, UnauthorizedError
from conjure.runtime import RuntimeHub, serve_socket
from conjure.server.deps import Secret, session_claims, state_of
from conjure.server.errors import json_response
from conjure.server.workers import SESSION_STARTED
from conjure.server.views import errors, metered, public_world, router

__all__ = ["r", "runtime_hub", "SessionTokenRequest"]

TAG = "Sessions"
_tokens = router(TAG)                    # secret-key endpoints (idempotent POSTs)
_sessions = APIRouter(tags=[TAG])        # session-token endpoints
r = APIRouter()
MAX_BODY = 4096


class SessionTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    worldId: str = Field(min_length=1, max_length=100)
    playerId: str = Field(min_length=1, max_length=200)
    origin: str | None = Field(default=None, min_length=1, max_length=300, pattern=r"^https?://[^/\s]+$")
    ttlSeconds: int = Field(default=600, ge=1, le=3600)


class SessionToken(BaseModel):
    token: str
    expiresAt: str
    schemaVersion: str = "1.0"


class SessionExchange(BaseModel):
    sessionId: str
    connectToken: str
    connectExpiresAt: str | None = None
    runtimeUrl: str
    world: dict[str, Any]
    expiresAt: str
    schemaVersion: str = "1.0"


class SessionStatus(BaseModel):
    sessionId: str
    status: str
    secondsUsed: int | None = None
    schemaVersion: str = "1.0"


SESSION_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object", "required": ["sessionId"], "additionalProperties": False,
            "properties": {
                "sessionId": {"type": "string", "minLength": 1, "maxLength": 100},
                "token": {"type": "string", "description": "the session token, when no Authorization header is sent"},
            },
        }}},
    }
}


def runtime_hub(request_or_ws: Request | WebSocket) -> RuntimeHub:
    return request_or_ws.app.state.runtime


_claims = session_claims


async def _session_body(request: Request) -> tuple[str, str | None]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadInputError(f"the body is larger than {MAX_BODY} bytes", code="bad_input")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadInputError("the request body is not valid JSON", code="malformed_json") from None
    if not isinstance(data, dict):
        raise BadInputError("the body is a JSON object {sessionId}", code="invalid_request")
    extra = sorted(set(data) - {"sessionId", "token"})
    if extra:
        raise BadInputError(f"unknown field {extra[0]!r}", code="invalid_request")
    sid, token = data.get("sessionId"), data.get("token")
    if not isinstance(sid, str) or not 1 <= len(sid) <= 100:
        raise BadInputError("sessionId: a string of 1-100 characters", code="invalid_request")
    if token is not None and not isinstance(token, str):
        raise BadInputError("token: a string", code="invalid_request")
    return sid, token


def _runtime_url(request: Request) -> str:
    base = request.base_url
    scheme = "wss" if base.scheme == "https" else "ws"
    return f"{scheme}://{base.netloc}/v1/runtime"


@_tokens.post(
    "/v1/sessions/token",
    status_code=201,
    summary="Mint a session token",
    description="A session token (`st_…`) for one player of one of the app's worlds, optionally bound to a "
    "browser origin; lives `ttlSeconds` (default 600, at most 3600). Charges one `session` unit (402 past the "
    "daily limit). The app's server calls this and hands the token to the player's browser.",
    responses={201: {"model": SessionToken}, **errors(402, 403, 404)},
)
def mint_token(request: Request, body: SessionTokenRequest, key: Secret) -> Response:
    st = state_of(request)
    scoped = st.scoped(key)
    with metered(st, key, "session"):
        minted = st.call(scoped.mint_session_token, body.worldId, body.playerId,
                         body.origin, body.ttlSeconds)
    return json_response({"token": minted["token"], "expiresAt": minted["expiresAt"]}, 201)


@_sessions.post(
    "/v1/sessions/exchange",
    summary="Exchange a session token for a connect token",
    description="Bearer `st_…` (from the browser; the `Origin` must match a bound token, else 403). Admits the "
    "session under the app's and the server's concurrency caps (429 `concurrency_cap`) and the "
    "`session_minutes` budget (402), reserving the configured minutes, and returns a single-use connect token "
    "(`ct_…`, 60 s) for `GET /v1/runtime`.",
    responses={200: {"model": SessionExchange}, **errors(402, 403, 409)},
)
async def exchange(request: Request) -> Response:
    claims = await _claims(request)
    st = state_of(request)
    hub = runtime_hub(request)
    s = st.settings
    admitted_at = time.time()
    admitted = await run_in_threadpool(
        st.call, st.store.admit_session, claims,
        app_cap=s.session_app_cap, global_cap=s.session_global_cap, minutes=s.session_minutes,
    )
    hub.note_admitted(str(admitted["sessionId"]), float(claims.get("exp") or 0), admitted_at)
    await run_in_threadpool(
        st.store.scoped(claims["app"], claims["mode"]).enqueue_event, SESSION_STARTED,
        {"sessionId": admitted["sessionId"], "worldId": claims["world"], "playerId": claims.get("player")},
    )
    request.app.state.workers.event_queued()
    # The world to play, as a publishable key may read it (the browser holds it).
    world: dict[str, Any] = {"id": claims["world"]}
    try:
        world = public_world(await run_in_threadpool(
            st.call, st.store.scoped(claims["app"], claims["mode"]).get_world, claims["world"]
        ))
    except NotFoundError:
        pass
    return json_response({
        "sessionId": admitted["sessionId"],
        "connectToken": admitted["connectToken"],
        "connectExpiresAt": admitted.get("connectExpiresAt"),
        "runtimeUrl": _runtime_url(request),
        "world": world,
        "expiresAt": admitted["expiresAt"],
    })


@_sessions.post(
    "/v1/sessions/bind",
    summary="Bind a session",
    description="Attributes an admitted session to the token's player after the socket opened (idempotent). "
    "The token comes as a bearer or as `token` in the body.",
    responses={200: {"model": SessionStatus}, **errors(403, 404, 409)},
    openapi_extra=SESSION_BODY,
)
async def bind(request: Request) -> Response:
    sid, token = await _session_body(request)
    claims = await _claims(request, token)
    st = state_of(request)
    result = await run_in_threadpool(st.call, st.store.bind_session, sid, claims)
    return json_response({"sessionId": result.get("sessionId", sid), "status": result.get("status", "bound")})


@_sessions.post(
    "/v1/sessions/settle",
    summary="Settle a session",
    description="Ends the session: closes its socket (code 4003), frees the slot, charges the minutes played "
    "and refunds the rest, records the seconds. Idempotent. The token comes as a bearer or as `token` in the "
    "body (for `navigator.sendBeacon`).",
    responses={200: {"model": SessionStatus}, **errors(403, 404)},
    openapi_extra=SESSION_BODY,
)
async def settle(request: Request) -> Response:
    sid, token = await _session_body(request)
    claims = await _claims(request, token)
    st = state_of(request)
    hub = runtime_hub(request)
    seconds: float | None = None
    # The socket may be held by this process or, in a deployment of several, by another one.
    stats = await run_in_threadpool(hub.kill_anywhere, sid, str(claims.get("app")), str(claims.get("mode")), "killed")
    if stats is not None:
        seconds = float(stats["seconds"])
    result = await run_in_threadpool(st.call, hub.settle, sid, seconds, claims)
    out: dict[str, Any] = {"sessionId": result.get("sessionId", sid), "status": result.get("status", "settled")}
    if result.get("secondsUsed") is not None:
        out["secondsUsed"] = int(result["secondsUsed"])
    return json_response(out)


@_sessions.websocket("/v1/runtime")
async def runtime_socket(websocket: WebSocket) -> None:
    """The runtime socket (RUNTIME.md): `?token=ct_…` or a first `{"type":"auth","token":"ct_…"}` message."""
    await serve_socket(websocket, runtime_hub(websocket))


r.include_router(_tokens)
r.include_router(_sessions)
