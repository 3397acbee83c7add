"""CVRPLIB / TSPLIB capacitated instances (``.vrp``) and their solutions (``.sol``, ``.tour``).

Only ``EDGE_WEIGHT_TYPE : EUC_2D`` is read. Distances follow TSPLIB: the Euclidean distance
rounded to the nearest integer (``nint(x) = floor(x + 0.5)``, so 2.5 becomes 3). Node ``i`` of
the file becomes matrix index ``i - 1``; every node but the depot becomes a stop whose id is
its node number.
"""

from __future__ import annotations

import math
import re

import numpy as np

_SECTIONS = ("NODE_COORD_SECTION", "DEMAND_SECTION", "DEPOT_SECTION")
# Keys that would change the problem in a way this converter does not model.
_UNSUPPORTED = ("DISTANCE", "SERVICE_TIME", "EDGE_WEIGHT_SECTION", "TIME_WINDOW_SECTION")


def from_cvrplib(text: str, fleet: int | None = None) -> dict:
    """Convert a CVRPLIB ``EUC_2D`` instance into a matrix problem (a contract dict).

    ``fleet`` vehicles are created; by default the ``k`` of a name like ``A-n32-k5``, else
    the file's ``VEHICLES`` entry, else ``ceil(total demand / capacity)``.
    """
    header, sections = _parse(text)
    kind = header.get("TYPE", "CVRP").upper()
    if kind != "CVRP":
        raise ValueError(f"CVRPLIB: TYPE {kind} is not supported (only CVRP)")
    weight = header.get("EDGE_WEIGHT_TYPE")
    if weight is None:
        raise ValueError("CVRPLIB: EDGE_WEIGHT_TYPE is missing (only EUC_2D is supported)")
    if weight.upper() != "EUC_2D":
        raise ValueError(f"CVRPLIB: EDGE_WEIGHT_TYPE {weight} is not supported (only EUC_2D)")
    for key in _UNSUPPORTED:
        if key in header or key in sections:
            raise ValueError(f"CVRPLIB: {key} is not supported")
    size = _int(header, "DIMENSION")
    capacity = _int(header, "CAPACITY")
    if size < 2:
        raise ValueError(f"CVRPLIB: DIMENSION {size} leaves no customer")

    coords = _node_rows(sections.get("NODE_COORD_SECTION"), size, 2, "NODE_COORD_SECTION")
    demands = _node_rows(sections.get("DEMAND_SECTION"), size, 1, "DEMAND_SECTION")
    depot = _depot(sections.get("DEPOT_SECTION"), size)

    points = np.array(coords, dtype=np.float64)
    diff = points[:, None, :] - points[None, :, :]
    dist = np.floor(np.sqrt((diff**2).sum(axis=2)) + 0.5)  # TSPLIB nint
    matrix = dist.astype(np.int64).tolist()

    demand = [_whole(d[0], f"demand of node {i + 1}") for i, d in enumerate(demands)]
    if demand[depot - 1] != 0:
        raise ValueError(f"CVRPLIB: the depot (node {depot}) has demand {demand[depot - 1]}")
    if fleet is None:
        fleet = _default_fleet(header, sum(demand), capacity)
    if fleet < 1:
        raise ValueError(f"CVRPLIB: fleet must be at least 1 (got {fleet})")

    stops = [
        {"id": str(node), "location_index": node - 1, "demand": [demand[node - 1]]}
        for node in range(1, size + 1)
        if node != depot
    ]
    vehicles = [
        {
            "id": f"v{k}",
            "start_index": depot - 1,
            "end_index": depot - 1,
            "capacity": [capacity],
        }
        for k in range(1, fleet + 1)
    ]
    return {
        "vehicles": vehicles,
        "stops": stops,
        "matrix": {"distances": matrix, "durations": [row[:] for row in matrix]},
        "objective": "distance",
    }


def read_routes(text: str, dimension: int | None = None) -> list[list[str]]:
    """Routes of a CVRPLIB solution as lists of stop ids (node numbers as strings).

    Two formats are read:

    * ``.sol`` (CVRPLIB): ``Route #1: 2 21 73`` lines. The numbers count customers from 1,
      the depot being customer 0 and node 1 of the instance, so customer ``c`` is stop
      ``str(c + 1)``.
    * ``.tour`` (LKH-3): a TSPLIB ``TOUR_SECTION`` of node numbers where node 1 is the depot
      and numbers above the instance's ``dimension`` are copies of it that separate the
      routes. Without ``dimension``, it is taken from an ``-n<N>`` in the tour's NAME.
    """
    if "TOUR_SECTION" in text.upper():
        return _tour_routes(text, dimension)
    routes = _route_lines(text)
    return [[str(int(c) + 1) for c in route] for route in routes]


def _route_lines(text: str) -> list[list[str]]:
    routes = []
    for line in text.splitlines():
        match = re.match(r"\s*Route\s*#?\s*\d+\s*:(.*)$", line, re.IGNORECASE)
        if match:
            tokens = match.group(1).split()
            if not all(t.isdigit() for t in tokens):
                raise ValueError(f"route line has a non-numeric entry: {line.strip()!r}")
            if tokens:
                routes.append(tokens)
    if not routes:
        raise ValueError("no 'Route #k: ...' lines found in the solution")
    return routes


