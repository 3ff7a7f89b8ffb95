"""Every world has an entrance image: the user's, or its entrance frame rendered by the preview renderer.

The seed's ``SMWorld.entrance`` requires ``image: {src}``. A world created without one
(from a premise, or imported bare) is answered with a rendered one: ``src`` is
``/v1/worlds/{id}/entrance.jpg`` with a signed, expiring query (``app``, ``mode``,
``exp``, ``sig`` = HMAC-SHA256 over the four, truncated to 128 bits), so an ``<img>``
in the embed loads it without any credential; with a key of the world's app and mode
(``sk_``/``pk_``) the same path answers without the query. ``exp`` is rounded up to a
whole day and lies 7-8 days ahead, so a world reads the same all day (caches and ETags
hold) and an old link dies within 8 days. The stored document is never changed: the image
is added when a world is answered, and a user's image is always kept.

The signing key comes from the server's ``secret`` when set, else from
``<data_dir>/url-signing.key`` (32 random bytes, created once, mode 0600), shared by
every process on that data directory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

__all__ = ["EntranceImages"]

DAY = 86400
LIFETIME_DAYS = 7
_MARK = '"entrance":{'


def _signing_key(settings: Any) -> bytes:
    if settings.secret is not None and settings.secret.get_secret_value():
        return hashlib.sha256(b"conjure/entrance-url/" + settings.secret.get_secret_value().encode("utf-8")).digest()
    path = Path(settings.data_dir) / "url-signing.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return key


class EntranceImages:
    """Signed entrance-image URLs, their injection into answered worlds, and the rendered frames."""

    def __init__(self, settings: Any, hub: Any, *, clock: Any = time.time, cache_size: int = 64) -> None:
        self._key = _signing_key(settings)
        self._hub = hub
        self._clock = clock
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # ------------------------------------------------------------ URLs
    def _sig(self, world_id: str, app: str, mode: str, exp: int) -> str:
        msg = f"{world_id}|{app}|{mode}|{exp}".encode("utf-8")
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:32]

    def src(self, world_id: str, app: str, mode: str) -> str:
        """The signed path of a world's rendered entrance frame."""
        exp = (int(self._clock()) // DAY + 1 + LIFETIME_DAYS) * DAY
        query = urlencode({"app": app, "mode": mode, "exp": exp, "sig": self._sig(world_id, app, mode, exp)})
        return f"/v1/worlds/{world_id}/entrance.jpg?{query}"

    def verify(self, world_id: str, app: str, mode: str, exp: str, sig: str) -> bool:
        """True for an unexpired signature of exactly this world, app and mode."""
        try:
            when = int(exp)
        except ValueError:
            return False
        if when < self._clock():
            return False
        return hmac.compare_digest(self._sig(world_id, app, mode, when).encode(), sig.encode("utf-8", "replace"))

    # ------------------------------------------------------------ answered worlds
    def add_to(self, world: dict[str, Any], app: str, mode: str) -> dict[str, Any]:
        """``world`` with a rendered entrance image when it has none (the same dict, changed in place)."""
        entrance = world.get("entrance")
        if isinstance(entrance, dict) and not entrance.get("image") and isinstance(world.get("id"), str):
            entrance["image"] = {"src": self.src(world["id"], app, mode), "label": "the entrance, rendered"}
        return world

    def add_to_text(self, text: str, world_id: str, app: str, mode: str) -> str:
        """The stored JSON text with a rendered entrance image when it has none, edited as text when that is safe.

        The store writes documents with sorted keys, so the top-level ``entrance`` object comes
        before ``scene`` and, when nothing nested precedes it, its first key is ``image`` or
        ``state``. Anything else is parsed and re-serialised (slower, always right).
        """
        at = text.find(_MARK)
        if at > 0 and text.count("{", 0, at) == 1:
            start = at + len(_MARK)
            if text.startswith('"image":', start):
                return text
            if text.startswith('"state":', start):
                image = json.dumps({"src": self.src(world_id, app, mode), "label": "the entrance, rendered"},
                                   separators=(",", ":"))
                return f'{text[:start]}"image":{image},{text[start:]}'
        world = json.loads(text)
        if not isinstance(world, dict):
            return text
        return json.dumps(self.add_to(world, app, mode), ensure_ascii=False, separators=(",", ":"))

    # ------------------------------------------------------------ frames
    def render(self, app: str, mode: str, world_id: str, timeout: float = 10.0) -> bytes:
        """The JPEG of the world's entrance state at its current rev (cached per rev; a worker thread)."""
        key = self._hub.load_world(app, mode, world_id)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        native = self._hub.native
        session = f"entrance-{uuid.uuid4().hex}"
        native.open(session, key, "entrance")
        try:
            deadline = time.monotonic() + timeout
            frame = None
            while frame is None and time.monotonic() < deadline:
                kind, payload = native.next(session, min(1.0, max(0.01, deadline - time.monotonic())))
                if kind == "frame":
                    frame = bytes(payload)
                elif kind in ("ended", "closed"):
                    break
        finally:
            native.close(session)
        if frame is None:
            raise TimeoutError("the entrance frame was not rendered in time")
        with self._lock:
            self._cache[key] = frame
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return frame
