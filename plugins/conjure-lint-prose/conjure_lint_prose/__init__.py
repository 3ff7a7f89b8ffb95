"""Prose lints for conjure world authors (entry-point group ``conjure.lints``).

Each lint reads the resolved world (slots filled) and returns findings; conjure
gives them the ids ``plugin.prose.<name>``.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from conjure.plugins import lint

__all__ = ["lints", "repeated_opening", "vague_event", "thin_base", "OPENING_WORDS", "MIN_BASE_WORDS"]

OPENING_WORDS = 4
MIN_BASE_WORDS = 6

_WORD = re.compile(r"[A-Za-z0-9'\u00C0-\u024F]+")
_VAGUE_NAMES = {
    "go", "next", "continue", "proceed", "move", "do", "do it", "act", "action", "click", "press",
    "ok", "okay", "yes", "no", "start", "begin", "advance", "forward", "more", "something",
    "event", "option", "choice", "interact", "use", "here", "there", "this", "that",
}
_NUMBERED = re.compile(r"^(event|action|option|choice|step|transition|override)\s*#?\s*\d+$", re.IGNORECASE)


def _states(world: dict[str, Any]) -> dict[str, Any]:
    scene = world.get("scene")
    states = scene.get("states") if isinstance(scene, dict) else None
    return states if isinstance(states, dict) else {}


def _events(world: dict[str, Any]) -> list[dict[str, Any]]:
    scene = world.get("scene")
    events = scene.get("events") if isinstance(scene, dict) else None
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def _base(state: Any) -> str | None:
    base = state.get("base") if isinstance(state, dict) else None
    return base if isinstance(base, str) else None


@lint("prose.repeated-opening", description="two states' base prose opens with the same words")
def repeated_opening(world: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Two states whose base prose opens with the same four words render frames that start alike."""
    first_seen: dict[tuple[str, ...], str] = {}
    for sid in sorted(_states(world)):
        base = _base(_states(world)[sid])
        if base is None:
            continue
        words = list(_WORD.finditer(base))
        if len(words) < OPENING_WORDS:
            continue
        key = tuple(m.group(0).lower() for m in words[:OPENING_WORDS])
        other = first_seen.setdefault(key, sid)
        if other == sid:
            continue
        end = words[OPENING_WORDS - 1].end()
        yield {
            "path": f"state[{sid}].base",
            "message": (
                f"opens with the same {OPENING_WORDS} words as state[{other}].base "
                f"('{base[:end]}'); lead with what makes this frame different"
            ),
            "loc": {"field": "base", "start": 0, "end": end, "match": base[:end]},
        }


@lint("prose.vague-event", description="an event's name gives the player no hint of what it does")
def vague_event(world: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Event names are what the player reads in the list: 'Go' or 'Event 3' tells them nothing."""
    for ev in _events(world):
        name = ev.get("name")
        if not isinstance(name, str) or ev.get("hidden") is True:
            continue
        plain = " ".join(_WORD.findall(name)).lower()
        if plain in _VAGUE_NAMES or _NUMBERED.match(name.strip()) or len(plain) <= 1:
            hotkey = ev.get("hotkey")
            key = f" (hotkey {hotkey})" if isinstance(hotkey, str) else ""
            yield {
                "path": f"event[{name}].name",
                "message": (
                    f"the name '{name}'{key} gives the player no hint of what happens; "
                    "name the action and its object, e.g. 'Open the cellar door'"
                ),
            }


@lint("prose.thin-base", description="a state's base prose has too few words to draw from")
def thin_base(world: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A base prose of a handful of words leaves the renderer to invent the frame."""
    for sid in sorted(_states(world)):
        base = _base(_states(world)[sid])
        if base is None:
            continue
        count = len(_WORD.findall(base))
        if count < MIN_BASE_WORDS:
            yield {
                "path": f"state[{sid}].base",
                "severity": "info",
                "message": (
                    f"the base prose has {count} word{'s' if count != 1 else ''} (fewer than {MIN_BASE_WORDS}); "
                    "name the place, its light and two or three things in the frame"
                ),
            }


lints = [repeated_opening, vague_event, thin_base]
