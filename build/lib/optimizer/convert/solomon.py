"""Solomon VRPTW instances (``.txt``) and their solutions (``.sol``).

The usual convention of the published best-known results is kept: the Euclidean distance
truncated to one decimal (``floor(10 d) / 10``), travel time equal to distance, customer 0
the depot whose ready time and due date bound every route. Customer ``c`` becomes matrix
index ``c`` and the stop with id ``str(c)``.
"""

from __future__ import annotations

import math
import re

import numpy as np

_EPSILON = 1e-9  # keeps floor() from losing a tenth to float error (e.g. 10 * 0.3)


def from_solomon(text: str, fleet: int | None = None) -> dict:
    """Convert a Solomon instance into a matrix problem (a contract dict).

    ``fleet`` overrides the file's vehicle number.
    """
    number, capacity, rows = _parse(text)
    if fleet is None:
        fleet = number
    if fleet < 1:
        raise ValueError(f"Solomon: the fleet must be at least 1 (got {fleet})")

    points = np.array([(r[1], r[2]) for r in rows], dtype=np.float64)
    diff = points[:, None, :] - points[None, :, :]
    tenths = np.floor(10.0 * np.sqrt((diff**2).sum(axis=2)) + _EPSILON)
    matrix = (tenths / 10.0).tolist()

    depot = rows[0]
    if depot[3] != 0:
        raise ValueError(f"Solomon: the depot (customer 0) has demand {_num(depot[3])}")
    vehicles = [
        {
            "id": f"v{k}",
            "start_index": 0,
            "end_index": 0,
            "capacity": [capacity],
            "time_window": [_num(depot[4]), _num(depot[5])],
        }
        for k in range(1, fleet + 1)
    ]
    stops = [
        {
            "id": str(c),
            "location_index": c,
            "demand": [int(row[3])],
            "service": _num(row[6]),
            "time_windows": [[_num(row[4]), _num(row[5])]],
        }
        for c, row in enumerate(rows)
        if c > 0
    ]
    return {
        "vehicles": vehicles,
        "stops": stops,
        "matrix": {"distances": matrix, "durations": [row[:] for row in matrix]},
        "objective": "distance",
    }


def read_routes(text: str) -> list[list[str]]:
    """Routes of a Solomon solution (``Route 1: 5 3 7`` or ``Route #1: ...`` lines) as stop ids."""
    routes = []
    for line in text.splitlines():
        match = re.match(r"\s*Route\s*#?\s*\d+\s*:(.*)$", line, re.IGNORECASE)
        if not match:
            continue
        tokens = match.group(1).split()
        if not all(t.isdigit() for t in tokens):
            raise ValueError(f"route line has a non-numeric entry: {line.strip()!r}")
        if tokens:
            routes.append([str(int(t)) for t in tokens])
    if not routes:
        raise ValueError("no 'Route k: ...' lines found in the solution")
    return routes


def _parse(text: str) -> tuple[int, int, list[list[float]]]:
    """(vehicle number, capacity, customer rows) of a Solomon file."""
    lines = [line.split() for line in text.splitlines()]
    upper = [" ".join(tokens).upper() for tokens in lines]
    try:
        vehicle_at = next(i for i, u in enumerate(upper) if u.startswith("VEHICLE"))
        customer_at = next(i for i, u in enumerate(upper) if u.startswith("CUSTOMER"))
    except StopIteration:
        raise ValueError("Solomon: the VEHICLE and CUSTOMER sections are required") from None

    fleet_rows = [t for t in lines[vehicle_at + 1 : customer_at] if t and _numbers(t)]
    if len(fleet_rows) != 1 or len(fleet_rows[0]) != 2:
        raise ValueError("Solomon: the VEHICLE section needs one 'NUMBER CAPACITY' line")
    number_value, capacity_value = _numbers(fleet_rows[0]) or [0.0, 0.0]
    number = _whole(number_value, "the vehicle number")
    capacity = _whole(capacity_value, "the capacity")

    rows: list[list[float]] = []
    for tokens in lines[customer_at + 1 :]:
        values = _numbers(tokens)
        if values is None or not tokens:
            continue  # the column titles, blank lines
        if len(values) != 7:
            raise ValueError(
                f"Solomon: customer line {' '.join(tokens)!r} needs 7 numbers "
                "(no, x, y, demand, ready, due, service)"
            )
        rows.append(values)
    if len(rows) < 2:
        raise ValueError("Solomon: the CUSTOMER section needs the depot and a customer")
    for c, row in enumerate(rows):
        if row[0] != c:
            raise ValueError(f"Solomon: customer {_num(row[0])} found where {c} was expected")
        if not all(math.isfinite(v) for v in row):
            raise ValueError(f"Solomon: customer {c} has a value that is not finite")
        _whole(row[3], f"demand of customer {c}")
        if row[4] > row[5]:
            raise ValueError(f"Solomon: customer {c} is ready at {_num(row[4])}, after its due date")
        if min(row[3:]) < 0:
            raise ValueError(f"Solomon: customer {c} has a negative demand, time or service")
    return number, capacity, rows


def _numbers(tokens: list[str]) -> list[float] | None:
    try:
        return [float(t) for t in tokens]
    except ValueError:
        return None


def _whole(value: float, what: str) -> int:
    if not float(value).is_integer() or value < 0:
        raise ValueError(f"Solomon: {what} must be a non-negative whole number (got {value})")
    return int(value)


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
