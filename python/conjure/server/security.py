"""User tokens (``us_…``) and the per-credential token-bucket rate limiter."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from conjure.errors import UnauthorizedError

__all__ = ["UserTokens", "RateLimiter", "RateDecision", "rfc3339"]

USER_PREFIX = "us_"


def rfc3339(unix: float) -> str:
    """RFC 3339 UTC with milliseconds, like every timestamp the store writes."""
    dt = datetime.fromtimestamp(unix, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UserTokens:
    """Signed, expiring user tokens: ``us_<claims>.<HMAC-SHA256>``.

    The claims are ``{sub, iat, exp, jti}``; the signature is checked in
    constant time before anything in the token is trusted.
    """

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = hmac.new(secret.encode("utf-8"), b"conjure user token v1", hashlib.sha256).digest()
        self.ttl_seconds = ttl_seconds

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def issue(self, user_id: str, now: float | None = None) -> dict[str, str]:
        """``{token, expiresAt}`` for a user."""
        now = time.time() if now is None else now
        exp = int(now) + self.ttl_seconds
        claims = {"sub": user_id, "iat": int(now), "exp": exp, "jti": secrets.token_hex(8)}
        payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return {"token": f"{USER_PREFIX}{payload}.{self._sign(payload)}", "expiresAt": rfc3339(exp)}

    def verify(self, token: str, now: float | None = None) -> str:
        """The user id of a valid, unexpired token; UnauthorizedError otherwise."""
        bad = UnauthorizedError("the user token is invalid or expired", code="invalid_credential")
        if not token.startswith(USER_PREFIX) or len(token) > 2048:
            raise bad
        payload, _, signature = token[len(USER_PREFIX) :].partition(".")
        if not payload or not signature:
            raise bad
        try:
            expected = self._sign(payload)
        except UnicodeEncodeError:
            raise bad from None
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
            raise bad
        try:
            claims = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError):
            raise bad from None
        now = time.time() if now is None else now
        if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str) or not isinstance(claims.get("exp"), int):
            raise bad
        if claims["exp"] <= now:
            raise bad
        return claims["sub"]


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
        retry = 0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate))
        reset = math.ceil((self.burst - tokens) / self.rate) if tokens < self.burst else 0
        return RateDecision(allowed, self.burst, int(tokens), reset, retry)
