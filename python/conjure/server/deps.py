"""Request dependencies: the server's state, credentials and their rights.

Credentials (``Authorization: Bearer …``):

- ``us_…`` a user token: manages apps, keys and webhooks;
- ``sk_test_…`` / ``sk_live_…`` a secret key: everything on its app's data in its mode;
- ``pk_test_…`` / ``pk_live_…`` a publishable key: reads of worlds (public fields).

A credential is resolved once per request (and cached on ``request.state``);
the rate limiter takes one token from the credential's bucket at that moment.
A wrong credential takes one from the client address's failure bucket
(``auth_failure_*``); while it is empty, credentials from that address are not
even checked (429 ``too_many_failures``).

Every API key is checked against the store on every request (so a revoked key
fails at once, whichever process revoked it). The check is a read of a few
microseconds with the GIL released, made on the event loop; the one that may also
write (the store stamps a key's ``lastUsedAt`` at most once a minute) runs in the
threadpool, as do user-token checks. Which is which is known from the stamp the
store returned last time; no credential is kept, only a digest of it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from conjure.errors import ForbiddenError, UnauthorizedError
from conjure.server.errors import ApiError
from conjure.server.metrics import Metrics
from conjure.server.security import PasswordHashing, RateLimiter, UserTokens
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
    "client_address",
    "refuse_if_failing",
    "count_failure",
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

    def __init__(
        self, settings: Settings, store: Any, tokens: UserTokens | None, metrics: Metrics, limiter: Any = None
    ) -> None:
        self.settings = settings
        self.store = store
        # User tokens are signed and checked by the store; a signer bound to
        # another object (or none) is replaced by this store's.
        if not isinstance(tokens, UserTokens) or tokens.store is not store:
            tokens = UserTokens(store, settings.user_token_ttl_seconds)
        self.tokens = tokens
        self.metrics = metrics
        self.limits = settings.gate_limits()
        # This process's buckets, or the deployment's in Redis (conjure.server.coordination).
        self.limiter = limiter if limiter is not None else RateLimiter(
            settings.rate_limit_per_second, settings.rate_limit_burst
        )
        # Wrong credentials and passwords, per client address (and per email for logins), in this process.
        self.auth_failures = RateLimiter(settings.auth_failure_per_second, settings.auth_failure_burst)
        self.password_hashing = PasswordHashing(settings.password_hash_concurrency, wait_seconds=10.0)
        self.key_stamps = KeyStamps()

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Calls a store method, timed under the method's own name (from a worker thread, or on
        the event loop for a read of microseconds)."""
        return self.metrics.store_call(fn, *args, **kwargs)

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


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def refuse_if_failing(request: Request, st: ServerState, keys: list[str]) -> None:
    """429 ``too_many_failures`` while any of ``keys`` has spent its wrong-credential budget (nothing is checked)."""
    for key in keys:
        decision = st.auth_failures.peek(key)
        if not decision.allowed:
            st.metrics.rate_limited.inc()
            raise ApiError(429, "too_many_failures",
                           f"too many wrong credentials from here; retry after {decision.retry_after} s",
                           headers={"Retry-After": str(decision.retry_after)})


def count_failure(st: ServerState, keys: list[str]) -> None:
    for key in keys:
        st.auth_failures.take(key)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise UnauthorizedError("Authorization must be 'Bearer <credential>'", code="invalid_credential")
    return value.strip()


_KEY_PREFIXES = ("sk_test_", "sk_live_", "pk_test_", "pk_live_")
# The store stamps lastUsedAt (whole seconds, kept next to the millisecond text)
# when the last stamp is 60 s old or more: until STAMP_QUIET_S after the text's
# time, verifying the key is a pure read.
STAMP_QUIET_S = 58.0


