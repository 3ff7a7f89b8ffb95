"""Background work of a server process: the generation job runner and the webhook dispatcher.

Both are plain threads started in the app's lifespan and stopped at shutdown; both
keep every piece of state that must survive a restart in the store.

**Jobs.** A runner thread claims the oldest queued job (or a running job whose lease
expired: its process died) with ``claim_job(worker, lease)``, generates the world in
a helper thread bounded by ``job_timeout_seconds``, then creates the world, queues its
event and completes the job in ONE store transaction (``complete_generation_job``): a
process dying in between leaves either all three or none, so a rerun never makes a
second world. Otherwise it fails the job with a clean message. A job claimed more than
``job_max_attempts`` times fails. The ``generate`` meter reserved when the job was
accepted is committed on success and refunded on failure. At shutdown a running job
is left to its lease; the next process to claim it runs it again.

**Webhooks.** The dispatcher claims due deliveries from the outbox
(``claim_deliveries``), POSTs each one signed (``Conjure-Signature: t=<unix>,v1=<hex
HMAC-SHA256(secret, "<t>.<raw body>")>``), never following redirects, and records the
attempt and its response status (``record_delivery``): at-least-once. Each failed
attempt is recorded with the delay before the next one from ``webhook_retry_schedule``
(the delay after attempt 1, 2, …; past the last the delivery fails), so the store keeps
the configured schedule durably and any process, after a restart too, claims the retry
when it is due. Destinations pass the SSRF
guard (:mod:`conjure.netguard`): private, link-local, multicast, reserved and tunnelled
addresses are refused, loopback only for test-mode events, and plain http only to
loopback; the connection goes to the very address the guard checked
(:mod:`conjure.server.outbound`). Attempts run concurrently across endpoints, each
bounded by a total deadline (see :class:`WebhookDispatcher`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from conjure._version import __version__
from conjure.errors import ConflictError, ConjureError
from conjure.netguard import DestinationRefused, check_host, is_restricted, literal_address, parse_url

__all__ = [
    "Workers",
    "JobRunner",
    "WebhookDispatcher",
    "generate_document",
    "sign",
    "registrable_url",
    "JOB_KIND",
    "GENERATION_SUCCEEDED",
    "GENERATION_FAILED",
    "WORLD_EDITED",
    "SESSION_STARTED",
]

log = logging.getLogger("conjure.server")

GENERATION_SUCCEEDED = "world.generation.succeeded"
GENERATION_FAILED = "world.generation.failed"
WORLD_EDITED = "world.edited"
SESSION_STARTED = "session.started"
JOB_KIND = "generate"


def generate_document(settings: Any, premise: str, seed: int, frame: str | None) -> dict[str, Any]:
    """The world document for a premise with the configured agent (raises ProviderError / GenerationError)."""
    from conjure.agent import generate

    world = generate(premise, seed=seed, frame=frame, provider=settings.agent(), max_attempts=settings.agent_max_attempts)
    return world.to_dict()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Conjure-Signature`` header value of a delivery body."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _worker_id(kind: str) -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _clean(exc: BaseException) -> str:
    """A one-line failure message for a job record (no stack, no secrets)."""
    if isinstance(exc, ConjureError):
        return f"{exc.code}: {exc.message or exc.code}"
    return f"internal: {type(exc).__name__}"


class JobRunner:
    """Generation jobs: ``threads`` runner threads claiming from the store."""

    def __init__(self, store: Any, settings: Any, on_event: Callable[[], None]) -> None:
        self.store = store
        self.settings = settings
        self.on_event = on_event
        self.worker = _worker_id("jobs")
        self.lease = int(math.ceil(settings.job_timeout_seconds)) + settings.job_lease_grace_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._helpers: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        for i in range(self.settings.job_workers):
            t = threading.Thread(target=self._loop, name=f"conjure-jobs-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def wake(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for t in self._threads + self._helpers:
            t.join(max(0.0, deadline - time.monotonic()))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.store.claim_job(self.worker, self.lease)
            except Exception:  # noqa: BLE001 - the store may be busy; try again at the next poll
                log.exception("could not claim a job")
                job = None
            if job is None:
                self._wake.wait(self.settings.job_poll_seconds)
                self._wake.clear()
                continue
            try:
                self.run(job)
            except Exception:  # noqa: BLE001 - a bug in one job must not stop the runner
                log.exception("job %s: unexpected failure", job.get("id"))

    def _generate(self, payload: dict[str, Any]) -> tuple[dict[str, Any] | None, BaseException | None, bool]:
        """Runs the generation in a helper thread; (world, error, finished) — finished False on timeout or shutdown."""
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["world"] = generate_document(
                    self.settings, payload.get("premise", ""), int(payload.get("seed", 0)), payload.get("frame")
                )
            except BaseException as exc:  # noqa: BLE001 - handed to the runner thread
                box["error"] = exc

        helper = threading.Thread(target=work, name="conjure-job-generate", daemon=True)
        with self._lock:
            self._helpers = [h for h in self._helpers if h.is_alive()] + [helper]
        helper.start()
        deadline = time.monotonic() + self.settings.job_timeout_seconds
        while helper.is_alive() and not self._stop.is_set():
            helper.join(min(0.1, max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                break
        if helper.is_alive():
            return None, None, False
        return box.get("world"), box.get("error"), True

    def run(self, job: dict[str, Any]) -> None:
        """Runs one claimed job to its end (or leaves it to its lease at shutdown)."""
        job_id = job["id"]
        scoped = self.store.scoped(job["appId"], job["mode"])
        payload = job.get("payload") if isinstance(job.get("payload"), dict) else {}
        if job.get("kind") != JOB_KIND:
            self._fail(scoped, job_id, payload, f"bad_input: unknown job kind {job.get('kind')!r}")
            return
        if int(job.get("attempts", 1)) > self.settings.job_max_attempts:
            self._fail(scoped, job_id, payload, f"job_abandoned: interrupted {self.settings.job_max_attempts} times")
            return
        world, error, finished = self._generate(payload)
        if not finished:
            if self._stop.is_set():
                log.info("job %s left to its lease at shutdown", job_id)
                return
            self._fail(scoped, job_id, payload, f"job_timeout: no result within {self.settings.job_timeout_seconds:g} s")
            return
        if error is not None or world is None:
            self._fail(scoped, job_id, payload, _clean(error or RuntimeError("no world")))
            return
        try:
            if payload.get("name"):
                world["name"] = payload["name"]
            # The world, its event and the job's completion: one transaction.
            scoped.complete_generation_job(job_id, world, GENERATION_SUCCEEDED)
        except ConflictError:  # another process completed (or failed) it first and settled it
            log.info("job %s already ended elsewhere; its result stands", job_id)
            return
        except Exception as exc:  # noqa: BLE001 - the gate or the store refused it
            self._fail(scoped, job_id, payload, _clean(exc))
            return
        self._settle(payload, commit=True)
        self.on_event()

    def _fail(self, scoped: Any, job_id: str, payload: dict[str, Any], error: str) -> None:
        try:
            scoped.enqueue_event(GENERATION_FAILED, {"jobId": job_id, "error": error})
            self.store.fail_job(job_id, error)
        except ConjureError as exc:
            log.warning("job %s: could not record its failure (%s)", job_id, exc.code)
            return
        self._settle(payload, commit=False)
        self.on_event()

    def _settle(self, payload: dict[str, Any], *, commit: bool) -> None:
        reservation = payload.get("reservation")
        if not reservation:
            return
        try:
            (self.store.meter_commit if commit else self.store.meter_refund)(reservation)
        except ConjureError as exc:  # already settled by an earlier run of the job
            log.info("reservation %s not settled again (%s)", reservation, exc.code)


class WebhookDispatcher:
    """Delivers the outbox: claim due deliveries, POST them signed, record every attempt.

    A scheduler thread claims due deliveries and hands them to a pool of
    ``webhook_concurrency`` sender threads, at most ``webhook_per_endpoint_concurrency``
    at a time per endpoint: a slow endpoint occupies its own slots, never another's.
    Each attempt ends by ``webhook_timeout_seconds`` in total (connect, headers and
    all); the response body is never read (only the status counts), so a huge answer
    costs nothing. A delivery held locally longer than half its lease (its endpoint
    was busy) is let go; it is claimed again when the lease ends. Whatever goes wrong
    in one attempt is recorded on that delivery and touches no other.
    """

    def __init__(self, store: Any, settings: Any, *, transport: Any = None, resolver: Any = None) -> None:
        self.store = store
        self.settings = settings
        self._transport = transport
        self.resolver = resolver  # host name → addresses (tests); the system resolver by default
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._backlog: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        self._active: dict[str, int] = {}
        self._pool: Any = None
        self._client: Any = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="conjure-webhooks", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def client(self) -> Any:
        """An httpx client that never follows redirects, with pinned addresses (or the test transport)."""
        import httpx

        from conjure.server.outbound import PinnedTransport

        timeout = self.settings.webhook_timeout_seconds
        return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False,
                            transport=self._transport if self._transport is not None else PinnedTransport())

    def _loop(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        with self.client() as client, ThreadPoolExecutor(
            self.settings.webhook_concurrency, thread_name_prefix="conjure-webhook-send"
        ) as pool:
            self._pool, self._client = pool, client
            while not self._stop.is_set():
                try:
                    worked = self._schedule()
                except Exception:  # noqa: BLE001 - the store may be busy; try again at the next poll
                    log.exception("webhook dispatch failed")
                    worked = False
                if worked:
                    continue
                self._wake.wait(self.settings.webhook_poll_seconds)
                self._wake.clear()
            self._pool = None

    def _capacity(self) -> int:
        return 2 * self.settings.webhook_concurrency

    def _schedule(self) -> bool:
        """Claims what fits, starts what each endpoint's limit allows; True when a delivery was claimed."""
        with self._lock:
            held = sum(len(q) for q in self._backlog.values()) + sum(self._active.values())
        room = self._capacity() - held
        due = self.store.claim_deliveries(room, self.settings.webhook_lease_seconds) if room > 0 else []
        now = time.monotonic()
        let_go = self.settings.webhook_lease_seconds / 2
        with self._lock:
            for delivery in due:
                self._backlog.setdefault(self._endpoint(delivery), []).append((now, delivery))
            for endpoint, queue in list(self._backlog.items()):
                queue[:] = [(t, d) for t, d in queue if now - t < let_go]
                while queue and self._active.get(endpoint, 0) < self.settings.webhook_per_endpoint_concurrency:
                    _, delivery = queue.pop(0)
                    self._active[endpoint] = self._active.get(endpoint, 0) + 1
                    self._pool.submit(self._send, endpoint, delivery)
                if not queue:
                    del self._backlog[endpoint]
        return bool(due)

    @staticmethod
    def _endpoint(delivery: dict[str, Any]) -> str:
        return str(delivery.get("endpointId") or delivery.get("url"))

    def _send(self, endpoint: str, delivery: dict[str, Any]) -> None:
        try:
            self.attempt(self._client, delivery)
        except Exception:  # noqa: BLE001 - attempt records its own failures; this is a last resort
            log.exception("delivery %s: unexpected failure", delivery.get("id"))
        finally:
            with self._lock:
                self._active[endpoint] -= 1
                if not self._active[endpoint]:
                    del self._active[endpoint]
            self._wake.set()

    def _destination(self, url: str, mode: str) -> tuple[Any, str, str]:
        """The parsed URL, its (ASCII) host and the checked address to connect to; DestinationRefused otherwise."""
        parsed = parse_url(url, what="the endpoint URL")
        host = parsed.raw_host.decode("ascii")
        test = mode == "test"
        addrs = check_host(
            host, allow_loopback=test, what="the webhook host", loopback_hint="loopback is for test-mode events only",
            resolver=self.resolver,
        )
        if parsed.scheme == "http" and not (test and all(a.is_loopback for a in addrs)):
            raise DestinationRefused("plain http:// is only for loopback endpoints of test-mode events")
        return parsed, host, str(addrs[0])

    def attempt(self, client: Any, delivery: dict[str, Any]) -> dict[str, Any] | None:
        """One signed POST of a delivery, recorded in the store; returns the updated delivery."""
        import httpx

        from conjure.server.outbound import pinned

        status, error = 0, ""
        deadline = time.monotonic() + self.settings.webhook_timeout_seconds
        try:
            body = json.dumps(delivery["body"], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": f"conjure-webhooks/{__version__}",
                "Conjure-Signature": sign(delivery["secret"], timestamp, body),
                "Conjure-Event-Id": str(delivery["eventId"]),
                "Conjure-Delivery-Id": str(delivery["id"]),
            }
            url, host, address = self._destination(str(delivery["url"]), str(delivery["body"].get("mode", "")))
            with pinned(host, address, deadline), client.stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code  # the body is never read
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except DestinationRefused as exc:
            error = f"refused: {exc}"
        except httpx.TimeoutException:
            error = f"timeout after {self.settings.webhook_timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            error = f"connection failed ({type(exc).__name__})"
        except Exception as exc:  # noqa: BLE001 - one delivery's fault is recorded on it, never raised
            log.warning("delivery %s: %s", delivery.get("id"), type(exc).__name__)
            error = f"failed ({type(exc).__name__})"
        success = 200 <= status < 300
        try:
            return self.store.record_delivery(
                delivery["id"], status, success, error, next_attempt_in=self.next_attempt_in(int(delivery.get("attempt", 0)) + 1)
            )
        except ConjureError as exc:  # already settled (another process recorded it)
            log.info("delivery %s not recorded (%s)", delivery["id"], exc.code)
            return None

    def next_attempt_in(self, attempt: int) -> float:
        """Seconds from failed attempt ``attempt`` (1-based) to the next; -1 past the schedule (give up)."""
        schedule = self.settings.webhook_retry_schedule
        return float(schedule[attempt - 1]) if 1 <= attempt <= len(schedule) else -1.0


