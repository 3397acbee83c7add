"""The contract features a problem uses, and which engine models each one exactly.

``present(problem)`` names the features in use; an engine's ``unsupported`` is the part of
that set it cannot model exactly, plus any limit of its number types the problem exceeds.
``TABLE`` is the written comparison (rows: features; columns: ortools, pyvrp, vroom), and
``markdown()`` prints it.
"""

from __future__ import annotations

from .model import Problem

# feature: (what it is, ortools, pyvrp, vroom); a cell starting with "no" is unsupported
TABLE: dict[str, tuple[str, str, str, str]] = {
    "matrix": ("travel from `matrix` (distances and/or durations)", "yes", "yes", "yes"),
    "coordinates": ("`[lon, lat]` places (great-circle, `speed_kmh`)", "yes", "yes (our matrices)",
                    "yes (our matrices)"),
    "missing_roads": ("`null` matrix cells (no road)", "yes (arcs removed)",
                      "yes (arc longer than any route + `max_distance` below it)",
                      "yes (same, within uint32)"),
    "objective_distance": ("objective `distance`", "yes", "yes (unit distance cost)",
                           "yes (cost matrix = distances)"),
    "objective_duration": ("objective `duration` (waiting included)", "yes (transit + slack)",
                           "yes (unit duration cost)", "no (VROOM costs travel time only)"),
    "objective_cost": ("objective `cost`", "yes", "yes (scaled unit costs per vehicle type)",
                       "yes when no `cost_per_hour` (cost matrix per `cost_per_km`)"),
    "cost_per_hour": ("`cost_per_hour` > 0 under `cost`", "yes (span cost)",
                      "yes (unit duration cost)", "no (VROOM's per_hour ignores waiting and service)"),
    "fixed_cost": ("`fixed_cost` under `cost`", "yes", "yes", "yes"),
    "min_vehicles": ("`min_vehicles`", "yes (vehicle fee above any route)", "yes (same fee)",
                     "yes (same fee)"),
    "capacity": ("`capacity` / `demand` / `amount`, several dimensions", "yes", "yes (pickup loads)",
                 "yes (pickup amounts)"),
    "time_windows": ("one time window per stop or shipment end", "yes", "yes", "yes"),
    "multiple_time_windows": ("several time windows on one stop or shipment end", "yes",
                              "no (one window per client)", "yes"),
    "shift": ("vehicle `time_window`", "yes", "yes", "yes"),
    "service": ("`service` times, waiting", "yes", "yes", "yes"),
    "open_routes": ("vehicle without `end` (or `start`)", "yes (free node)",
                    "yes (free depot: travel 0 both ways)", "yes (no start/end location)"),
    "no_start_no_end": ("vehicle with neither `start` nor `end`", "yes", "yes (free depot)",
                        "no (VROOM needs one of them)"),
    "max_distance": ("`max_distance`", "yes", "yes", "yes"),
    "max_duration": ("`max_duration` (route time, waiting included)", "yes (span bound)",
                     "yes (`shift_duration`)", "no (VROOM bounds travel time only)"),
    "max_stops": ("`max_stops`", "yes", "yes without shipments (a load dimension of 1 per stop)",
                  "yes (`max_tasks`)"),
    "max_stops_with_shipments": ("`max_stops` with shipments", "yes",
                                 "no (a shipment's count unloads at its delivery)", "yes"),
    "skills": ("`skills`", "yes", "yes (a routing profile per skill set, forbidden arcs)", "yes"),
    "breaks": ("driver `breaks`", "yes (may pause mid-drive)", "no",
               "yes (taken at a stop, never mid-drive)"),
    "shipments": ("`shipments` (pickup before delivery, same vehicle)", "yes", "yes", "yes"),
    "drop_penalty": ("optional stops and shipments (`drop_penalty`)", "yes",
                     "yes (`required=False`, prize = penalty)",
                     "no (VROOM serves what it can, no penalties)"),
    "infeasible": ("mandatory work that cannot all be served", "yes (unassigned with reasons)",
                   "no solution (the caller falls back)", "yes (unassigned with reasons)"),
    "initial_routes": ("`initial_routes` warm start", "yes (hint)", "yes (initial solution)",
                       "no"),
    "locked": ("`locked` steps", "yes", "no", "no"),
    "reassign_penalty": ("`reassign_penalty`", "yes", "no", "no"),
    "incumbents": ("improving solutions while it runs", "yes", "yes (on each new best)",
                   "no (the final one)"),
}
ENGINES = ("ortools", "pyvrp", "vroom")


def unsupported_by(engine: str) -> frozenset[str]:
    """Features whose cell for ``engine`` starts with "no"."""
    column = 1 + ENGINES.index(engine)
    return frozenset(name for name, row in TABLE.items() if row[column].startswith("no"))


def present(problem: Problem) -> set[str]:
    """The contract features ``problem`` uses (the names of ``TABLE``, less the engine facts)."""
    p = problem
    found: set[str] = {"matrix" if p.matrix is not None else "coordinates", f"objective_{p.objective}"}
    m = p.matrix
    if m is not None and any(x is None for rows in (m.distances or [], m.durations or [])
                             for row in rows for x in row):
        found.add("missing_roads")
    ends = [p.pickup for p in p.shipments] + [s.delivery for s in p.shipments]
    windows = [s.time_windows for s in p.stops] + [t.time_windows for t in ends]
    if any(windows):
        found.add("time_windows")
    if any(len(w) > 1 for w in windows):
        found.add("multiple_time_windows")
    if any(s.service for s in [*p.stops, *ends]):
        found.add("service")
    if p.dimensions:
        found.add("capacity")
    if p.shipments:
        found.add("shipments")
    if any(x.drop_penalty is not None for x in [*p.stops, *p.shipments]):
        found.add("drop_penalty")
    if any(x.skills for x in [*p.stops, *p.shipments]):
        found.add("skills")
    for v in p.vehicles:
        start = v.start is not None or v.start_index is not None
        end = v.end is not None or v.end_index is not None
        if not (start and end):
            found.add("open_routes")
        if not (start or end):
            found.add("no_start_no_end")
        for name, used in (("shift", v.time_window is not None), ("breaks", bool(v.breaks)),
                           ("max_distance", v.max_distance is not None),
                           ("max_duration", v.max_duration is not None),
                           ("max_stops", v.max_stops is not None)):
            if used:
                found.add(name)
        if p.objective == "cost":
            if v.cost_per_hour:
                found.add("cost_per_hour")
            if v.fixed_cost:
                found.add("fixed_cost")
    if "max_stops" in found and p.shipments:
        found.add("max_stops_with_shipments")
    for name, used in (("min_vehicles", p.min_vehicles), ("initial_routes", bool(p.initial_routes)),
                       ("locked", bool(p.locked)), ("reassign_penalty", p.reassign_penalty is not None)):
        if used:
            found.add(name)
    return found


def markdown() -> str:
    lines = ["| feature | ortools | pyvrp | vroom |", "|---|---|---|---|"]
    lines += [f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} |" for row in TABLE.values()]
    return "\n".join(lines)
