"""Route pictures: ``render_svg(problem, solution)`` draws a solution as SVG (pure: no I/O).

Depots are squares, stops circles in their vehicle's colour, pickups and deliveries
triangles; unassigned work is a red cross. Each route is exactly one ``<path class="route">``
(tests count them), and a legend lists the vehicles. Only the places the plan uses are drawn
(its routes' depots and steps, its unassigned work; every place of the problem when the plan
names none). No map tiles: coordinate problems are drawn in an equirectangular projection
(longitudes scaled by the cosine of the mean latitude); matrix problems have no coordinates,
so their places are laid out by multidimensional scaling of the (symmetrised) distance
matrix (``optimizer.mds``: landmark MDS, O(places) matrix cells read), as the picture's
title says.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from .mds import mds_layout
from .model import Problem

WIDTH, HEIGHT, MARGIN, LEGEND = 960, 640, 30, 220
UNASSIGNED_COLOUR = "#d62728"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#843c39")
MAX_LABELS = 60  # places; more would be unreadable
Ref = tuple[float, float] | int  # a coordinate (lon, lat) or a matrix index


class RenderError(ValueError):
    """The solution names a vehicle, stop or shipment the problem does not have."""


class TooManyPlaces(RenderError):
    """The plan uses more places than the caller allows a picture to draw."""

    def __init__(self, places: int, limit: int):
        self.places, self.limit = places, limit
        super().__init__(f"the plan uses {places} places; a picture draws at most {limit}")


def colour(index: int) -> str:
    if index < len(PALETTE):
        return PALETTE[index]
    return f"hsl({(index * 137.508) % 360:.0f}, 60%, 42%)"


def _task_ref(location: Any, index: int | None) -> Ref | None:
    return tuple(location) if location is not None else index


def _places(problem: Problem) -> dict[tuple[str, str], Ref]:
    """Every place of the problem, keyed by (kind, id): depots, stops, pickups, deliveries."""
    places: dict[tuple[str, str], Ref] = {}
    for v in problem.vehicles:
        for kind, loc, idx in (("start", v.start, v.start_index), ("end", v.end, v.end_index)):
            ref = _task_ref(loc, idx)
            if ref is not None:
                places[(kind, v.id)] = ref
    for s in problem.stops:
        ref = _task_ref(s.location, s.location_index)
        if ref is not None:
            places[("stop", s.id)] = ref
    for sh in problem.shipments:
        for kind, task in (("pickup", sh.pickup), ("delivery", sh.delivery)):
            ref = _task_ref(task.location, task.location_index)
            if ref is not None:
                places[(kind, sh.id)] = ref
    return places


class _Canvas:
    """Maps problem places to picture coordinates, keeping the aspect ratio."""

    def __init__(self, problem: Problem, refs: list[Ref], deadline: float | None = None):
        self.matrix = (problem.matrix is not None)
        raw: dict[Ref, tuple[float, float]] = {}
        if self.matrix:
            m = problem.matrix  # rows of lists, or an array (``travel.matrix_from_json``)
            cells = m.distances if m.distances is not None else m.durations
            cells = [] if cells is None else cells
            inside = [int(r) for r in refs if int(r) < len(cells)]  # type: ignore[arg-type]
            coords = mds_layout(cells, inside, deadline=deadline)
            at = {i: (float(x), float(y)) for i, (x, y) in zip(inside, coords, strict=True)}
            for ref in refs:
                raw[ref] = at.get(int(ref), (0.0, 0.0))  # type: ignore[arg-type]
        else:
            lats = [r[1] for r in refs if isinstance(r, tuple)]
            scale = math.cos(math.radians(sum(lats) / len(lats))) if lats else 1.0
            for ref in refs:
                lon, lat = ref  # type: ignore[misc]
                raw[ref] = (lon * scale, -lat)  # north up
        xs = [p[0] for p in raw.values()] or [0.0]
        ys = [p[1] for p in raw.values()] or [0.0]
        self.x0, self.y0 = min(xs), min(ys)
        span_x, span_y = max(xs) - self.x0, max(ys) - self.y0
        area_w, area_h = WIDTH - LEGEND - 2 * MARGIN, HEIGHT - 2 * MARGIN
        self.k = min(area_w / span_x if span_x > 0 else math.inf,
                     area_h / span_y if span_y > 0 else math.inf)
        if not math.isfinite(self.k):
            self.k = 1.0
        self.dx = MARGIN + (area_w - span_x * self.k) / 2
        self.dy = MARGIN + (area_h - span_y * self.k) / 2
        self.points = {ref: self._map(p) for ref, p in raw.items()}
        self._scale = scale if not self.matrix else 1.0

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        """Picture coordinates of a (lon, lat) point (a problem with coordinates)."""
        return self._map((lon * self._scale, -lat))

    def _map(self, p: tuple[float, float]) -> tuple[float, float]:
        return (round(self.dx + (p[0] - self.x0) * self.k, 2), round(self.dy + (p[1] - self.y0) * self.k, 2))


def _attr(**values: Any) -> str:
    return " ".join(f"{k.rstrip('_').replace('_', '-')}={quoteattr(str(v))}" for k, v in values.items())


def _route_places(route: Mapping[str, Any], places: dict[tuple[str, str], Ref]) -> list[Ref]:
    vehicle = str(route.get("vehicle_id"))
    refs: list[Ref] = []
    for step in route.get("steps") or []:
        kind = step.get("type")
        key = (kind, vehicle) if kind in ("start", "end") else (kind, str(step.get("id")))
        if kind == "break":
            continue
        if kind not in ("start", "end", "stop", "pickup", "delivery"):
            raise RenderError(f"route of {vehicle}: unknown step type {kind!r}")
        if key not in places:
            if kind in ("start", "end"):
                continue  # an open route: the vehicle has no start or end place
            raise RenderError(f"route of {vehicle}: no {kind} {step.get('id')!r} in the problem")
        refs.append(places[key])
    return refs


def _plan_places(problem: Problem, routes: list, unassigned: list) -> dict[tuple[str, str], Ref]:
    """The places the plan uses (all of the problem's when it uses none), keyed as ``_places``."""
    every = _places(problem)
    used: set[tuple[str, str]] = set()
    for route in routes:
        vehicle = str(route.get("vehicle_id"))
        used.update(k for k in (("start", vehicle), ("end", vehicle)) if k in every)
        for step in route.get("steps") or []:
            if step.get("type") in ("stop", "pickup", "delivery"):
                used.add((step["type"], str(step.get("id"))))
    for u in unassigned:
        for kind in ("stop",) if u.get("type") == "stop" else ("pickup", "delivery"):
            used.add((kind, str(u.get("id"))))
    if not used:
        return every
    return {key: ref for key, ref in every.items() if key in used}


def render_svg(problem: Problem, solution: Mapping[str, Any],
               geometry: Mapping[str, list[list[float]]] | None = None,
               max_places: int | None = None, deadline: float | None = None) -> str:
    """The solution drawn over the places it uses, as an SVG document. ``geometry`` (for a
    problem with coordinates): vehicle id -> the [lon, lat] points of its route on the roads,
    drawn instead of straight legs. ``max_places``: a plan using more distinct places raises
    ``TooManyPlaces`` before anything is laid out. ``deadline`` (``time.monotonic()``): the
    layout of a matrix problem refines no further after it."""
    routes = list(solution.get("routes") or [])
    unassigned = list(solution.get("unassigned") or [])
    every = _places(problem)
    places = _plan_places(problem, routes, unassigned)
    refs = list(dict.fromkeys(places.values()))
    if max_places is not None and len(refs) > max_places:
        raise TooManyPlaces(len(refs), max_places)
    canvas = _Canvas(problem, refs, deadline)
    pt = canvas.points
    vehicle_index = {v.id: i for i, v in enumerate(problem.vehicles)}
    served: dict[tuple[str, str], str] = {}
    out: list[str] = []
    for route in routes:
        vehicle = str(route.get("vehicle_id"))
        if vehicle not in vehicle_index:
            raise RenderError(f"no vehicle {vehicle!r} in the problem")
        col = colour(vehicle_index[vehicle])
        xy = [pt[r] for r in _route_places(route, every)]
        if geometry and geometry.get(vehicle) and not canvas.matrix:
            xy = [canvas.project(lon, lat) for lon, lat in geometry[vehicle]]
        d = " ".join(f"{'M' if i == 0 else 'L'}{x:g} {y:g}" for i, (x, y) in enumerate(xy))
        out.append(f'<path class="route" {_attr(d=d, stroke=col, data_vehicle=vehicle)}>'
                   f"<title>{escape(vehicle)}</title></path>")
        for step in route.get("steps") or []:
            if step.get("type") in ("stop", "pickup", "delivery"):
                served[(step["type"], str(step.get("id")))] = col
    crossed: set[tuple[str, str]] = set()
    for u in unassigned:
        kinds = ("stop",) if u.get("type") == "stop" else ("pickup", "delivery")
        for kind in kinds:
            if (kind, str(u.get("id"))) not in every:
                raise RenderError(f"unassigned {u.get('type')} {u.get('id')!r} is not in the problem")
            crossed.add((kind, str(u.get("id"))))
    labels = len(places) <= MAX_LABELS
    for (kind, ident), ref in places.items():
        x, y = pt[ref]
        tip = f"<title>{escape(kind)} {escape(ident)}</title>"
        if kind in ("start", "end"):
            col = colour(vehicle_index[ident])
            out.append(f'<rect class="depot" {_attr(x=x - 6, y=y - 6, width=12, height=12, fill=col)}>{tip}</rect>')
            continue
        if (kind, ident) in crossed:
            out.append(f'<g class="unassigned" stroke="{UNASSIGNED_COLOUR}" stroke-width="3">{tip}'
                       f'<line {_attr(x1=x - 6, y1=y - 6, x2=x + 6, y2=y + 6)}/>'
                       f'<line {_attr(x1=x - 6, y1=y + 6, x2=x + 6, y2=y - 6)}/></g>')
        else:
            col = served.get((kind, ident), "#ffffff")
            if kind == "stop":
                out.append(f'<circle class="stop" {_attr(cx=x, cy=y, r=5, fill=col)}>{tip}</circle>')
            else:
                tri = f"{x:g},{y - 6:g} {x - 6:g},{y + 5:g} {x + 6:g},{y + 5:g}"
                if kind == "delivery":
                    tri = f"{x:g},{y + 6:g} {x - 6:g},{y - 5:g} {x + 6:g},{y - 5:g}"
                out.append(f'<polygon class="{kind}" {_attr(points=tri, fill=col)}>{tip}</polygon>')
        if labels:
            out.append(f'<text class="label" {_attr(x=x + 7, y=y - 7)}>{escape(ident)}</text>')
    title = _title(problem, routes, unassigned)
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" {_attr(width=WIDTH, height=HEIGHT, viewBox=f"0 0 {WIDTH} {HEIGHT}")}>',
        f"<title>{escape(title)}</title>",
        "<style>.route{fill:none;stroke-width:2.5;stroke-linejoin:round;opacity:.85}"
        ".stop,.pickup,.delivery{stroke:#333;stroke-width:1}.depot{stroke:#000;stroke-width:1.5}"
        ".label{font:10px sans-serif;fill:#444}.legend{font:12px sans-serif;fill:#222}</style>",
        f'<rect {_attr(width=WIDTH, height=HEIGHT, fill="#fbfbf8")}/>',
        f'<text class="legend" {_attr(x=MARGIN, y=18)}>{escape(title)}</text>',
        *out,
        *_legend(problem, routes, vehicle_index, bool(crossed)),
        "</svg>",
        "",
    ])


