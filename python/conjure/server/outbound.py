"""The HTTP client of webhook deliveries: pinned addresses, one deadline per attempt.

Two holes of a plain ``httpx.Client`` are closed here, below httpx, in the network
backend httpcore opens connections with:

- **Pinned address.** The SSRF guard resolves the host and checks every address;
  a plain client would then resolve it again, and a DNS answer that changed in
  between (rebinding) would reach an address nobody checked. Here the attempt pins
  the address the guard checked (:func:`pinned`) and the backend connects to that
  address only; it never resolves. TLS still verifies the certificate against the
  host name of the URL (httpcore passes it as the server name).
- **Total deadline.** httpx's timeouts are per operation: an endpoint that trickles
  one header byte per second keeps an attempt alive for ever. Every connect, read
  and write here is bounded by what is left of the attempt's deadline, so an
  attempt ends at its deadline whatever the endpoint does.

The pin and the deadline live in the calling thread (each delivery attempt runs in
one thread), so concurrent attempts never see each other's. Connections are never
kept alive (a pin belongs to one attempt).
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

__all__ = ["PinnedTransport", "pinned", "DeadlineExceeded"]

_local = threading.local()


class DeadlineExceeded(httpcore.TimeoutException):
    """The attempt's total deadline passed."""


@contextlib.contextmanager
def pinned(host: str, address: str, deadline: float) -> Iterator[None]:
    """Within the block, this thread's connections to ``host`` go to ``address``, until ``deadline`` (monotonic)."""
    _local.pin = (host.lower(), address)
    _local.deadline = deadline
    try:
        yield
    finally:
        _local.pin = None
        _local.deadline = None


def _left(timeout: float | None) -> float | None:
    deadline = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the attempt's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        pin = getattr(_local, "pin", None)
        if pin is None or pin[0] != host.strip("[]").lower():
            raise httpcore.ConnectError(f"no checked address is pinned for {host!r}")
        stream = self._inner.connect_tcp(pin[1], port, _left(timeout), local_address, socket_options)
        return _Stream(stream)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never webhook destinations")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _ssl_context() -> ssl.SSLContext:
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover - certifi comes with httpx
        return ssl.create_default_context()


class PinnedTransport(httpx.HTTPTransport):
    """An httpx transport whose connections go only to the thread's pinned address, within its deadline."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(), max_keepalive_connections=0, network_backend=_PinnedBackend()
        )
