"""New work for a solved problem: held against the problem, then added to it.

``work_issues`` finds what the contract's models cannot see on new stops and shipments
alone: ids already used (or used twice), demands of another dimension count, places of the
wrong kind for the problem (a matrix index where it has coordinates, an index outside its
matrix). ``extend`` returns the problem with the new work appended and its ``Travel`` with
the new places priced as ``Travel.of`` would price them (great-circle rows for coordinates,
``Grown``; a matrix problem's new work uses indices into its matrix), without recomputing or
copying the rest. ``lazily`` prices a coordinate problem's places pair by pair, as a plan's
routes ask for them, instead of the whole matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import Issue
from ..issues import pointer
from ..model import Problem, Shipment, Stop
from ..travel import EARTH_RADIUS_M, Travel, great_circle, placed, places

LEGS = ("pickup", "delivery")


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
    for key, items, member in (("stops", stops, "demand"), ("shipments", shipments, "amount")):
        for k, item in enumerate(items):
            n = len(getattr(item, member))
            if n and n != dims:
                issues.append(Issue(pointer(key, k, member),
                                    f"{member} has {n} dimensions but vehicle capacities have {dims}"))
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
    return 0 if rows is None else len(rows)  # rows of lists, or an array


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
    """``problem`` with ``stops`` and ``shipments`` appended, and its travel (``travel``, or
    ``lazily(problem)``) with theirs. The work must have passed ``work_issues``."""
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
    points = np.array(list(index), dtype=np.float64).reshape(len(index), 2)
    rows = np.rint(great_circle(points, first=known))
    return grown, Grown(travel.distances, travel.durations, travel.stop_place + stop_place,
                        travel.pickup_place + pickup_place, travel.delivery_place + delivery_place,
                        travel.start_place, travel.end_place, whole=True, known=known, new_distances=rows,
                        new_durations=np.rint(rows / (problem.options.speed_kmh / 3.6)), points=points,
                        speed=problem.options.speed_kmh / 3.6,
                        matrices=getattr(travel, "matrices", True))


def lazily(problem: Problem) -> Travel:
    """The problem's travel without its matrices: each pair of a coordinate problem's places
    is priced when it is asked for, as ``Travel.of`` prices it (great circle, whole metres and
    seconds). For reading a plan, whose routes ask for a few legs of the N x N (a matrix
    problem's travel is ``Travel.of``'s)."""
    if problem.matrix is not None:
        return Travel.of(problem)
    points, where = placed(problem)
    none = np.empty((0, 0))
    return Grown(none, none, *where, whole=True, known=len(points), points=np.array(points, dtype=np.float64),
                 speed=problem.options.speed_kmh / 3.6, matrices=False)


@dataclass(frozen=True, eq=False)
class Grown(Travel):
    """Great-circle travel with new places: the known places' matrices as they were (shared,
    not copied; or, ``matrices`` false, each pair priced when asked), the new places' rows
    apart; great-circle travel is the same both ways."""

    known: int = 0  # places before the new ones
    new_distances: np.ndarray | None = None  # metres from each new place to every place
    new_durations: np.ndarray | None = None  # seconds
    points: np.ndarray | None = None  # (lon, lat) of every place
    speed: float = 1.0  # metres per second
    matrices: bool = True  # distances and durations hold the known places
    _priced: dict = field(default_factory=dict, repr=False)  # (a, b) -> (metres, seconds), when priced lazily
    _trig: list = field(default_factory=list, repr=False)  # longitudes, latitudes (radians), their cosines

    def distance(self, a: int | None, b: int | None) -> float:
        return self._look(self.distances, self.new_distances, a, b, False)

    def duration(self, a: int | None, b: int | None) -> float:
        return self._look(self.durations, self.new_durations, a, b, True)

    def _look(self, known: np.ndarray, new: np.ndarray | None, a: int | None, b: int | None, time: bool) -> float:
        if a is None or b is None:
            return 0.0
        if a >= self.known:
            return float(new[a - self.known, b])
        if b >= self.known:
            return float(new[b - self.known, a])
        if self.matrices:
            return float(known[a, b])
        return self._pair(a, b)[time]

    def _pair(self, a: int, b: int) -> tuple[float, float]:
        """(metres, seconds) between two known places: ``great_circle``'s formula on the
        same radians and cosines, one pair at a time, remembered."""
        found = self._priced.get((a, b))
        if found is None:
            if not self._trig:
                lon, lat = np.radians(self.points[:, 0]), np.radians(self.points[:, 1])
                self._trig.extend((lon.tolist(), lat.tolist(), np.cos(lat).tolist()))
            lon, lat, cos_lat = self._trig
            h = (math.sin((lat[a] - lat[b]) / 2) ** 2
                 + cos_lat[a] * cos_lat[b] * math.sin((lon[a] - lon[b]) / 2) ** 2)
            metres = float(round(math.asin(math.sqrt(min(1.0, max(0.0, h)))) * (2 * EARTH_RADIUS_M)))
            found = self._priced[(a, b)] = (metres, float(round(metres / self.speed)))
        return found
