"""Exception -> HTTP, in one place.

Every error body is ``{detail, code, errors?, schemaVersion}``; a kernel-gate
failure is ``{detail, code: "gate_failed", diagnostics, schemaVersion}`` (422), a
generation that never passed the gate the same with ``code: "generation_failed"``,
and a failed agent model server 502 ``provider_failed``.
Routers never build error responses themselves: they raise a
:class:`conjure.errors.ConjureError` (from the core or their own checks) or an
:class:`ApiError`, and :func:`error_response` turns it into the response.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from conjure.agent.generate import GenerationError
from conjure.agent.providers import ProviderError
from conjure.errors import (
    BadInputError,
    CapacityError,
    ConflictError,
    ConjureError,
    ForbiddenError,
    GateError,
    InternalError,
    LimitError,
    NotFoundError,
    ParseError,
    QuotaExceededError,
    StorageError,
    UnauthorizedError,
)

__all__ = [
    "SCHEMA_VERSION",
    "ApiError",
    "STATUS_BY_CLASS",
    "error_response",
    "json_response",
    "install_error_handlers",
    "validation_messages",
]

SCHEMA_VERSION = "1.0"
log = logging.getLogger("conjure.server")

# The one mapping of core error classes to HTTP statuses.
STATUS_BY_CLASS: dict[type[ConjureError], int] = {
    BadInputError: 400,
    ParseError: 400,
    LimitError: 422,
    NotFoundError: 404,
    ConflictError: 409,
    GateError: 422,
    QuotaExceededError: 402,
    CapacityError: 429,
    UnauthorizedError: 401,
    ForbiddenError: 403,
    StorageError: 503,
    InternalError: 500,
}

_STARLETTE_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "unsupported_media_type",
}


class ApiError(Exception):
    """An HTTP-level refusal that is not a core error (rate limit, body size, a credential rule).

    Attributes:
        status: the HTTP status.
        code: the snake_case reason.
        detail: a human sentence.
        errors: optional field-level messages.
        headers: extra response headers (``Retry-After``, ...).
        extra: extra body fields (the ``id`` an idempotent secret-bearing request created).
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response; dict bodies get ``schemaVersion`` unless they carry one."""
    if isinstance(body, dict) and "schemaVersion" not in body:
        body = {**body, "schemaVersion": SCHEMA_VERSION}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Response(text.encode("utf-8"), status_code=status, headers=headers, media_type="application/json")


def _body(detail: str, code: str, errors: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"detail": detail, "code": code}
    if errors:
        out["errors"] = errors
    out["schemaVersion"] = SCHEMA_VERSION
    return out


def validation_messages(errors: Any) -> list[str]:
    """Readable field-level messages for pydantic/FastAPI validation errors (``ops.0.op: Field required``)."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        if len(loc) > 1 and loc[0] == "body":
            loc = loc[1:]
        msg = err.get("msg", "invalid")
        out.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    return out


def _is_json_error(exc: RequestValidationError) -> bool:
    return any(e.get("type") == "json_invalid" for e in exc.errors())


def _gate_failure(detail: str, code: str, diagnostics: list[Any]) -> Response:
    """A 422 in the seed's GraphValidationError shape."""
    body = {
        "detail": detail,
        "code": code,
        "diagnostics": [d.to_dict() if hasattr(d, "to_dict") else d for d in diagnostics],
        "schemaVersion": SCHEMA_VERSION,
    }
    return json_response(body, 422)


def error_response(exc: BaseException) -> Response:
    """The response for any exception a request can raise."""
    if isinstance(exc, ApiError):
        return json_response({**_body(exc.detail, exc.code, exc.errors), **exc.extra}, exc.status, exc.headers)
    if isinstance(exc, ProviderError):
        # The model server failed: a bad gateway. The message names no prompt, model or key.
        log.warning("agent provider failed: %s", exc.message)
        return json_response(_body(exc.message or "the model server failed", "provider_failed"), 502)
    if isinstance(exc, GenerationError):
        return _gate_failure(exc.message or "the generated world failed the kernel gate", "generation_failed",
                             exc.diagnostics)
    if isinstance(exc, GateError):
        return _gate_failure(exc.message or "the world failed the kernel gate", "gate_failed", exc.diagnostics)
    if isinstance(exc, LimitError):
        # A size limit is the gate's `limit` lint (WORLD.md): a 422 with its diagnostic, like any gate failure.
        message = exc.message or "a size limit is passed"
        return _gate_failure(message, "limit", [{"lint": "limit", "severity": "error", "path": "", "message": message}])
    if isinstance(exc, ConjureError):
        status = next((s for cls, s in STATUS_BY_CLASS.items() if type(exc) is cls), None)
        if status is None:
            status = next((s for cls, s in STATUS_BY_CLASS.items() if isinstance(exc, cls)), 500)
        if status >= 500:
            log.error("server fault %s: %s", exc.code, exc.message)
            detail = "the store is unavailable; retry later" if status == 503 else "internal error"
            return json_response(_body(detail, exc.code), status)
        return json_response(_body(exc.message or exc.code, exc.code), status)
    if isinstance(exc, RequestValidationError):
        if _is_json_error(exc):
            return json_response(_body("the request body is not valid JSON", "malformed_json"), 400)
        return json_response(
            _body("the request does not match the schema", "invalid_request", validation_messages(exc.errors())), 400
        )
    if isinstance(exc, StarletteHTTPException):
        code = _STARLETTE_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return json_response(_body(detail, code), exc.status_code, dict(exc.headers or {}))
    log.exception("unhandled error", exc_info=exc)
    return json_response(_body("internal error", "internal"), 500)


def install_error_handlers(app: FastAPI) -> None:
    """Registers :func:`error_response` for every exception a route can raise."""

    async def handler(request: Request, exc: Exception) -> Response:
        return error_response(exc)

    for cls in (ApiError, ConjureError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(cls, handler)
