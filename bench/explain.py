#!/usr/bin/env python
"""Counterfactuals for unassigned work, held against the checker and a brute-force search.

    python bench/explain.py                # 40 seeded problems
    python bench/explain.py --problems 5   # a smoke run

Each problem is built to leave work unassigned: 14 to 22 stops in a 12 km square (a travel
matrix at 10 m/s), windows of 10 to 30 minutes, demand above the fleet's capacity, a skill
few vehicles have, short shifts, and on some vehicles ``max_duration``, ``max_distance`` or
``max_stops``; sometimes a shipment. It is solved (OR-Tools, 1 s) and explained
(``optimizer.decisions.explain``, as the farm does after a solve). Then every fix:

- is made on a copy of the problem and the task put where the fix says, its route given to
  ``optimizer.check`` as bare steps (no times: the checker times it): it must pass;
- is compared with the smallest relaxation of its kind a brute-force search finds
  (``_brute.smallest``: every vehicle, every place, sizes by bisection, the checker as the
  only judge): it must be no larger. The checker forgives 1 ms (or mm) plus a millionth of
  each time (or distance) it holds against a window or a limit, and the search uses that
  forgiveness where a fix does not: sizes in seconds or metres are compared to 0.1.

``fits`` and ``drop_penalty`` fixes (the task fits as the plan is) are only checked to fit.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _brute  # noqa: E402
import _machine  # noqa: E402
import numpy as np  # noqa: E402

SIDE_M = 12_000
SPEED = 10.0  # metres per second
DAY = 28_800
CONTINUOUS = ("time_window", "shift_end", "max_duration", "max_distance")  # sized in seconds or metres
FORGIVEN = 0.1  # seconds or metres: what the checker's forgiveness can take off a size, and more


def problem(seed: int) -> dict:
    rng = np.random.default_rng([seed, 42])
    n = int(rng.integers(14, 23))
    points = rng.uniform(0, SIDE_M, (n + 1, 2))
    distances = np.rint(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)))
    vehicles = []
    for k in range(int(rng.integers(2, 4))):
        vehicle = {"id": f"v{k}", "start_index": 0, "end_index": 0, "capacity": [int(rng.integers(8, 14))],
                   "time_window": [0, int(rng.choice((DAY // 2, DAY * 3 // 4, DAY)))]}
        if k == 0:
            vehicle["skills"] = ["cold"]
        limit = rng.integers(0, 4)
        if limit == 1:
            vehicle["max_duration"] = int(rng.integers(6000, 12000))
        elif limit == 2:
            vehicle["max_distance"] = int(rng.integers(25_000, 45_000))
        elif limit == 3:
            vehicle["max_stops"] = int(rng.integers(3, 6))
        vehicles.append(vehicle)
    stops = []
    for i in range(1, n + 1):
        opens = int(rng.integers(0, DAY // 300 - 6)) * 300
        stop = {"id": f"c{i}", "location_index": i, "demand": [int(rng.integers(1, 5))], "service": 300,
                "time_windows": [[opens, opens + int(rng.choice((600, 1200, 1800)))]]}
        if rng.random() < 0.2:
            stop["skills"] = ["cold"]
        if rng.random() < 0.25:
            stop["drop_penalty"] = int(rng.choice((50, 5000)))
        stops.append(stop)
    data = {"vehicles": vehicles, "stops": stops,
            "matrix": {"distances": distances.tolist(), "durations": np.rint(distances / SPEED).tolist()},
            "options": {"time_limit": 1.0, "seed": seed}}
    if rng.random() < 0.4:
        a, b = (int(x) for x in rng.choice(np.arange(1, n + 1), 2, replace=False))
        data["shipments"] = [{"id": "s1", "amount": [int(rng.integers(2, 6))],
                              "pickup": {"location_index": a, "service": 120, "time_windows": [[0, DAY // 3]]},
                              "delivery": {"location_index": b, "service": 120}}]
    return data


def placed(problem, solution, entry, fix) -> bool:
    """Does the relaxed problem take the task where the fix says? (bare steps, the checker times them)"""
    route = next((r for r in solution.routes if r.vehicle_id == fix.vehicle_id), None)
    steps = [{"type": s.type, "id": s.id} for s in route.steps if s.type not in ("start", "end")] if route else []
    labels = ["start", *(s["id"] if s["type"] == "stop" else f"{s['id']}:{s['type']}" for s in steps)]
    if fix.after not in labels:
        return False
    p = labels.index(fix.after)
    if entry.type == "stop":
        steps = steps[:p] + [{"type": "stop", "id": entry.id}] + steps[p:]
    else:
        q = p if fix.delivery_after == f"{entry.id}:pickup" else labels.index(fix.delivery_after)
        steps = (steps[:p] + [{"type": "pickup", "id": entry.id}] + steps[p:q]
                 + [{"type": "delivery", "id": entry.id}] + steps[q:])
    return _brute.fits(problem, solution, entry.type, entry.id, fix.vehicle_id, steps)


def main(argv: list[str] | None = None) -> int:
    from optimizer import check, parse_problem
    from optimizer.decisions import explain
    from optimizer.engines import engine
    from optimizer.travel import Travel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0, help="the first problem's seed")
    args = parser.parse_args(argv)
    print(_machine.header(problems=args.problems, seed=args.seed))

    rows: dict[str, dict] = defaultdict(lambda: {"fixes": 0, "fit": 0, "no_larger": 0, "equal": 0, "sizes": [],
                                                  "over": 0.0})
    unassigned = explained = no_single = 0
    explain_s, brute_s = [], []
    for seed in range(args.seed, args.seed + args.problems):
        data = problem(seed)
        parsed = parse_problem(data)
        solution = engine("ortools").solve(parsed, time_limit=1.0, seed=seed)
        assert check(parsed, solution) == [], f"problem {seed}: the solve itself fails the checker"
        began = time.perf_counter()
        result = explain(parsed, Travel.of(parsed), solution, budget_s=60)
        explain_s.append(time.perf_counter() - began)
        unassigned += len(result.unassigned)
        for entry in result.unassigned:
            explained += entry.fixes is not None
            no_single += entry.fixes == []
            for fix in entry.fixes or []:
                row = rows[fix.kind]
                row["fixes"] += 1
                if fix.kind in ("fits", "drop_penalty"):
                    row["fit"] += placed(parsed, solution, entry, fix)
                    continue
                size = fix.by if fix.by is not None else float(sum(fix.capacity or ()) or len(fix.skills or ()))
                relaxed = _brute.relax(parsed, fix.kind, entry.type, entry.id, fix.vehicle_id, fix.by or 0.0,
                                       tuple(fix.capacity or fix.skills or ()))
                row["fit"] += placed(relaxed, solution, entry, fix)
                began = time.perf_counter()
                least = _brute.smallest(parsed, solution, fix.kind, entry.type, entry.id)
                brute_s.append(time.perf_counter() - began)
                tolerance = FORGIVEN if fix.kind in CONTINUOUS else 1e-9
                row["no_larger"] += least is not None and size <= least + tolerance
                row["equal"] += least is not None and abs(size - least) <= tolerance
                row["over"] = max(row["over"], size - least if least is not None else math.inf)
                row["sizes"].append(size)

    print(f"\n{args.problems} problems, {unassigned} unassigned tasks, {explained} explained, "
          f"{no_single} with no single relaxation; explain {statistics.fmean(explain_s) * 1000:.0f} ms mean, "
          f"{max(explain_s) * 1000:.0f} ms max per solution")
    print(f"{'fix':>14} {'fixes':>6} {'fit':>6} {'<= brute':>9} {'= brute':>8} {'worst over':>11} {'mean size':>10}")
    for kind in ("fits", "drop_penalty", "time_window", "shift_end", "max_duration", "max_distance", "max_stops",
                 "capacity", "skills"):
        if kind not in rows:
            continue
        r = rows[kind]
        if kind in ("fits", "drop_penalty"):
            no_larger = equal = over = size = "-"
        else:
            no_larger, equal, over = str(r["no_larger"]), str(r["equal"]), f"{r['over']:.4f}"
            size = f"{statistics.fmean(r['sizes']):.1f}"
        print(f"{kind:>14} {r['fixes']:6d} {r['fit']:6d} {no_larger:>9} {equal:>8} {over:>11} {size:>10}")
    fixes = sum(r["fixes"] for r in rows.values())
    compared = sum(r["fixes"] for k, r in rows.items() if k not in ("fits", "drop_penalty"))
    fit = sum(r["fit"] for r in rows.values())
    no_larger = sum(r["no_larger"] for r in rows.values())
    print(f"{'all':>14} {fixes:6d} {fit:6d} {no_larger:9d} {sum(r['equal'] for r in rows.values()):8d}")
    print(f"\nbrute force: {len(brute_s)} searches, {sum(brute_s):.1f} s")
    return 0 if fit == fixes and no_larger == compared else 1


if __name__ == "__main__":
    sys.exit(main())
