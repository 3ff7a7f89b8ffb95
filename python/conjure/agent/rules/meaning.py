"""Meaning-based linking with the sentence encoder (``conjure.embed``) when the inference module
is importable; otherwise the rules stay on their lexical path, and :func:`path` says which.

A world's place embeddings are cached by the world's id and rev (or, without them, a hash of
its states), so a 100-state world is encoded once per revision, not once per edit.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

from conjure.agent.scene import Scene, display

_CACHE: OrderedDict[str, Any] = OrderedDict()
_CACHE_MAX = 64
_available: bool | None = None


def available() -> bool:
    global _available
    if _available is None:
        try:
            import conjure

            from conjure import _infer  # noqa: F401

            _available = callable(getattr(conjure, "embed", None))
        except Exception:
            _available = False
    return _available


def path() -> str:
    """``"encoder"`` when linking can use the sentence encoder, else ``"lexical"``."""
    return "encoder" if available() else "lexical"


def _key(sc: Scene) -> str:
    w = sc.world
    if isinstance(w.get("id"), str) and isinstance(w.get("rev"), str):
        return f"{w['id']}@{w['rev']}"
    return hashlib.sha1(json.dumps(sc.states, sort_keys=True, default=str).encode()).hexdigest()


def _state_vectors(sc: Scene) -> tuple[list[str], Any]:
    import conjure

    key = _key(sc)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    ids = list(sc.states)
    texts = [f"{display(s)}: {sc.base(s)}" for s in ids]
    vecs = conjure.embed(texts) if ids else None
    _CACHE[key] = (ids, vecs)
    while len(_CACHE) > _CACHE_MAX:
        _CACHE.popitem(last=False)
    return ids, vecs


def nearest_state(sc: Scene, phrase: str, *, floor: float = 0.45, margin: float = 0.05) -> str | None:
    """The place ``phrase`` means by meaning, when one is clearly nearest; None otherwise (and
    always None on the lexical path)."""
    if not available() or not sc.states or not phrase.strip():
        return None
    import conjure
    import numpy as np

    ids, vecs = _state_vectors(sc)
    q = conjure.embed([phrase])[0]
    sims = vecs @ q / (np.linalg.norm(vecs, axis=1) * np.linalg.norm(q) + 1e-9)
    order = np.argsort(-sims)
    best = float(sims[order[0]])
    second = float(sims[order[1]]) if len(order) > 1 else -1.0
    if best >= floor and best - second >= margin:
        return ids[int(order[0])]
    return None
