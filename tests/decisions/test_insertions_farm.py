"""Quotes and apply through a real farm: gunicorn and a solve worker, HTTP only. A running
job's incumbent (as its worker streams it) is quoted; the succeeded job's cheapest insertion
is applied, and the re-optimization job it creates is solved with the new stop served."""

from __future__ import annotations

import math
import time

from support import call_api

from optimizer import check, parse_problem
from optimizer.decisions import Plan, Quoter, extend
from optimizer.engines import objective_value
from optimizer.model import Stop
from optimizer.solution import Solution
from optimizer.travel import Travel

SIDE = 30  # stops on a grid, 1 km apart
PROBLEM = {
    "vehicles": [{"id": f"v{k}", "start_index": 0, "end_index": 0, "capacity": [12], "time_window": [0, 30000]}
                 for k in range(4)],
    "stops": [{"id": f"c{i}", "location_index": i, "demand": [1], "service": 120,
               "time_windows": [[(i % 5) * 3600, (i % 5) * 3600 + 7200]]} for i in range(1, SIDE + 1)],
    "matrix": {"durations": [[abs(a % 6 - b % 6) * 120 + abs(a // 6 - b // 6) * 120 for b in range(SIDE + 2)]
                             for a in range(SIDE + 2)]},
    "options": {"time_limit": 8, "seed": 3},
}
NEW = {"id": "rush", "location_index": SIDE + 1, "demand": [1], "service": 60, "time_windows": [[3000, 20000]]}


def wait_for(condition, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s")


def test_a_running_jobs_incumbent_is_quoted_and_an_applied_quote_is_solved(processes, client_factory):
    processes.web()
    processes.worker()
    _, key = client_factory("dispatch")
    status, job = call_api(processes.port, "POST", "/v1/jobs", key, {"problem": PROBLEM})
    assert status == 202, job
    path = f"/v1/jobs/{job['id']}"

    def incumbent():
        _, doc = call_api(processes.port, "GET", f"{path}?include=incumbent", key)
        return doc if doc["status"] == "running" and doc.get("incumbent") else None

    wait_for(incumbent, 30)
    status, answer = call_api(processes.port, "POST", f"{path}/insertions", key, {"stops": [NEW], "limit": 3})
    assert status == 200, answer
    assert answer["plan"] == "incumbent" and len(answer["tasks"][0]["insertions"]) == 3
    totals = [i["cost"]["total"] for i in answer["tasks"][0]["insertions"]]
    assert totals == sorted(totals) and totals[0] >= 0  # a detour is never shorter than none here

    done = wait_for(lambda: (doc := call_api(processes.port, "GET", path, key)[1])["status"] == "succeeded"
                    and doc, 40)
    status, answer = call_api(processes.port, "POST", f"{path}/insertions", key, {"stops": [NEW]})
    assert status == 200 and answer["plan"] == "solution"
    problem, solution = parse_problem(PROBLEM), Solution.model_validate(done["solution"])
    grown, travel = extend(problem, Travel.of(problem), [Stop.model_validate(NEW)], [])
    quoter = Quoter(Plan(grown, travel, solution))
    [task] = quoter.new_tasks([Stop.model_validate(NEW)], [])
    best = answer["tasks"][0]["insertions"][0]
    slot, run = quoter.chosen(task, best["vehicle_id"], best["placements"][0]["after"])
    inserted = quoter.plan.with_route(slot.v, run.route, grown)
    assert check(grown, inserted) == []
    change = objective_value(grown, inserted) - objective_value(problem, solution)
    assert math.isclose(change, best["cost"]["total"], abs_tol=1e-6 * objective_value(problem, solution))

    status, accepted = call_api(processes.port, "POST", f"{path}/insertions/apply", key,
                                {"stops": [NEW], "time_limit": 1})
    assert status == 202, accepted
    replanned = wait_for(lambda: (doc := call_api(processes.port, "GET", f"/v1/jobs/{accepted['id']}", key)[1])
                         ["status"] == "succeeded" and doc, 40)
    assert replanned["metadata"]["reoptimized_from"] == job["id"]
    assert replanned["metadata"]["inserted"]["vehicle_id"] == best["vehicle_id"]
    again = Solution.model_validate(replanned["solution"])
    assert check(grown, again) == [] and again.unassigned == []
    # warm-started from the plan with the insertion: no worse than it
    assert objective_value(grown, again) <= objective_value(grown, inserted) + 1e-6
