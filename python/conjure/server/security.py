"""User tokens (``us_…``, signed by the store), the token-bucket rate limiter, and the password-hash bound."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from conjure.errors import UnauthorizedError

__all__ = ["UserTokens", "RateLimiter", "RateDecision", "PasswordHashing", "rfc3339"]

USER_PREFIX = "us_"


def rfc3339(unix: float) -> str:
    """RFC 3339 UTC with milliseconds, like every timestamp the store writes."""
    dt = datetime.fromtimestamp(unix, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class UserTokens:
    """User tokens (``us_…``), issued and verified by the store.

    The store signs them (HMAC-SHA256 over ``{sub, iat, exp, jti}``, with a key
    derived from its server secret inside the core) and checks the signature in
    constant time before trusting anything in the token; no secret is held here.
    """

    def __init__(self, store: Any, ttl_seconds: int) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: str) -> dict[str, str]:
        """``{token, expiresAt}`` for a user."""
        return self.store.issue_user_token(user_id, self.ttl_seconds)

    def verify(self, token: str) -> str:
        """The user id of a valid, unexpired token of a live user; UnauthorizedError otherwise."""
        if not token.startswith(USER_PREFIX) or len(token) > 2048:
            raise UnauthorizedError("the user token is invalid or expired", code="invalid_credential")
        try:
            return self.store.verify_user_token(token)["id"]
        except UnauthorizedError:
            raise UnauthorizedError("the user token is invalid or expired", code="invalid_credential") from None


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one take from a bucket, with what the RateLimit headers say."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again
    retry_after: int  # seconds until one token is available (0 when allowed)

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


class RateLimiter:
    """Token buckets per credential (``rate`` tokens per second, ``burst`` deep).

    Buckets live in this process; the least recently used are dropped past
    ``max_buckets`` (a dropped bucket comes back full, which only ever errs on
    the side of allowing).
    """

    def __init__(self, rate: float, burst: int, max_buckets: int = 100_000, clock: Any = time.monotonic) -> None:
        self.rate = float(rate)
        self.burst = int(burst)
        self.max_buckets = max_buckets
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> RateDecision:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_buckets:
                self._buckets.popitem(last=False)
        return self._decision(allowed, tokens)

    def peek(self, key: str) -> RateDecision:
        """Whether a take would be allowed now, taking nothing."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        return self._decision(tokens >= 1.0, tokens)

    def _decision(self, allowed: bool, tokens: float) -> RateDecision:
        retry = 0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate))
        reset = math.ceil((self.burst - tokens) / self.rate) if tokens < self.burst else 0
        return RateDecision(allowed, self.burst, int(tokens), reset, retry)


class PasswordHashing:
    """At most ``limit`` password hashes (scrypt, 32 MiB each) at once in this process.

    A caller waits up to ``wait_seconds`` for a slot, then gets 503 ``overloaded``
    (nothing done), so a flood of logins costs a bounded amount of memory and CPU.
    """

    def __init__(self, limit: int, wait_seconds: float) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._slots = threading.BoundedSemaphore(limit)

    def run(self, fn: Any, *args: Any) -> Any:
        from conjure.server.errors import ApiError

        if not self._slots.acquire(timeout=self.wait_seconds):
            raise ApiError(503, "overloaded", "too many sign-ins at once; retry shortly", headers={"Retry-After": "1"})
        try:
            return fn(*args)
        finally:
            self._slots.release()
