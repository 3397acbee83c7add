#!/usr/bin/env python
"""How solving scales with size: seeded random VRPTW problems, one fresh process per size.

    python bench/scale.py                                  # 200, 1000, 2000, 5000 stops
    python bench/scale.py --sizes 1000,2000,5000 --time-limit 300   # the curves to 300 s
    python bench/scale.py --sizes 50 --time-limit 2        # a smoke run
    python bench/scale.py --farm                           # the autoscaled farm: 1, 2, 4 workers

Each problem is what a client would send: coordinates (``[lon, lat]``) in a 100 km square
around Berlin (lon 13.4, lat 52.5), a central depot, stops with 5 minutes of service, a
2-hour window on a quarter hour within a 10-hour day and a demand of 1-10; a fleet of about
size/20 vehicles plus 20 % slack whose capacity would carry everything in size/20 of them,
shifts [0, 36000] s, travel at ``options.speed_kmh``. Every stop is mandatory.

Each size is solved in a fresh process, through the solve runner as a farm worker solves it
(the search in a supervised child process; ``routefarm.runner``). "first" is the time until
the first feasible incumbent (every stop served; model building included) and "km@first"
its distance; "km@T" is the
best distance found by T seconds (the curve), "gain" how far the last is below the first;
"base" the process's memory before solving, "child MiB" the solver child's peak resident
memory (``VmHWM``).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):  # the bench helpers and the repository's packages
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _machine  # noqa: E402

CENTRE = (13.4, 52.5)  # lon, lat
HALF_SIDE_KM = 50.0
DAY = 36_000  # seconds
WINDOW = 7_200
SERVICE = 300
STOPS_PER_VEHICLE = 20
FLEET_SLACK = 1.2
CHECKPOINTS = (10, 30, 60, 120, 300)  # seconds at which the curve is read
COLUMNS = (
    ("stops", 6, "d"), ("veh", 4, "d"), ("limit s", 7, ".0f"), ("first s", 8, ".2f"),
    ("km@first", 9, ".1f"), *((f"km@{t}", 9, ".1f") for t in CHECKPOINTS), ("gain %", 7, ".2f"),
    ("used", 5, "d"), ("unass", 5, "d"), ("viol", 5, "d"), ("wall s", 7, ".1f"),
    ("base MiB", 8, ".0f"), ("child MiB", 9, ".0f"),
)
KEYS = (
    "stops", "vehicles", "time_limit", "first_feasible", "first_km", *(f"km@{t}" for t in CHECKPOINTS),
    "gain", "vehicles_used", "unassigned", "violations", "wall_time", "base_mib", "child_mib",
)


def generate(size: int, seed: int, speed_kmh: float) -> dict:
    """A random VRPTW problem (a contract dict) with ``size`` stops."""
    import numpy as np

    rng = np.random.default_rng([seed, size])
    half_lat = HALF_SIDE_KM / 111.195  # km per degree of latitude
    half_lon = HALF_SIDE_KM / (111.195 * math.cos(math.radians(CENTRE[1])))
    lon = CENTRE[0] + rng.uniform(-half_lon, half_lon, size)
    lat = CENTRE[1] + rng.uniform(-half_lat, half_lat, size)
    demand = rng.integers(1, 11, size)
    opens = rng.integers(0, (DAY - WINDOW) // 900 + 1, size) * 900
    nominal = size / STOPS_PER_VEHICLE
    fleet = max(1, math.ceil(nominal * FLEET_SLACK))
    capacity = math.ceil(int(demand.sum()) / nominal)
    stops = [
        {
            "id": f"s{i}",
            "location": [round(float(lon[i]), 6), round(float(lat[i]), 6)],
            "demand": [int(demand[i])],
            "service": SERVICE,
            "time_windows": [[int(opens[i]), int(opens[i]) + WINDOW]],
        }
        for i in range(size)
    ]
    vehicles = [
        {
            "id": f"v{k}",
            "start": list(CENTRE),
            "end": list(CENTRE),
            "capacity": [capacity],
            "time_window": [0, DAY],
        }
        for k in range(1, fleet + 1)
    ]
    return {
        "vehicles": vehicles,
        "stops": stops,
        "objective": "distance",
        "options": {"speed_kmh": speed_kmh, "seed": seed},
    }


def child(size: int, time_limit: float, seed: int, speed_kmh: float, engine: str = "auto") -> dict:
    """Solve one size through the solve runner; return what the parent tabulates."""
    from optimizer import parse_problem
    from optimizer.check import check
    from routefarm.runner import Runner
    from routefarm.runner.memory import default_limit

    data = generate(size, seed, speed_kmh)
    data["options"]["engine"] = engine
    problem = parse_problem(data)
    base = _rss_mib()
    timeline: list[tuple[float, float]] = []  # (elapsed s, km) of every feasible incumbent

    def on_incumbent(incumbent: dict) -> None:
        if incumbent["solution"]["status"] == "feasible":  # every stop served
            timeline.append((incumbent["elapsed"], incumbent["solution"]["summary"]["distance"] / 1000))

    runner = Runner(default_limit(), method="fork")
    result = runner.solve(data, time_limit=time_limit, seed=seed, on_incumbent=on_incumbent)
    solution = result.solution
    if solution is None:
        return {"stops": size, "status": f"failed: {result.failure}", "process_s": 0.0}
    violations = check(problem, solution)
    curve = {f"km@{t}": min((km for at, km in timeline if at <= t), default=None)
             for t in CHECKPOINTS if t <= time_limit + 1e-9}
    first_km = timeline[0][1] if timeline else None
    last_km = solution["summary"]["distance"] / 1000
    return {
        "stops": size,
        "vehicles": len(problem.vehicles),
        "time_limit": time_limit,
        "first_feasible": timeline[0][0] if timeline else None,
        "first_km": first_km,
        **curve,
        "gain": 100 * (first_km - last_km) / first_km if first_km else None,
        "vehicles_used": solution["summary"]["vehicles_used"],
        "unassigned": solution["summary"]["unassigned"],
        "violations": len(violations),
        "wall_time": solution["solver"]["wall_time"],
        "status": solution["status"],
        "stopped_by": solution["solver"]["stopped_by"],
        "search": f'{solution["solver"]["engine"]}: {solution["solver"].get("search")}',
        "base_mib": base,
        "child_mib": (result.peak_rss or 0) / 2**20,
    }


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_size(size: int, time_limit: float, seed: int, speed_kmh: float, engine: str) -> dict:
    """Run one size in a fresh interpreter and collect its JSON line."""
    command = [
        sys.executable, str(Path(__file__).resolve()), "--child", str(size),
        "--time-limit", str(time_limit), "--seed", str(seed), "--speed", str(speed_kmh), "--engine", engine,
    ]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=4 * time_limit + 600, check=False
        )
    except subprocess.TimeoutExpired:
        return {"stops": size, "status": "timeout", "process_s": time.perf_counter() - started}
    elapsed = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"stops": size, "status": f"exit {done.returncode}: {tail}", "process_s": elapsed}
    result = json.loads(lines[-1])
    result["process_s"] = elapsed
    return result


def cell(value: object, width: int, spec: str) -> str:
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:>{width}{spec}}"


def table_row(result: dict) -> str:
    if "wall_time" not in result:
        return f"{result['stops']:>6d}  {result['status']} (after {result['process_s']:.0f} s)"
    cells = [cell(result.get(k), w, s) for k, (_, w, s) in zip(KEYS, COLUMNS, strict=True)]
    return " ".join(cells) + f"  {result['status']}/{result['stopped_by']} {result.get('search')} ({result['process_s']:.0f} s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200,1000,2000,5000", help="comma-separated stops")
    parser.add_argument(
        "--time-limit", type=float, help="seconds per solve (default 30 up to 1000 stops, else 120)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed", type=float, default=40.0, help="km/h (options.speed_kmh)")
    parser.add_argument("--engine", default="auto", choices=("auto", "ortools", "pyvrp", "vroom"),
                        help="options.engine of every problem")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--farm", action="store_true", help="cold start and throughput of routefarm up "
                        "at --workers maxima instead (see bench/_scale_farm.py)")
    parser.add_argument("--workers", default="1,2,4", help="with --farm: comma-separated maxima")
    parser.add_argument("--jobs", type=int, default=40, help="with --farm: jobs per throughput run")
    args = parser.parse_args(argv)
    if args.farm:
        import _scale_farm

        print(_machine.header(jobs=args.jobs, job="10 stops, 1 s"))
        return _scale_farm.main([int(n) for n in args.workers.split(",")], args.jobs)

    if args.child is not None:
        limit = args.time_limit if args.time_limit is not None else default_limit(args.child)
        print(json.dumps(child(args.child, limit, args.seed, args.speed, args.engine)), flush=True)
        return 0

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers (got {args.sizes!r})")
    limits = "default (30 s up to 1000 stops, else 120 s)"
    if args.time_limit is not None:
        limits = f"{args.time_limit:g} s"
    print(_machine.header(time_limit=limits, seed=args.seed, speed=f"{args.speed:g} km/h", engine=args.engine))
    print(" ".join(f"{title:>{width}}" for title, width, _ in COLUMNS) + "  status (process)")
    failed = 0
    for size in sizes:
        limit = args.time_limit if args.time_limit is not None else default_limit(size)
        result = run_size(size, limit, args.seed, args.speed, args.engine)
        failed += result.get("status") != "feasible" or bool(result.get("violations"))
        print(table_row(result), flush=True)
    print("# first s: first incumbent, model building included; km@T: best distance by T s;"
          " gain: last against first; child MiB: the solver child's peak resident memory")
    return 1 if failed else 0


def default_limit(size: int) -> float:
    return 30.0 if size <= 1000 else 120.0


if __name__ == "__main__":
    sys.exit(main())
