"""Converters from public benchmark formats to the problem contract (pure: text in, dict out).

    problem = parse_problem(convert(open("A-n32-k5.vrp").read()))

``cvrplib`` reads TSPLIB/CVRPLIB ``EUC_2D`` instances, ``solomon`` reads Solomon VRPTW
instances; each also reads its family's best-known solution files (``read_routes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .cvrplib import from_cvrplib
from .solomon import from_solomon

FORMATS = ("cvrplib", "solomon")
_TSPLIB_KEYWORDS = ("NODE_COORD_SECTION", "DEMAND_SECTION", "EDGE_WEIGHT_TYPE", "DIMENSION")


def detect(text: str) -> str:
    """The format of an instance text: ``"cvrplib"`` or ``"solomon"``."""
    upper = text.upper()
    if any(keyword in upper for keyword in _TSPLIB_KEYWORDS):
        return "cvrplib"
    if "CUSTOMER" in upper and "VEHICLE" in upper:
        return "solomon"
    raise ValueError(
        "unrecognised format: expected a CVRPLIB/TSPLIB instance (NODE_COORD_SECTION, ...) "
        "or a Solomon instance (VEHICLE and CUSTOMER sections)"
    )


def convert(text: str, fmt: str | None = None, fleet: int | None = None) -> dict:
    """Convert an instance text to a contract dict; ``fmt`` is detected when omitted."""
    fmt = detect(text) if fmt is None else fmt.lower()
    if fmt == "cvrplib":
        return from_cvrplib(text, fleet=fleet)
    if fmt == "solomon":
        return from_solomon(text, fleet=fleet)
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def routes_distance(problem: Mapping, routes: Sequence[Sequence[str]]) -> float:
    """Total matrix distance of ``routes`` (stop ids), each from the first vehicle's start
    to its end: the cost a converted problem gives a published solution."""
    index = {s["id"]: s["location_index"] for s in problem["stops"]}
    rows = problem["matrix"]["distances"]
    vehicle = problem["vehicles"][0]
    start, end = vehicle.get("start_index"), vehicle.get("end_index")
    total = 0.0
    for route in routes:
        unknown = [stop for stop in route if stop not in index]
        if unknown:
            raise ValueError(f"route names unknown stop(s): {', '.join(unknown[:5])}")
        places = [start, *(index[stop] for stop in route), end]
        places = [p for p in places if p is not None]
        total += sum(rows[a][b] for a, b in zip(places, places[1:], strict=False))
    return total


__all__ = ["FORMATS", "convert", "detect", "from_cvrplib", "from_solomon", "routes_distance"]
