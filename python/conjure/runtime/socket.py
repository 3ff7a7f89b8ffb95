"""The WebSocket handler of ``GET /v1/runtime`` (the message protocol of RUNTIME.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from conjure.characters.presence import Presence, is_state
from conjure.errors import ConjureError
from conjure.runtime.hub import CLOSE_CODES, LiveSocket, RuntimeHub
from conjure.runtime.protocol import ProtocolError, parse_client_message

__all__ = ["serve_socket", "AUTH_TIMEOUT_SECONDS", "INPUT_RATE", "INPUT_BURST"]

log = logging.getLogger("conjure.runtime")

AUTH_TIMEOUT_SECONDS = 10.0
INPUT_RATE = 60.0   # client messages per second, sustained
INPUT_BURST = 120   # ... and in a burst
_WAIT = 0.25        # one native wait; deadlines and kills are noticed within it


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _error(code: str, message: str, **extra: Any) -> str:
    return _dumps({"type": "error", "code": code, "message": message, **extra})


def _unix(stamp: Any) -> float:
    if isinstance(stamp, (int, float)):
        return float(stamp)
    if isinstance(stamp, str) and stamp:
        try:
            return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time() + 600.0


class _Bucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, float(burst), float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class _Socket:
    def __init__(self, ws: WebSocket, hub: RuntimeHub) -> None:
        self.ws = ws
        self.hub = hub
        self.send_lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()
        self.killed = asyncio.Event()
        self.kill_reason: str | None = None
        self.frames_sent = 0
        self.presence: Presence | None = None  # the characters the world places (None: none)

    async def send_text(self, text: str) -> None:
        async with self.send_lock:
            await self.ws.send_text(text)

    async def send_bytes(self, data: bytes) -> None:
        async with self.send_lock:
            await self.ws.send_bytes(data)

    async def close(self, reason: str, message: str = "") -> None:
        if self.ws.application_state == WebSocketState.CONNECTED and self.ws.client_state == WebSocketState.CONNECTED:
            try:
                await self.ws.close(code=CLOSE_CODES[reason], reason=(message or reason)[:120])
            except (RuntimeError, WebSocketDisconnect, OSError):
                pass

    def kill_from_thread(self, reason: str) -> None:
        self.kill_reason = reason
        self.loop.call_soon_threadsafe(self.killed.set)

    # ------------------------------------------------------------ auth
    async def authenticate(self) -> str | None:
        """The connect token: from ``?token=`` or a first ``auth`` message."""
        token = self.ws.query_params.get("token")
        if token:
            return token
        try:
            raw = await asyncio.wait_for(self.ws.receive(), AUTH_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            await self.send_text(_error("unauthorized", "no auth message within 10 s"))
            return None
        if raw.get("type") == "websocket.disconnect":
            return None
        try:
            msg = parse_client_message(raw.get("text") if raw.get("text") is not None else raw.get("bytes") or b"")
        except ProtocolError as exc:
            await self.send_text(_error("unauthorized", f"the first message must be auth: {exc}"))
            return None
        if msg.type != "auth":
            await self.send_text(_error("unauthorized", "the first message must be {\"type\":\"auth\",\"token\":\"ct_…\"}"))
            return None
        return msg.value

    # ------------------------------------------------------------ run
    async def run(self) -> None:
        await self.ws.accept()
        token = await self.authenticate()
        if token is None:
            await self.close("unauthorized")
            return
        try:
            session = await run_in_threadpool(self.hub.store.consume_connect_token, token)
        except ConjureError as exc:
            await self.send_text(_error("unauthorized", exc.message or "the connect token is invalid"))
            await self.close("unauthorized")
            return
        sid = str(session["sessionId"])
        origin = session.get("origin") or ""
        if origin and self.ws.headers.get("origin", "") != origin:
            await self.send_text(_error("forbidden", "this session is bound to another origin"))
            await self.close("unauthorized", "origin")
            await run_in_threadpool(self._settle_quietly, sid, 0.0)
            return
        try:
            key = await run_in_threadpool(
                self.hub.load_world, str(session["app"]), str(session["mode"]), str(session["world"])
            )
            await run_in_threadpool(self.hub.native.open, sid, key, str(session["player"]))
        except ConjureError as exc:
            log.warning("runtime: session %s cannot open: %s", sid, exc.message)
            await self.send_text(_error("unplayable", exc.message or "the world cannot be played"))
            await self.close("internal", "unplayable")
            await run_in_threadpool(self._settle_quietly, sid, 0.0)
            return

        try:  # the characters the world places, listed in its `state` messages
            self.presence = await run_in_threadpool(
                Presence.of, self.hub.store.scoped(str(session["app"]), str(session["mode"])),
                str(session["world"]), str(session.get("jti") or ""),
            )
        except ConjureError as exc:
            log.info("runtime: session %s lists no characters: %s", sid, exc.message)
        live = LiveSocket(sid, str(session["app"]), str(session["mode"]), self.kill_from_thread)
        self.hub.register(live)
        started = time.monotonic()
        deadline = started + max(0.0, _unix(session.get("expiresAt")) - time.time())
        seconds_limit = self.hub.settings.session_minutes * 60
        stats: dict[str, Any] | None = None
        reason = "normal"
        try:
            await run_in_threadpool(self.hub.announce, sid, deadline - started)
            s = self.hub.settings
            await self.send_text(_dumps({
                "type": "ready", "sessionId": sid, "width": s.runtime_width, "height": s.runtime_height,
                "fps": s.runtime_fps, "world": session["world"], "expiresAt": session.get("expiresAt"),
            }))
            pump = asyncio.create_task(self.pump(sid, deadline, seconds_limit))
            recv = asyncio.create_task(self.receive(sid))
            usage = asyncio.create_task(self.usage(sid, seconds_limit))
            killed = asyncio.create_task(self.killed.wait())
            done, pending = await asyncio.wait({pump, recv, killed}, return_when=asyncio.FIRST_COMPLETED)
            for task in (*pending, usage):
                task.cancel()
            await asyncio.gather(*pending, usage, return_exceptions=True)
            if killed in done:
                reason = self.kill_reason or "killed"
            elif pump in done and pump.exception() is None:
                reason = pump.result()
            elif recv in done:
                reason = "normal"
            else:
                reason = "internal"
                exc = pump.exception() if pump in done else None
                if exc is not None and not isinstance(exc, (WebSocketDisconnect, OSError)):
                    log.error("runtime: session %s failed: %r", sid, exc)
        finally:
            closed = self.hub.native.close(sid) if self.hub._native is not None else None
            stats = live.stats or closed
            seconds = float(stats["seconds"]) if stats else time.monotonic() - started
            try:
                await run_in_threadpool(self._settle_quietly, sid, seconds)
            except BaseException:
                # Cancelled (the client went away, the server is stopping): anyio refuses
                # every later await of this task, so the settle runs on a thread of its own.
                threading.Thread(target=self._settle_then_unregister, args=(sid, seconds),
                                 name=f"settle-{sid[:8]}").start()
                raise
            self.hub.unregister(sid)  # after settling: a live socket's slot is still held
        if reason in ("expired", "budget_exhausted", "killed"):
            messages = {
                "expired": "the session token expired",
                "budget_exhausted": "the minutes reserved for this session ran out",
                "killed": "the session was settled",
            }
            try:
                await self.send_text(_error(reason, messages[reason]))
            except (RuntimeError, WebSocketDisconnect, OSError):
                pass
        if reason != "normal" or self.ws.client_state == WebSocketState.CONNECTED:
            await self.close(reason if reason != "normal" else "normal")

    def _settle_then_unregister(self, sid: str, seconds: float) -> None:
        try:
            self._settle_quietly(sid, seconds)
        finally:
            self.hub.unregister(sid)

    def _settle_quietly(self, sid: str, seconds: float) -> None:
        try:
            self.hub.settle(sid, seconds)
        except ConjureError as exc:  # already settled elsewhere, or the store is gone
            log.info("runtime: settle of %s: %s", sid, exc.message)

    async def pump(self, sid: str, deadline: float, seconds_limit: int) -> str:
        """Relays native events and frames until the run ends, the session closes or its deadline passes."""
        native = self.hub.native
        executor = self.hub.executor
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self.hub.deadline_reason(sid)
            kind, payload = await self.loop.run_in_executor(executor, native.next, sid, min(_WAIT, remaining))
            if kind == "event":
                if self.presence is not None and is_state(payload):
                    payload = await run_in_threadpool(self.presence.annotate, payload)
                await self.send_text(payload)
            elif kind == "frame":
                await self.send_bytes(payload)
                self.frames_sent += 1
            elif kind == "ended":
                return "ending"
            elif kind == "closed":
                return self.kill_reason or "killed"

    async def receive(self, sid: str) -> None:
        """Feeds client messages to the engine until the client goes away."""
        native = self.hub.native
        bucket = _Bucket(INPUT_RATE, INPUT_BURST)
        while True:
            raw = await self.ws.receive()
            if raw.get("type") == "websocket.disconnect":
                return
            data = raw.get("text")
            if data is None:
                data = raw.get("bytes") or b""
            if not bucket.take():
                await self.send_text(_error("rate_limited", f"more than {INPUT_RATE:g} messages per second"))
                continue
            try:
                msg = parse_client_message(data)
            except ProtocolError as exc:
                await self.send_text(_error("bad_message", str(exc)))
                continue
            if msg.type == "ping":
                await self.send_text('{"type":"pong"}')
            elif msg.type == "move":
                native.move(sid, msg.value)
            elif msg.type == "key":
                native.key(sid, msg.value)
            elif msg.type == "fire":
                native.fire(sid, msg.value)
            else:  # a second auth
                await self.send_text(_error("bad_message", "already authenticated"))

    async def usage(self, sid: str, seconds_limit: int) -> None:
        interval = self.hub.settings.runtime_usage_seconds
        native = self.hub.native
        while True:
            await asyncio.sleep(interval)
            stats = native.session_stats(sid)
            if stats is None:
                return
            await self.send_text(_dumps({
                "type": "usage", "secondsUsed": round(float(stats["seconds"]), 3), "secondsLimit": seconds_limit,
                "framesSent": self.frames_sent, "framesDropped": int(stats["frames_dropped"]),
                "eventsDropped": int(stats["events_dropped"]),
            }))


async def serve_socket(ws: WebSocket, hub: RuntimeHub) -> None:
    """Runs one runtime socket to its end (never raises for client faults)."""
    sock = _Socket(ws, hub)
    try:
        await sock.run()
    except WebSocketDisconnect:
        pass
