"""Prometheus metrics of one app (its own registry, served at ``/metrics``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics"]

T = TypeVar("T")

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Request counts and latencies per route template, store and gate time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "conjure_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "conjure_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge("conjure_http_requests_in_flight", "requests being served", registry=self.registry)
        self.store_seconds = Histogram(
            "conjure_store_call_duration_seconds",
            "time in store calls by operation (writes include the in-transaction kernel gate)",
            ["op"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.gate_seconds = Histogram(
            "conjure_gate_duration_seconds",
            "time in kernel-gate runs outside the store (validate, lint)",
            ["kind"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "conjure_rate_limited", "requests refused by the rate limiter", registry=self.registry
        )
        self.coordination_fallbacks = Counter(
            "conjure_coordination_fallbacks",
            "requests rate-limited by this process's own buckets because Redis could not be reached",
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    @contextmanager
    def timed(self, histogram: Histogram, label: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            histogram.labels(label).observe(time.perf_counter() - start)

    def store_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Calls ``fn``, timed in ``conjure_store_call_duration_seconds{op=<its name>}``."""
        with self.timed(self.store_seconds, getattr(fn, "__name__", type(fn).__name__)):
            return fn(*args, **kwargs)

    def render(self) -> bytes:
        return generate_latest(self.registry)
