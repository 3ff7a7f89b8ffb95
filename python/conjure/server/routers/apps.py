"""Apps (tenants) and their API keys, managed with a user token."""

from __future__ import annotations

from uuid import UUID

from fastapi import Request
from starlette.responses import Response

from conjure.server.deps import User, state_of
from conjure.server.errors import json_response
from conjure.server.schemas import App, AppList, CreateAppRequest, CreateKeyRequest, KeyList, KeyMetadata, MintedKey
from conjure.server.settings import METERS
from conjure.server.views import Cursor, Limit, errors, key_metadata, owned_app, page, router

r = router("Apps & Keys")


def _app(app: dict) -> dict:
    return {"id": app["id"], "name": app["name"], "createdAt": app["createdAt"]}


@r.post("/v1/apps", status_code=201, summary="Create an app", responses={201: {"model": App}, **errors(403, 409)})
def create_app(body: CreateAppRequest, request: Request, user: User) -> Response:
    st = state_of(request)
    app = st.call(st.store.create_app, body.name, user.user_id)
    limits = {m: st.settings.meter_limits[m] for m in METERS if m in st.settings.meter_limits}
    for meter, limit in limits.items():
        st.call(st.store.set_meter_limit, app["id"], meter, limit)
    return json_response(_app(app), 201)


@r.get("/v1/apps", summary="List your apps", responses={200: {"model": AppList}, **errors(403)})
def list_apps(request: Request, user: User, limit: Limit = 20, cursor: Cursor = None) -> Response:
    st = state_of(request)
    return json_response(page(st.call(st.store.list_apps, user.user_id, limit, cursor), _app))


@r.post(
    "/v1/apps/{appId}/keys",
    status_code=201,
    summary="Mint an API key",
    description="Returns the plaintext key ONCE (in `key`); the server keeps only a keyed hash.",
    responses={201: {"model": MintedKey}, **errors(403, 404, 409)},
)
def create_key(appId: UUID, body: CreateKeyRequest, request: Request, user: User) -> Response:
    st = state_of(request)
    owned_app(st, user, str(appId))
    minted = st.call(st.store.create_key, str(appId), body.type, body.mode, body.name or "")
    return json_response({**key_metadata(minted), "key": minted["key"]}, 201)


@r.get("/v1/apps/{appId}/keys", summary="List key metadata", responses={200: {"model": KeyList}, **errors(403, 404)})
def list_keys(appId: UUID, request: Request, user: User, limit: Limit = 20, cursor: Cursor = None) -> Response:
    st = state_of(request)
    owned_app(st, user, str(appId))
    return json_response(page(st.call(st.store.list_keys, str(appId), limit, cursor), key_metadata))


@r.delete(
    "/v1/apps/{appId}/keys/{keyId}",
    summary="Revoke a key",
    description="The key fails at once (401) on every later request.",
    responses={200: {"model": KeyMetadata}, **errors(403, 404)},
)
def revoke_key(appId: UUID, keyId: UUID, request: Request, user: User) -> Response:
    st = state_of(request)
    owned_app(st, user, str(appId))
    return json_response(key_metadata(st.call(st.store.revoke_key, str(appId), str(keyId))))
