"""What a batch may cost: one token of the client's rate limit per job (plain batches and
batch re-plans alike: 429 with Retry-After and nothing created when the bucket cannot pay),
and for a batch re-plan, a bound on what it derives (422 at /jobs with the total and the
limit)."""

from __future__ import annotations

import re

import pytest
from reopt_helpers import base_problem
from support import SMALL_PROBLEM, assert_problem_json, solved_job

RATE, BURST = 0.1, 40  # a token every 10 s: nothing refills during a test
DERIVED_LIMIT = 60_000  # bytes: about 28 re-plans of the base problem


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"rate_limit": RATE, "rate_burst": BURST,
                                       "max_reoptimize_batch_bytes": DERIVED_LIMIT})


def batches_of(farm, client_id: str) -> int:
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        return conn.execute("SELECT count(*) FROM batches WHERE client_id = %s", (client_id,)).fetchone()[0]


def plain(n: int, first: int = 0) -> dict:
    return {"jobs": [{"problem": {**SMALL_PROBLEM, "options": {"time_limit": 0.2 + (first + i) / 1000}}}
                     for i in range(n)]}


def replan(job_id: str, n: int) -> dict:
    return {"jobs": [{"job_id": job_id}] * n, "changes": {"at": 40, "cancel_stops": ["e4"]}}


def refused_for_the_rate(response, jobs: int) -> None:
    problem = assert_problem_json(response, 429)
    assert f"{jobs} jobs take {jobs} tokens" in problem["detail"], problem
    assert int(response.headers["Retry-After"]) >= 1


def test_a_batch_takes_a_token_per_job(http, auth, farm):
    client_id, headers = auth("batches")
    assert http.post("/v1/batches", json=plain(25), headers=headers).status_code == 202  # 40 -> 15 tokens
    refused_for_the_rate(http.post("/v1/batches", json=plain(25, 25), headers=headers), 25)  # needs 25, has 15
    assert batches_of(farm, client_id) == 1  # nothing created
    assert http.get("/v1/jobs", headers=headers).status_code == 200  # single requests still fit
    _, other = auth("another")  # one client's batches never spend another's tokens
    assert http.post("/v1/batches", json=plain(25, 50), headers=other).status_code == 202


def test_a_batch_re_plan_takes_a_token_per_job(http, auth, farm):
    client_id, headers = auth("replans")
    base, _ = solved_job(farm, client_id, base_problem())
    assert http.post("/v1/batches/reoptimize", json=replan(base, 20), headers=headers).status_code == 202
    refused_for_the_rate(http.post("/v1/batches/reoptimize", json=replan(base, 25), headers=headers), 25)
    assert batches_of(farm, client_id) == 1


def test_a_batch_above_the_burst_is_taken_from_a_full_bucket_and_leaves_it_in_debt(http, auth, farm):
    client_id, headers = auth("big-batch")
    http.get("/v1/jobs", headers=headers)  # not full any more: 39 tokens
    refused_for_the_rate(http.post("/v1/batches", json=plain(50), headers=headers), 50)
    assert batches_of(farm, client_id) == 0
    _, fresh = auth("big-batch-2")
    assert http.post("/v1/batches", json=plain(50), headers=fresh).status_code == 202  # 40 -> -10
    response = http.get("/v1/jobs", headers=fresh)
    assert_problem_json(response, 429)
    assert int(response.headers["Retry-After"]) > 100  # eleven tokens to refill at 0.1 per second


def test_a_batch_re_plan_deriving_more_than_the_limit_is_refused_with_the_total(http, auth, farm):
    client_id, headers = auth("too-much")
    base, _ = solved_job(farm, client_id, base_problem())
    assert http.post("/v1/batches/reoptimize", json=replan(base, 2), headers=headers).status_code == 202
    response = http.post("/v1/batches/reoptimize", json=replan(base, 30), headers=headers)
    problem = assert_problem_json(response, 422)
    [error] = problem["errors"]
    assert error["pointer"] == "/jobs"
    total = int(re.search(r"derive ([\d,]+) bytes", error["detail"]).group(1).replace(",", ""))
    assert total > DERIVED_LIMIT and f"at most {DERIVED_LIMIT:,}" in error["detail"]
    assert batches_of(farm, client_id) == 1  # the first one only