class Workers:
    """The background threads of one server process."""

    def __init__(self, store: Any, settings: Any, *, transport: Any = None, resolver: Any = None) -> None:
        self.settings = settings
        self.dispatcher = (
            WebhookDispatcher(store, settings, transport=transport, resolver=resolver) if settings.webhook_dispatch else None
        )
        wake = self.dispatcher.wake if self.dispatcher is not None else (lambda: None)
        self.jobs = JobRunner(store, settings, wake) if settings.job_workers > 0 else None

    def start(self) -> None:
        if self.jobs is not None:
            self.jobs.start()
        if self.dispatcher is not None:
            self.dispatcher.start()

    def job_queued(self) -> None:
        if self.jobs is not None:
            self.jobs.wake()

    def event_queued(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()

    def stop(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        if self.jobs is not None:
            self.jobs.stop(max(0.0, deadline - time.monotonic()))
        if self.dispatcher is not None:
            self.dispatcher.stop(max(0.0, deadline - time.monotonic()))


def registrable_url(url: str) -> str:
    """The normalised endpoint URL to store, or DestinationRefused for one that can never be delivered to.

    Parsed with the sending client's parser (:func:`conjure.netguard.parse_url`); an
    IP-literal host must be a public address (or loopback, for test-mode events).
    """
    parsed = parse_url(url, what="url")
    ip = literal_address(parsed.host)
    if ip is not None and is_restricted(ip) and not ip.is_loopback:
        raise DestinationRefused("url: a private, link-local, reserved or tunnelled address is never delivered to")
    return str(parsed)
