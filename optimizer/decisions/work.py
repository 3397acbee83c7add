"""New work for a solved problem: held against the problem, then added to it.

``work_issues`` finds what the contract's models cannot see on new stops and shipments
alone: ids already used (or used twice), demands of another dimension count, places of the
wrong kind for the problem (a matrix index where it has coordinates, an index outside its
matrix). ``extend`` returns the problem with the new work appended and its ``Travel`` with
the new places priced as ``Travel.of`` would price them (great-circle rows for coordinates,
``Grown``; a matrix problem's new work uses indices into its matrix), without recomputing or
copying the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    places_of = {"stop_place": travel.stop_place + stop_place,
                 "pickup_place": travel.pickup_place + pickup_place,
                 "delivery_place": travel.delivery_place + delivery_place}
    if len(index) == known:
        return grown, replace(travel, **places_of)
    rows = np.rint(great_circle(np.array(list(index), dtype=np.float64), first=known))
    return grown, Grown(travel.distances, travel.durations, **places_of, start_place=travel.start_place,
                        end_place=travel.end_place, whole=travel.whole, known=known, new_distances=rows,
                        new_durations=np.rint(rows / (problem.options.speed_kmh / 3.6)))


@dataclass(frozen=True, eq=False)
class Grown(Travel):
    """Great-circle travel with new places: the known places' matrices as they were (shared,
    not copied), the new places' rows apart; great-circle travel is the same both ways."""

    known: int = 0  # places before the new ones
    new_distances: np.ndarray | None = None  # metres from each new place to every place
    new_durations: np.ndarray | None = None  # seconds

    def distance(self, a: int | None, b: int | None) -> float:
        return self._look(self.distances, self.new_distances, a, b)

    def duration(self, a: int | None, b: int | None) -> float:
        return self._look(self.durations, self.new_durations, a, b)

    def _look(self, known: np.ndarray, new: np.ndarray, a: int | None, b: int | None) -> float:
        if a is None or b is None:
            return 0.0
        if a >= self.known:
            return float(new[a - self.known, b])
        if b >= self.known:
            return float(new[b - self.known, a])
        return float(known[a, b])
