"""The runtime socket (RUNTIME.md "The runtime socket").

A :class:`RuntimeHub` owns the native render loop (``conjure._core.RenderLoop``:
render threads, live play sessions, frame mailboxes, event queues) and the
sockets that relay it. :func:`serve_socket` is the WebSocket handler of
``GET /v1/runtime``: it authenticates the connect token, opens the native
session, relays engine events as JSON text messages and frames as binary JPEG
messages, feeds client inputs to the engine, sends usage every few seconds and,
however the socket ends, closes the native session and settles the store
session. Python only relays: ticking, rendering and encoding run in native
threads.
"""

from __future__ import annotations

from conjure.runtime.hub import CLOSE_CODES, RuntimeHub
from conjure.runtime.protocol import ClientMessage, ProtocolError, parse_client_message
from conjure.runtime.socket import serve_socket

__all__ = [
    "CLOSE_CODES",
    "ClientMessage",
    "ProtocolError",
    "RuntimeHub",
    "parse_client_message",
    "serve_socket",
]
