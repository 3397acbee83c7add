"""The batch API against real Postgres and Redis (no worker: jobs stay queued here)."""

from __future__ import annotations

import copy

import pytest
import redis
from support import SMALL_PROBLEM, finish_job, make_settings

RECEIVER = "http://127.0.0.1:9/hooks"


@pytest.fixture
def settings(databases, redis_server):
    for db in (10, 11):
        redis.Redis.from_url(f"{redis_server}/{db}").flushdb()
    return make_settings(databases, redis_server, webhook_allowlist="127.0.0.0/8", max_batch_jobs=50)


def problem(n: int) -> dict:
    p = copy.deepcopy(SMALL_PROBLEM)
    p["stops"][0]["demand"] = [1 + n]
    return p


def counts(farm, client_id: str) -> tuple[int, int]:
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        batches = conn.execute("SELECT count(*) FROM batches WHERE client_id = %s", (client_id,)).fetchone()[0]
        jobs = conn.execute("SELECT count(*) FROM jobs WHERE client_id = %s", (client_id,)).fetchone()[0]
    return batches, jobs


def test_a_batch_is_created_in_one_go(http, auth, farm):
    client_id, headers = auth()
    body = {"jobs": [{"problem": problem(i), "metadata": {"n": i}} for i in range(5)], "metadata": {"night": 1}}
    response = http.post("/v1/batches", json=body, headers=headers)
    assert response.status_code == 202
    accepted = response.get_json()
    assert accepted["total"] == 5 and len(accepted["job_ids"]) == 5
    assert response.headers["Location"] == accepted["links"]["self"] == f"/v1/batches/{accepted['id']}"

    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        rows = conn.execute("SELECT id, status, batch_id, message_id, metadata FROM jobs WHERE batch_id = %s"
                            " ORDER BY id", (accepted["id"],)).fetchall()
    assert {str(r[0]) for r in rows} == set(accepted["job_ids"])
    assert {r[1] for r in rows} == {"queued"} and sorted(r[4]["n"] for r in rows) == list(range(5))
    assert all(farm.broker.client.hexists("dramatiq:solve.msgs", f"{r[3]}.0") for r in rows)  # all sent

    doc = http.get(accepted["links"]["self"], headers=headers).get_json()
    assert doc["status"] == "queued" and doc["total"] == 5 and doc["done"] == 0 and doc["percent_done"] == 0
    assert doc["counts"] == {"queued": 5, "running": 0, "succeeded": 0, "failed": 0, "cancelled": 0}
    assert doc["metadata"] == {"night": 1} and doc["started_at"] is None and doc["finished_at"] is None
    job = http.get(f"/v1/jobs/{accepted['job_ids'][0]}", headers=headers).get_json()
    assert job["batch_id"] == accepted["id"]


