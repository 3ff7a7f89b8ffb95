"""The runtime's part of the server lifespan: the hub, the session reaper, restart settling.

At start (with one server process) every session a previous process left live
is settled, so a restart never leaks a slot (with several processes, one
restarting must not settle the others' sessions: those of a process that died
are settled by the reaper when they expire); a reaper task then settles, every
``session_reap_seconds``, sessions past their expiry and admitted sessions
whose connect token was never used. At shutdown every socket of this process
is closed (code 4003) and settles its session, the render threads stop, and
(with one process) anything still live is settled.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool

from conjure.errors import ConjureError
from conjure.runtime.hub import RuntimeHub

__all__ = ["RuntimeService"]

log = logging.getLogger("conjure.runtime")


class RuntimeService:
    def __init__(self, store: Any, settings: Any, coordination: Any = None) -> None:
        self.settings = settings
        self.store = store
        self.hub = RuntimeHub(store, settings, coordination)
        self.coordination = coordination
        self._reaper: asyncio.Task[None] | None = None

    @property
    def single_process(self) -> bool:
        multi = getattr(self.settings, "multi_process", None)
        if multi is not None:
            return not multi
        return int(getattr(self.settings, "workers", 1)) == 1

    async def start(self) -> None:
        if self.single_process:
            try:
                settled = await run_in_threadpool(self.store.settle_all_active, "restart")
                if settled:
                    log.info("runtime: settled %d session(s) left live by a previous server", settled)
            except ConjureError as exc:
                log.warning("runtime: could not settle sessions at start: %s", exc.message)
        await run_in_threadpool(self.hub.start)
        if self.coordination is not None:
            self.coordination.start(self.hub.kill_relayed)
        self._reaper = asyncio.create_task(self._reap_forever(), name="conjure-session-reaper")

    async def stop(self) -> None:
        task, self._reaper = self._reaper, None
        if task is not None:
            # A lifespan may end on another event loop than it started on (some test harnesses).
            owner = task.get_loop()
            if owner is asyncio.get_running_loop():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            elif not owner.is_closed():
                owner.call_soon_threadsafe(task.cancel)
        # Closing the sockets makes each settle its session; give them a moment to finish.
        await run_in_threadpool(self.hub.stop)
        for _ in range(100):
            if not self.hub.live_sockets():
                break
            await asyncio.sleep(0.02)
        if self.coordination is not None:
            await run_in_threadpool(self.coordination.stop)
        if self.single_process:
            try:
                await run_in_threadpool(self.store.settle_all_active, "shutdown")
            except ConjureError as exc:
                log.warning("runtime: could not settle sessions at shutdown: %s", exc.message)

    async def reap_once(self) -> int:
        return int(await run_in_threadpool(self.store.reap_sessions))

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.session_reap_seconds)
            try:
                reaped = await self.reap_once()
                if reaped:
                    log.info("runtime: reaped %d expired session(s)", reaped)
            except ConjureError as exc:
                log.warning("runtime: reaping failed: %s", exc.message)
            except Exception:  # noqa: BLE001 - the reaper must outlive one bad round
                log.exception("runtime: reaping failed")
