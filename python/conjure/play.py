"""Play a world headless: the runtime's engine and renderer, without a server or a socket.

>>> import conjure
>>> from conjure.play import Playthrough
>>> with Playthrough(conjure.World.from_file("examples/drowned-abbey.json")) as run:   # doctest: +SKIP
...     run.state["state"]
...     step = run.press("E")          # fire the event bound to a hotkey
...     step.frame                     # a JPEG frame; a notebook shows it inline
...     run.trace                      # every firing so far; a notebook shows a table

A :class:`Playthrough` opens one session on its own native render loop (the same one the
server's runtime socket relays) and reads the loop's messages: ``state`` snapshots,
``fired`` events, the ``ending`` and frames. The loop renders in real time at ``fps``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from html import escape
from typing import Any

from conjure import _core
from conjure.errors import BadInputError
from conjure.world import World, WorldLike, world_arg

__all__ = ["Playthrough", "Step", "Frame", "Trace"]


@dataclass(frozen=True, repr=False)
class Frame:
    """One rendered frame: JPEG bytes (``_repr_jpeg_`` shows it in a notebook)."""

    jpeg: bytes
    state: str | None

    def __repr__(self) -> str:
        return f"Frame(state={self.state!r}, {len(self.jpeg)} bytes of JPEG)"

    def _repr_jpeg_(self) -> bytes:
        return self.jpeg


class Trace(list):  # type: ignore[type-arg]
    """The ``fired`` messages of a run, in order (a notebook shows them as a table)."""

    _COLUMNS = ("event", "kind", "from", "state", "granted", "automatic")

    def _repr_html_(self) -> str:
        head = "<th>#</th>" + "".join(f"<th>{c}</th>" for c in self._COLUMNS)
        rows = []
        for n, msg in enumerate(self, 1):
            cells = [f"<td>{n}</td>"]
            for c in self._COLUMNS:
                value = msg.get(c, "")
                if isinstance(value, list):
                    value = ", ".join(str(v) for v in value)
                elif isinstance(value, float):
                    value = f"{value:.2f}"
                cells.append(f"<td>{escape(str(value))}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return f"<table class='conjure-trace'><tr>{head}</tr>{''.join(rows)}</table>"


@dataclass
class Step:
    """What one input did: the events it fired, the state after it, a refusal, the next frame."""

    fired: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] | None = None
    refused: dict[str, Any] | None = None
    ending: dict[str, Any] | None = None
    frame: Frame | None = None


class Playthrough:
    """One headless play session of a world (see the module docstring).

    Args:
        world: a World, a dict or JSON text; it must pass the gate's structural checks
            enough to be played (an unplayable world raises ``BadInputError``).
        player_id: picks the variant arms, as on the server (same id, same run).
        width, height, fps, jpeg_quality: the frames rendered.
    """

    def __init__(self, world: WorldLike, *, player_id: str = "player", width: int = 320, height: int = 180,
                 fps: float = 10.0, jpeg_quality: int = 80, timeout: float = 5.0) -> None:
        data = world_arg(world)
        text = data if isinstance(data, (str, bytes)) else World.from_dict(data).to_json()
        self._loop = _core.RenderLoop(threads=1, fps=fps, width=width, height=height, jpeg_quality=jpeg_quality)
        self._session = f"nb_{uuid.uuid4().hex[:12]}"
        self._timeout = timeout
        self.state: dict[str, Any] = {}
        self.ending: dict[str, Any] | None = None
        self.trace = Trace()
        self._closed = False
        try:
            self._loop.load_world("world", text if isinstance(text, str) else text.decode("utf-8"))
            self._loop.open(self._session, "world", player_id)
        except BaseException:
            self._loop.stop()
            raise
        self._drain(Step())

    # ------------------------------------------------------------------ reading the loop
    def _next(self) -> tuple[str, Any]:
        kind, payload = self._loop.next(self._session, self._timeout)
        return str(kind), payload

    def _take(self, step: Step, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "state":
            self.state = message
            step.state = message
        elif kind == "fired":
            self.trace.append(message)
            step.fired.append(message)
        elif kind == "ending":
            self.ending = message
            step.ending = message
        elif kind == "error":
            step.refused = message

    def _drain(self, step: Step) -> Step:
        """Reads messages up to and including the next frame (or the run's end)."""
        while True:
            kind, payload = self._next()
            if kind == "event":
                self._take(step, json.loads(payload))
            elif kind == "frame":
                step.frame = Frame(bytes(payload), self.state.get("state"))
                return step
            elif kind in ("ended", "closed"):
                return step
            else:  # "timeout"
                raise TimeoutError(f"no frame within {self._timeout} s")

    # ------------------------------------------------------------------ inputs
    def press(self, key: str) -> Step:
        """Presses a hotkey (``"E"``; digits pick from the listed events)."""
        self._check_open()
        self._loop.key(self._session, key)
        return self._drain(Step())

    def fire(self, event: str) -> Step:
        """Fires an event by name."""
        self._check_open()
        self._loop.fire(self._session, event)
        return self._drain(Step())

    def frame(self) -> Frame | None:
        """The next frame (events that arrive first are recorded)."""
        self._check_open()
        return self._drain(Step()).frame

    @property
    def ended(self) -> bool:
        return self.ending is not None

    def _check_open(self) -> None:
        if self._closed:
            raise BadInputError("the playthrough is closed", code="bad_input")

    def close(self) -> dict[str, Any]:
        """Ends the session and stops the loop; returns the session's stats."""
        if self._closed:
            return {}
        self._closed = True
        try:
            stats = self._loop.close(self._session)
        finally:
            self._loop.stop()
        return dict(stats) if isinstance(stats, dict) else {}

    def __enter__(self) -> Playthrough:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