class KeyStamps:
    """When each API key's verification becomes a write again (the store's next ``lastUsedAt`` stamp).

    Keyed by a SHA-256 digest of the key, never the key; bounded (cleared past
    ``max_keys``, which only sends a key's next check to the threadpool).
    Nothing here decides whether a key is valid: the store does, every time.
    """

    def __init__(self, max_keys: int = 50_000, clock: Any = time.time) -> None:
        self.max_keys = max_keys
        self._clock = clock
        self._quiet_until: dict[bytes, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def digest(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8")).digest()

    def read_only(self, digest: bytes) -> bool:
        """True when verifying the key now will not write (its stamp is recent)."""
        return self._clock() < self._quiet_until.get(digest, 0.0)

    def seen(self, digest: bytes, last_used_at: str | None) -> None:
        """Records the ``lastUsedAt`` the store answered with."""
        if not last_used_at:
            return
        try:
            stamped = datetime.fromisoformat(last_used_at.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return
        with self._lock:
            if len(self._quiet_until) >= self.max_keys:
                self._quiet_until.clear()
            self._quiet_until[digest] = stamped + STAMP_QUIET_S


def _verify_key(st: ServerState, token: str, digest: bytes) -> Principal:
    try:
        info = st.call(st.store.verify_key, token)
    except UnauthorizedError:
        raise UnauthorizedError("the API key is invalid or revoked", code="invalid_credential") from None
    st.key_stamps.seen(digest, info.get("lastUsedAt"))
    kind: Kind = "secret" if info["type"] == "secret" else "publishable"
    return Principal(kind=kind, app_id=info["appId"], mode=info["mode"], key_id=info["id"])


def _resolve(st: ServerState, token: str) -> Principal:
    """Verifies a credential (runs in a worker thread)."""
    if token.startswith("us_"):
        # The store checks the signature, the expiry and that the user still exists.
        user_id = st.call(st.tokens.verify, token)
        return Principal(kind="user", user_id=user_id)
    if token.startswith(_KEY_PREFIXES) and len(token) <= 200:
        return _verify_key(st, token, KeyStamps.digest(token))
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
    failures = [f"ip:{client_address(request)}"]
    refuse_if_failing(request, st, failures)
    try:
        if token.startswith(_KEY_PREFIXES) and len(token) <= 200:
            digest = KeyStamps.digest(token)
            if st.key_stamps.read_only(digest):  # a read of microseconds, GIL released: no thread hop
                principal = _verify_key(st, token, digest)
            else:
                principal = await run_in_threadpool(_verify_key, st, token, digest)
        else:
            principal = await run_in_threadpool(_resolve, st, token)
    except UnauthorizedError:
        count_failure(st, failures)
        raise
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


# Each credential dependency, declared once: a route takes ``key: Secret`` (a secret key),
# ``key: AnyKey`` (a secret or publishable key), ``user: User`` (a user token) or ``_: Anon``.
Secret = Annotated[Principal, Depends(require_secret)]
AnyKey = Annotated[Principal, Depends(require_key)]
User = Annotated[Principal, Depends(require_user)]
Anon = Annotated[None, Depends(anonymous)]


def _session_claims(request: Request, st: ServerState, token: str | None) -> dict[str, Any]:
    """The verified claims of the request's session token (runs in a worker thread)."""
    if token is None or not token.startswith("st_") or len(token) > 2048:
        raise UnauthorizedError("this endpoint takes a session token: Authorization: Bearer st_…",
                                code="invalid_credential")
    return st.call(st.store.verify_session_token, token, request.headers.get("origin") or None)


async def session_claims(request: Request, token: str | None = None) -> dict[str, Any]:
    """The claims of the session token (the bearer, else `token`), under the failure and
    per-token rate limits: the player's calls (sessions, characters) take it."""
    st = state_of(request)
    token = _bearer(request) or token
    failures = [f"ip:{client_address(request)}"]
    refuse_if_failing(request, st, failures)
    try:
        claims = await run_in_threadpool(_session_claims, request, st, token)
    except UnauthorizedError:
        count_failure(st, failures)
        raise
    _take_rate(request, st, f"session:{claims.get('jti')}")
    return claims
