#!/usr/bin/env python
"""Solution quality as a user gets it: through the API of a running farm, beside the CLI.

    python bench/farm_quality.py /path/to/shared/bench --time-limit 30
    python bench/farm_quality.py BENCH_DIR --time-limit 5 --direct pyvrp vroom
    python bench/farm_quality.py BENCH_DIR --only R101 A-n32-k5 --time-limit 5

Starts ``routefarm up`` (embedded services, one solve worker) on a fresh data folder. Each
instance is submitted with ``POST /v1/jobs`` (``options.time_limit`` and ``seed`` 1), one
job at a time, and read back with long polls; then the same problem is solved by
``routefarm solve`` with the same limit and seed. Both solutions are audited by the
independent checker (``optimizer.check``) against the converted instance and costed as the
published best-known solutions are (``bench/quality.py``). ``--direct`` adds engines called
directly in this process (``optimizer.engines``, the same limit and seed, each solution
re-checked) as further columns. An instance with unassigned stops, violations or no
solution counts as failed and is listed apart.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _farm  # noqa: E402
import _machine  # noqa: E402
import quality  # noqa: E402

FAMILIES = ("solomon", "cvrplib")


def audited(inst: quality.Instance, solution: dict | None, wall: float, note: str = "") -> quality.Result:
    from optimizer import check, parse_problem

    result = quality.Result(inst, wall=wall, note=note)
    if solution is None:
        result.status = "error"
        return result
    violations = check(parse_problem(inst.problem), solution)
    result.status = solution["status"]
    result.distance = solution["summary"]["distance"] if solution["status"] != "no_solution" else None
    result.vehicles, result.unassigned = solution["summary"]["vehicles_used"], solution["summary"]["unassigned"]
    result.violations = len(violations)
    if violations:
        result.note = str(violations[0])
    return result


def through_farm(state: dict, inst: quality.Instance, time_limit: float) -> quality.Result:
    problem = {**inst.problem, "options": {**inst.problem.get("options", {}), "time_limit": time_limit, "seed": 1}}
    api, key = state["api_url"], state["api_key"]
    started = time.monotonic()
    status, body = _farm.api_request(api, key, "POST", "/v1/jobs", {"problem": problem})
    if status != 202:
        return audited(inst, None, 0.0, f"POST answered {status}: {body}")
    job = body["id"]
    while True:
        status, doc = _farm.api_request(api, key, "GET", f"/v1/jobs/{job}?wait=60", timeout=90)
        if status != 200:
            return audited(inst, None, time.monotonic() - started, f"GET answered {status}")
        if doc["status"] in ("succeeded", "failed", "cancelled"):
            break
    wall = time.monotonic() - started
    if doc["status"] != "succeeded":
        return audited(inst, doc.get("solution"), wall, f"job {doc['status']}: {doc.get('error')}")
    return audited(inst, doc["solution"], wall)


def through_cli(inst: quality.Instance, time_limit: float, folder: Path) -> quality.Result:
    path = folder / f"{inst.name}.json"
    path.write_text(json.dumps(inst.problem))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "routefarm", "solve", str(path), "--time-limit", str(time_limit),
                           "--seed", "1"], capture_output=True, text=True, cwd=HERE.parent, check=False)
    wall = time.monotonic() - started
    if done.returncode != 0:
        return audited(inst, None, wall, f"exit {done.returncode}: {done.stderr.strip()[-200:]}")
    return audited(inst, json.loads(done.stdout), wall)


def direct(inst: quality.Instance, name: str, time_limit: float) -> quality.Result:
    from optimizer import parse_problem
    from optimizer.engines import engine, run_checked

    started = time.monotonic()
    checked = run_checked(engine(name), parse_problem(inst.problem), time_limit=time_limit, seed=1)
    wall = time.monotonic() - started
    if checked.solution is None:
        return audited(inst, None, wall, f"{name}: {checked.rejection}")
    return audited(inst, checked.solution.to_json_dict(), wall)


def gap(r: quality.Result) -> str:
    return "-" if r.failed or r.gap is None else f"{r.gap:.2f}"


def report(rows: list[list[quality.Result]], columns: list[str]) -> None:
    print("\n## per instance (gap % to the best-known solution; farm s: submission to result)")
    print(f"{'instance':<12} {'family':<10} {'best':>9} " + " ".join(f"{c + ' %':>10}" for c in columns)
          + f" {'farm s':>7}  notes")
    for results in rows:
        inst = results[0].instance
        notes = "; ".join(f"{c}: {r.note}" for c, r in zip(columns, results, strict=True) if r.note)
        print(f"{inst.name:<12} {inst.entry['format']:<10} {inst.entry['bks']:>9.1f} "
              + " ".join(f"{gap(r):>10}" for r in results) + f" {results[0].wall:>7.1f}  {notes}")
    print("\n## mean gap per family, % (failed instances excluded; solved/total in brackets)")
    print(f"{'family':<10} " + " ".join(f"{c:>14}" for c in columns) + f" {'farm-cli':>9}")
    for family in FAMILIES:
        members = [r for r in rows if r[0].instance.entry["format"] == family]
        if not members:
            continue
        cells, means = [], []
        for k in range(len(columns)):
            good = [r[k].gap for r in members if not r[k].failed]
            mean = statistics.fmean(good) if good else float("nan")
            means.append(mean)
            cells.append(f"{mean:>7.2f} ({len(good)}/{len(members)})")
        print(f"{family:<10} " + " ".join(f"{c:>14}" for c in cells) + f" {means[0] - means[1]:>+9.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", type=Path, help="folder holding bks.json and the instances")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per job")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="instances to run")
    parser.add_argument("--family", choices=FAMILIES)
    parser.add_argument("--direct", nargs="*", default=[], choices=("ortools", "pyvrp", "vroom"),
                        help="engines also called directly, in this process")
    args = parser.parse_args(argv)
    print(_machine.header(time_limit=f"{args.time_limit:g} s", seed=1, path="POST /v1/jobs on routefarm up "
                          "(1 worker) beside routefarm solve"))
    instances = quality.load(args.bench, args.only, args.family)
    farm = _farm.UpFarm("quality", max_workers=1)
    columns = ["farm", "cli", *args.direct]
    rows = []
    try:
        state = farm.wait_ready()
        with tempfile.TemporaryDirectory() as folder:
            for inst in instances:
                results = [through_farm(state, inst, args.time_limit), through_cli(inst, args.time_limit, Path(folder))]
                results += [direct(inst, name, args.time_limit) for name in args.direct]
                rows.append(results)
                print(f"done    {inst.name:<12} " + "  ".join(f"{c} {gap(r):>6} %" for c, r in zip(columns, results,
                                                                                                  strict=True)),
                      flush=True)
    finally:
        farm.stop(keep=False)
    report(rows, columns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
