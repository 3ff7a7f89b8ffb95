"""The runtime hub: one native render loop per server process and its live sockets."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CLOSE_CODES", "LiveSocket", "RuntimeHub"]

log = logging.getLogger("conjure.runtime")

# WebSocket close codes of the runtime socket (docs/runtime.md).
CLOSE_CODES: dict[str, int] = {
    "ending": 1000,            # the run reached an ending (after the `ending` message)
    "normal": 1000,            # the client went away or closed
    "unauthorized": 4000,      # missing, bad, expired, reused or foreign connect token; wrong origin
    "expired": 4001,           # the session's token expired
    "budget_exhausted": 4002,  # the minutes reserved for the session ran out
    "killed": 4003,            # settled while playing (the embed, the server shutting down)
    "internal": 1011,          # a server fault
}


@dataclass
class LiveSocket:
    """A socket relaying one session in this process."""

    session_id: str
    app: str
    mode: str
    kill: Callable[[str], None]
    reason: str | None = None
    stats: dict[str, Any] | None = field(default=None)


class RuntimeHub:
    """Owns the native ``RenderLoop`` and knows which sessions this process is relaying.

    Args:
        store: the server's ``conjure.Store``.
        settings: the server settings (``runtime_*``, ``session_*``).
        coordination: the deployment's ``Coordination`` (which process holds which socket), if any.
        loop_factory: builds the native loop (tests pass smaller frames).
    """

    def __init__(self, store: Any, settings: Any, coordination: Any = None,
                 loop_factory: Callable[[], Any] | None = None) -> None:
        self.store = store
        self.settings = settings
        self.coordination = coordination
        self._factory = loop_factory
        self._native: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._live: dict[str, LiveSocket] = {}
        self._deadline_reason: dict[str, str] = {}

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Starts the render threads (idempotent)."""
        with self._lock:
            if self._native is not None:
                return
            if self._factory is not None:
                self._native = self._factory()
            else:
                from conjure import _core

                s = self.settings
                self._native = _core.RenderLoop(
                    threads=s.runtime_threads, fps=s.runtime_fps, width=s.runtime_width, height=s.runtime_height,
                    jpeg_quality=s.runtime_jpeg_quality, max_sessions=max(s.session_global_cap, 1) + 16,
                )
            # One waiting thread per live socket (native waits release the GIL).
            self._executor = ThreadPoolExecutor(
                max_workers=self.settings.session_global_cap + 16, thread_name_prefix="conjure-runtime"
            )

    def stop(self) -> None:
        """Kills every live socket (each settles its session), stops the render threads."""
        for live in self.live_sockets():
            self.kill(live.session_id, "killed")
        with self._lock:
            native, executor = self._native, self._executor
            self._native, self._executor = None, None
        if native is not None:
            native.stop()
        if executor is not None:
            executor.shutdown(wait=True)

    @property
    def native(self) -> Any:
        if self._native is None:
            self.start()
        return self._native

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self.start()
        assert self._executor is not None
        return self._executor

    # ------------------------------------------------------------ sessions
    def note_admitted(self, session_id: str, token_exp: float, admitted_at: float) -> None:
        """Remembers why an admitted session will end (token expiry or its minutes)."""
        budget_end = admitted_at + self.settings.session_minutes * 60
        reason = "budget_exhausted" if budget_end <= token_exp else "expired"
        with self._lock:
            if len(self._deadline_reason) > 100_000:
                self._deadline_reason.clear()
            self._deadline_reason[session_id] = reason

    def deadline_reason(self, session_id: str) -> str:
        with self._lock:
            return self._deadline_reason.pop(session_id, "expired")

    def load_world(self, app: str, mode: str, world_id: str) -> str:
        """Loads the world's current revision into the render loop; its key (call from a worker thread)."""
        graph = self.store.scoped(app, mode).get_graph(world_id)
        key = f"{app}/{mode}/{world_id}@{graph['rev']}"
        if not self.native.has_world(key):
            world = graph["world"]
            text = world if isinstance(world, str) else (
                world.to_json() if hasattr(world, "to_json") else json.dumps(world, ensure_ascii=False)
            )
            self.native.load_world(key, text)
        return key

    def register(self, live: LiveSocket) -> None:
        with self._lock:
            self._live[live.session_id] = live

    def announce(self, session_id: str, ttl_seconds: float) -> None:
        """Tells the deployment that this process holds the session's socket (call from a worker thread)."""
        if self.coordination is not None and self.is_live(session_id):
            self.coordination.claim_socket(session_id, ttl_seconds)

    def unregister(self, session_id: str) -> None:
        with self._lock:
            gone = self._live.pop(session_id, None)
        if gone is not None and self.coordination is not None:
            self.coordination.release_socket_later(session_id)

    def live_sockets(self) -> list[LiveSocket]:
        with self._lock:
            return list(self._live.values())

    def is_live(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._live

    def kill(self, session_id: str, reason: str) -> dict[str, Any] | None:
        """Ends a live socket of this process with ``reason``; its final native stats (None when not here).

        Thread-safe; the socket closes with the reason's code and settles its session.
        """
        with self._lock:
            live = self._live.get(session_id)
        if live is None:
            return None
        live.reason = reason
        stats = self._native.close(session_id) if self._native is not None else None
        if stats is not None:
            live.stats = stats
        live.kill(reason)
        return live.stats

    def kill_relayed(self, session_id: str, app: str, mode: str, reason: str) -> dict[str, Any] | None:
        """:meth:`kill` when this process relays that session for that app and mode (None otherwise)."""
        with self._lock:
            live = self._live.get(session_id)
        if live is None or live.app != app or live.mode != mode:
            return None
        return self.kill(session_id, reason)

    def kill_anywhere(self, session_id: str, app: str, mode: str, reason: str) -> dict[str, Any] | None:
        """Ends the session's socket in this process or, through the deployment's bus, in the one holding it.

        Returns the socket's final stats (``seconds`` played), None when no socket was reached.
        Call from a worker thread.
        """
        stats = self.kill_relayed(session_id, app, mode, reason)
        if stats is None and not self.is_live(session_id) and self.coordination is not None:
            stats = self.coordination.kill_remote(session_id, app, mode, reason)
        return stats

    def settle(self, session_id: str, seconds: float | None, claims: dict[str, Any] | None = None) -> dict[str, Any]:
        """Settles a session in the store with the seconds played (call from a worker thread)."""
        used = None if seconds is None else int(math.ceil(max(seconds, 0.0)))
        return self.store.settle_session(session_id, used, claims)

    def stats(self) -> dict[str, Any]:
        out = dict(self.native.stats())
        out["sockets"] = len(self.live_sockets())
        return out
