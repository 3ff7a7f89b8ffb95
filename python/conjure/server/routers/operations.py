"""Liveness, readiness, metrics, and the published SMWorld JSON Schema."""

from __future__ import annotations

import hmac
import json
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from conjure.errors import ConjureError, NotFoundError, UnauthorizedError
from conjure.server.deps import state_of
from conjure.server.errors import json_response
from conjure.server.schemas import Error, Health
from conjure.server.views import router

r = router("Operations")

_PROBE_OWNER = "00000000-0000-4000-8000-000000000000"


@r.get("/healthz", summary="Liveness", responses={200: {"model": Health}})
async def healthz() -> Response:
    return json_response({"status": "ok"})


@r.get(
    "/readyz",
    summary="Readiness: the store answers",
    responses={200: {"model": Health}, 503: {"description": "The store is unavailable", "model": Error}},
)
async def readyz(request: Request) -> Response:
    st = state_of(request)
    try:
        await run_in_threadpool(st.call, st.store.list_apps, _PROBE_OWNER, 1, None)
    except ConjureError as exc:
        return json_response({"detail": f"the store is not ready: {exc.message}", "code": "not_ready"}, 503)
    return json_response({"status": "ready"})


SCHEMA_PATH = "/schema/smworld-1.0.json"


def smworld_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """The SMWorld 1.0 JSON Schema (draft 2020-12), built from the same models as the OpenAPI document."""
    defs = openapi.get("components", {}).get("schemas", {})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (v.replace("#/components/schemas/", "#/$defs/") if k == "$ref" and isinstance(v, str)
                        else rewrite(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    reachable: set[str] = set()
    todo = ["SMWorld"]
    while todo:  # only SMWorld and what it refers to
        name = todo.pop()
        if name in reachable or name not in defs:
            continue
        reachable.add(name)
        text = json.dumps(defs[name])
        todo += [ref.split('"', 1)[0] for ref in text.split('"#/components/schemas/')[1:]]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_PATH,
        "title": "SMWorld 1.0",
        "description": "A playable world. Compatibility: every 1.x change only adds optional properties; unknown "
        "properties are kept verbatim; a breaking change is published as smworld-2.0.json beside this one "
        "(docs/api.md, 'The world schema').",
        "$ref": "#/$defs/SMWorld",
        "$defs": rewrite({name: defs[name] for name in sorted(reachable)}),
    }


@r.get(
    SCHEMA_PATH,
    summary="The SMWorld 1.0 JSON Schema",
    description="The world document's contract as JSON Schema (draft 2020-12), at a stable URL. Compatibility: "
    "every 1.x change only adds optional properties, unknown properties are kept verbatim, and a breaking "
    "change is published as `smworld-2.0.json` beside this one.",
    responses={200: {"description": "JSON Schema", "content": {"application/schema+json": {}}}},
)
async def smworld_json_schema(request: Request) -> Response:
    cache = request.app.state.__dict__.setdefault("_smworld_schema", {})
    if "doc" not in cache:
        cache["doc"] = json.dumps(smworld_schema(request.app.openapi()), separators=(",", ":")).encode("utf-8")
    return Response(cache["doc"], media_type="application/schema+json",
                    headers={"Cache-Control": "public, max-age=3600"})


LOOPBACK_CLIENTS = ("127.0.0.1", "::1", "localhost")


@r.get(
    "/metrics",
    summary="Prometheus metrics",
    description="With the server's `metrics_token` set, only `Authorization: Bearer <metrics_token>` reads it "
    "(401 otherwise); without one, only loopback clients do (404 for any other).",
    responses={200: {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}},
               401: {"description": "A metrics token is configured and this is not it", "model": Error},
               404: {"description": "Not served to this client", "model": Error}},
)
async def metrics(request: Request) -> Response:
    st = state_of(request)
    token = st.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            raise UnauthorizedError("GET /metrics takes the server's metrics token", code="invalid_credential")
    elif not request.client or request.client.host not in LOOPBACK_CLIENTS:
        raise NotFoundError("not found", code="not_found")
    return Response(st.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