def _title(problem: Problem, routes: list, unassigned: list) -> str:
    what = f"{len(routes)} route(s), {len(unassigned)} unassigned"
    if (problem.matrix is not None):
        return (f"Routes ({what}); matrix problem without coordinates: places laid out by "
                "classical multidimensional scaling of the distance matrix, not a map")
    return f"Routes ({what}); longitude/latitude, equirectangular projection"


def _legend(problem: Problem, routes: list, vehicle_index: dict[str, int], any_unassigned: bool) -> list[str]:
    x, y = WIDTH - LEGEND + 10, MARGIN + 10
    out = [f'<g class="legend-box"><text class="legend" {_attr(x=x, y=y)}>Vehicles</text>']
    for route in routes[:30]:
        y += 18
        vid = str(route.get("vehicle_id"))
        stops = sum(1 for s in route.get("steps") or [] if s.get("type") in ("stop", "pickup", "delivery"))
        km = float(route.get("distance") or 0) / 1000
        out.append(f'<rect {_attr(x=x, y=y - 10, width=14, height=10, fill=colour(vehicle_index[vid]))}/>'
                   f'<text class="legend" {_attr(x=x + 20, y=y)}>{escape(vid)}: {stops} stop(s), {km:.1f} km</text>')
    if len(routes) > 30:
        y += 18
        out.append(f'<text class="legend" {_attr(x=x, y=y)}>… {len(routes) - 30} more</text>')
    y += 28
    out.append(f'<rect {_attr(x=x + 2, y=y - 10, width=10, height=10, fill="#ccc", stroke="#000")}/>'
               f'<text class="legend" {_attr(x=x + 20, y=y)}>depot (start/end)</text>')
    y += 18
    out.append(f'<circle {_attr(cx=x + 7, cy=y - 5, r=5, fill="#ccc", stroke="#333")}/>'
               f'<text class="legend" {_attr(x=x + 20, y=y)}>stop (route colour)</text>')
    if any_unassigned:
        y += 18
        out.append(f'<g stroke="{UNASSIGNED_COLOUR}" stroke-width="3">'
                   f'<line {_attr(x1=x + 1, y1=y - 11, x2=x + 13, y2=y + 1)}/>'
                   f'<line {_attr(x1=x + 1, y1=y + 1, x2=x + 13, y2=y - 11)}/></g>'
                   f'<text class="legend" {_attr(x=x + 20, y=y)}>unassigned</text>')
    out.append("</g>")
    return out
