"""The route class every router uses, and small HTTP helpers shared by routers.

:class:`ConjureRoute` reads the body once under the size limit and implements
``Idempotency-Key`` for every POST (API.md "Idempotency"): records are scoped by
(app, mode, credential kind, key); the route's rights are checked before a record is
looked up; the first request's status and body are kept (24 h, in the store) and
replayed with ``Idempotent-Replayed: true``, except a body that carries a secret
(a key, a webhook secret, a token), of which only the fact and the created id are
kept (a retry is 409 ``idempotency_secret_not_replayed``); the same key with other
parameters, or while the first is running, is a 409; 5xx answers are not kept.

Nothing proportional to a body's size runs on the event loop: a JSON body past
``OFF_LOOP_BYTES`` is parsed in a worker thread before FastAPI sees it (FastAPI
then reuses the parsed value), and the idempotency hash and a replayed body are
computed there too.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from conjure.errors import ConflictError
from conjure.server.deps import require_key, require_secret, require_user, resolve_principal, state_of
from conjure.server.errors import ApiError, error_response
from conjure.server.middleware import BodyTooLarge

__all__ = ["ConjureRoute", "etag", "expected_rev", "not_modified", "IDEMPOTENCY_HEADER"]

log = logging.getLogger("conjure.server")
IDEMPOTENCY_HEADER = "Idempotency-Key"
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
OFF_LOOP_BYTES = 32 * 1024  # a JSON body this large is parsed in a worker thread
_UNPARSED = object()


def etag(rev: str) -> str:
    """The ``ETag`` header value of a rev (a strong, quoted entity tag)."""
    return f'"{rev}"'


def _tags(header: str) -> list[str]:
    out = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        if len(part) >= 2 and part[0] == part[-1] == '"':
            part = part[1:-1]
        if part:
            out.append(part)
    return out


def expected_rev(request: Request, body_rev: str | None = None) -> str | None:
    """The rev a write expects: ``If-Match`` (quoted or bare; ``*`` means any) or ``expectedRev``.

    Both given and different can never match: 409.
    """
    header = request.headers.get("if-match")
    tags = _tags(header) if header is not None else []
    if header is not None and "*" in tags:
        tags = []
    if len(tags) > 1:
        raise ApiError(400, "bad_input", "If-Match: give one rev")
    rev = tags[0] if tags else None
    if rev is not None and body_rev is not None and rev != body_rev:
        raise ConflictError("If-Match and expectedRev name different revs", code="conflict")
    return rev if rev is not None else body_rev


def not_modified(request: Request, rev: str) -> bool:
    """True when ``If-None-Match`` names the current rev (answer 304)."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    tags = _tags(header)
    return "*" in tags or rev in tags


def parse_json(body: bytes) -> Any:
    """A JSON body, parsed (in a worker thread: it grows with the body)."""
    return json.loads(body)


def _is_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def _request_hash(request: Request, body: bytes, parsed: Any = _UNPARSED) -> str:
    """The hash that says whether a retry repeats a request (runs in a worker thread: it is proportional to the body)."""
    try:
        value = json.loads(body) if parsed is _UNPARSED else parsed
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8") if body else b""
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = body
    h = hashlib.sha256()
    for part in (request.method.encode(), request.url.path.encode(), request.url.query.encode(), canonical):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


# A 2xx body with one of these top-level fields carries a secret shown once: it is never stored.
SECRET_FIELDS = ("key", "secret", "token", "connectToken")
SECRET_NOT_REPLAYED = '{"secretNotReplayed":true'
_SCOPE_PREFIX = {"secret": "s", "publishable": "p", "user": "u"}


def scoped_key(kind: str, key: str) -> str:
    """The stored idempotency key: the credential's kind and the client's key (hashed when both pass 255 chars)."""
    prefix = _SCOPE_PREFIX[kind]
    if len(key) + 2 <= 255:
        return f"{prefix}:{key}"
    return f"{prefix}#" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def stored_body(status: int, text: str) -> str:
    """What the store keeps of a response: the body, or for a secret-bearing body only the fact and the id."""
    if not 200 <= status < 300 or not text or len(text) > 65536:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict) or not any(isinstance(data.get(f), str) for f in SECRET_FIELDS):
        return text
    created = data.get("id")
    if created is None and isinstance(data.get("user"), dict):
        created = data["user"].get("id")
    return SECRET_NOT_REPLAYED + "," + json.dumps({"id": created}, separators=(",", ":"))[1:]


