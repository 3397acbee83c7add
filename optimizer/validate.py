"""Turn untrusted JSON into a ``Problem``, reporting every error at once (up to ``MAX_ISSUES``).

First the sizes (``sizes``): a problem too big for the limits gets no further. Then passes
over the same input whose findings are merged: the typed models check each value on its
own (``model``; the matrices row by row, ``cells``), and the rules below check how the parts
relate (ids, dimensions, matrix indices, route references). The last pass reads the raw
input defensively, so one malformed item never hides the errors of the others.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from .cells import cells, split
from .errors import InvalidProblem, Issue, Issues
from .features import present, unsupported_by
from .issues import add_errors, pointer, pydantic_issues
from .model import Problem
from .sizes import Limits, size_issues

__all__ = ["Limits", "parse_problem", "pointer", "pydantic_issues"]


def parse_problem(data: Any, limits: Limits | None = None) -> Problem:
    """Validate ``data`` (decoded JSON) and return the immutable problem.

    Raises ``InvalidProblem`` with the errors and their JSON pointers (the first
    ``MAX_ISSUES``, and how many more). Sizes come first: a problem too big for ``limits``
    is answered with its sizes only.
    """
    limits = limits or Limits()
    if isinstance(data, Mapping):
        too_big = size_issues(data, limits)
        if too_big:
            raise InvalidProblem(too_big)
    issues = Issues()
    rest, matrix = split(data) if isinstance(data, Mapping) else (data, None)
    problem = None
    try:
        problem = Problem.model_validate(rest)
    except ValidationError as exc:
        add_errors(exc, Problem, rest, issues)
    rows = cells(matrix, issues) if matrix is not None else None
    if isinstance(data, Mapping):
        issues.extend(_Relations(data).check())
    if problem is not None and (matrix is None or rows is not None):
        if rows is not None:  # the rows validated apart, put back (as pydantic would have built them)
            problem = problem.model_copy(update={"matrix": problem.matrix.model_copy(update=rows)})
        issues.extend(_engine_issues(problem))
    if issues:
        raise InvalidProblem(issues)
    assert problem is not None
    return problem


def _engine_issues(problem: Problem) -> list[Issue]:
    """An engine named in ``options.engine`` must model every feature the problem uses."""
    chosen = problem.options.engine
    if chosen in ("auto", "ortools"):
        return []
    refused = sorted(present(problem) & unsupported_by(chosen))
    if not refused:
        return []
    return [Issue("/options/engine", f"{chosen} cannot model this problem exactly ({', '.join(refused)});"
                                     " choose auto or ortools")]


def _items(data: Mapping, key: str) -> list[tuple[int, Mapping]]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, Mapping)]


def _ids(items: list[tuple[int, Mapping]]) -> set[str]:
    """The string ids of ``items`` (an id of another type is reported by the model)."""
    return {item["id"] for _, item in items if isinstance(item.get("id"), str)}


def _list_len(value: Any) -> int | None:
    return len(value) if isinstance(value, list) else None


class _Relations:
    """Rules that relate the parts of one problem, read from the raw input."""

    def __init__(self, data: Mapping):
        self.data = data
        self.issues: list[Issue] = []
        self.vehicles = _items(data, "vehicles")
        self.stops = _items(data, "stops")
        self.shipments = _items(data, "shipments")

    def add(self, message: str, *path: object) -> None:
        self.issues.append(Issue(pointer(*path), message))

    def check(self) -> list[Issue]:
        if self.data.get("vehicles") == []:
            self.add("at least one vehicle is required", "vehicles")
        self._unique_ids()
        self._dimensions()
        self._locations()
        self._routes("initial_routes")
        self._routes("locked")
        return self.issues

    def _unique_ids(self) -> None:
        for key in ("vehicles", "stops", "shipments"):
            first: dict[str, int] = {}
            for i, item in _items(self.data, key):
                ident = item.get("id")
                if not isinstance(ident, str):
                    continue
                if key == "stops" and ident.rpartition(":")[2] in ("pickup", "delivery"):
                    self.add("a stop id must not end in ':pickup' or ':delivery' (shipment step notation)", key, i, "id")
                if ident in first:
                    self.add(f"duplicate id {ident!r} (first used at /{key}/{first[ident]})", key, i, "id")
                else:
                    first[ident] = i
        for i, vehicle in self.vehicles:
            seen: set[str] = set()
            for j, brk in _items(vehicle, "breaks"):
                ident = brk.get("id")
                if isinstance(ident, str):
                    if ident in seen:
                        self.add(f"duplicate break id {ident!r}", "vehicles", i, "breaks", j, "id")
                    seen.add(ident)

    def _dimensions(self) -> None:
        sizes = {_list_len(v.get("capacity")) for _, v in self.vehicles} - {None}
        dims = max(sizes, default=0)
        for i, vehicle in self.vehicles:
            n = _list_len(vehicle.get("capacity"))
            if n and n != dims:
                self.add(
                    f"capacity has {n} dimensions but other vehicles have {dims}",
                    "vehicles", i, "capacity",
                )
        for key, field in (("stops", "demand"), ("shipments", "amount")):
            for i, item in _items(self.data, key):
                n = _list_len(item.get(field))
                if n and n != dims:
                    self.add(
                        f"{field} has {n} dimensions but vehicle capacities have {dims}",
                        key, i, field,
                    )

    def _places(self) -> Iterator[tuple[Mapping, str, str, tuple, bool]]:
        """(object, coordinate field, index field, path, required) for every place."""
        for i, v in self.vehicles:
            yield v, "start", "start_index", ("vehicles", i), False
            yield v, "end", "end_index", ("vehicles", i), False
        for i, s in self.stops:
            yield s, "location", "location_index", ("stops", i), True
        for i, s in self.shipments:
            for leg in ("pickup", "delivery"):
                if isinstance(s.get(leg), Mapping):
                    yield s[leg], "location", "location_index", ("shipments", i, leg), True

    def _locations(self) -> None:
        matrix = self.data.get("matrix")
        if isinstance(matrix, Mapping) and self.data.get("travel") is not None:
            self.add("road travel prices coordinates; this problem gives a matrix", "travel")
        size = self._matrix_size(matrix) if isinstance(matrix, Mapping) else None
        with_matrix = isinstance(matrix, Mapping)
        for obj, coord, index, path, required in self._places():
            has_coord = obj.get(coord) is not None
            has_index = obj.get(index) is not None
            if has_coord and has_index:
                self.add(f"give either {coord!r} or {index!r}, not both", *path)
            elif with_matrix and has_coord:
                self.add(f"the problem has a matrix: use {index!r} instead of {coord!r}", *path, coord)
            elif not with_matrix and has_index:
                self.add(f"{index!r} needs a matrix; give {coord!r} as [lon, lat]", *path, index)
            elif required and not has_coord and not has_index:
                self.add(f"a location is required: {index!r} or {coord!r}", *path)
            value = obj.get(index)
            if size is not None and isinstance(value, int) and value >= size:
                self.add(f"index {value} is outside the {size}x{size} matrix", *path, index)

    def _matrix_size(self, matrix: Mapping) -> int | None:
        sizes = []
        if matrix.get("distances") is None and matrix.get("durations") is None:
            self.add("give distances, durations or both", "matrix")
        for key in ("distances", "durations"):
            rows = matrix.get(key)
            if not isinstance(rows, list):
                continue
            if not rows:
                self.add("the matrix is empty", "matrix", key)
            sizes.append(len(rows))
        return min(sizes) if sizes else None

    def _routes(self, key: str) -> None:
        vehicles, stops, shipments = _ids(self.vehicles), _ids(self.stops), _ids(self.shipments)
        used_vehicles: set[str] = set()
        placed: dict[str, str] = {}
        for r, route in _items(self.data, key):
            vid = route.get("vehicle_id")
            if isinstance(vid, str):
                if vid not in vehicles:
                    self.add(f"unknown vehicle {vid!r}", key, r, "vehicle_id")
                elif vid in used_vehicles:
                    self.add(f"vehicle {vid!r} has more than one route", key, r, "vehicle_id")
                used_vehicles.add(vid)
            steps = route.get("steps")
            if not isinstance(steps, list):
                continue
            picked: set[str] = set()
            for s, step in enumerate(steps):
                if not isinstance(step, str):
                    continue
                where = (key, r, "steps", s)
                shipment, _, leg = step.rpartition(":")
                if leg in ("pickup", "delivery") and shipment in shipments:
                    if leg == "pickup":
                        picked.add(shipment)
                    elif shipment not in picked and key == "locked":
                        self.add(f"delivery of {shipment!r} is locked before its pickup", *where)
                elif step not in stops:
                    self.add(f"unknown step {step!r}: not a stop id or '<shipment>:pickup|delivery'", *where)
                    continue
                if step in placed:
                    self.add(f"step {step!r} appears twice (also at {placed[step]})", *where)
                else:
                    placed[step] = pointer(*where)
