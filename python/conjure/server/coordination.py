"""What the API processes of one deployment share beyond the store: Redis, when configured.

With ``redis_url`` set, every process of a deployment (any number, on any hosts):

- takes rate-limit tokens from one bucket per credential, kept in Redis and
  updated by one atomic script, so N processes give the configured rate, not N
  times it (the script reads Redis's own clock, so hosts need not agree on time);
- knows which process holds each live runtime socket (a key per session, written
  when the socket opens and removed when it closes), and reaches that process
  over pub/sub: a settle sent to any process closes the socket where it is and
  is answered with the seconds actually played.

Without Redis a single process needs none of this. Several processes without
Redis lose exactly what :func:`missing_guarantees` lists, which the server logs
at start.

Redis being down never fails a request: the rate limiter falls back to this
process's own buckets (logged, and counted in ``conjure_coordination_fallbacks``)
and retries Redis after a short pause; a settle whose holder cannot be reached
still settles the store, and the holder's socket ends at its deadline.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conjure.server.security import RateDecision, RateLimiter

__all__ = ["Coordination", "RedisRateLimiter", "missing_guarantees", "RATE_SCRIPT"]

log = logging.getLogger("conjure.coordination")

# One token bucket per key: {tokens, ts}; refilled at ARGV[1] per second up to ARGV[2].
# Time is Redis's (TIME), so every process sees one clock. Returns {allowed, tokens}.
RATE_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1])
local ts = tonumber(data[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate)
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""

_RETRY_AFTER_FAILURE = 2.0  # seconds Redis is left alone after a failed call
_KILL_REPLY_TIMEOUT = 2.0   # how long a settle waits for the holder's played seconds


def missing_guarantees(settings: Any) -> list[str]:
    """What a deployment of several processes lacks with these settings (empty when nothing)."""
    if getattr(settings, "redis_url", None) is not None:
        return []
    return [
        "rate limits are per process: N processes allow up to N times the configured rate",
        "a settle (or kill) handled by another process than the one holding the session's socket does not close "
        "that socket; it plays on until its token or its minutes run out (the store is settled at once)",
    ]


class RedisRateLimiter:
    """Token buckets per credential in Redis, shared by every process (same interface as ``RateLimiter``)."""

    def __init__(self, client: Any, prefix: str, rate: float, burst: int, on_fallback: Callable[[], None] | None = None) -> None:
        self.rate = float(rate)
        self.burst = int(burst)
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(RATE_SCRIPT)
        self._local = RateLimiter(rate, burst)
        self._down_until = 0.0
        self._on_fallback = on_fallback

    def take(self, key: str) -> RateDecision:
        now = time.monotonic()
        if now >= self._down_until:
            try:
                allowed, tokens_text = self._script(keys=[f"{self._prefix}rl:{key}"], args=[repr(self.rate), self.burst])
                tokens = float(tokens_text)
                return self._decision(bool(int(allowed)), tokens)
            except Exception as exc:  # noqa: BLE001 - any Redis fault: serve from local buckets
                self._down_until = now + _RETRY_AFTER_FAILURE
                log.warning("coordination: Redis rate limiter unavailable (%s); using this process's buckets "
                            "for %.0f s", type(exc).__name__, _RETRY_AFTER_FAILURE)
        if self._on_fallback is not None:
            self._on_fallback()
        return self._local.take(key)

    def _decision(self, allowed: bool, tokens: float) -> RateDecision:
        retry = 0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate))
        reset = math.ceil((self.burst - tokens) / self.rate) if tokens < self.burst else 0
        return RateDecision(allowed, self.burst, int(tokens), reset, retry)


class Coordination:
    """This process's view of the deployment: its id, the rate limiter, the socket registry and the bus.

    Args:
        settings: the server settings (``redis_url``, ``redis_prefix``, ``rate_limit_*``).
        on_fallback: called each time a Redis fault makes a request use local state.
    """

    def __init__(self, settings: Any, on_fallback: Callable[[], None] | None = None) -> None:
        self.node_id = uuid.uuid4().hex[:16]
        self.prefix = str(getattr(settings, "redis_prefix", "conjure:"))
        self._client: Any = None
        self._bus: threading.Thread | None = None
        self._pubsub: Any = None
        self._stopping = threading.Event()
        self._handler: Callable[[str, str, str, str], dict[str, Any] | None] | None = None
        self._releaser: ThreadPoolExecutor | None = None
        url = getattr(settings, "redis_url", None)
        if url is None:
            self.limiter: Any = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
            return
        import redis

        raw = url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)
        self._client = redis.Redis.from_url(
            raw, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=15, decode_responses=True
        )
        self.limiter = RedisRateLimiter(
            self._client, self.prefix, settings.rate_limit_per_second, settings.rate_limit_burst, on_fallback
        )

    @property
    def shared(self) -> bool:
        """True when processes share state through Redis."""
        return self._client is not None

    # ------------------------------------------------------------ lifecycle
    def start(self, handler: Callable[[str, str, str, str], dict[str, Any] | None]) -> None:
        """Starts listening for this process's messages.

        ``handler(session_id, app, mode, reason)`` ends a socket of this process and returns its
        final stats (None when this process does not relay that session of that app and mode).
        """
        self._handler = handler
        if self._client is None or self._bus is not None:
            return
        self._stopping.clear()
        self._releaser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="conjure-coordination-release")
        self._bus = threading.Thread(target=self._listen_forever, name="conjure-coordination", daemon=True)
        self._bus.start()

    def stop(self) -> None:
        self._stopping.set()
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
        bus, self._bus = self._bus, None
        if bus is not None:
            bus.join(timeout=3)
        releaser, self._releaser = self._releaser, None
        if releaser is not None:
            releaser.shutdown(wait=True)
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001
                pass

    def ping(self) -> bool:
        if self._client is None:
            return False
        try:
            return bool(self._client.ping())
        except Exception:  # noqa: BLE001
            return False

    # ------------------------------------------------------------ sockets
    def _owner_key(self, session_id: str) -> str:
        return f"{self.prefix}sock:{session_id}"

    def _inbox(self, node_id: str) -> str:
        return f"{self.prefix}node:{node_id}"

    def claim_socket(self, session_id: str, ttl_seconds: float) -> None:
        """Records that this process holds the session's socket (until ``ttl_seconds`` at the latest)."""
        if self._client is None:
            return
        try:
            self._client.set(self._owner_key(session_id), self.node_id, ex=max(1, int(math.ceil(ttl_seconds)) + 60))
        except Exception as exc:  # noqa: BLE001
            log.warning("coordination: cannot record the socket of %s (%s)", session_id, type(exc).__name__)

    def release_socket(self, session_id: str) -> None:
        if self._client is None:
            return
        try:
            # Only this process's claim: a key another process wrote since is left alone.
            self._client.eval(
                "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
                1, self._owner_key(session_id), self.node_id,
            )
        except Exception as exc:  # noqa: BLE001
            log.warning("coordination: cannot release the socket of %s (%s)", session_id, type(exc).__name__)

    def release_socket_later(self, session_id: str) -> None:
        """:meth:`release_socket` on a thread of its own (safe to call from the event loop)."""
        releaser = self._releaser
        if releaser is None:
            self.release_socket(session_id)
            return
        try:
            releaser.submit(self.release_socket, session_id)
        except RuntimeError:  # shut down meanwhile
            self.release_socket(session_id)

    def kill_remote(self, session_id: str, app: str, mode: str, reason: str,
                    timeout: float = _KILL_REPLY_TIMEOUT) -> dict[str, Any] | None:
        """Ends the session's socket in whichever other process holds it; its final stats, or None.

        The holder closes it only when it relays that session for ``app`` and ``mode``.
        None when no other process holds it, its process is gone, or it did not answer in time.
        Call from a worker thread (it waits for the reply).
        """
        if self._client is None:
            return None
        try:
            owner = self._client.get(self._owner_key(session_id))
            if not owner or owner == self.node_id:
                return None
            reply = f"{self.prefix}reply:{uuid.uuid4().hex}"
            sub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                sub.subscribe(reply)
                message = json.dumps({"type": "kill", "sessionId": session_id, "app": app, "mode": mode,
                                      "reason": reason, "reply": reply})
                if not self._client.publish(self._inbox(owner), message):
                    return None  # nobody listens there: that process is gone
                deadline = time.monotonic() + timeout
                while (left := deadline - time.monotonic()) > 0:
                    got = sub.get_message(timeout=left)
                    if got is not None and got.get("type") == "message":
                        answer = json.loads(got["data"])
                        return answer.get("stats") if isinstance(answer, dict) else None
                log.warning("coordination: process %s did not answer the kill of %s", owner, session_id)
                return None
            finally:
                sub.close()
        except Exception as exc:  # noqa: BLE001
            log.warning("coordination: cannot reach the holder of %s (%s)", session_id, type(exc).__name__)
            return None

    # ------------------------------------------------------------ the bus
    def _listen_forever(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                pubsub = self._client.pubsub(ignore_subscribe_messages=True)
                self._pubsub = pubsub
                pubsub.subscribe(self._inbox(self.node_id))
                backoff = 0.1
                while not self._stopping.is_set():
                    got = pubsub.get_message(timeout=0.5)
                    if got is not None and got.get("type") == "message":
                        self._on_message(got["data"])
            except Exception as exc:  # noqa: BLE001 - Redis went away: listen again when it is back
                if self._stopping.is_set():
                    return
                log.warning("coordination: message bus lost (%s); reconnecting", type(exc).__name__)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _on_message(self, data: str) -> None:
        try:
            msg = json.loads(data)
        except ValueError:
            return
        if not isinstance(msg, dict) or msg.get("type") != "kill":
            return
        if not all(isinstance(msg.get(k), str) for k in ("sessionId", "app", "mode")):
            return
        reason = msg.get("reason") if msg.get("reason") in ("killed", "expired", "budget_exhausted") else "killed"
        stats = None
        if self._handler is not None:
            try:
                stats = self._handler(msg["sessionId"], msg["app"], msg["mode"], reason)
            except Exception:  # noqa: BLE001 - one bad kill must not stop the bus
                log.exception("coordination: kill of %s failed", msg["sessionId"])
        reply = msg.get("reply")
        if isinstance(reply, str) and reply.startswith(f"{self.prefix}reply:"):
            safe = None if stats is None else {"seconds": float(stats.get("seconds", 0.0))}
            try:
                self._client.publish(reply, json.dumps({"stats": safe}))
            except Exception as exc:  # noqa: BLE001
                log.warning("coordination: cannot answer a kill (%s)", type(exc).__name__)
