"""POST /v1/jobs/{id}/insertions and /apply against real Postgres and Redis (the jobs are
solved here and stored through the job store, or given an incumbent in the cache, as a
worker does)."""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import pytest
from support import assert_problem_json, solved_job

from optimizer import check, parse_problem
from optimizer.decisions import Plan, Quoter, extend
from optimizer.engines import objective_value
from optimizer.model import Shipment, Stop
from optimizer.solution import Solution
from optimizer.travel import Travel

ROOT = Path(__file__).resolve().parents[2]
# van-1 has a lunch break; 14 stops, 3 vans
PROBLEM = {**json.loads((ROOT / "examples" / "deliveries.json").read_text()), "options": {"time_limit": 0.5}}
FLORIST = {"id": "florist", "location": [13.3889, 52.517], "demand": [2], "service": 180,
           "time_windows": [[32400, 50400]]}
BOXES = {"id": "boxes", "amount": [1], "pickup": {"location": [13.41, 52.53], "service": 60},
         "delivery": {"location": [13.35, 52.50], "service": 60, "time_windows": [[36000, 61200]]}}


def stored(farm, client_id: str, job_id: str) -> tuple[dict, dict]:
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        return conn.execute("SELECT problem, metadata FROM jobs WHERE id = %s", (job_id,)).fetchone()


def assert_exact(problem_data: dict, solution_data: dict, body: dict, answer: dict, at=None) -> int:
    """Every insertion of ``answer``, made and checked: feasible, moving the objective by its total."""
    problem, solution = parse_problem(problem_data), Solution.model_validate(solution_data)
    made = 0
    for quoted in answer["tasks"]:  # each task alone, as it was quoted
        stops = [Stop.model_validate(s) for s in body.get("stops", []) if s["id"] == quoted["id"]]
        shipments = [Shipment.model_validate(s) for s in body.get("shipments", []) if s["id"] == quoted["id"]]
        grown, travel = extend(problem, Travel.of(problem), stops, shipments)
        quoter = Quoter(Plan(grown, travel, solution, at))
        [task] = quoter.new_tasks(stops, shipments)
        for insertion in quoted["insertions"]:
            placements = insertion["placements"]
            slot, run = quoter.chosen(task, insertion["vehicle_id"], placements[0]["after"],
                                      placements[1]["after"] if len(placements) > 1 else None)
            after = quoter.plan.with_route(slot.v, run.route, grown)
            assert check(grown, after) == []
            change = objective_value(grown, after) - objective_value(problem, solution)
            assert math.isclose(change, insertion["cost"]["total"], abs_tol=1e-6 * objective_value(problem, solution))
            made += 1
    return made


