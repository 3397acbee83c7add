"""POST /v1/batches/reoptimize: many succeeded jobs re-planned with shared changes, as one batch."""

from __future__ import annotations

import uuid

from reopt_helpers import base_problem, solve_checked, steps
from support import solved_job

PROBLEM_JSON = "application/problem+json"


def two_plans(farm, client_id) -> list[tuple[str, dict]]:
    """Two succeeded jobs of the client with the same stops (two days of one depot, say)."""
    return [solved_job(farm, client_id, base_problem(options={"time_limit": 0.5, "seed": seed}))
            for seed in (1, 2)]


def west_vehicle(solution: dict) -> str:
    return next(r["vehicle_id"] for r in solution["routes"] if any(s.get("id") == "w1" for s in r["steps"]))


def test_shared_changes_apply_to_every_job_with_its_own_vehicles(http, auth, farm):
    client_id, headers = auth()
    plans = two_plans(farm, client_id)
    jobs = []
    for job_id, solution in plans:
        vehicle = west_vehicle(solution)
        jobs.append({"job_id": job_id, "vehicles": [{"id": vehicle, "completed": steps(solution, vehicle)[:1]}]})
    body = {"jobs": jobs, "changes": {"at": 40, "cancel_stops": ["e4"], "reassign_penalty": 1000,
                                      "update_stops": [{"id": "e3", "time_windows": [[0, 5000]]}]},
            "metadata": {"reason": "e4 closed"}}
    response = http.post("/v1/batches/reoptimize", json=body, headers=headers)
    assert response.status_code == 202, response.get_json()
    batch = response.get_json()
    assert batch["total"] == 2 and len(batch["job_ids"]) == 2
    assert response.headers["Location"] == batch["links"]["self"]
    doc = http.get(batch["links"]["self"], headers=headers).get_json()
    assert doc["metadata"] == {"reason": "e4 closed"} and doc["counts"]["queued"] == 2
    for (base_id, solution), new_id in zip(plans, batch["job_ids"], strict=True):
        job = farm.store.get(client_id, uuid.UUID(new_id))
        assert job["metadata"] == {"reoptimized_from": base_id} and str(job["batch_id"]) == batch["id"]
        with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
            problem = conn.execute("SELECT problem FROM jobs WHERE id = %s", (new_id,)).fetchone()[0]
        stop_ids = {s["id"] for s in problem["stops"]}
        first = steps(solution, west_vehicle(solution))[0]
        assert "e4" not in stop_ids and first not in stop_ids  # cancelled everywhere; completed here
        assert problem["vehicles"][0]["time_window"][0] == 40
        assert next(s for s in problem["stops"] if s["id"] == "e3")["time_windows"] == [[0, 5000]]
        solve_checked(problem)


def test_every_error_of_every_job_is_reported_and_nothing_is_created(http, auth, farm):
    client_id, headers = auth()
    (good, solution), _ = two_plans(farm, client_id)
    queued = http.post("/v1/jobs", json={"problem": base_problem(options={"time_limit": 0.5, "seed": 9})},
                       headers=headers).get_json()["id"]
    body = {"jobs": [{"job_id": good, "vehicles": [{"id": "ghost"}]},
                     {"job_id": queued},
                     {"job_id": "00000000-0000-7000-8000-000000000000"},
                     {"job_id": "not-a-uuid", "extra": 1},
                     "nope"],
            "changes": {"at": 10, "cancel_stops": ["zz"], "time_limit": 10_000}}
    response = http.post("/v1/batches/reoptimize", json=body, headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM_JSON
    pointers = {e["pointer"] for e in response.get_json()["errors"]}
    assert pointers == {"/changes/time_limit"}  # checked before any job is read
    body["changes"].pop("time_limit")
    response = http.post("/v1/batches/reoptimize", json=body, headers=headers)
    errors = {e["pointer"]: e["detail"] for e in response.get_json()["errors"]}
    assert set(errors) >= {"/jobs/0/vehicles/0/id", "/changes/cancel_stops/0", "/jobs/1/job_id",
                           "/jobs/2/job_id", "/jobs/3/job_id", "/jobs/3/extra", "/jobs/4"}
    assert "running" in errors["/jobs/1/job_id"] or "queued" in errors["/jobs/1/job_id"]
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        assert conn.execute("SELECT count(*) FROM batches WHERE client_id = %s", (client_id,)).fetchone()[0] == 0
    for bad, pointer in (({"jobs": []}, "/jobs"), ({"jobs": [{"job_id": good}]}, "/jobs/0/at"),
                         ({"jobs": [{"job_id": good}], "changes": {"at": 1, "vehicles": []}}, "/changes/vehicles"),
                         ({"jobs": [{"job_id": good}], "changes": {"at": 1}, "other": 1}, "/other")):
        response = http.post("/v1/batches/reoptimize", json=bad, headers=headers)
        assert response.status_code == 422, bad
        assert pointer in {e["pointer"] for e in response.get_json()["errors"]}


def test_another_clients_jobs_cannot_be_re_planned(http, auth, farm):
    alice_id, _ = auth("alice")
    _, bob = auth("bob")
    (base_id, _), _ = two_plans(farm, alice_id)
    response = http.post("/v1/batches/reoptimize", json={"jobs": [{"job_id": base_id}], "changes": {"at": 0}},
                         headers=bob)
    assert response.status_code == 422
    assert [e["pointer"] for e in response.get_json()["errors"]] == ["/jobs/0/job_id"]
    assert http.post("/v1/batches/reoptimize", json={}).status_code == 401


def test_openapi_documents_batch_reoptimize(http):
    spec = http.get("/openapi.json").get_json()
    post = spec["paths"]["/v1/batches/reoptimize"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BatchReoptimizeRequest")
    assert "VehicleState" in spec["components"]["schemas"]


def test_a_thousand_entries_naming_one_base_job(http, auth, farm):
    """One base job named a thousand times (read once, its problem shared by the derivations):
    one batch of a thousand derived jobs, each with its own request applied."""
    client_id, headers = auth("thousand")
    base, _ = solved_job(farm, client_id, base_problem())
    body = {"jobs": [{"job_id": base, **({"at": 40 + i} if i % 2 else {})} for i in range(1000)],
            "changes": {"at": 40, "cancel_stops": ["e4"]}}
    response = http.post("/v1/batches/reoptimize", json=body, headers=headers)
    assert response.status_code == 202, response.get_json()
    accepted = response.get_json()
    assert accepted["total"] == 1000 and len(set(accepted["job_ids"])) == 1000
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        rows = conn.execute("SELECT problem, metadata FROM jobs WHERE batch_id = %s",
                            (uuid.UUID(accepted["id"]),)).fetchall()
    assert len(rows) == 1000 and {m["reoptimized_from"] for _, m in rows} == {base}
    assert all("e4" not in {s["id"] for s in p["stops"]} for p, _ in rows)
    assert {p["vehicles"][0]["time_window"][0] for p, _ in rows} == {40} | {40 + i for i in range(1, 1000, 2)}
    assert all(p["matrix"] == base_problem()["matrix"] for p, _ in rows)
