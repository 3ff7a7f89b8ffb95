"""The application factory: ``conjure.server:create_app`` (uvicorn ``--factory``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool

from conjure._version import __version__
from conjure.characters import retrieval_mode
from conjure.characters.voice import engines_available

from conjure.server.assets import AssetStore
from conjure.server.coordination import Coordination, missing_guarantees
from conjure.server.deps import ServerState
from conjure.server.entrance import EntranceImages
from conjure.server.errors import install_error_handlers
from conjure.server.metrics import Metrics
from conjure.server.middleware import ConjureMiddleware
from conjure.server.routers import apps, auth, graph, operations, usage, versions, webhooks, worlds
from conjure.server.routers import play, sessions
from conjure.server.routers import characters
from conjure.runtime.lifecycle import RuntimeService
from conjure.server.schemas import REF_MARK, REQUEST_SCHEMAS, SEED_SCHEMAS
from conjure.server.security import UserTokens
from conjure.server.settings import Settings
from conjure.server.workers import Workers

__all__ = ["create_app", "open_store"]

log = logging.getLogger("conjure.server")

DESCRIPTION = """\
The programmable worlds API (v1), self-hosted. Every JSON body carries `"schemaVersion": "1.0"`.

**Credentials** (`Authorization: Bearer …`): `us_…` user tokens (from `POST /v1/auth/login`) manage apps,
keys and webhooks; `sk_test_…`/`sk_live_…` secret keys do everything on their app's data in their mode;
`pk_…` publishable keys read worlds (public fields).

**Errors** are `{detail, code, errors?, schemaVersion}`; a kernel-gate failure is 422
`{detail, code: "gate_failed", diagnostics, schemaVersion}`. Every response carries `Request-Id`;
rate-limited responses carry `RateLimit-Limit/Remaining/Reset` (and `Retry-After` on 429).
Every POST accepts `Idempotency-Key`.
"""

IDEMPOTENCY_PARAM = {
    "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255},
    "description": "a retry with the same key and body replays the first answer (Idempotent-Replayed: true)",
}
USER_TAGS = {"Apps & Keys", "Webhooks"}
OPEN_TAGS = {"Auth", "Operations"}


def open_store(settings: Settings) -> Any:
    """Opens the store the settings name (creating the data directory)."""
    from conjure.store import Store

    settings.database_path.parent.mkdir(parents=True, exist_ok=True)
    secret = settings.secret.get_secret_value() if settings.secret is not None else None
    return Store(
        settings.database_path,
        server_secret=secret or None,
        busy_timeout=settings.store_busy_timeout_seconds,
        max_bytes=settings.store_max_bytes,
        default_meter_limit=settings.meter_limit_per_day,
        limits=settings.gate_limits(),
    )


def _resolve_refs(node: Any) -> Any:
    if isinstance(node, dict):
        if REF_MARK in node:
            rest = {k: v for k, v in node.items() if k not in (REF_MARK, "title")}
            ref = {"$ref": f"#/components/schemas/{node[REF_MARK]}"}
            return {**rest, "allOf": [ref]} if rest else ref
        return {k: _resolve_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_refs(v) for v in node]
    return node


def _build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    doc = _resolve_refs(doc)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    models = [(m, "serialization") for m in SEED_SCHEMAS] + [(m, "validation") for m in REQUEST_SCHEMAS]
    for model, mode in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
        for name, sub in schema.pop("$defs", {}).items():
            schemas.setdefault(name, _resolve_refs(sub))
        schemas[model.__name__] = _resolve_refs(schema)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = {
        "ApiKeyAuth": {"type": "http", "scheme": "bearer", "description": "An app API key: sk_… (secret) or pk_… (publishable)"},
        "UserAuth": {"type": "http", "scheme": "bearer", "description": "A user token us_… from POST /v1/auth/login"},
    }
    request_id = {"description": "the request's id (echoed when the client sent a sane one)", "schema": {"type": "string"}}
    for path_item in doc.get("paths", {}).values():
        for method, op in path_item.items():
            if not isinstance(op, dict) or method not in ("get", "post", "put", "patch", "delete"):
                continue
            tags = set(op.get("tags", []))
            if tags & OPEN_TAGS:
                op["security"] = []
            elif tags & USER_TAGS:
                op["security"] = [{"UserAuth": []}]
            else:
                op["security"] = [{"ApiKeyAuth": []}]
            if method == "post" and op["security"]:
                params = op.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in params):
                    params.append(dict(IDEMPOTENCY_PARAM))
                op["responses"].setdefault("409", {
                    "description": "Idempotency-Key reused with other parameters, or still in flight",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                })
            for status, resp in list(op.get("responses", {}).items()):
                content = resp.get("content", {}).get("application/json", {}).get("schema", {})
                if status == "422" and "HTTPValidationError" in str(content):
                    del op["responses"][status]
                    continue
                resp.setdefault("headers", {})["Request-Id"] = request_id
    return doc


def create_app(settings: Settings | None = None, *, store: Any = None) -> FastAPI:
    """Builds the HTTP API.

    Args:
        settings: the configuration (default: from ``CONJURE_*`` and ``CONJURE_CONFIG``).
        store: an open ``conjure.Store`` to serve (default: the one the settings name);
            a store passed in is not closed at shutdown.
    """
    settings = settings if settings is not None else Settings()
    owns_store = store is None
    store = open_store(settings) if store is None else store
    metrics = Metrics()
    coordination = Coordination(settings, on_fallback=metrics.coordination_fallbacks.inc)
    state = ServerState(
        settings, store, UserTokens(store, settings.user_token_ttl_seconds), metrics, limiter=coordination.limiter
    )

    workers = Workers(store, settings)
    assets = AssetStore(settings.asset_path, settings.asset_max_bytes)
    runtime = RuntimeService(store, settings, coordination)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("conjure %s serving %s", __version__, settings.database_path)
        if coordination.shared:
            log.info("coordination: Redis shared by every process (node %s, prefix %r)",
                     coordination.node_id, coordination.prefix)
        elif settings.multi_process:
            for lacking in missing_guarantees(settings):
                log.warning("several processes without Redis (redis_url): %s", lacking)
        log.info("characters: %s lore retrieval; voices %s", retrieval_mode(),
                 ", ".join(f"{k} {'installed' if v else 'missing'}" for k, v in engines_available().items()))
        workers.start()
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            await run_in_threadpool(workers.stop, settings.shutdown_timeout_seconds)
            voices = getattr(app.state, "voice_pool", None)  # characters' TTS workers, when any ran
            if voices is not None:
                voices.close()
            if owns_store:
                store.close()

    app = FastAPI(
        title="conjure — programmable worlds API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.conjure = state
    app.state.workers = workers
    app.state.assets = assets
    app.state.runtime = runtime.hub
    app.state.entrance = EntranceImages(settings, runtime.hub)
    app.state.coordination = coordination
    install_error_handlers(app)
    for module in (auth, apps, worlds, graph, versions, usage, webhooks, operations):
        app.include_router(module.r)
    app.include_router(sessions.r)
    app.include_router(play.r)
    app.include_router(characters.r)
    app.add_middleware(
        ConjureMiddleware, metrics=metrics, body_limit=settings.body_limit_bytes, log_requests=settings.access_log
    )

    cache: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if "doc" not in cache:
            cache["doc"] = _build_openapi(app)
        return cache["doc"]

    app.openapi = openapi  # type: ignore[method-assign]
    return app
