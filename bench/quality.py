#!/usr/bin/env python
"""Solution quality against best-known results (Solomon VRPTW, CVRPLIB A and X).

    python bench/quality.py /path/to/shared/bench --time-limit 30
    python bench/quality.py BENCH_DIR --only A-n32-k5 --time-limit 2
    python bench/quality.py BENCH_DIR --verify-only      # converters only, no solver

First, cheaply and without the solver, every instance's best-known solution is read and
costed on the converted problem; a cost more than 0.05 % away from the published value, a
route count that differs, or a route that breaks capacity or a time window means the
converter (or the route reader) is wrong, and is printed as a WARNING. Then every instance
is solved once by the OR-Tools engine (seed 1; ``bench/engines.py`` compares the engines and
``auto``), each solution audited by ``optimizer.check``. An instance with unassigned stops,
violations or no solution counts as failed and is listed apart, never averaged in.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):  # the bench helpers and the repository's packages
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _machine  # noqa: E402

from optimizer.convert import convert, cvrplib, routes_distance, solomon  # noqa: E402

TOLERANCE = 0.0005  # 0.05 %
FAMILIES = ("solomon", "cvrplib-A", "cvrplib-X", "cvrplib")


@dataclass
class Instance:
    name: str
    entry: dict
    problem: dict

    @property
    def family(self) -> str:
        if self.entry["format"] == "solomon":
            return "solomon"
        prefix = self.name.split("-", 1)[0]
        return f"cvrplib-{prefix}" if prefix in ("A", "X") else "cvrplib"


@dataclass
class Result:
    instance: Instance
    distance: float | None = None
    vehicles: int = 0
    unassigned: int = 0
    violations: int = 0
    wall: float = 0.0
    status: str = ""
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.status != "feasible" or self.unassigned > 0 or self.violations > 0

    @property
    def gap(self) -> float | None:
        bks = self.instance.entry["bks"]
        return None if self.distance is None else 100.0 * (self.distance - bks) / bks


def load(bench: Path, only: list[str] | None, family: str | None) -> list[Instance]:
    entries = json.loads((bench / "bks.json").read_text())
    unknown = sorted(set(only or []) - entries.keys())
    if unknown:
        sys.exit(f"unknown instance(s): {', '.join(unknown)}")
    instances = []
    for name, entry in entries.items():
        if (only and name not in only) or (family and entry["format"] != family):
            continue
        text = (bench / entry["file"]).read_text()
        problem = convert(text, fmt=entry["format"], fleet=entry.get("fleet"))
        instances.append(Instance(name, entry, problem))
    return instances


def read_solution(bench: Path, inst: Instance) -> list[list[str]]:
    text = (bench / inst.entry["solution"]).read_text()
    if inst.entry["format"] == "solomon":
        return solomon.read_routes(text)
    return cvrplib.read_routes(text, dimension=len(inst.problem["matrix"]["distances"]))


def route_issues(problem: dict, routes: list[list[str]]) -> list[str]:
    """Coverage, capacity and (travel time = distance) time-window breaches of ``routes``."""
    stops = {s["id"]: s for s in problem["stops"]}
    seen = [stop for route in routes for stop in route]
    issues = []
    if sorted(seen) != sorted(stops):
        missing, twice = stops.keys() - set(seen), {s for s in seen if seen.count(s) > 1}
        issues.append(f"covers the stops wrongly (missing {len(missing)}, repeated {len(twice)})")
        return issues
    vehicle = problem["vehicles"][0]
    cap = vehicle["capacity"][0]
    times = problem["matrix"]["durations"]
    start, end = vehicle["start_index"], vehicle["end_index"]
    opens, closes = vehicle.get("time_window") or (0.0, float("inf"))
    for k, route in enumerate(routes, 1):
        load = sum(stops[s]["demand"][0] for s in route)
        if load > cap:
            issues.append(f"route {k} carries {load} > capacity {cap}")
        clock, here = opens, start
        for s in route:
            stop = stops[s]
            clock += times[here][stop["location_index"]]
            windows = stop.get("time_windows") or [[0.0, float("inf")]]
            ready, due = windows[0]
            if clock > due + 1e-6:
                issues.append(f"route {k} reaches stop {s} at {clock:.1f} > due {due}")
            clock = max(clock, ready) + stop.get("service", 0.0)
            here = stop["location_index"]
        clock += times[here][end]
        if clock > closes + 1e-6:
            issues.append(f"route {k} returns at {clock:.1f} > {closes}")
    return issues


def verify(bench: Path, instances: list[Instance]) -> int:
    """Cost every best-known solution on the converted problem; return the warning count."""
    print("## converter check: best-known solutions costed on the converted problems")
    warnings = 0
    for inst in instances:
        bks, expected = inst.entry["bks"], inst.entry["routes"]
        try:
            routes = read_solution(bench, inst)
            cost = routes_distance(inst.problem, routes)
            issues = route_issues(inst.problem, routes)
        except (OSError, ValueError, KeyError) as exc:
            print(f"WARNING {inst.name}: cannot cost the solution: {exc}")
            warnings += 1
            continue
        if abs(cost - bks) > TOLERANCE * bks:
            issues.insert(0, f"cost {cost:.1f} differs from bks {bks} by {cost - bks:+.1f}")
        if len(routes) != expected:
            issues.append(f"{len(routes)} routes, bks.json says {expected}")
        if len(routes) > len(inst.problem["vehicles"]):
            issues.append(f"{len(routes)} routes but a fleet of {len(inst.problem['vehicles'])}")
        line = f"{inst.name:<12} bks {bks:>9.1f}  costed {cost:>9.1f}  routes {len(routes):>3}"
        if issues:
            warnings += 1
            print(f"WARNING {line}: " + "; ".join(issues[:3]))
        else:
            print(f"ok      {line}")
    print(f"# {len(instances) - warnings}/{len(instances)} best-known solutions reproduced\n")
    return warnings


def solve_all(instances: list[Instance], time_limit: float) -> list[Result]:
    # imported here, so that --verify-only needs no solver
    from optimizer import parse_problem
    from optimizer.check import check
    from optimizer.engines import engine

    results = []
    for inst in instances:
        result = Result(inst)
        started = time.perf_counter()
        try:
            problem = parse_problem(inst.problem)
            solution = engine("ortools").solve(problem, time_limit=time_limit, seed=1)
            violations = check(problem, solution)
        except Exception as exc:  # one broken instance must not end the run
            result.status, result.note = "error", f"{type(exc).__name__}: {exc}"
            result.wall = time.perf_counter() - started
        else:
            summary = solution.summary
            result.status = solution.status
            result.distance = summary.distance if solution.status != "no_solution" else None
            result.vehicles, result.unassigned = summary.vehicles_used, summary.unassigned
            result.violations, result.wall = len(violations), solution.solver.wall_time
            if violations:
                result.note = str(violations[0])
        results.append(result)
        print(f"solved  {row(result)}", flush=True)
    return results


def row(r: Result) -> str:
    e = r.instance.entry
    ours = "-" if r.distance is None else f"{r.distance:.1f}"
    gap = "-" if r.gap is None else f"{r.gap:.2f}"
    return (
        f"{r.instance.name:<12} {r.instance.family:<10} {e['bks']:>9.1f} {ours:>9} {gap:>7} "
        f"{r.vehicles:>3}/{e['routes']:<3} {r.unassigned:>5} {r.violations:>5} {r.wall:>7.1f}  "
        f"{r.status}"
    )


def report(results: list[Result]) -> None:
    print("\n## results")
    print(
        f"{'instance':<12} {'family':<10} {'best':>9} {'ours':>9} {'gap %':>7} "
        f"{'veh/bks':<7} {'unass':>5} {'viol':>5} {'wall s':>7}  status"
    )
    for r in results:
        print(row(r))
    print("\n## mean gap per family (failed instances excluded and listed below)")
    for family in FAMILIES:
        members = [r for r in results if family in (r.instance.family, r.instance.entry["format"])]
        if not members:
            continue
        good = [r.gap for r in members if not r.failed and r.gap is not None]
        mean = f"{statistics.fmean(good):.2f} %" if good else "-"
        worst = f", worst {max(good):.2f} %" if good else ""
        print(f"{family:<10} mean gap {mean:>8}  over {len(good)}/{len(members)} solved{worst}")
    failed = [r for r in results if r.failed]
    if failed:
        print(f"\n## failed ({len(failed)}): no solution, unassigned stops or violations")
        for r in failed:
            why = f"status {r.status}, {r.unassigned} unassigned, {r.violations} violations"
            print(f"{r.instance.name:<12} {why}" + (f" — {r.note}" if r.note else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", type=Path, help="folder holding bks.json and the instances")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per instance")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="instances to run")
    parser.add_argument("--family", choices=("solomon", "cvrplib"))
    parser.add_argument("--verify-only", action="store_true", help="check the converters only")
    args = parser.parse_args(argv)

    print(_machine.header(time_limit=f"{args.time_limit:g} s", seed=1))
    instances = load(args.bench, args.only, args.family)
    warnings = verify(args.bench, instances)
    if args.verify_only:
        return 1 if warnings else 0
    report(solve_all(instances, args.time_limit))
    return 1 if warnings else 0


if __name__ == "__main__":
    sys.exit(main())