def test_one_invalid_job_creates_nothing_and_every_error_points_into_the_batch(http, auth, farm):
    client_id, headers = auth()
    bad = problem(1)
    bad["stops"][0]["time_windows"] = [[500, 400]]
    jobs = [{"problem": problem(0)}, {"problem": problem(2)}, {"problem": problem(3)}, {"problem": bad},
            {"problem": problem(4), "webhook": {"url": "http://169.254.169.254/"}}, {"metadata": {}}]
    response = http.post("/v1/batches", json={"jobs": jobs, "colour": 1}, headers=headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    pointers = {e["pointer"]: e["detail"] for e in response.get_json()["errors"]}
    assert pointers["/jobs/3/problem/stops/0/time_windows/0"] == "start 500 is after end 400"
    assert "link-local" in pointers["/jobs/4/webhook/url"]
    assert "/jobs/5/problem" in pointers and "/colour" in pointers
    assert counts(farm, client_id) == (0, 0)


@pytest.mark.parametrize("jobs", [[], "all", [{"problem": SMALL_PROBLEM}] * 51])
def test_batch_size_is_bounded(http, auth, jobs):
    _, headers = auth()
    response = http.post("/v1/batches", json={"jobs": jobs}, headers=headers)
    assert response.status_code == 422
    assert "1 to 50 jobs" in {e["pointer"]: e["detail"] for e in response.get_json()["errors"]}["/jobs"]


def test_cancelling_a_batch_cancels_what_is_left_and_completes_it_once(http, auth, farm):
    client_id, headers = auth()
    http.post("/v1/webhooks/endpoints", json={"url": RECEIVER, "event_types": ["batch.completed"]}, headers=headers)
    accepted = http.post("/v1/batches", json={"jobs": [{"problem": problem(i)} for i in range(3)],
                                              "webhook": {"url": "http://127.0.0.3:9/b"}}, headers=headers).get_json()
    first = accepted["job_ids"][0]
    assert http.delete(f"/v1/jobs/{first}", headers=headers).get_json()["status"] == "cancelled"
    assert http.get(f"/v1/batches/{accepted['id']}/deliveries", headers=headers).get_json()["deliveries"] == []

    response = http.delete(f"/v1/batches/{accepted['id']}", headers=headers)
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["status"] == "completed" and doc["counts"]["cancelled"] == 3 and doc["percent_done"] == 100
    assert doc["finished_at"] and doc["cancel_requested_at"]
    assert http.get(f"/v1/jobs/{accepted['job_ids'][2]}", headers=headers).get_json()["status"] == "cancelled"

    again = http.delete(f"/v1/batches/{accepted['id']}", headers=headers)
    assert again.status_code == 200 and again.get_json()["counts"]["cancelled"] == 3
    deliveries = http.get(f"/v1/batches/{accepted['id']}/deliveries", headers=headers).get_json()["deliveries"]
    assert sorted(d["url"] for d in deliveries) == sorted([RECEIVER, "http://127.0.0.3:9/b"])  # once each
    assert {d["event_type"] for d in deliveries} == {"batch.completed"}


def test_a_batch_of_solved_problems_completes_at_once(http, auth, farm):
    client_id, headers = auth()
    http.post("/v1/webhooks/endpoints", json={"url": RECEIVER}, headers=headers)
    solved = http.post("/v1/jobs", json={"problem": problem(7)}, headers=headers).get_json()
    finish_job(farm, client_id, solved["id"], {"routes": []})
    accepted = http.post("/v1/batches", json={"jobs": [{"problem": problem(7)}] * 2}, headers=headers).get_json()
    doc = http.get(f"/v1/batches/{accepted['id']}", headers=headers).get_json()
    assert doc["status"] == "completed" and doc["counts"]["succeeded"] == 2
    job = http.get(f"/v1/jobs/{accepted['job_ids'][0]}", headers=headers).get_json()
    assert job["deduplicated_from"] == solved["id"] and job["solution"] == {"routes": []}
    events = [d["event_type"] for d in
              http.get(f"/v1/batches/{accepted['id']}/deliveries", headers=headers).get_json()["deliveries"]]
    assert events == ["batch.completed"]
    job_events = http.get(f"/v1/jobs/{accepted['job_ids'][1]}/deliveries", headers=headers).get_json()
    assert [d["event_type"] for d in job_events["deliveries"]] == ["job.succeeded"]


def test_batches_are_per_client(http, auth):
    _, owner = auth("owner")
    _, other = auth("other")
    accepted = http.post("/v1/batches", json={"jobs": [{"problem": problem(1)}]}, headers=owner).get_json()
    for method in ("get", "delete"):
        assert getattr(http, method)(f"/v1/batches/{accepted['id']}", headers=other).status_code == 404
    assert http.get(f"/v1/batches/{accepted['id']}/deliveries", headers=other).status_code == 404
    assert http.get(f"/v1/jobs/{accepted['job_ids'][0]}", headers=other).status_code == 404
    assert http.get("/v1/batches/not-a-uuid", headers=owner).status_code == 404
