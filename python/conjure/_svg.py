"""Draws a world's graph as inline SVG (no JavaScript, no network)."""

from __future__ import annotations

from collections import deque
from html import escape
from typing import Any

_NODE_W = 150
_NODE_H = 40
_COL_GAP = 90
_ROW_GAP = 30
_PAD = 24
_FILL = {"win": "#d9f2d9", "lose": "#f6d5d5"}
_STROKE = {"win": "#2e7d32", "lose": "#c62828"}


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def layers(states: dict[str, Any], events: list[dict[str, Any]], entrance: str | None) -> list[list[str]]:
    """States grouped in BFS layers from the entrance; unreachable states form a last layer."""
    succ: dict[str, list[str]] = {sid: [] for sid in states}
    for ev in events:
        to = ev.get("to")
        if ev.get("kind", "transition") != "transition" or not isinstance(to, str) or to not in states:
            continue
        for src in _as_list(ev.get("from")):
            if src in succ:
                succ[src].append(to)
    depth: dict[str, int] = {}
    if entrance in states:
        depth[entrance] = 0
        queue = deque([entrance])
        while queue:
            sid = queue.popleft()
            for nxt in succ[sid]:
                if nxt not in depth:
                    depth[nxt] = depth[sid] + 1
                    queue.append(nxt)
    out: list[list[str]] = []
    for sid in states:
        if sid in depth:
            while len(out) <= depth[sid]:
                out.append([])
            out[depth[sid]].append(sid)
    rest = [sid for sid in states if sid not in depth]
    if rest:
        out.append(rest)
    return out


def world_svg(world: dict[str, Any]) -> str:
    """The graph of ``world`` as an ``<svg>`` element: states laid out by BFS layers
    from the entrance, transitions as arrows labelled with their hotkey, endings
    coloured (win green, lose red), overrides and terminals as labelled loops."""
    scene = world.get("scene") if isinstance(world.get("scene"), dict) else {}
    states = scene.get("states") if isinstance(scene.get("states"), dict) else {}
    events = [e for e in scene.get("events", []) if isinstance(e, dict)] if isinstance(scene.get("events"), list) else []
    entrance_obj = world.get("entrance")
    entrance = entrance_obj.get("state") if isinstance(entrance_obj, dict) else None

    grid = layers(states, events, entrance if isinstance(entrance, str) else None)
    pos: dict[str, tuple[int, int]] = {}
    for col, layer in enumerate(grid):
        for row, sid in enumerate(layer):
            pos[sid] = (_PAD + col * (_NODE_W + _COL_GAP), _PAD + 20 + row * (_NODE_H + _ROW_GAP))
    rows = max((len(layer) for layer in grid), default=0)
    width = _PAD * 2 + max(1, len(grid)) * (_NODE_W + _COL_GAP) - _COL_GAP
    height = _PAD * 2 + 40 + max(1, rows) * (_NODE_H + _ROW_GAP)

    title = world.get("name") if isinstance(world.get("name"), str) else "world"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="conjure-world" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="conjure-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
        f'<text x="{_PAD}" y="{_PAD}" font-weight="bold">{escape(_short(title, 80))}</text>',
    ]
    loops: dict[str, int] = {}
    for ev in events:
        kind = ev.get("kind", "transition")
        name = ev.get("name") if isinstance(ev.get("name"), str) else ""
        hotkey = ev.get("hotkey") if isinstance(ev.get("hotkey"), str) else ""
        label = escape(_short(hotkey or name, 14))
        tip = escape(f"{name} [{hotkey}]" if hotkey else name)
        for src in _as_list(ev.get("from")):
            if src not in pos:
                continue
            sx, sy = pos[src]
            to = ev.get("to")
            if kind == "transition" and isinstance(to, str) and to in pos and to != src:
                tx, ty = pos[to]
                x1, y1 = (sx + _NODE_W, sy + _NODE_H / 2) if tx > sx else (sx, sy + _NODE_H / 2)
                x2, y2 = (tx, ty + _NODE_H / 2) if tx > sx else (tx + _NODE_W, ty + _NODE_H / 2)
                if tx == sx:
                    x1, y1, x2, y2 = sx + _NODE_W / 2, sy + (_NODE_H if ty > sy else 0), tx + _NODE_W / 2, ty + (0 if ty > sy else _NODE_H)
                parts.append(
                    f'<g class="event"><title>{tip}</title><line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" '
                    f'y2="{y2:.0f}" stroke="#555" marker-end="url(#conjure-arrow)"/>'
                    f'<text x="{(x1 + x2) / 2:.0f}" y="{(y1 + y2) / 2 - 4:.0f}" text-anchor="middle" '
                    f'fill="#333">{label}</text></g>'
                )
            else:
                ending = ev.get("ending") if isinstance(ev.get("ending"), dict) else {}
                colour = _STROKE.get(ending.get("kind"), "#888") if kind == "terminal" else "#888"
                n = loops.get(src, 0)
                loops[src] = n + 1
                cx = sx + 20 + (n % 6) * 22
                parts.append(
                    f'<g class="event {escape(str(kind))}"><title>{tip}</title><path d="M {cx} {sy} '
                    f'C {cx - 8} {sy - 18}, {cx + 14} {sy - 18}, {cx + 6} {sy}" fill="none" stroke="{colour}" '
                    f'stroke-dasharray="3 2" marker-end="url(#conjure-arrow)"/>'
                    f'<text x="{cx + 3}" y="{sy - 16}" text-anchor="middle" font-size="10" fill="{colour}">{label}</text></g>'
                )
    for sid, (x, y) in pos.items():
        state = states.get(sid) if isinstance(states.get(sid), dict) else {}
        ending = state.get("ending") if isinstance(state.get("ending"), dict) else {}
        kind = ending.get("kind") if isinstance(ending.get("kind"), str) else ""
        fill = _FILL.get(kind, "#eef2fb")
        stroke = _STROKE.get(kind, "#3f51b5")
        width_px = 3 if sid == entrance else 1.5
        tip = escape(sid + (f" ({kind} ending)" if kind else "") + (" (entrance)" if sid == entrance else ""))
        parts.append(
            f'<g class="state" data-state="{escape(sid)}"><title>{tip}</title>'
            f'<rect x="{x}" y="{y}" width="{_NODE_W}" height="{_NODE_H}" rx="8" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{width_px}"/>'
            f'<text x="{x + _NODE_W / 2:.0f}" y="{y + _NODE_H / 2 + 4:.0f}" text-anchor="middle">{escape(_short(sid))}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
