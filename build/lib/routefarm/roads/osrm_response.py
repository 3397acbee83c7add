"""OSRM's response shapes: waypoints, matrices (null where no route), route geometries."""

from __future__ import annotations

import numpy as np

from .engine import Leg
from .snap import Snapped


def waypoints(snapped: Snapped, which) -> list[dict]:
    return [{"hint": "", "name": "", "distance": round(float(snapped.distances_m[i]), 1),
             "location": [round(float(snapped.lon[i]), 6), round(float(snapped.lat[i]), 6)]}
            for i in which]


def matrix(values: np.ndarray) -> list[list[float | None]]:
    """Rounded to 0.1 as OSRM does; ``inf`` (no route) becomes null, never inf or NaN."""
    rounded = np.round(values, 1)
    missing = ~np.isfinite(rounded)
    if not missing.any():
        return rounded.tolist()
    cells = rounded.astype(object)
    cells[missing] = None
    return cells.tolist()


def polyline(coordinates: np.ndarray, precision: int) -> str:
    """Google's encoded polyline of (lon, lat) rows, latitude first, as OSRM writes it."""
    scaled = np.round(coordinates[:, ::-1] * 10 ** precision).astype(np.int64)
    deltas = np.diff(scaled, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    out = []
    for value in deltas.tolist():
        value = ~(value << 1) if value < 0 else value << 1
        while value >= 0x20:
            out.append(chr((0x20 | (value & 0x1F)) + 63))
            value >>= 5
        out.append(chr(value + 63))
    return "".join(out)


def geometry(coordinates: np.ndarray, kind: str):
    if kind == "geojson":
        return {"type": "LineString", "coordinates": np.round(coordinates, 6).tolist()}
    return polyline(coordinates, 6 if kind == "polyline6" else 5)


def route(legs: list[Leg], overview: str, kind: str, steps: bool) -> dict:
    duration = sum(leg.duration_s for leg in legs)
    distance = sum(leg.distance_m for leg in legs)
    out = {"distance": round(distance, 1), "duration": round(duration, 1),
           "weight": round(duration, 1), "weight_name": "duration",
           "legs": [_leg(leg, kind, steps) for leg in legs]}
    if overview != "false":
        whole = np.vstack([legs[0].coordinates[:1]] + [leg.coordinates[1:] for leg in legs])
        out["geometry"] = geometry(whole if len(whole) > 1 else np.vstack((whole, whole)), kind)
    return out


def _leg(leg: Leg, kind: str, steps: bool) -> dict:
    out = {"distance": round(leg.distance_m, 1), "duration": round(leg.duration_s, 1),
           "weight": round(leg.duration_s, 1), "summary": "", "steps": []}
    if steps:
        end = leg.coordinates[-1:]
        out["steps"] = [
            _step(leg.coordinates, leg.distance_m, leg.duration_s, "depart", kind),
            _step(np.vstack((end, end)), 0.0, 0.0, "arrive", kind),
        ]
    return out


def _step(coordinates: np.ndarray, distance: float, duration: float, kind_of_step: str, kind: str) -> dict:
    location = [round(float(coordinates[0, 0]), 6), round(float(coordinates[0, 1]), 6)]
    return {"distance": round(distance, 1), "duration": round(duration, 1), "weight": round(duration, 1),
            "name": "", "mode": "driving", "driving_side": "right",
            "geometry": geometry(coordinates, kind),
            "maneuver": {"type": kind_of_step, "location": location,
                         "bearing_before": 0, "bearing_after": 0},
            "intersections": []}
