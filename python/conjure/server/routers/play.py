"""The embed SDK (``/embed.js``) and the demo play page (``/play/{worldId}``).

The page is static: it holds no credential. It plays with a session token
taken from the URL fragment (``/play/{worldId}#token=st_…``: a fragment never
reaches the server or its logs), minted by whoever holds the app's secret key.
Only when the server runs with the ``demo`` setting on does
``POST /play/{worldId}/token {"app": "app_…"}`` mint a token itself, for a
*test-mode* world of that app (charging its ``session`` meter); it is 404
otherwise. Never turn ``demo`` on for a server others can reach.
"""

from __future__ import annotations

import json
import secrets
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from conjure.errors import BadInputError, NotFoundError
from conjure.server.deps import anonymous, state_of
from conjure.server.errors import json_response

__all__ = ["r", "web_asset"]

r = APIRouter(tags=["Play"], include_in_schema=False)
_CACHE: dict[str, bytes] = {}


def web_asset(name: str) -> bytes:
    """A file of ``conjure/web`` (cached)."""
    if name not in _CACHE:
        _CACHE[name] = resources.files("conjure.web").joinpath(name).read_bytes()
    return _CACHE[name]


@r.get("/embed.js")
def embed_js() -> Response:
    return Response(
        web_asset("static/embed.js"),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@r.get("/play/{world_id}")
def play_page(world_id: str = PathParam(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")) -> Response:
    html = web_asset("play.html").decode("utf-8").replace("__WORLD_ID__", world_id)
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self' "
            "'unsafe-inline'; script-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:",
        },
    )


def _mint_demo(request: Request, world_id: str, app_id: str) -> dict[str, Any]:
    st = state_of(request)
    scoped = st.store.scoped(app_id, "test")
    reservation = st.call(st.store.meter_reserve, app_id, "session", 1)
    try:
        player = "demo-" + secrets.token_hex(6)
        minted = st.call(scoped.mint_session_token, world_id, player,
                         request.headers.get("origin") or None, 600)
    except BaseException:
        st.call(st.store.meter_refund, reservation["id"])
        raise
    st.call(st.store.meter_commit, reservation["id"])
    return {"token": minted["token"], "expiresAt": minted["expiresAt"]}


@r.post("/play/{world_id}/token")
async def demo_token(request: Request, world_id: str = PathParam(min_length=1, max_length=100)) -> Response:
    st = state_of(request)
    if not st.settings.demo:
        raise NotFoundError("the demo token endpoint is off (the server's `demo` setting)", code="not_found")
    await anonymous(request)
    try:
        data = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadInputError("the request body is not valid JSON", code="malformed_json") from None
    app_id = data.get("app") if isinstance(data, dict) else None
    if not isinstance(app_id, str) or not 1 <= len(app_id) <= 100:
        raise BadInputError("app: the id of the world's app", code="invalid_request")
    return json_response(await run_in_threadpool(_mint_demo, request, world_id, app_id), 201)
