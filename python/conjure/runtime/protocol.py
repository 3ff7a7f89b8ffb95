"""Client → server messages of the runtime socket, parsed strictly.

``{"type":"move","keys":"WA"}`` · ``{"type":"key","key":"E"}`` ·
``{"type":"fire","event":"name"}`` · ``{"type":"ping"}`` (and ``auth`` as the
first message). Anything else raises :class:`ProtocolError`; the socket answers
it with ``{"type":"error","code":"bad_message",…}`` and goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["MAX_MESSAGE_BYTES", "ClientMessage", "ProtocolError", "parse_client_message"]

MAX_MESSAGE_BYTES = 4096
_FIELDS = {"move": ("keys",), "key": ("key",), "fire": ("event",), "ping": (), "auth": ("token",)}
_LIMITS = {"keys": (0, 16), "key": (1, 32), "event": (1, 200), "token": (1, 512)}


class ProtocolError(ValueError):
    """A client message that is not one of the protocol's (the reason is readable)."""


@dataclass(frozen=True)
class ClientMessage:
    type: str
    value: str = ""


def parse_client_message(raw: str | bytes) -> ClientMessage:
    """Parses one text message; :class:`ProtocolError` names what is wrong."""
    if isinstance(raw, bytes):
        raise ProtocolError("binary messages are not accepted from clients; send JSON text")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message longer than {MAX_MESSAGE_BYTES} characters")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ProtocolError("not JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("a message is a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise ProtocolError(f"unknown type {kind!r}: one of move, key, fire, ping")
    fields = _FIELDS[kind]
    extra = sorted(set(data) - {"type", *fields})
    if extra:
        raise ProtocolError(f"{kind}: unknown field {extra[0]!r}")
    if not fields:
        return ClientMessage(kind)
    name = fields[0]
    value = data.get(name)
    if not isinstance(value, str):
        raise ProtocolError(f"{kind}.{name}: a string is required")
    lo, hi = _LIMITS[name]
    if not lo <= len(value) <= hi:
        raise ProtocolError(f"{kind}.{name}: {lo}-{hi} characters")
    if any(ord(c) < 32 for c in value):
        raise ProtocolError(f"{kind}.{name}: control characters are not allowed")
    return ClientMessage(kind, value)
