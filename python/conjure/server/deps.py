"""Request dependencies: the server's state, credentials and their rights.

Credentials (``Authorization: Bearer …``):

- ``us_…`` a user token: manages apps, keys and webhooks;
- ``sk_test_…`` / ``sk_live_…`` a secret key: everything on its app's data in its mode;
- ``pk_test_…`` / ``pk_live_…`` a publishable key: reads of worlds (public fields).

A credential is resolved once per request (and cached on ``request.state``);
the rate limiter takes one token from the credential's bucket at that moment.
Store calls made here run in the threadpool, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from conjure.errors import ForbiddenError, UnauthorizedError
from conjure.server.errors import ApiError
from conjure.server.metrics import Metrics
from conjure.server.security import RateLimiter, UserTokens
from conjure.server.settings import Settings

__all__ = [
    "Principal",
    "ServerState",
    "state_of",
    "resolve_principal",
    "require_user",
    "require_secret",
    "require_key",
    "anonymous",
]

Kind = Literal["user", "secret", "publishable"]


@dataclass(frozen=True)
class Principal:
    """Who is calling.

    Attributes:
        kind: ``user``, ``secret`` or ``publishable``.
        user_id: the user (user tokens).
        app_id, mode, key_id: the key's app, mode and id (API keys).
    """

    kind: Kind
    user_id: str | None = None
    app_id: str | None = None
    mode: str | None = None
    key_id: str | None = None

    @property
    def rate_key(self) -> str:
        return f"user:{self.user_id}" if self.kind == "user" else f"key:{self.key_id}"

    @property
    def idempotency_scope(self) -> tuple[str, str]:
        """The store scope of idempotency records: (app, mode) for keys, a per-user scope for users."""
        if self.kind == "user":
            return (f"user:{self.user_id}", "test")
        return (str(self.app_id), str(self.mode))

    @property
    def log_id(self) -> str:
        """What the access log says about the caller (never the credential itself)."""
        if self.kind == "user":
            return f"user:{self.user_id}"
        return f"{self.kind}_key:{self.key_id}"


class ServerState:
    """What every request shares: settings, the store, user tokens (the store's), rate limiter, metrics."""

    def __init__(self, settings: Settings, store: Any, tokens: UserTokens | None, metrics: Metrics) -> None:
        self.settings = settings
        self.store = store
        # User tokens are signed and checked by the store; a signer bound to
        # another object (or none) is replaced by this store's.
        if not isinstance(tokens, UserTokens) or tokens.store is not store:
            tokens = UserTokens(store, settings.user_token_ttl_seconds)
        self.tokens = tokens
        self.metrics = metrics
        self.limits = settings.gate_limits()
        self.limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)

    def call(self, op: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Calls a store method, timed under ``op`` (call from a worker thread)."""
        return self.metrics.store_call(op, fn, *args, **kwargs)

    def scoped(self, principal: Principal) -> Any:
        """The store as the principal's (app, mode) scope."""
        return self.store.scoped(str(principal.app_id), str(principal.mode))


def state_of(request: Request) -> ServerState:
    return request.app.state.conjure


def _take_rate(request: Request, st: ServerState, key: str) -> None:
    decision = st.limiter.take(key)
    request.state.ratelimit = decision
    if not decision.allowed:
        st.metrics.rate_limited.inc()
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests: the limit is {st.limiter.rate:g} per second (burst {st.limiter.burst}); "
            f"retry after {decision.retry_after} s",
            headers=decision.headers(),
        )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise UnauthorizedError("Authorization must be 'Bearer <credential>'", code="invalid_credential")
    return value.strip()


def _resolve(st: ServerState, token: str) -> Principal:
    """Verifies a credential (runs in a worker thread)."""
    if token.startswith("us_"):
        # The store checks the signature, the expiry and that the user still exists.
        user_id = st.call("verify_user_token", st.tokens.verify, token)
        return Principal(kind="user", user_id=user_id)
    if token.startswith(("sk_test_", "sk_live_", "pk_test_", "pk_live_")) and len(token) <= 200:
        try:
            info = st.call("verify_key", st.store.verify_key, token)
        except UnauthorizedError:
            raise UnauthorizedError("the API key is invalid or revoked", code="invalid_credential") from None
        kind: Kind = "secret" if info["type"] == "secret" else "publishable"
        return Principal(kind=kind, app_id=info["appId"], mode=info["mode"], key_id=info["id"])
    raise UnauthorizedError("unknown credential: expected a us_, sk_ or pk_ token", code="invalid_credential")


async def resolve_principal(request: Request) -> Principal:
    """The caller's verified credential; 401 without one, 429 past its rate limit."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    st = state_of(request)
    token = _bearer(request)
    if token is None:
        raise UnauthorizedError("this endpoint needs a credential: Authorization: Bearer <key>", code="missing_credential")
    principal = await run_in_threadpool(_resolve, st, token)
    request.state.principal = principal
    _take_rate(request, st, principal.rate_key)
    return principal


async def anonymous(request: Request) -> None:
    """Endpoints without a credential (signup, login) are rate-limited per client address."""
    if getattr(request.state, "ratelimit", None) is not None:
        return
    st = state_of(request)
    client = request.client.host if request.client else "unknown"
    _take_rate(request, st, f"ip:{client}")


async def require_user(request: Request) -> Principal:
    principal = await resolve_principal(request)
    if principal.kind != "user":
        raise ForbiddenError(
            "this endpoint is managed with a user token (us_…) from POST /v1/auth/login, not an API key",
            code="user_token_required",
        )
    return principal


async def require_secret(request: Request) -> Principal:
    principal = await resolve_principal(request)
    if principal.kind == "secret":
        return principal
    if principal.kind == "publishable":
        raise ForbiddenError("a publishable key is read-only: use a secret key (sk_…)", code="secret_key_required")
    raise ForbiddenError("this endpoint takes an app's secret key (sk_…), not a user token", code="secret_key_required")


async def require_key(request: Request) -> Principal:
    principal = await resolve_principal(request)
    if principal.kind == "user":
        raise ForbiddenError("this endpoint takes an app's API key (sk_… or pk_…), not a user token", code="api_key_required")
    return principal