def test_quotes_on_a_succeeded_job_are_the_cheapest_places_each_exact(http, auth, farm):
    client_id, headers = auth()
    job_id, solution = solved_job(farm, client_id, PROBLEM)
    body = {"stops": [FLORIST], "shipments": [BOXES], "limit": 4}
    response = http.post(f"/v1/jobs/{job_id}/insertions", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["job_id"] == job_id and answer["plan"] == "solution" and answer["objective"] == "distance"
    assert [(t["id"], t["type"]) for t in answer["tasks"]] == [("florist", "stop"), ("boxes", "shipment")]
    for task in answer["tasks"]:
        assert 1 <= len(task["insertions"]) <= 4 and task["closest"] == []
        totals = [i["cost"]["total"] for i in task["insertions"]]
        assert totals == sorted(totals)
        for insertion in task["insertions"]:
            assert insertion["binding"] and set(insertion["slack"]) >= {"time", "capacity"}
            assert all(p["service_start"] >= p["arrival"] for p in insertion["placements"])
    boxes = answer["tasks"][1]["insertions"][0]["placements"]
    assert [p["step"] for p in boxes] == ["boxes:pickup", "boxes:delivery"] and boxes[0]["position"] < boxes[1]["position"]
    assert assert_exact(PROBLEM, solution, body, answer) >= 2


def test_quotes_on_a_running_jobs_incumbent(http, auth, farm):
    client_id, headers = auth()
    _, solution = solved_job(farm, client_id, PROBLEM)  # an incumbent as a worker would stream it
    problem = {**PROBLEM, "options": {"time_limit": 30, "seed": 7}}
    job = http.post("/v1/jobs", json={"problem": problem}, headers=headers).get_json()
    assert farm.store.claim(client_id, uuid.UUID(job["id"]), "test-worker", 30.0) is not None
    body = {"stops": [FLORIST]}
    early = http.post(f"/v1/jobs/{job['id']}/insertions", json=body, headers=headers)
    details = assert_problem_json(early, 409)
    assert details["type"].endswith("job-without-plan") and details["job_status"] == "running"
    farm.cache.put_incumbent(job["id"], solution)
    response = http.post(f"/v1/jobs/{job['id']}/insertions", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["plan"] == "incumbent" and answer["tasks"][0]["insertions"]
    assert assert_exact(problem, solution, body, answer) >= 1


def test_no_plan_no_job_and_another_clients_job(http, auth, farm):
    client_id, headers = auth("alice")
    _, bob = auth("bob")
    queued = http.post("/v1/jobs", json={"problem": PROBLEM}, headers=headers).get_json()
    details = assert_problem_json(http.post(f"/v1/jobs/{queued['id']}/insertions", json={"stops": [FLORIST]},
                                            headers=headers), 409)
    assert details["job_status"] == "queued"
    job_id, _ = solved_job(farm, client_id, PROBLEM)
    assert_problem_json(http.post(f"/v1/jobs/{job_id}/insertions", json={"stops": [FLORIST]}, headers=bob), 404)
    assert_problem_json(http.post(f"/v1/jobs/{uuid.uuid4()}/insertions", json={"stops": [FLORIST]},
                                  headers=headers), 404)


@pytest.mark.parametrize(("body", "pointer"), [
    ({"stops": [{**FLORIST, "id": "order-1"}]}, "/stops/0/id"),
    ({"stops": [{**FLORIST, "location": None, "location_index": 3}]}, "/stops/0/location_index"),
    ({"stops": [{**FLORIST, "demand": [1, 1]}]}, "/stops/0/demand"),
    ({"stops": [{**FLORIST, "time_windows": [[50, 10]]}]}, "/stops/0/time_windows/0"),
    ({"stops": [FLORIST], "limit": 21}, "/limit"),
    ({"stops": []}, "/"),
    ({"stops": [{**FLORIST, "id": f"f{k}"} for k in range(101)]}, "/stops"),
    ({"stops": [FLORIST], "colour": "red"}, "/colour"),
])
def test_bad_new_work_is_pointed_at(http, auth, farm, body, pointer):
    client_id, headers = auth()
    job_id, _ = solved_job(farm, client_id, PROBLEM)
    details = assert_problem_json(http.post(f"/v1/jobs/{job_id}/insertions", json=body, headers=headers), 422)
    assert pointer in [e["pointer"] for e in details["errors"]], details["errors"]


def test_work_that_fits_nowhere_says_why_and_cannot_be_applied(http, auth, farm):
    client_id, headers = auth()
    job_id, _ = solved_job(farm, client_id, PROBLEM)
    piano = {**FLORIST, "id": "piano", "demand": [40]}
    answer = http.post(f"/v1/jobs/{job_id}/insertions", json={"stops": [piano]}, headers=headers).get_json()
    [task] = answer["tasks"]
    assert task["insertions"] == [] and task["closest"]
    assert task["closest"][0]["shortfalls"][0]["constraint"] == "capacity"
    details = assert_problem_json(http.post(f"/v1/jobs/{job_id}/insertions/apply", json={"stops": [piano]},
                                            headers=headers), 409)
    assert details["type"].endswith("no-feasible-insertion") and details["closest"] == task["closest"]


def test_apply_submits_a_reoptimization_warm_started_from_the_chosen_insertion(http, auth, farm):
    client_id, headers = auth()
    job_id, solution = solved_job(farm, client_id, PROBLEM)
    quotes = http.post(f"/v1/jobs/{job_id}/insertions", json={"stops": [FLORIST], "limit": 5},
                       headers=headers).get_json()
    # not the cheapest (the client's choice holds), and after a task (initial routes hold no breaks)
    chosen = [i for i in quotes["tasks"][0]["insertions"] if not i["placements"][0]["after"].startswith("break:")][-1]
    choice = {"vehicle_id": chosen["vehicle_id"], "after": chosen["placements"][0]["after"]}
    body = {"stops": [FLORIST], "choice": choice, "time_limit": 1, "event_id": "evt-florist"}
    response = http.post(f"/v1/jobs/{job_id}/insertions/apply", json=body, headers=headers)
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert job["status"] == "queued" and response.headers["Location"] == job["links"]["self"]
    problem, metadata = stored(farm, client_id, job["id"])
    assert metadata == {"reoptimized_from": job_id, "event_id": "evt-florist",
                        "inserted": {"id": "florist", **choice}}
    assert problem["stops"][-1]["id"] == "florist" and problem["options"]["time_limit"] == 1
    initial = {spec["vehicle_id"]: spec["steps"] for spec in problem["initial_routes"]}
    route = initial[choice["vehicle_id"]]
    position = 0 if choice["after"] == "start" else route.index(choice["after"]) + 1
    assert route[position] == "florist"
    served = {s["id"] if s["type"] == "stop" else f"{s['id']}:{s['type']}" for r in solution["routes"]
              for s in r["steps"] if s["type"] in ("stop", "pickup", "delivery")}
    assert {s for steps in initial.values() for s in steps} == served | {"florist"}  # the plan, and the new stop
    parse_problem(problem)
    again = http.post(f"/v1/jobs/{job_id}/insertions/apply", json=body, headers=headers)
    assert again.status_code == 202 and again.get_json()["id"] == job["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_apply_without_a_choice_takes_the_cheapest_and_at_reports_what_started_before(http, auth, farm):
    client_id, headers = auth()
    job_id, solution = solved_job(farm, client_id, PROBLEM)
    route = max(solution["routes"], key=lambda r: len(r["steps"]))
    first = route["steps"][1]
    at = first["arrival"] + first["waiting"] + 1  # the route's first stop has started
    body = {"shipments": [BOXES], "at": at}
    best = http.post(f"/v1/jobs/{job_id}/insertions", json=body, headers=headers).get_json()
    [pickup, delivery] = best["tasks"][0]["insertions"][0]["placements"]
    response = http.post(f"/v1/jobs/{job_id}/insertions/apply", json=body, headers=headers)
    assert response.status_code == 202, response.get_json()
    problem, metadata = stored(farm, client_id, response.get_json()["id"])
    assert metadata["inserted"] == {"id": "boxes", "vehicle_id": best["tasks"][0]["insertions"][0]["vehicle_id"],
                                    "after": pickup["after"], "delivery_after": delivery["after"]}
    assert first["id"] not in {s["id"] for s in problem["stops"]}  # started before at: done
    assert problem["shipments"][-1]["id"] == "boxes"
    assert all(w[0] >= at or w[1] >= at for v in problem["vehicles"] for w in [v["time_window"]])


def test_apply_refuses_a_choice_that_does_not_exist_or_does_not_fit(http, auth, farm):
    client_id, headers = auth()
    job_id, solution = solved_job(farm, client_id, PROBLEM)
    vehicle = solution["routes"][0]["vehicle_id"]
    cases = [({"vehicle_id": "truck-9", "after": "start"}, "/choice/vehicle_id"),
             ({"vehicle_id": vehicle, "after": "nowhere"}, "/choice/after"),
             ({"vehicle_id": vehicle, "after": "start", "delivery_after": "start"}, "/choice/delivery_after")]
    for choice, pointer in cases:
        details = assert_problem_json(http.post(f"/v1/jobs/{job_id}/insertions/apply",
                                                json={"stops": [FLORIST], "choice": choice}, headers=headers), 422)
        assert [e["pointer"] for e in details["errors"]] == [pointer]
    late = {**FLORIST, "time_windows": [[0, 60]]}  # before any shift opens
    details = assert_problem_json(http.post(f"/v1/jobs/{job_id}/insertions/apply", json={
        "stops": [late], "choice": {"vehicle_id": vehicle, "after": "start"}}, headers=headers), 422)
    [error] = details["errors"]
    assert error["pointer"] == "/choice" and "after its window closes" in error["detail"]
    two = assert_problem_json(http.post(f"/v1/jobs/{job_id}/insertions/apply",
                                        json={"stops": [FLORIST, {**FLORIST, "id": "x"}]}, headers=headers), 422)
    assert two["errors"][0]["pointer"] in ("/", "/stops")
