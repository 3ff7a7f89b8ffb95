"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from conjure.errors import ConjureError
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
        await run_in_threadpool(st.call, "list_apps", st.store.list_apps, _PROBE_OWNER, 1, None)
    except ConjureError as exc:
        return json_response({"detail": f"the store is not ready: {exc.message}", "code": "not_ready"}, 503)
    return json_response({"status": "ready"})


@r.get(
    "/metrics",
    summary="Prometheus metrics",
    responses={200: {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    st = state_of(request)
    return Response(st.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
