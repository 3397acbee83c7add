#!/usr/bin/env python
"""The contract's numeric bounds, held against every engine: problems at the maxima of
``optimizer.model`` solved with ``auto`` and with each engine alone.

    python bench/bounds.py                      # every case, 2 s per solve
    python bench/bounds.py --time-limit 5 --only costs many_stops

Each case puts fields at their upper bound together (every time at ``MAX_TIME`` with a
millisecond part, so the engines count in milliseconds; every cost, rate and penalty at its
maximum; ``MAX_DIMENSIONS`` capacity dimensions full; the most stops and vehicles the
default limits allow), in a problem where every stop can be served. A solve passes when it
raises nothing, the checker (``optimizer.check``) finds no violation and every stop is
served. An engine that refuses the problem (a feature it lacks, numbers beyond its
integers) is listed as refused: ``auto`` then takes another.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _machine  # noqa: E402

from optimizer import Limits, check, parse_problem, solve  # noqa: E402
from optimizer import model as m  # noqa: E402
from optimizer.engines import engine  # noqa: E402

MS = 0.001  # a millisecond part makes every engine count time and distance in thousandths
ENGINES = ("ortools", "pyvrp", "vroom")


def _matrix(n: int, distance: float, duration: float) -> dict:
    """Every arc at ``distance`` / ``duration`` (less a thousandth), but for the diagonal."""
    return {"distances": [[0 if i == j else distance - MS for j in range(n)] for i in range(n)],
            "durations": [[0 if i == j else duration - MS for j in range(n)] for i in range(n)]}


def _fleet(count: int, **fields) -> list[dict]:
    return [{"id": f"v{k}", "start_index": 0, "end_index": 1, **fields} for k in range(count)]


def _stops(count: int, first_index: int = 2, **fields) -> list[dict]:
    return [{"id": f"s{i}", "location_index": first_index + i, **fields} for i in range(count)]


def times() -> dict:
    """Shifts and windows at the end of time, services and arcs at their longest."""
    n = 20
    late = m.MAX_TIME - MS
    windows = [[late - (k + 1) * 1e7, late - k * 1e7] for k in range(m.MAX_WINDOWS)][::-1]
    return {"vehicles": _fleet(3, time_window=[0, m.MAX_TIME], max_duration=m.MAX_TIME),
            "stops": _stops(n, service=m.MAX_DURATION - MS, time_windows=windows),
            "matrix": _matrix(n + 2, m.MAX_DISTANCE, m.MAX_DURATION), "objective": "duration"}


def windows() -> dict:
    """One window per stop at the end of time, the longest services and arcs (what PyVRP takes)."""
    n = 20
    late = m.MAX_TIME - MS
    return {"vehicles": _fleet(3, time_window=[0, m.MAX_TIME], max_duration=m.MAX_TIME,
                               max_distance=m.MAX_ROUTE_DISTANCE),
            "stops": _stops(n, service=m.MAX_DURATION - MS, time_windows=[[late - 1e9, late]]),
            "matrix": _matrix(n + 2, m.MAX_DISTANCE, m.MAX_DURATION)}


def breaks() -> dict:
    """The most breaks, each with the most windows, at the end of time."""
    n = 10
    late = m.MAX_TIME - MS
    windows = [[late - (k + 1) * 1e7, late - k * 1e7] for k in range(m.MAX_WINDOWS)][::-1]
    vehicle_breaks = [{"id": f"b{b}", "duration": m.MAX_DURATION / 100 - MS, "time_windows": windows}
                      for b in range(m.MAX_BREAKS)]
    return {"vehicles": _fleet(2, time_window=[m.MAX_TIME - 2e9, m.MAX_TIME], breaks=vehicle_breaks),
            "stops": _stops(n, service=60 + MS), "matrix": _matrix(n + 2, m.MAX_DISTANCE, m.MAX_DURATION)}


def costs() -> dict:
    """Cost objective: fixed costs, rates and penalties at their maxima, longest arcs, fewest vehicles."""
    n = 30
    stops = _stops(n, service=m.MAX_DURATION - MS)
    for stop in stops[::2]:
        stop["drop_penalty"] = m.MAX_PENALTY
    return {"vehicles": _fleet(5, fixed_cost=m.MAX_FIXED_COST, cost_per_km=m.MAX_RATE, cost_per_hour=m.MAX_RATE,
                               time_window=[0, m.MAX_TIME]),
            "stops": stops, "matrix": _matrix(n + 2, m.MAX_DISTANCE, m.MAX_DURATION),
            "objective": "cost", "min_vehicles": True}


def penalties() -> dict:
    """Drop and reassignment penalties at their maxima against the longest arcs."""
    n = 30
    stops = _stops(n, drop_penalty=m.MAX_PENALTY)
    initial = [{"vehicle_id": "v0", "steps": [s["id"] for s in stops[: n // 2]]},
               {"vehicle_id": "v1", "steps": [s["id"] for s in stops[n // 2:]]}]
    return {"vehicles": _fleet(3, cost_per_km=m.MAX_RATE, fixed_cost=m.MAX_FIXED_COST),
            "stops": stops, "matrix": _matrix(n + 2, m.MAX_DISTANCE, m.MAX_DURATION), "objective": "cost",
            "initial_routes": initial, "reassign_penalty": m.MAX_PENALTY}


def amounts() -> dict:
    """Every dimension full: capacities at the maximum, each stop's demand too."""
    n = 12
    dims = m.MAX_DIMENSIONS
    return {"vehicles": _fleet(n, capacity=[m.MAX_AMOUNT] * dims, max_stops=m.MAX_COUNT,
                               max_distance=m.MAX_ROUTE_DISTANCE),
            "stops": _stops(n, demand=[m.MAX_AMOUNT] * dims),
            "shipments": [{"id": "x", "amount": [m.MAX_AMOUNT] * dims, "pickup": {"location_index": 2 + n},
                           "delivery": {"location_index": 3 + n}}],
            "matrix": _matrix(n + 4, m.MAX_DISTANCE, m.MAX_DURATION)}


