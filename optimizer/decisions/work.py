"""New work for a solved problem: held against the problem, then added to it.

``work_issues`` finds what the contract's models cannot see on new stops and shipments
alone: ids already used (or used twice), demands of another dimension count, places of the
wrong kind for the problem (a matrix index where it has coordinates, an index outside its
matrix). ``extend`` returns the problem with the new work appended and its ``Travel`` with
the new places priced as ``Travel.of`` would price them (great-circle rows for coordinates;
a matrix problem's new work uses indices into its matrix), without recomputing the rest.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import Issue
from ..model import Problem, Shipment, Stop
from ..travel import Travel, great_circle, places

LEGS = ("pickup", "delivery")


def pointer(*parts: object) -> str:
    """A JSON pointer into the new work (``validate.pointer``'s rule; that module is not
    imported here: it reaches the engines, which build solutions with ``costs``)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def work_issues(problem: Problem, stops: list[Stop], shipments: list[Shipment]) -> list[Issue]:
    """Every reason the new work cannot join ``problem``, pointed into ``{"stops", "shipments"}``."""
    issues: list[Issue] = []
    issues += _ids("stops", [s.id for s in problem.stops], [s.id for s in stops])
    issues += _ids("shipments", [s.id for s in problem.shipments], [s.id for s in shipments])
    for k, stop in enumerate(stops):
        if stop.id.rpartition(":")[2] in LEGS:
            issues.append(Issue(pointer("stops", k, "id"),
                                "a stop id must not end in ':pickup' or ':delivery' (shipment step notation)"))
    dims = problem.dimensions
    for key, items, field in (("stops", stops, "demand"), ("shipments", shipments, "amount")):
        for k, item in enumerate(items):
            n = len(getattr(item, field))
            if n and n != dims:
                issues.append(Issue(pointer(key, k, field),
                                    f"{field} has {n} dimensions but vehicle capacities have {dims}"))
    size = _matrix_size(problem)
    for where, place in _places(stops, shipments):
        issues += _place_issues(where, place, size)
    return issues


def _ids(key: str, known: list[str], new: list[str]) -> list[Issue]:
    issues, first = [], {}
    used = set(known)
    for k, ident in enumerate(new):
        if ident in used:
            issues.append(Issue(pointer(key, k, "id"), f"{key[:-1]} {ident!r} is already in the job's problem"))
        elif ident in first:
            issues.append(Issue(pointer(key, k, "id"), f"duplicate id {ident!r} (first used at /{key}/{first[ident]})"))
        else:
            first[ident] = k
    return issues


def _matrix_size(problem: Problem) -> int | None:
    if problem.matrix is None:
        return None
    rows = problem.matrix.distances if problem.matrix.distances is not None else problem.matrix.durations
    return len(rows or [])


def _places(stops: list[Stop], shipments: list[Shipment]):
    for k, stop in enumerate(stops):
        yield ("stops", k), stop
    for k, shipment in enumerate(shipments):
        for leg in LEGS:
            yield ("shipments", k, leg), getattr(shipment, leg)


def _place_issues(where: tuple, place, size: int | None) -> list[Issue]:
    has_coordinate, has_index = place.location is not None, place.location_index is not None
    if has_coordinate and has_index:
        return [Issue(pointer(*where), "give either 'location' or 'location_index', not both")]
    if size is None:
        if has_index:
            return [Issue(pointer(*where, "location_index"),
                          "the job's problem has coordinates: give 'location' as [lon, lat]")]
        if not has_coordinate:
            return [Issue(pointer(*where), "a location is required: 'location' as [lon, lat]")]
        return []
    if has_coordinate:
        return [Issue(pointer(*where, "location"), "the job's problem has a matrix: use 'location_index'")]
    if not has_index:
        return [Issue(pointer(*where), "a location is required: 'location_index' into the job's matrix")]
    if place.location_index >= size:
        return [Issue(pointer(*where, "location_index"),
                      f"index {place.location_index} is outside the {size}x{size} matrix")]
    return []


def extend(problem: Problem, travel: Travel, stops: list[Stop],
           shipments: list[Shipment]) -> tuple[Problem, Travel]:
    """``problem`` with ``stops`` and ``shipments`` appended, and its travel (``travel``) with
    theirs. The work must have passed ``work_issues``."""
    grown = problem.model_copy(update={"stops": [*problem.stops, *stops],
                                       "shipments": [*problem.shipments, *shipments]})
    if problem.matrix is not None:
        return grown, replace(
            travel,
            stop_place=travel.stop_place + tuple(s.location_index for s in stops),
            pickup_place=travel.pickup_place + tuple(s.pickup.location_index for s in shipments),
            delivery_place=travel.delivery_place + tuple(s.delivery.location_index for s in shipments))
    index = {point: k for k, point in enumerate(places(problem))}
    known = len(index)

    def place(point) -> int:
        return index.setdefault(tuple(point), len(index))

    stop_place = tuple(place(s.location) for s in stops)
    pickup_place = tuple(place(s.pickup.location) for s in shipments)
    delivery_place = tuple(place(s.delivery.location) for s in shipments)
    distances, durations = travel.distances, travel.durations
    if len(index) > known:
        rows = np.rint(great_circle(np.array(list(index), dtype=np.float64), first=known))
        distances = _grown(distances, rows)
        durations = _grown(durations, np.rint(rows / (problem.options.speed_kmh / 3.6)))
    return grown, replace(travel, distances=distances, durations=durations,
                          stop_place=travel.stop_place + stop_place,
                          pickup_place=travel.pickup_place + pickup_place,
                          delivery_place=travel.delivery_place + delivery_place)


def _grown(square: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``square`` with ``rows`` (new places to every place) added as rows and as columns."""
    n, total = len(square), rows.shape[1]
    out = np.empty((total, total), dtype=np.float64)
    out[:n, :n] = square
    out[n:, :] = rows
    out[:n, n:] = rows[:, :n].T
    return out
