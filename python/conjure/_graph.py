"""Draws a world's graph as inline SVG, laid out by igraph's layered (Sugiyama) layout.

States are boxes in layers going down from the entrance. Every transition gets its own
label box (hotkey and name) placed as a vertex of the layout between the layers of its
ends, so the layout keeps labels apart from each other and from the states: the two
directions of a two-way edge become two routes with two labels side by side. Edges that
span several layers bend through igraph's dummy vertices, and each edge meets a state at
its own port, spread along the box's side. Overrides, terminals and self-transitions are
listed inside their state's box. No JavaScript, no network: the SVG is the whole picture.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

__all__ = ["world_svg", "GraphUnavailable"]

# Geometry, in pixels. Every text is cut to what its box holds at _CHAR_W per character
# (a conservative width for 12px sans-serif), so a box always contains its text.
_CHAR_W = 7.2
_LINE_H = 16
_NODE_W = 184
_LABEL_MAX_W = 168
_COL = 200  # one layout column: wider than any box, so boxes in a layer never touch
_LAYER_GAP = 26
_PAD = 20
_HEADER_H = 46
_MAX_LISTED = 3  # in-place events listed in a state's box before "+N more"

_SEVERITY_STROKE = {"error": "#c62828", "warning": "#e08a00"}
_ENDING_FILL = {"win": "#dcf3dc", "lose": "#f8dada"}
_ENDING_STROKE = {"win": "#2e7d32", "lose": "#c62828"}


class GraphUnavailable(RuntimeError):
    """The layout library (igraph, a dependency of conjure-worlds) is not importable."""


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _fit(text: str, width: float) -> str:
    """``text`` cut (with an ellipsis) to what ``width`` pixels hold."""
    limit = max(1, int(width // _CHAR_W))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


@dataclass
class _Line:
    text: str
    style: str = ""  # "bold", "dim", "win", "lose", "error", "warning", "lock"


@dataclass
class _Box:
    key: str  # "s:<id>" for a state, "e:<index>" for a transition's label
    lines: list[_Line]
    width: float
    tip: str
    fill: str = "#eef2fb"
    stroke: str = "#3f51b5"
    stroke_width: float = 1.5
    dashed: bool = False
    classes: str = ""
    x: float = 0.0  # centre
    y: float = 0.0  # top

    @property
    def height(self) -> float:
        return len(self.lines) * _LINE_H + 10


@dataclass
class _Edge:
    points: list[tuple[float, float]] = field(default_factory=list)
    dashed: bool = False
    colour: str = "#555"
    tip: str = ""
    head: bool = True


def _diagnostics_by_place(diagnostics: Iterable[Any]) -> tuple[dict[str, list[Any]], dict[str, list[Any]], list[Any]]:
    """Diagnostics grouped by the state and the event their path names; the rest."""
    states: dict[str, list[Any]] = {}
    events: dict[str, list[Any]] = {}
    other: list[Any] = []
    for d in diagnostics:
        path = getattr(d, "path", "") or ""
        m = re.match(r"^(state|event)\[(.*?)\](?=\.|$|\[)", path)
        if m is None:
            other.append(d)
        else:
            (states if m.group(1) == "state" else events).setdefault(m.group(2), []).append(d)
    return states, events, other


def _worst(diags: Sequence[Any]) -> str | None:
    severities = {getattr(d, "severity", "") for d in diags}
    return next((s for s in ("error", "warning") if s in severities), None)


def _finding_line(diags: Sequence[Any], width: float) -> _Line | None:
    worst = _worst(diags)
    if worst is None:
        return None
    n = sum(1 for d in diags if d.severity == worst)
    mark = "\u2716" if worst == "error" else "\u26a0"
    lints = ", ".join(sorted({d.lint for d in diags if d.severity == worst}))
    return _Line(_fit(f"{mark} {n} {worst}{'' if n == 1 else 's'}: {lints}", width), worst)


def _tip_findings(diags: Sequence[Any]) -> str:
    return "".join(f"\n{d.severity}: {d.lint}: {d.message}" for d in diags)


def _layers(states: list[str], succ: dict[str, list[str]], entrance: str | None) -> dict[str, int]:
    """Breadth-first depth from the entrance; states it cannot reach continue below, each
    group from its first state in document order."""
    depth: dict[str, int] = {}
    roots = ([entrance] if entrance in succ else []) + states
    base = 0
    for root in roots:
        if root in depth:
            continue
        depth[root] = base
        queue = deque([root])
        while queue:
            sid = queue.popleft()
            for nxt in succ[sid]:
                if nxt not in depth:
                    depth[nxt] = depth[sid] + 1
                    queue.append(nxt)
        base = max(depth.values()) + 1
    return depth


def _smooth_path(points: Sequence[tuple[float, float]]) -> str:
    """An SVG path through ``points``: straight ends, rounded bends."""
    if len(points) == 2:
        (x1, y1), (x2, y2) = points
        return f"M {x1:.1f} {y1:.1f} L {x2:.1f} {y2:.1f}"
    out = [f"M {points[0][0]:.1f} {points[0][1]:.1f}"]
    for i in range(1, len(points) - 1):
        (px, py), (nx, ny) = points[i], points[i + 1]
        mx, my = (px + nx) / 2, (py + ny) / 2
        if i == len(points) - 2:
            mx, my = nx, ny
        out.append(f"Q {px:.1f} {py:.1f} {mx:.1f} {my:.1f}")
    return " ".join(out)


def world_svg(world: dict[str, Any], diagnostics: Iterable[Any] = ()) -> str:
    """The graph of ``world`` as an ``<svg>`` element (see the module docstring).

    ``diagnostics`` (``conjure.Diagnostic`` objects) are drawn on the state or event their
    path names: errors outlined red, warnings amber, each finding in the box's tooltip.
    """
    try:
        import igraph  # type: ignore[import-untyped]  # igraph ships no type information
    except ImportError as exc:  # a dependency of the distribution; a bare source checkout may lack it
        raise GraphUnavailable("drawing a world needs igraph: pip install igraph") from exc

    scene = _obj(world.get("scene"))
    raw_states = _obj(scene.get("states"))
    states = {k: (v if isinstance(v, dict) else {}) for k, v in raw_states.items() if isinstance(k, str)}
    raw_events = scene.get("events")
    events = [e for e in raw_events if isinstance(e, dict)] if isinstance(raw_events, list) else []
    entrance_id = _obj(world.get("entrance")).get("state")
    entrance = entrance_id if isinstance(entrance_id, str) and entrance_id in states else None
    diag_states, diag_events, diag_other = _diagnostics_by_place(diagnostics)
    ids = list(states)

    # ---------------------------------------------------------------- what is drawn where
    moves: list[tuple[int, dict[str, Any], list[str], str]] = []  # (index, event, sources, target)
    in_place: dict[str, list[_Line]] = {sid: [] for sid in ids}
    for index, ev in enumerate(events):
        kind = ev.get("kind", "transition")
        name = _text(ev.get("name"))
        hotkey = _text(ev.get("hotkey"))
        sources = [s for s in dict.fromkeys(_as_list(ev.get("from"))) if s in states]
        to = ev.get("to")
        locked = bool(_as_list(ev.get("requires")))
        if kind == "transition" and isinstance(to, str) and to in states:
            movers = [s for s in sources if s != to]
            if movers:
                moves.append((index, ev, movers, to))
            if len(movers) == len(sources):
                continue
            sources = [to]  # a transition into its own state: listed in place
        for src in sources:
            ending = _obj(ev.get("ending"))
            if kind == "terminal":
                text, style = f"\u25a0 {hotkey} {name} \u2192 {ending.get('kind', '?')}", str(ending.get("kind", ""))
            elif kind == "transition" and isinstance(to, str) and to not in states:
                text, style = f"{hotkey} {name} \u2192 missing {to!r}", "error"
            else:
                text, style = f"\u21bb {hotkey} {name}", "dim"
            if locked:
                text += " (locked)"
            in_place[src].append(_Line(text, style if style in ("win", "lose", "error") else ("lock" if locked else "dim")))

    succ: dict[str, list[str]] = {sid: [] for sid in ids}
    for _, _, sources, to in moves:
        for src in sources:
            succ[src].append(to)
    depth = _layers(ids, succ, entrance)

    boxes: list[_Box] = []
    for sid in ids:
        state = states[sid]
        ending = _obj(state.get("ending"))
        ending_kind = _text(ending.get("kind")) if ending.get("kind") in ("win", "lose") else None
        inner = _NODE_W - 14
        lines = [_Line(_fit(("\u25b6 " if sid == entrance else "") + sid, inner), "bold")]
        base = _text(state.get("base"))
        if base:
            lines.append(_Line(_fit(base, inner), "dim"))
        if ending_kind:
            title = _text(ending.get("title"))
            lines.append(_Line(_fit(f"{ending_kind.upper()} ending: {title}", inner), ending_kind))
        listed = in_place[sid]
        lines += [_Line(_fit(line.text, inner), line.style) for line in listed[:_MAX_LISTED]]
        if len(listed) > _MAX_LISTED:
            lines.append(_Line(f"+{len(listed) - _MAX_LISTED} more in place", "dim"))
        found = diag_states.get(sid, [])
        finding = _finding_line(found, inner)
        if finding is not None:
            lines.append(finding)
        worst = _worst(found)
        tip = sid + (" (entrance)" if sid == entrance else "") + (f" ({ending_kind} ending)" if ending_kind else "")
        tip += "".join(f"\n{line.text}" for line in listed) + _tip_findings(found)
        boxes.append(_Box(
            key=f"s:{sid}", lines=lines, width=_NODE_W, tip=tip,
            fill=_ENDING_FILL.get(ending_kind or "", "#eef2fb"),
            stroke=_SEVERITY_STROKE.get(worst or "", _ENDING_STROKE.get(ending_kind or "", "#3f51b5")),
            stroke_width=3.0 if (sid == entrance or worst) else 1.5,
            classes="state" + (" entrance" if sid == entrance else "") + (f" ending-{ending_kind}" if ending_kind else "")
            + (f" finding-{worst}" if worst else ""),
        ))

    labels: list[_Box] = []
    for index, ev, _sources, _to in moves:
        name = _text(ev.get("name"))
        hotkey = _text(ev.get("hotkey"))
        timing = _obj(ev.get("timing"))
        after = timing.get("after")
        key_text = hotkey or (f"after {after}s" if isinstance(after, (int, float)) and after > 0 else "")
        head = f"{key_text} \u00b7 {name}" if key_text else name
        lines = [_Line(_fit(head, _LABEL_MAX_W - 10), "bold" if hotkey else "")]
        requires = _as_list(ev.get("requires"))
        if requires:
            lines.append(_Line(_fit("locked: needs " + ", ".join(requires), _LABEL_MAX_W - 10), "lock"))
        found = diag_events.get(name, [])
        finding = _finding_line(found, _LABEL_MAX_W - 10)
        if finding is not None:
            lines.append(finding)
        worst = _worst(found)
        width = min(_LABEL_MAX_W, max(len(line.text) for line in lines) * _CHAR_W + 12)
        tip = f"{name} [{hotkey}]" if hotkey else name
        if requires:
            tip += f"\nlocked: needs {', '.join(requires)}"
        labels.append(_Box(
            key=f"e:{index}", lines=lines, width=width, tip=tip + _tip_findings(found), fill="#ffffff",
            stroke=_SEVERITY_STROKE.get(worst or "", "#b08a2e" if requires else "#9aa0a6"),
            stroke_width=2.0 if worst else 1.0, dashed=bool(requires),
            classes="event" + (" locked" if requires else "") + (f" finding-{worst}" if worst else ""),
        ))

    # ---------------------------------------------------------------- layout
    # Vertices: states, one label per transition, and a bend point on every layer an edge
    # crosses. Layers: a state at 2*depth, a label on the odd layer next to its target (above
    # it going down, below it going up), so the two directions of a two-way edge share a
    # layer and sit side by side. igraph gets every edge pointing down between adjacent
    # layers (a DAG that agrees with the layers), so it has nothing to reverse or route: it
    # orders each layer to cut crossings and places the vertices.
    every = boxes + labels
    layer = [2 * depth[sid] for sid in ids]
    chains: list[tuple[int, list[int]]] = []  # (label index, vertex chain in the edge's direction)
    for n, (_, _, sources, to) in enumerate(moves):
        v = len(ids) + n
        t = ids.index(to)
        forward = all(layer[ids.index(s)] < layer[t] for s in sources)
        layer.append(layer[t] - 1 if forward else layer[t] + 1)
        chains += [(n, [ids.index(s), v]) for s in sources] + [(n, [v, t])]
    n_boxes = len(layer)
    down: list[tuple[int, int]] = []
    for _, chain in chains:
        u, v = chain
        step = 1 if layer[v] > layer[u] else -1
        for lay in range(layer[u] + step, layer[v], step):
            layer.append(lay)
            chain.insert(-1, len(layer) - 1)
        down += [(a, b) if layer[a] < layer[b] else (b, a) for a, b in zip(chain, chain[1:])]
    graph = igraph.Graph(n=len(layer), edges=down, directed=True)
    coords = [(float(c[0]), float(c[1])) for c in graph.layout_sugiyama(layers=layer, hgap=1, vgap=1, maxiter=200).coords] \
        if layer else []

    # Pixels: x from igraph's order, then swept so that neighbours in a layer keep their
    # widths apart whatever the coordinates were; y from the tallest box of each layer.
    half = [every[i].width / 2 if i < n_boxes else 6.0 for i in range(len(layer))]
    xs = [c[0] * _COL for c in coords]
    by_layer: dict[int, list[int]] = {}
    for i, lay in enumerate(layer):
        by_layer.setdefault(lay, []).append(i)
    for members in by_layer.values():
        members.sort(key=lambda i: xs[i])
        for prev, cur in zip(members, members[1:]):
            xs[cur] = max(xs[cur], xs[prev] + half[prev] + half[cur] + 16)
    shift = _PAD - min((xs[i] - half[i] for i in range(len(layer))), default=0.0)
    xs = [x + shift for x in xs]
    n_layers = max(layer, default=-1) + 1
    heights = [0.0] * n_layers
    for i in range(n_boxes):
        heights[layer[i]] = max(heights[layer[i]], every[i].height)
    tops, y = [], float(_PAD + _HEADER_H)
    for h in heights:
        tops.append(y)
        y += (h or 8) + _LAYER_GAP
    for i, box in enumerate(every):
        box.x = xs[i]
        box.y = tops[layer[i]] + (heights[layer[i]] - box.height) / 2

    def mid_y(i: int) -> float:
        return tops[layer[i]] + heights[layer[i]] / 2

    # Each edge meets a box at its own port: the ports on one side of a box are spread
    # along it in the order of the x of the points they lead to, so no two edges share one.
    ports: dict[tuple[int, str], list[tuple[float, int, int]]] = {}  # (vertex, side) -> [(toward x, chain, end)]
    segs: list[list[tuple[float, float]]] = []
    for c, (_, chain) in enumerate(chains):
        segs.append([(xs[i], mid_y(i)) for i in chain])
        for end, vertex, toward in ((0, chain[0], chain[1]), (-1, chain[-1], chain[-2])):
            side = "bottom" if layer[toward] > layer[vertex] else "top"
            ports.setdefault((vertex, side), []).append((xs[toward], c, end))
    for (vertex, side), items in ports.items():
        box = every[vertex]
        items.sort()
        span = box.width - 24 if vertex < len(ids) else box.width * 0.5
        for k, (_, c, end) in enumerate(items):
            px = box.x - span / 2 + span * (k + 1) / (len(items) + 1)
            segs[c][end] = (px, box.y + box.height if side == "bottom" else box.y)

    # Each chain is drawn on its own: into a label without a head, from a label into its
    # target with one (an event from several states has one arrowhead).
    drawn: list[_Edge] = []
    for c, (n, chain) in enumerate(chains):
        locked = bool(_as_list(moves[n][1].get("requires")))
        drawn.append(_Edge(points=segs[c], dashed=locked, tip=labels[n].tip, colour="#b08a2e" if locked else "#555",
                           head=chain[0] >= len(ids)))

    width = max([b.x + b.width / 2 for b in every] + [360.0]) + _PAD
    height = max([b.y + b.height for b in every] + [float(_PAD + _HEADER_H)]) + _PAD

    # ---------------------------------------------------------------- SVG
    title = _text(world.get("name")) or "world"
    style_fill = {"bold": "#1a1a1a", "dim": "#555", "win": "#2e7d32", "lose": "#c62828", "error": "#c62828",
                  "warning": "#a05f00", "lock": "#8a6a12", "": "#222"}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="conjure-world" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="conjure-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="context-stroke"/></marker></defs>',
        f'<text class="label" x="{_PAD}" y="{_PAD + 12}" font-weight="bold" font-size="14">'
        f"{escape(_fit(title, max(width - 2 * _PAD, 200) * 0.8))}</text>",
    ]
    legend = "\u25b6 entrance \u00b7 green: win \u00b7 red: lose \u00b7 dashed: locked (requires) \u00b7 outlined: findings"
    other_found = _finding_line(diag_other, 1e9)
    if other_found is not None:
        legend += f" \u00b7 world: {other_found.text}"
    out.append(f'<text class="label legend" x="{_PAD}" y="{_PAD + 32}" fill="#555" font-size="11">'
               f"<title>{escape(_tip_findings(diag_other).strip())}</title>{escape(_fit(legend, max(width - 2 * _PAD, 300) * 0.9))}</text>")
    for edge in drawn:
        dash = ' stroke-dasharray="6 4"' if edge.dashed else ""
        head = ' marker-end="url(#conjure-arrow)"' if edge.head else ""
        out.append(f'<path class="edge" d="{_smooth_path(edge.points)}" fill="none" stroke="{edge.colour}" '
                   f'stroke-width="1.4"{dash}{head}><title>{escape(edge.tip)}</title></path>')
    for box in every:
        left = box.x - box.width / 2
        dash = ' stroke-dasharray="5 3"' if box.dashed else ""
        attr = f'data-state="{escape(box.key[2:])}"' if box.key.startswith("s:") else f'data-event="{box.key[2:]}"'
        out.append(f'<g class="{box.classes}" {attr}><title>{escape(box.tip)}</title>'
                   f'<rect x="{left:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" rx="7" '
                   f'fill="{box.fill}" stroke="{box.stroke}" stroke-width="{box.stroke_width}"{dash}/>')
        for i, line in enumerate(box.lines):
            weight = ' font-weight="bold"' if line.style in ("bold", "win", "lose", "error") else ""
            italic = ' font-style="italic"' if line.style == "dim" and box.key.startswith("s:") and i == 1 else ""
            anchor_x = left + 7 if box.key.startswith("s:") else box.x
            anchor = "start" if box.key.startswith("s:") else "middle"
            out.append(f'<text class="label" x="{anchor_x:.1f}" y="{box.y + 5 + _LINE_H * (i + 1) - 4:.1f}" '
                       f'text-anchor="{anchor}" fill="{style_fill.get(line.style, "#222")}"{weight}{italic}>'
                       f"{escape(line.text)}</text>")
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
