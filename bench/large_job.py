#!/usr/bin/env python
"""One large job through a running farm: lease renewals, first feasible plan, the curve, memory.

    python bench/large_job.py                          # 5,000 stops, 300 s
    python bench/large_job.py --stops 1000 --time-limit 30

Starts ``routefarm up`` (embedded services, one solve worker) on a fresh data folder and
submits one VRPTW job of ``bench/scale.py``'s kind (coordinates, 2-hour windows, every stop
mandatory) with ``POST /v1/jobs``. While it runs, ``GET /v1/jobs/{id}?include=incumbent`` is
read every second: each new feasible incumbent's distance and ``progress.found_at`` give the
curve a user sees. When the job ends, the worker's own log line for the solve gives the
lease renewals (count and the longest gap between two, against a third of the lease), and
the solver child's peak resident memory; the stored solution is audited by the checker.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _farm  # noqa: E402
import _machine  # noqa: E402
import scale  # noqa: E402

CHECKPOINTS = (10, 30, 60, 120, 300)


def _seconds_between(later: str, earlier: str) -> float:
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(later) - parse(earlier)).total_seconds()


def solve_ended(log: Path, job_id: str) -> dict | None:
    """The worker's "solve ended" log line for the job (JSON after the process prefix)."""
    for line in log.read_text(errors="replace").splitlines():
        if '"solve ended"' in line and job_id in line:
            return json.loads(line[line.index("{"):])
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stops", type=int, default=5000)
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", default="auto", choices=("auto", "ortools", "pyvrp", "vroom"),
                        help="options.engine of the job")
    args = parser.parse_args(argv)
    print(_machine.header(stops=args.stops, time_limit=f"{args.time_limit:g} s", seed=args.seed,
                          engine=args.engine, path="POST /v1/jobs on routefarm up (1 worker)"))
    problem = scale.generate(args.stops, args.seed, 40.0)
    problem["options"]["time_limit"] = args.time_limit
    problem["options"]["engine"] = args.engine
    farm = _farm.UpFarm("large", max_workers=1)
    curve: list[tuple[float, float]] = []  # (seconds since the job started, km) of feasible incumbents
    try:
        state = farm.wait_ready()
        api, key = state["api_url"], state["api_key"]
        status, body = _farm.api_request(api, key, "POST", "/v1/jobs", {"problem": problem}, timeout=120)
        assert status == 202, (status, body)
        job_id = body["id"]
        seen = None
        while True:
            status, doc = _farm.api_request(api, key, "GET", f"/v1/jobs/{job_id}?include=incumbent", timeout=60)
            assert status == 200, (status, doc)
            if doc["status"] in ("succeeded", "failed", "cancelled"):
                break
            incumbent, progress = doc.get("incumbent"), doc.get("progress") or {}
            if incumbent and incumbent["status"] == "feasible" and progress.get("found_at") != seen:
                seen = progress["found_at"]
                curve.append((_seconds_between(seen, doc["started_at"]), incumbent["summary"]["distance"] / 1000))
            time.sleep(1.0)
        ended = solve_ended(farm.data / "up.log", job_id)
    finally:
        farm.stop(keep=False)

    from optimizer import check, parse_problem

    solution = doc.get("solution")
    violations = check(parse_problem(problem), solution) if solution else []
    lease = 20.0  # routefarm up's default ROUTEFARM_LEASE_S
    print(f"\njob {doc['status']} {('(' + str(doc.get('error')) + ')') if doc.get('error') else ''}")
    if solution:
        summary = solution["summary"]
        print(f"final: {summary['distance'] / 1000:.1f} km, {summary['vehicles_used']} vehicles, "
              f"{summary['unassigned']} unassigned, {len(violations)} violations, search {solution['solver'].get('search')}")
    if curve:
        first_s, first_km = curve[0]
        last_km = solution["summary"]["distance"] / 1000 if solution else curve[-1][1]
        print(f"\n{'first s':>8} {'km@first':>9} " + " ".join(f"{'km@' + str(t):>9}" for t in CHECKPOINTS)
              + f" {'gain %':>7}")
        cells = [f"{min((km for at, km in curve if at <= t), default=float('nan')):>9.1f}" for t in CHECKPOINTS]
        print(f"{first_s:>8.1f} {first_km:>9.1f} " + " ".join(cells) + f" {100 * (first_km - last_km) / first_km:>7.2f}")
        print("# read from the API once a second: km@T is the best feasible incumbent found by T s")
    if ended:
        gap = ended.get("lease_max_gap_s")
        print(f"\nlease {lease:g} s: {ended.get('lease_renewals')} renewals, longest gap {gap} s "
              f"(limit lease/3 = {lease / 3:.2f} s: {'met' if gap is not None and gap <= lease / 3 else 'NOT met'})")
        print(f"solver child peak RSS {ended.get('peak_rss_bytes', 0) / 2**20:.0f} MiB, "
              f"{ended.get('incumbents')} incumbents received, solve {ended.get('elapsed_s')} s")
    else:
        print("\nno 'solve ended' line found in the worker's log")
    return 0 if doc["status"] == "succeeded" and not violations else 1


if __name__ == "__main__":
    sys.exit(main())
