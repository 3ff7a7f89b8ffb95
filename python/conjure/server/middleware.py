"""The ASGI middleware around every request.

- ``Request-Id`` on every response (the client's, when it sent a sane one);
- the body size limit, enforced while the body is read: a ``Content-Length`` over
  the limit is refused before reading, a chunked body as soon as it passes it;
- ``RateLimit-*`` headers for requests that went through the rate limiter;
- Prometheus request counts and latencies per route template;
- one structured JSON access-log line per request, without credentials.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conjure.server.errors import error_response
from conjure.server.metrics import Metrics

__all__ = ["ConjureMiddleware", "BodyTooLarge"]

access_log = logging.getLogger("conjure.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class BodyTooLarge(StarletteHTTPException):
    """The request body passed the configured limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


class ConjureMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, body_limit: int, log_requests: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.body_limit = body_limit
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        incoming = _header(scope, b"request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})
        scope["state"]["request_id"] = request_id
        status_box = {"status": 500, "bytes_in": 0}
        limit = self.body_limit

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers.append((b"request-id", request_id.encode("ascii")))
                decision = scope.get("state", {}).get("ratelimit")
                if decision is not None:
                    for k, v in decision.headers().items():
                        if k.lower().encode() not in names:
                            headers.append((k.lower().encode("ascii"), v.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                status_box["bytes_in"] += len(message.get("body", b""))
                if status_box["bytes_in"] > limit:
                    raise BodyTooLarge(limit)
            return message

        self.metrics.in_flight.inc()
        try:
            length = _header(scope, b"content-length")
            too_big = False
            if length is not None:
                try:
                    too_big = int(length) > limit
                except ValueError:
                    too_big = False
            if too_big:
                await error_response(BodyTooLarge(limit))(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            self.metrics.in_flight.dec()
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            status = status_box["status"]
            self.metrics.observe_request(scope.get("method", "?"), template, status, elapsed)
            if self.log_requests:
                self._log(scope, request_id, template, status, elapsed, status_box["bytes_in"])

    @staticmethod
    def _log(scope: Scope, request_id: str, route: str, status: int, elapsed: float, bytes_in: int) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        principal = scope.get("state", {}).get("principal")
        client = scope.get("client")
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "event": "request",
            "requestId": request_id,
            "method": scope.get("method"),
            "path": scope.get("path"),
            "route": route,
            "status": status,
            "durationMs": round(elapsed * 1000, 3),
            "bytesIn": bytes_in,
            "principal": principal.log_id if principal is not None else None,
            "client": client[0] if client else None,
        }
        access_log.info(json.dumps(entry, separators=(",", ":")))