def skills() -> dict:
    """The most skills on every vehicle and stop."""
    n = 10
    names = [f"skill-{k}" for k in range(m.MAX_SKILLS)]
    return {"vehicles": _fleet(2, skills=names), "stops": _stops(n, skills=names[::-1]),
            "matrix": _matrix(n + 2, m.MAX_DISTANCE, m.MAX_DURATION),
            "options": {"seed": m.MAX_SEED}}


def _spread(count: int, rng: random.Random, degrees: float = 180.0) -> list[list[float]]:
    """Places spread evenly over the globe (or a square of ``degrees`` around 0° N, 0° E)."""
    return [[rng.uniform(-degrees, degrees), math.degrees(math.asin(rng.uniform(-1, 1) * degrees / 180))]
            for _ in range(count)]


def many_stops() -> dict:
    """The default limits' most stops and vehicles, a country apart at the slowest speed
    (travel of days), windows at the end of time, services, costs and rates at their maxima."""
    rng = random.Random(7)
    vehicles, stops = Limits().max_vehicles, Limits().max_stops
    late = m.MAX_TIME - MS
    depot = [0.0, 0.0]
    return {"vehicles": [{"id": f"v{k}", "start": depot, "capacity": [m.MAX_AMOUNT],
                          "cost_per_km": m.MAX_RATE, "cost_per_hour": m.MAX_RATE, "fixed_cost": m.MAX_FIXED_COST}
                         for k in range(vehicles)],
            "stops": [{"id": f"s{i}", "location": place, "service": m.MAX_DURATION - MS,
                       "demand": [m.MAX_AMOUNT // stops], "time_windows": [[0, late]]}
                      for i, place in enumerate(_spread(stops, rng, degrees=5.0))],
            "objective": "cost", "options": {"speed_kmh": m.MIN_SPEED_KMH}}


def fastest() -> dict:
    """Coordinates at the highest speed, a vehicle without a shift."""
    rng = random.Random(3)
    return {"vehicles": [{"id": "v0", "start": [0.0, 0.0]}],
            "stops": [{"id": f"s{i}", "location": p, "time_windows": [[m.MAX_TIME - 1e6, m.MAX_TIME - MS]]}
                      for i, p in enumerate(_spread(30, rng))],
            "objective": "duration", "options": {"speed_kmh": m.MAX_SPEED_KMH}}


CASES: dict[str, Callable[[], dict]] = {f.__name__: f for f in (
    times, windows, breaks, costs, penalties, amounts, skills, many_stops, fastest)}


LONGER = {"many_stops": 30.0}  # seconds at least: the search needs them to route 5,000 stops


def attempt(problem, name: str, time_limit: float) -> tuple[str, str]:
    """(outcome, detail): "ok", "refused", or "FAIL"."""
    started = time.monotonic()
    try:
        if name == "auto":
            solution = solve(problem, time_limit=time_limit, seed=1, started=started)
        else:
            chosen = engine(name)
            refused = chosen.unsupported(problem)
            if refused:
                return "refused", refused[0][:60]
            solution = chosen.solve(problem, time_limit=time_limit, seed=1, started=started)
    except Exception as exc:  # the point of this script: report, do not stop
        return "FAIL", f"{type(exc).__name__}: {exc}"[:90]
    wall = time.monotonic() - started
    violations = check(problem, solution)
    if violations:
        return "FAIL", str(violations[0])[:90]
    if solution.status == "no_solution":
        return ("refused" if name != "auto" else "FAIL"), (solution.solver.message or "no solution")[:60]
    if solution.summary.unassigned:
        return "FAIL", f"{solution.summary.unassigned} stop(s) unassigned that can be served"
    return "ok", f"{wall:.1f} s, cost {solution.summary.cost:.4g}, {solution.summary.vehicles_used} vehicle(s)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds per solve")
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), help="these cases only")
    args = parser.parse_args()
    print(_machine.header())
    print(f"{'case':<12} {'engine':<8} {'outcome':<8} detail")
    failed = 0
    for case in args.only or CASES:
        problem = parse_problem(CASES[case]())
        for name in ("auto", *ENGINES):
            outcome, detail = attempt(problem, name, max(args.time_limit, LONGER.get(case, 0.0)))
            failed += outcome == "FAIL"
            print(f"{case:<12} {name:<8} {outcome:<8} {detail}", flush=True)
    print(f"{failed} failure(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
