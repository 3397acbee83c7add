#!/usr/bin/env python
"""Insertion quotes through a running farm: latency, exactness, and against re-optimization.

    python bench/insertions.py                       # 1,000 stops, solved 30 s, 200 quotes, 10 re-plans of 30 s
    python bench/insertions.py --stops 200 --solve 5 --quotes 30 --sample 2 --replan 5   # a smoke run

Starts ``routefarm up`` on a fresh data folder (``_farm.UpFarm``), submits a Solomon-like
VRPTW problem (``problem``: half the stops in clusters, half scattered over a 60 km square
around Berlin, coordinates priced by great circle; 1- to 2-hour windows in a 10-hour day,
5 minutes of service, demands 1-10; a fleet of stops/20 x 1.3 vans; seeded) and waits for
its solution. Then it asks ``POST /v1/jobs/{id}/insertions`` for ``--quotes`` new stops (seeded
places, windows and demands), one at a time, 5 insertions each, and prints:

- the latency of each quote as the client sees it (request sent to answer read), p50, p95,
  p99 and max, the first answer of each API process included (it reads and parses the job);
- every insertion returned, made here (``optimizer.decisions``: the new stop in its place,
  the route timed as the quote times it), held against the problem with the new stop by
  ``optimizer.check``, and its objective change (``engines.score.objective_value`` after minus
  before) compared with the quoted total (1e-6 of the objective): the share that is both;
- for ``--sample`` of the new stops (each re-plan takes ``--replan`` seconds, so not all),
  a re-optimization of the job with the stop added (``POST /v1/jobs/{id}/reoptimize``,
  warm-started from the plan): the cheapest quote's total beside the re-planned objective
  minus the base objective. A re-plan also improves the rest of the plan, so one re-plan
  without any new stop (the same seconds and seed) is the control: "re-plan - control" is
  what the stop costs after re-planning, as far as one search's noise allows.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):  # the bench helpers and the repository's packages
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _farm  # noqa: E402
import _machine  # noqa: E402
import numpy as np  # noqa: E402
from scale import CENTRE, DAY, SERVICE, STOPS_PER_VEHICLE  # noqa: E402  (bench/scale.py's day and depot)

HALF_SIDE_KM = 30.0
CLUSTERS = 12
CLUSTER_KM = 2.0  # standard deviation of a cluster's stops around its centre
FLEET_SLACK = 1.3


def _degrees(km_east: np.ndarray, km_north: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = CENTRE[1] + km_north / 111.195
    lon = CENTRE[0] + km_east / (111.195 * math.cos(math.radians(CENTRE[1])))
    return lon, lat


def places(rng: np.random.Generator, n: int, centres: np.ndarray) -> list[list[float]]:
    """Half clustered around ``centres`` (km), half scattered."""
    clustered = n // 2
    which = rng.integers(0, len(centres), clustered)
    east = np.concatenate([centres[which, 0] + rng.normal(0, CLUSTER_KM, clustered),
                           rng.uniform(-HALF_SIDE_KM, HALF_SIDE_KM, n - clustered)])
    north = np.concatenate([centres[which, 1] + rng.normal(0, CLUSTER_KM, clustered),
                            rng.uniform(-HALF_SIDE_KM, HALF_SIDE_KM, n - clustered)])
    east, north = np.clip(east, -HALF_SIDE_KM, HALF_SIDE_KM), np.clip(north, -HALF_SIDE_KM, HALF_SIDE_KM)
    lon, lat = _degrees(east, north)
    return [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]


def window(rng: np.random.Generator) -> list[int]:
    width = int(rng.choice((3600, 5400, 7200)))
    opens = int(rng.integers(0, (DAY - width) // 300 + 1)) * 300
    return [opens, opens + width]


def problem(stops: int, seed: int, time_limit: float) -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng([seed, stops])
    centres = rng.uniform(-HALF_SIDE_KM * 0.8, HALF_SIDE_KM * 0.8, (CLUSTERS, 2))
    fleet = math.ceil(stops / STOPS_PER_VEHICLE * FLEET_SLACK)
    demand = rng.integers(1, 11, stops)
    capacity = math.ceil(int(demand.sum()) / (stops / STOPS_PER_VEHICLE))
    data = {
        "vehicles": [{"id": f"van-{k}", "start": list(CENTRE), "end": list(CENTRE), "capacity": [capacity],
                      "time_window": [0, DAY]} for k in range(1, fleet + 1)],
        "stops": [{"id": f"c{i}", "location": where, "demand": [int(demand[i])], "service": SERVICE,
                   "time_windows": [window(rng)]} for i, where in enumerate(places(rng, stops, centres))],
        "objective": "distance",
        "options": {"time_limit": time_limit, "seed": seed},
    }
    return data, centres


def new_stops(count: int, seed: int, centres: np.ndarray) -> list[dict]:
    rng = np.random.default_rng([seed, 7, count])
    return [{"id": f"new-{k}", "location": where, "demand": [int(rng.integers(1, 6))], "service": SERVICE,
             "time_windows": [window(rng)]} for k, where in enumerate(places(rng, count, centres))]


def wait_job(api: str, key: str, job_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, doc = _farm.api_request(api, key, "GET", f"/v1/jobs/{job_id}?wait=30", timeout=40)
        if status == 200 and doc["status"] in ("succeeded", "failed", "cancelled"):
            return doc
    raise SystemExit(f"job {job_id} did not end within {timeout:g} s")


class Exactness:
    """Each quoted insertion made here and checked (the problem with the new stop, the plan with it)."""

    def __init__(self, data: dict, solution: dict):
        from optimizer import parse_problem
        from optimizer.engines import objective_value
        from optimizer.solution import Solution
        from optimizer.travel import Travel

        self.problem = parse_problem(data)
        self.solution = Solution.model_validate(solution)
        self.travel = Travel.of(self.problem)
        self.before = objective_value(self.problem, self.solution)
        self.checked = self.exact = 0
        self.worst = 0.0  # the largest |objective change - quoted total|

    def hold(self, stop: dict, insertions: list[dict]) -> None:
        from optimizer import check
        from optimizer.decisions import Plan, Quoter, extend
        from optimizer.engines import objective_value
        from optimizer.model import Stop

        new = Stop.model_validate(stop)
        grown, travel = extend(self.problem, self.travel, [new], [])
        quoter = Quoter(Plan(grown, travel, self.solution))
        [task] = quoter.new_tasks([new], [])
        for insertion in insertions:
            slot, run = quoter.chosen(task, insertion["vehicle_id"], insertion["placements"][0]["after"])
            after = quoter.plan.with_route(slot.v, run.route, grown)
            miss = abs(objective_value(grown, after) - self.before - insertion["cost"]["total"])
            self.worst = max(self.worst, miss)
            self.checked += 1
            self.exact += not check(grown, after) and miss <= 1e-6 * self.before


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stops", type=int, default=1000)
    parser.add_argument("--solve", type=float, default=30.0, help="seconds for the base solve")
    parser.add_argument("--quotes", type=int, default=200, help="new stops quoted, one at a time")
    parser.add_argument("--sample", type=int, default=10, help="new stops re-planned in full")
    parser.add_argument("--replan", type=float, default=30.0, help="seconds of each re-plan")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the farm's data folder and logs")
    args = parser.parse_args(argv)
    print(_machine.header(stops=args.stops, solve=f"{args.solve:g}s", quotes=args.quotes, seed=args.seed))

    data, centres = problem(args.stops, args.seed, args.solve)
    farm = _farm.UpFarm("insertions")
    try:
        state = farm.wait_ready()
        api, key = state["api_url"], state["api_key"]
        status, job = _farm.api_request(api, key, "POST", "/v1/jobs", {"problem": data}, timeout=60)
        if status != 202:
            raise SystemExit(f"submission answered {status}: {job}")
        done = wait_job(api, key, job["id"], args.solve + 300)
        if done["status"] != "succeeded":
            raise SystemExit(f"the base job ended {done['status']}: {done.get('error')}")
        solution = done["solution"]
        exact = Exactness(data, solution)
        stops = new_stops(args.quotes, args.seed, centres)
        latencies, totals, none_fit = [], {}, 0
        for stop in stops:
            began = time.perf_counter()
            status, answer = _farm.api_request(api, key, "POST", f"/v1/jobs/{job['id']}/insertions",
                                               {"stops": [stop], "limit": 5})
            latencies.append((time.perf_counter() - began) * 1000)
            if status != 200:
                raise SystemExit(f"a quote answered {status}: {answer}")
            insertions = answer["tasks"][0]["insertions"]
            none_fit += not insertions
            if insertions:
                totals[stop["id"]] = insertions[0]["cost"]["total"]
            exact.hold(stop, insertions)
        replans = replan(api, key, job["id"], exact, stops, totals, args.sample, args.replan)
    finally:
        farm.stop(args.keep)

    summary = solution["summary"]
    print(f"\nbase plan: {args.stops} stops, {summary['vehicles_used']} vans, {summary['distance'] / 1000:.1f} km, "
          f"{summary['unassigned']} unassigned ({args.solve:g} s)")
    print(f"\nquotes: {len(latencies)} new stops, one at a time, 5 insertions each "
          f"({none_fit} fit nowhere)")
    print(f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'mean ms':>8} | {'checked':>8} {'exact':>8} "
          f"{'exact %':>8} {'worst diff':>11}")
    print(f"{percentile(latencies, 50):8.1f} {percentile(latencies, 95):8.1f} {percentile(latencies, 99):8.1f} "
          f"{max(latencies):8.1f} {statistics.fmean(latencies):8.1f} | {exact.checked:8d} {exact.exact:8d} "
          f"{100 * exact.exact / max(1, exact.checked):8.1f} {exact.worst:11.2e}")
    control = replans.pop(0)[2] if replans else math.nan
    print(f"\nagainst re-optimization: {len(replans)} of the {len(stops)} stops (each re-plan {args.replan:g} s), "
          "metres")
    print(f"control: a re-plan without a new stop, minus the base objective: {control:.1f}")
    print(f"{'stop':>8} {'quote':>10} {'re-plan':>10} {'re-plan - quote':>16} {'re-plan - control':>18}")
    for stop_id, quoted, replanned in replans:
        print(f"{stop_id:>8} {quoted:10.1f} {replanned:10.1f} {replanned - quoted:16.1f} "
              f"{replanned - control:18.1f}")
    if replans:
        print(f"{'mean':>8} {statistics.fmean(q for _, q, _ in replans):10.1f} "
              f"{statistics.fmean(r for _, _, r in replans):10.1f} "
              f"{statistics.fmean(r - q for _, q, r in replans):16.1f} "
              f"{statistics.fmean(r - control for _, _, r in replans):18.1f}")
    return 0 if exact.exact == exact.checked else 1


def replan(api: str, key: str, job_id: str, exact: Exactness, stops: list[dict], totals: dict,
           sample: int, seconds: float) -> list[tuple[str, float, float]]:
    """(stop, cheapest quote, re-planned objective - base objective) for ``sample`` quoted
    stops, after the control (no stop: ``("-", nan, ...)``) when there is a sample."""
    from optimizer import parse_problem
    from optimizer.engines import objective_value
    from optimizer.solution import Solution

    chosen = [s for s in stops if s["id"] in totals][:sample]
    jobs = []
    for stop in [None, *chosen] if chosen else []:  # submitted together: the workers take them in turn
        body = {"at": 0, "add_stops": [stop] if stop else [], "time_limit": seconds}
        status, accepted = _farm.api_request(api, key, "POST", f"/v1/jobs/{job_id}/reoptimize", body)
        if status != 202:
            raise SystemExit(f"a re-plan answered {status}: {accepted}")
        jobs.append((stop, accepted["id"]))
    base = exact.problem.model_dump(mode="json", exclude_none=True)
    out = []
    for stop, new_id in jobs:
        doc = wait_job(api, key, new_id, seconds * len(jobs) + 300)
        grown = parse_problem({**base, "stops": [*base["stops"], *([stop] if stop else [])]})
        after = objective_value(grown, Solution.model_validate(doc["solution"]))
        out.append((stop["id"], totals[stop["id"]], after - exact.before) if stop else ("-", math.nan,
                                                                                     after - exact.before))
    return out


if __name__ == "__main__":
    sys.exit(main())
