"""POST /v1/jobs/{id}/reoptimize against real Postgres and Redis (no worker: the base job is
solved here and finished through the job store, as a worker would)."""

import uuid

from reopt_helpers import base_problem, solve_checked, steps

from optimizer import parse_problem

PROBLEM_JSON = "application/problem+json"


def solved_job(http, headers, farm, client_id) -> tuple[str, dict]:
    """A succeeded job of the client: (job id, solution JSON)."""
    problem = base_problem()
    job = http.post("/v1/jobs", json={"problem": problem}, headers=headers).get_json()
    job_id = uuid.UUID(job["id"])
    solution = solve_checked(problem).to_json_dict()
    assert farm.store.claim(client_id, job_id, "test-worker", 30.0) is not None
    assert farm.store.finish(client_id, job_id, "test-worker", "succeeded", solution, None) is not None
    return job["id"], solution


def stored(farm, client_id, job_id) -> tuple[dict, dict]:
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        return conn.execute("SELECT problem, metadata FROM jobs WHERE id = %s", (job_id,)).fetchone()


def test_reoptimize_submits_the_derived_problem(http, auth, farm):
    client_id, headers = auth()
    base_id, solution = solved_job(http, headers, farm, client_id)
    vehicle = next(r["vehicle_id"] for r in solution["routes"] if any(s.get("id") == "w1" for s in r["steps"]))
    plan = steps(solution, vehicle)  # the west route: stops only
    body = {"event_id": "evt-1", "at": 30,
            "vehicles": [{"id": vehicle, "completed": plan[:1], "in_progress": plan[1]}],
            "add_stops": [{"id": "late", "location_index": 11, "demand": [1]}]}
    response = http.post(f"/v1/jobs/{base_id}/reoptimize", json=body, headers=headers)
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert job["status"] == "queued" and response.headers["Location"] == job["links"]["self"]
    problem, metadata = stored(farm, client_id, job["id"])
    assert metadata == {"reoptimized_from": base_id, "event_id": "evt-1"}
    assert problem["locked"] == [{"vehicle_id": vehicle, "steps": plan[1:2]}]
    assert plan[0] not in {s["id"] for s in problem["stops"]}
    assert "late" in {s["id"] for s in problem["stops"]}
    solve_checked(problem)  # what the worker will solve; the checker verifies the lock
    doc = http.get(job["links"]["self"], headers=headers).get_json()
    assert doc["metadata"]["reoptimized_from"] == base_id

    again = http.post(f"/v1/jobs/{base_id}/reoptimize", json=body, headers=headers)
    assert again.status_code == 202 and again.get_json()["id"] == job["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = http.post(f"/v1/jobs/{base_id}/reoptimize", json={**body, "at": 31}, headers=headers)
    assert other.status_code == 422 and other.mimetype == PROBLEM_JSON  # same event, other content


def test_without_event_id_each_request_is_a_new_job(http, auth, farm):
    client_id, headers = auth()
    base_id, _ = solved_job(http, headers, farm, client_id)
    first = http.post(f"/v1/jobs/{base_id}/reoptimize", json={"at": 10}, headers=headers)
    second = http.post(f"/v1/jobs/{base_id}/reoptimize", json={"at": 20}, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.get_json()["id"] != second.get_json()["id"]
    problem, metadata = stored(farm, client_id, first.get_json()["id"])
    assert metadata == {"reoptimized_from": base_id}
    assert parse_problem(problem).vehicles[0].time_window == (10, 10_000)


def test_a_base_job_that_has_not_succeeded_is_a_conflict(http, auth):
    _, headers = auth()
    queued = http.post("/v1/jobs", json={"problem": base_problem()}, headers=headers).get_json()
    response = http.post(f"/v1/jobs/{queued['id']}/reoptimize", json={"at": 0}, headers=headers)
    assert response.status_code == 409 and response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert body["type"].endswith("job-not-succeeded") and body["job_status"] == "queued"


def test_another_clients_job_is_not_found(http, auth, farm):
    alice_id, alice = auth("alice")
    _, bob = auth("bob")
    base_id, _ = solved_job(http, alice, farm, alice_id)
    assert http.post(f"/v1/jobs/{base_id}/reoptimize", json={"at": 0}, headers=bob).status_code == 404
    assert http.post("/v1/jobs/nope/reoptimize", json={"at": 0}, headers=bob).status_code == 404
    assert http.post(f"/v1/jobs/{base_id}/reoptimize", json={"at": 0}, headers=alice).status_code == 202
    assert http.post(f"/v1/jobs/{base_id}/reoptimize", json={"at": 0}).status_code == 401


def test_invalid_requests_list_errors_with_pointers(http, auth, farm):
    client_id, headers = auth()
    base_id, solution = solved_job(http, headers, farm, client_id)
    url = f"/v1/jobs/{base_id}/reoptimize"
    vehicle = solution["routes"][0]["vehicle_id"]
    body = {"at": 5, "vehicles": [{"id": vehicle, "completed": ["e1", "nowhere"]}], "cancel_stops": ["zz"]}
    response = http.post(url, json=body, headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM_JSON
    errors = {e["pointer"]: e["detail"] for e in response.get_json()["errors"]}
    assert errors["/vehicles/0/completed/1"].startswith("unknown step 'nowhere'")
    assert errors["/cancel_stops/0"] == "unknown stop or shipment 'zz'"
    for bad, pointer in (({"at": 1, "base_job_id": base_id}, "/base_job_id"),
                         ({"at": 1, "client_id": "x"}, "/client_id"),
                         ({"at": -1}, "/at"),
                         ({"at": 1, "time_limit": 10_000}, "/time_limit")):
        response = http.post(url, json=bad, headers=headers)
        assert response.status_code == 422, bad
        assert pointer in {e["pointer"] for e in response.get_json()["errors"]}
    response = http.post(url, data="{", headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.mimetype == PROBLEM_JSON


def test_openapi_documents_the_endpoint(http):
    spec = http.get("/openapi.json").get_json()
    post = spec["paths"]["/v1/jobs/{job_id}/reoptimize"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ReoptimizeBody")
    assert set(post["responses"]) >= {"202", "404", "409", "422"}
    schemas = spec["components"]["schemas"]
    assert {"at", "vehicles", "add_stops", "cancel_stops", "update_stops", "event_id"} <= set(
        schemas["ReoptimizeBody"]["properties"])
    assert "description" in schemas["VehicleState"]["properties"]["position"]
    assert "changes" in schemas["Solution"]["properties"]