def _replay(status: int, body: str) -> Response:
    if body.startswith(SECRET_NOT_REPLAYED):
        created = json.loads(body).get("id")
        return error_response(ApiError(
            409, "idempotency_secret_not_replayed",
            "the first request with this Idempotency-Key created a secret, which is shown once and never stored; "
            + (f"it created {created}" if created else "make a new request with a new key"),
            extra={"id": created},
        ))
    headers = {"Idempotent-Replayed": "true"}
    if body:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("rev"), str):
            headers["ETag"] = etag(data["rev"])
        return Response(body.encode("utf-8"), status_code=status, headers=headers, media_type="application/json")
    return Response(status_code=status, headers=headers)


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


async def _idempotent(request: Request, handler: Handler, key: str, body: bytes, rights: list[Any]) -> Response:
    """Runs ``handler`` at most once per (app, mode, credential kind, key).

    The credential's rights for this route (``rights``: its require_* dependencies) are
    checked before anything is looked up, so a replay only ever goes to a credential
    that may make the request now, and a refused request leaves no record.
    """
    try:
        principal = await resolve_principal(request)
        for check in rights:
            await check(request)
    except Exception as exc:  # noqa: BLE001 - answered like any request error
        return error_response(exc)
    st = state_of(request)
    app_id, mode = principal.idempotency_scope
    scoped = st.store.scoped(app_id, mode)
    key = scoped_key(principal.kind, key)
    parsed = getattr(request, "_json", _UNPARSED)
    try:
        digest = await run_in_threadpool(_request_hash, request, body, parsed)
        begin = await run_in_threadpool(st.call, scoped.idempotency_begin, key, digest)
    except Exception as exc:  # noqa: BLE001
        return error_response(exc)
    kind = begin["kind"]
    if kind == "replay":
        return await run_in_threadpool(_replay, int(begin["status"]), begin["body"])
    if kind == "conflict":
        return error_response(
            ApiError(409, "idempotency_key_reused", "this Idempotency-Key was used with other parameters")
        )
    if kind == "in_flight":
        return error_response(
            ApiError(409, "idempotency_in_flight", "a request with this Idempotency-Key is still running; retry later")
        )
    try:
        response = await handler(request)
    except Exception as exc:  # noqa: BLE001
        response = error_response(exc)
    try:
        if response.status_code >= 500:
            await run_in_threadpool(st.call, scoped.idempotency_release, key)
        else:
            text = bytes(response.body).decode("utf-8") if response.body else ""
            kept = await run_in_threadpool(stored_body, response.status_code, text)
            await run_in_threadpool(st.call, scoped.idempotency_complete, key, response.status_code, kept)
    except Exception:  # noqa: BLE001 - the answer stands; the record expires by its lease
        log.exception("could not record the idempotent response")
    return response


class ConjureRoute(APIRoute):
    """An APIRoute that reads the body under the size limit and implements idempotent POSTs."""

    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()
        rights = [d.call for d in self.dependant.dependencies if d.call in (require_user, require_secret, require_key)]

        async def handler(request: Request) -> Response:
            body = b""
            if request.method in _BODY_METHODS:
                try:
                    body = await request.body()
                except BodyTooLarge as exc:
                    return error_response(exc)
                if len(body) > OFF_LOOP_BYTES and _is_json(request):
                    try:
                        # Starlette keeps the parsed body; FastAPI's `await request.json()` returns it.
                        request._json = await run_in_threadpool(parse_json, body)
                    except (ValueError, UnicodeDecodeError, RecursionError):
                        return error_response(RequestValidationError(
                            [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]))
            key = request.headers.get("idempotency-key")
            if request.method == "POST" and key is not None and request.headers.get("authorization") is not None:
                return await _idempotent(request, original, key, body, rights)
            return await original(request)

        return handler


# OpenAPI declarations of the conditional and idempotency headers, shared by the routers.
IF_MATCH = {"parameters": [{"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                             "description": "the rev you last read; a mismatch is 409"}]}
IF_NONE_MATCH = {"parameters": [{"name": "If-None-Match", "in": "header", "required": False,
                                  "schema": {"type": "string"}, "description": "a rev; 304 when it is current"}]}
IDEMPOTENCY = {"parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                "schema": {"type": "string", "maxLength": 255},
                                "description": "a retry with the same key and body replays the first answer"}]}
ETAG_HEADER = {"ETag": {"description": "the rev, quoted", "schema": {"type": "string"}}}
