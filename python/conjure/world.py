"""The :class:`World` document: load, save, inspect, draw."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from typing import Any, Union

from conjure import _core
from conjure._graph import world_svg
from conjure.diagnostic import Diagnostic
from conjure.errors import BadInputError

__all__ = ["World", "WorldLike"]


class World:
    """A world document (SMWorld 1.0), held as its JSON data.

    Unknown properties are kept verbatim. A World is always normalised:
    ``schemaVersion`` is set and every event's ``from`` is a list.

    >>> w = World.from_dict({"entrance": {"state": "a"}, "scene": {"states": {"a": {"base": "a hall"}}}})
    >>> w.entrance, list(w.states)
    ('a', ['a'])
    """

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any] | None = None, *, limits: _core.Limits | None = None) -> None:
        """Builds a world from a dict (copied and normalised); an empty world when None."""
        if data is None:
            data = {"schemaVersion": "1.0", "scene": {"states": {}, "events": []}}
        if not isinstance(data, dict):
            raise BadInputError(f"world: expected a dict, got {type(data).__name__}", code="bad_input")
        self._data: dict[str, Any] = _core.normalise(data, limits)

    @classmethod
    def _adopt(cls, data: dict[str, Any]) -> World:
        """Wraps a dict that is already a fresh, normalised copy (no conversion)."""
        world = cls.__new__(cls)
        world._data = data
        return world

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, limits: _core.Limits | None = None) -> World:
        """A world from a dict (copied and normalised)."""
        return cls(data, limits=limits)

    @classmethod
    def from_json(cls, text: str | bytes, *, limits: _core.Limits | None = None) -> World:
        """A world from JSON text. Raises ParseError (with ``line``/``column``) or LimitError."""
        data = _core.parse(text, limits)
        if not isinstance(data, dict):
            raise BadInputError("world: the JSON document is not an object", code="bad_input")
        return cls._adopt(data)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, limits: _core.Limits | None = None) -> World:
        """A world from a JSON file."""
        with open(path, "rb") as fh:
            return cls.from_json(fh.read(), limits=limits)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the document as plain Python data."""
        return copy.deepcopy(self._data)

    def to_json(self, indent: int | None = None) -> str:
        """The document as JSON text with sorted keys (compact unless ``indent`` is given)."""
        return _core.serialise(self._data, indent)

    @property
    def name(self) -> str | None:
        """The world's name, if it has one."""
        name = self._data.get("name")
        return name if isinstance(name, str) else None

    @property
    def entrance(self) -> str | None:
        """The id of the entrance state (``entrance.state``), or None."""
        entrance = self._data.get("entrance")
        state = entrance.get("state") if isinstance(entrance, dict) else None
        return state if isinstance(state, str) else None

    @property
    def states(self) -> dict[str, dict[str, Any]]:
        """A copy of ``scene.states``: state id -> state."""
        scene = self._data.get("scene")
        states = scene.get("states") if isinstance(scene, dict) else None
        return copy.deepcopy(states) if isinstance(states, dict) else {}

    @property
    def events(self) -> list[dict[str, Any]]:
        """A copy of ``scene.events``, in document order."""
        scene = self._data.get("scene")
        events = scene.get("events") if isinstance(scene, dict) else None
        return copy.deepcopy(events) if isinstance(events, list) else []

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, World):
            return NotImplemented
        return self._data == other._data

    __hash__ = None  # type: ignore[assignment]  # mutable-data value type

    def __repr__(self) -> str:
        return f"World(name={self.name!r}, states={len(self.states)}, events={len(self.events)})"

    def to_svg(self, diagnostics: Iterable[Diagnostic] | None = None) -> str:
        """The world's graph as an SVG element (what a notebook shows for a World).

        States are laid out in layers down from the entrance by igraph's layered layout;
        each transition has its own label (hotkey and name), so both directions of a
        two-way edge stay legible; endings are coloured, locked events (``requires``)
        dashed, and ``diagnostics`` outlined on their state or event: by default the
        built-in gate's findings, pass ``conjure.lint(world)`` to include plugins'.
        """
        if diagnostics is None:
            diagnostics = [Diagnostic.from_dict(d) for d in _core.gate(self._data, None, []).diagnostics]
        return world_svg(self._data, diagnostics)

    def _repr_html_(self) -> str:
        """The world's graph as inline SVG for notebooks."""
        return self.to_svg()


WorldLike = Union[World, dict[str, Any], str, bytes]
"""Anything the facade accepts as a world: a World, a dict, or JSON text."""


def world_arg(world: WorldLike) -> dict[str, Any] | str | bytes:
    """What the native module takes for a world argument."""
    if isinstance(world, World):
        return world._data
    if isinstance(world, (dict, str, bytes, bytearray)):
        return world
    raise BadInputError(
        f"world: expected a conjure.World, a dict or JSON text, got {type(world).__name__}", code="bad_input"
    )