def _tour_routes(text: str, dimension: int | None) -> list[list[str]]:
    header, sections = _parse(text, sections=("TOUR_SECTION",))
    if dimension is None:
        match = re.search(r"-n(\d+)", header.get("NAME", ""))
        if not match:
            raise ValueError("tour: give the instance's dimension (the NAME has no '-n<N>')")
        dimension = int(match.group(1))
    nodes: list[int] = []
    for row in sections.get("TOUR_SECTION", []):
        for token in row:
            value = int(token)
            if value == -1:
                break
            nodes.append(value)
    if not nodes:
        raise ValueError("tour: TOUR_SECTION is empty")
    if len(set(nodes)) != len(nodes):
        raise ValueError("tour: a node appears twice in TOUR_SECTION")
    depots = [i for i, n in enumerate(nodes) if n == 1 or n > dimension]
    if not depots:
        raise ValueError("tour: the depot (node 1) is not in the tour")
    first = depots[0]
    cycle = nodes[first:] + nodes[:first]  # the tour is a cycle: start it at a depot copy
    routes: list[list[str]] = []
    for node in cycle:
        if node == 1 or node > dimension:
            routes.append([])
        else:
            routes[-1].append(str(node))
    return [r for r in routes if r]


def _parse(
    text: str, sections: tuple[str, ...] = _SECTIONS
) -> tuple[dict[str, str], dict[str, list[list[str]]]]:
    """Header entries (``KEY : value``) and the token rows of every section."""
    header: dict[str, str] = {}
    rows: dict[str, list[list[str]]] = {}
    current: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        word = line.split()[0].rstrip(":").upper()
        if word == "EOF":
            break
        if word.endswith("_SECTION"):
            current = word
            rows.setdefault(current, [])
            continue
        if current is None or (":" in line and not _numeric(line.split(":")[0])):
            key, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"CVRPLIB: cannot read header line {line!r}")
            header[key.strip().upper()] = value.strip()
            current = None
            continue
        rows[current].append(line.split())
    missing = [s for s in sections if s not in rows and s != "DEPOT_SECTION"]
    if missing:
        raise ValueError(f"CVRPLIB: {', '.join(missing)} is missing")
    return header, rows


def _numeric(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _int(header: dict[str, str], key: str) -> int:
    if key not in header:
        raise ValueError(f"CVRPLIB: {key} is missing")
    try:
        return _whole(float(header[key]), key)
    except ValueError:
        raise ValueError(f"CVRPLIB: {key} must be a whole number (got {header[key]!r})") from None


def _whole(value: float, what: str) -> int:
    if not float(value).is_integer() or value < 0:
        raise ValueError(f"CVRPLIB: {what} must be a non-negative whole number (got {value})")
    return int(value)


def _node_rows(rows: list[list[str]] | None, size: int, width: int, name: str) -> list[list[float]]:
    """Values of a ``<node> v1 .. vk`` section, ordered by node number 1..size."""
    if rows is None:
        raise ValueError(f"CVRPLIB: {name} is missing")
    values: dict[int, list[float]] = {}
    for row in rows:
        if len(row) != width + 1:
            raise ValueError(f"CVRPLIB: {name} row {' '.join(row)!r} needs {width + 1} numbers")
        try:
            node = int(row[0])
            data = [float(x) for x in row[1:]]
        except ValueError:
            raise ValueError(f"CVRPLIB: {name} row {' '.join(row)!r} is not numeric") from None
        if not 1 <= node <= size:
            raise ValueError(f"CVRPLIB: {name} names node {node} outside 1..{size}")
        if node in values:
            raise ValueError(f"CVRPLIB: {name} lists node {node} twice")
        if not all(math.isfinite(x) for x in data):
            raise ValueError(f"CVRPLIB: {name} row for node {node} is not finite")
        values[node] = data
    if len(values) != size:
        missing = sorted(set(range(1, size + 1)) - values.keys())
        raise ValueError(f"CVRPLIB: {name} lacks {len(missing)} node(s), first {missing[0]}")
    return [values[n] for n in range(1, size + 1)]


def _depot(rows: list[list[str]] | None, size: int) -> int:
    if rows is None:
        return 1
    depots = [int(t) for row in rows for t in row if t != "-1"]
    if not depots:
        return 1
    if len(depots) > 1:
        raise ValueError(f"CVRPLIB: {len(depots)} depots; only one is supported")
    if not 1 <= depots[0] <= size:
        raise ValueError(f"CVRPLIB: depot {depots[0]} is outside 1..{size}")
    return depots[0]


def _default_fleet(header: dict[str, str], total_demand: int, capacity: int) -> int:
    match = re.search(r"-k(\d+)\b", header.get("NAME", ""))
    if match:
        return int(match.group(1))
    if "VEHICLES" in header:
        return _int(header, "VEHICLES")
    if capacity <= 0:
        raise ValueError("CVRPLIB: CAPACITY must be positive to size the fleet")
    return max(1, math.ceil(total_demand / capacity))
