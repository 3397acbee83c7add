#!/usr/bin/env python
"""The engines side by side on the Solomon and CVRPLIB sets, and the strategies of ``auto``.

    python bench/engines.py BENCH_DIR --time-limit 5 --time-limit 30
    python bench/engines.py BENCH_DIR --time-limit 5 --only C101 A-n32-k5 --columns pyvrp vroom

Instances are loaded and converted by ``bench/quality.py`` (its docstring and the bench
folder's README give the distance conventions). Each column is an engine called directly
(``ortools``, ``pyvrp``, ``vroom``) or a strategy of ``optimizer.engines.plan.STRATEGIES``
run by the portfolio (``vroom>pyvrp``: VROOM first, PyVRP warm-started for the rest), or
``auto`` (``optimizer.solve``: its plan);
same machine, same time limit, seed 1, one solve at a time. Every solution is re-checked
against the problem with ``optimizer.check``; an instance with a violation, unassigned
stops or no solution is failed and left out of the means. Printed per time limit: the gap
to the best-known solution per instance and column, and the mean gap per family.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _machine  # noqa: E402
from quality import FAMILIES, Instance, load  # noqa: E402

from optimizer import check, parse_problem, solve  # noqa: E402
from optimizer.engines import STRATEGIES, engine  # noqa: E402
from optimizer.engines.portfolio import run as run_steps  # noqa: E402

COLUMNS = ("ortools", "pyvrp", "vroom", "vroom>pyvrp", "vroom>ortools")
ENGINES = ("ortools", "pyvrp", "vroom")


def run(inst: Instance, column: str, time_limit: float) -> tuple[float | None, str]:
    """(gap %, note) of one column on one instance; gap None when failed."""
    problem = parse_problem(inst.problem)
    started = time.monotonic()
    try:
        if column in ENGINES:
            solution = engine(column).solve(problem, time_limit=time_limit, seed=1, started=started)
        elif column == "auto":
            solution = solve(problem, time_limit=time_limit, seed=1, started=started)
        else:
            solution = run_steps(problem, STRATEGIES[column](time_limit), time_limit=time_limit, seed=1,
                                 started=started)
    except Exception as exc:  # one failure must not end the run
        return None, f"{type(exc).__name__}: {exc}"
    wall = time.monotonic() - started
    violations = check(problem, solution)
    if violations or solution.status != "feasible" or solution.summary.unassigned:
        why = str(violations[0]) if violations else f"{solution.status}, {solution.summary.unassigned} unassigned"
        return None, why
    bks = inst.entry["bks"]
    return 100.0 * (solution.summary.distance - bks) / bks, f"{wall:.1f}s {solution.summary.vehicles_used}v"


def bench(instances: list[Instance], columns: list[str], time_limit: float) -> dict:
    print(f"\n## time limit {time_limit:g} s", flush=True)
    gaps: dict[tuple[str, str], float | None] = {}
    for inst in instances:
        cells = []
        for column in columns:
            gap, note = run(inst, column, time_limit)
            gaps[(inst.name, column)] = gap
            cells.append(f"{column} {'FAILED' if gap is None else f'{gap:.2f}%'} ({note})")
        print(f"{inst.name:<12} " + " | ".join(cells), flush=True)
    return gaps


def table(instances: list[Instance], columns: list[str], time_limit: float, gaps: dict) -> None:
    print(f"\n### gap to best-known, % (time limit {time_limit:g} s, seed 1, checked)")
    print("| instance | family | " + " | ".join(columns) + " |")
    print("|---|---|" + "---:|" * len(columns))
    for inst in instances:
        cells = ["failed" if gaps[(inst.name, c)] is None else f"{gaps[(inst.name, c)]:.2f}" for c in columns]
        print(f"| {inst.name} | {inst.family} | " + " | ".join(cells) + " |")
    print(f"\n### mean gap per family, % (time limit {time_limit:g} s; failed instances excluded, "
          "solved/total in brackets)")
    print("| family | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for family in FAMILIES:
        members = [i for i in instances if family in (i.family, i.entry["format"])]
        if not members:
            continue
        cells = []
        for c in columns:
            good = [gaps[(i.name, c)] for i in members if gaps[(i.name, c)] is not None]
            mean = f"{statistics.fmean(good):.2f}" if good else "-"
            cells.append(f"{mean} ({len(good)}/{len(members)})")
        print(f"| {family} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", type=Path, help="folder holding bks.json and the instances")
    parser.add_argument("--time-limit", type=float, action="append", help="seconds (repeatable)")
    parser.add_argument("--only", nargs="+", metavar="NAME")
    parser.add_argument("--family", choices=("solomon", "cvrplib"))
    parser.add_argument("--columns", nargs="+", default=list(COLUMNS),
                        choices=[*ENGINES, *STRATEGIES, "auto"])
    args = parser.parse_args(argv)
    limits = args.time_limit or [5.0]
    print(_machine.header(time_limit=", ".join(f"{t:g} s" for t in limits), seed=1))
    print("engines: " + ", ".join(f"{n} {engine(n).version}" for n in ENGINES))
    instances = load(args.bench, args.only, args.family)
    results = [(t, bench(instances, args.columns, t)) for t in limits]
    for t, gaps in results:
        table(instances, args.columns, t, gaps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
