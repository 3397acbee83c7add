"""The jobs API against real Postgres and Redis (no worker: jobs stay queued here)."""

import copy
import json

import pytest
from support import SMALL_PROBLEM as SMALL
from support import finish_job

PROBLEM_JSON = "application/problem+json"


def submit(http, headers, problem=None, **extra):
    body = {"problem": problem or SMALL, **extra}
    return http.post("/v1/jobs", json=body, headers=headers)


def test_submit_returns_202_with_location(http, auth, farm):
    client_id, headers = auth()
    response = submit(http, headers, metadata={"route": "north"})
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued"
    assert response.headers["Location"] == f"/v1/jobs/{body['id']}" == body["links"]["self"]
    shard = farm.directory.shard_of(client_id)
    with farm.db.shard(shard) as conn:
        row = conn.execute("SELECT status, metadata, message_id FROM jobs WHERE id = %s", (body["id"],)).fetchone()
    assert row[0] == "queued" and row[1] == {"route": "north"} and row[2]
    assert farm.broker.client.hexists("dramatiq:solve.msgs", f"{row[2]}.0")  # the message was sent
    doc = http.get(body["links"]["self"], headers=headers).get_json()
    assert doc["status"] == "queued" and doc["metadata"] == {"route": "north"}


def test_invalid_problem_lists_every_error(http, auth):
    _, headers = auth()
    bad = copy.deepcopy(SMALL)
    bad["stops"][0]["time_windows"] = [[500, 400]]
    bad["stops"][1]["demand"] = [1, 2]
    bad["vehicles"][0]["wheels"] = 4
    response = submit(http, headers, bad)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    pointers = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert pointers["/problem/stops/0/time_windows/0"] == "start 500 is after end 400"
    assert "/problem/stops/1/demand" in pointers
    assert pointers["/problem/vehicles/0/wheels"] == "unknown field"
    assert body["status"] == 422 and body["type"].endswith("invalid-problem")


@pytest.mark.parametrize("body, pointer", [
    ({"metadata": {}}, "/problem"),
    ({"problem": SMALL, "colour": 1}, "/colour"),
    ({"problem": SMALL, "metadata": []}, "/metadata"),
    ({"problem": {**SMALL, "options": {"time_limit": 100000}}}, "/problem/options/time_limit"),
])
def test_malformed_bodies(http, auth, body, pointer):
    _, headers = auth()
    response = http.post("/v1/jobs", json=body, headers=headers)
    assert response.status_code == 422
    assert pointer in {e["pointer"] for e in response.get_json()["errors"]}


def test_not_json_is_a_problem_not_a_500(http, auth):
    _, headers = auth()
    response = http.post("/v1/jobs", data="{oops", headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.mimetype == PROBLEM_JSON


def test_body_too_large(http, auth, farm):
    _, headers = auth()
    huge = "x" * (farm.settings.max_body_bytes + 10)
    response = http.post("/v1/jobs", data=json.dumps({"problem": huge}),
                         headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.mimetype == PROBLEM_JSON


def test_authentication_required(http, auth):
    assert http.post("/v1/jobs", json={"problem": SMALL}).status_code == 401
    response = http.get("/v1/jobs", headers={"Authorization": "Bearer rf_nope"})
    assert response.status_code == 401 and response.mimetype == PROBLEM_JSON
    assert "WWW-Authenticate" in response.headers


def test_tenant_isolation_on_every_endpoint(http, auth):
    _, alice = auth("alice")
    _, bob = auth("bob")
    job = submit(http, alice).get_json()
    url = job["links"]["self"]
    assert http.get(url, headers=bob).status_code == 404
    assert http.get(url + "?wait=0.1", headers=bob).status_code == 404
    assert http.delete(url, headers=bob).status_code == 404
    assert http.get("/v1/jobs", headers=bob).get_json()["jobs"] == []
    assert http.get(url, headers=alice).status_code == 200  # untouched by bob's attempts
    assert http.get(url, headers=alice).get_json()["status"] == "queued"


def test_unknown_and_malformed_job_ids(http, auth):
    _, headers = auth()
    assert http.get("/v1/jobs/not-a-uuid", headers=headers).status_code == 404
    assert http.get("/v1/jobs/01a21fdf-8969-75a3-9a79-20aefae1cf02", headers=headers).status_code == 404


def test_idempotency_key(http, auth):
    _, headers = auth()
    keyed = {**headers, "Idempotency-Key": "order-42"}
    first = submit(http, keyed)
    again = submit(http, keyed)
    assert first.status_code == again.status_code == 202
    assert first.get_json() == again.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = copy.deepcopy(SMALL)
    other["stops"][0]["demand"] = [3]
    conflict = submit(http, keyed, other)
    assert conflict.status_code == 422 and conflict.mimetype == PROBLEM_JSON
    assert len(http.get("/v1/jobs", headers=headers).get_json()["jobs"]) == 1


def test_deduplication_returns_a_succeeded_job(http, auth, farm):
    client_id, headers = auth()
    original = submit(http, headers).get_json()
    solution = {"status": "feasible", "routes": [], "unassigned": []}
    finish_job(farm, client_id, original["id"], solution)
    twin = submit(http, headers)
    body = twin.get_json()
    assert twin.status_code == 202
    assert body["status"] == "succeeded" and body["deduplicated_from"] == original["id"]
    doc = http.get(body["links"]["self"], headers=headers).get_json()
    assert doc["status"] == "succeeded" and doc["solution"] == solution
    _, stranger = auth("other")
    assert submit(http, stranger).get_json()["status"] == "queued"  # never across clients


def test_list_with_keyset_pagination_and_filter(http, auth):
    _, headers = auth()
    ids = []
    for i in range(5):
        problem = copy.deepcopy(SMALL)
        problem["stops"][0]["demand"] = [i + 1]
        ids.append(submit(http, headers, problem).get_json()["id"])
    seen, cursor = [], None
    while True:
        query = "/v1/jobs?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = http.get(query, headers=headers).get_json()
        seen += [j["id"] for j in page["jobs"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    assert http.get("/v1/jobs?status=succeeded", headers=headers).get_json()["jobs"] == []
    assert len(http.get("/v1/jobs?status=queued", headers=headers).get_json()["jobs"]) == 5
    assert http.get("/v1/jobs?limit=0", headers=headers).status_code == 400
    assert http.get("/v1/jobs?status=done", headers=headers).status_code == 400
    assert http.get("/v1/jobs?cursor=%%%", headers=headers).status_code == 400


@pytest.mark.parametrize(("query", "named"), [
    ("/v1/jobs?limit=many", "limit"), ("/v1/jobs?limit=101", "limit"), ("/v1/jobs?status=done", "status"),
    ("/v1/jobs/{id}?wait=nan", "wait"), ("/v1/jobs/{id}?wait=-1", "wait"), ("/v1/jobs/{id}?include=routes", "include"),
    ("/v1/jobs/{id}/routes.svg?geometry=maybe", "geometry"),
])
def test_a_bad_query_parameter_is_a_400_that_names_it(http, auth, query, named):
    _, headers = auth()
    job = submit(http, headers).get_json()
    response = http.get(query.format(id=job["id"]), headers=headers)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.get_json()["detail"].startswith(f"{named}: "), response.get_json()


def test_an_empty_or_unknown_query_parameter_is_left_out(http, auth):
    _, headers = auth()
    job = submit(http, headers).get_json()
    assert http.get(f"/v1/jobs/{job['id']}?include=&wait=", headers=headers).status_code == 200
    assert http.get("/v1/jobs?status=&limit=&_=1733220000", headers=headers).status_code == 200


def test_cancel_a_queued_job(http, auth):
    _, headers = auth()
    job = submit(http, headers).get_json()
    response = http.delete(job["links"]["self"], headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert http.get(job["links"]["self"], headers=headers).get_json()["status"] == "cancelled"
    assert http.delete(job["links"]["self"], headers=headers).status_code == 200  # idempotent


def test_long_poll_times_out_and_returns_current_state(http, auth):
    _, headers = auth()
    job = submit(http, headers).get_json()
    response = http.get(job["links"]["self"] + "?wait=0.3", headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "queued"
    assert http.get(job["links"]["self"] + "?wait=61", headers=headers).status_code == 400


def test_rate_limit(app, auth, farm):
    from routefarm.settings import Settings

    _, headers = auth()
    strict = Settings(**{**farm.settings.model_dump(), "rate_limit": 1.0, "rate_burst": 2})
    farm.settings = strict
    http = app.test_client()
    codes = [http.get("/v1/jobs", headers=headers) for _ in range(4)]
    assert [c.status_code for c in codes[:2]] == [200, 200]
    limited = codes[-1]
    assert limited.status_code == 429 and limited.mimetype == PROBLEM_JSON
    assert int(limited.headers["Retry-After"]) >= 1


def test_health_readiness_and_openapi(http):
    assert http.get("/healthz").get_json() == {"status": "ok"}
    ready = http.get("/readyz").get_json()
    assert ready["status"] == "ready"
    assert set(ready["checks"]) == {"directory", "shard0", "shard1", "redis"}
    spec = http.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert {"/v1/jobs", "/v1/jobs/{job_id}", "/healthz", "/readyz"} <= set(spec["paths"])
    assert {"Problem", "Solution", "ProblemDetails"} <= set(spec["components"]["schemas"])


def test_unknown_route_and_method_are_problems(http, auth):
    _, headers = auth()
    missing = http.get("/v1/nothing", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == PROBLEM_JSON
    wrong = http.put("/v1/jobs", headers=headers)
    assert wrong.status_code == 405 and wrong.mimetype == PROBLEM_JSON


def test_redis_cache_outage_falls_back_to_the_shard(databases, redis_server, client_factory):
    """With the cache's Redis unreachable, submissions and reads still work from Postgres."""
    from support import make_settings

    from api import create_app
    from routefarm.farm import Farm

    settings = make_settings(databases, redis_server, cache_url="redis://127.0.0.1:1/0")
    farm = Farm(settings).open(wait=True)
    app = create_app(settings, farm)
    try:
        _, key = client_factory("outage")
        headers = {"Authorization": f"Bearer {key}"}
        http = app.test_client()
        created = http.post("/v1/jobs", json={"problem": SMALL}, headers=headers)
        assert created.status_code == 202
        url = created.get_json()["links"]["self"]
        doc = http.get(url, headers=headers)
        assert doc.status_code == 200 and doc.get_json()["status"] == "queued"
        assert http.get(url + "?wait=0.2", headers=headers).get_json()["status"] == "queued"
        assert http.get("/readyz").status_code == 503  # Redis is part of readiness
    finally:
        app.extensions["routefarm.waiter"].stop()
        farm.close()


def test_a_stale_queued_document_written_after_the_claim_is_served_briefly(http, auth, farm):
    """The race a worker's claim has with a reader: the reader reads "queued" from the shard,
    the worker claims the job and drops the cached document, then the reader caches what it
    read. The stale document must expire in seconds, not be served for the whole solve (the
    test_sigterm_hands_back_or_stores failure of a CI run)."""
    import time
    import uuid

    from routefarm.cache import OPEN_DOCUMENT_TTL

    client_id, headers = auth("race")
    job_id = http.post("/v1/jobs", json={"problem": SMALL}, headers=headers).get_json()["id"]
    stale = http.get(f"/v1/jobs/{job_id}", headers=headers).get_json()
    assert stale["status"] == "queued"
    assert farm.store.claim(client_id, uuid.UUID(job_id), "w:race", 30.0) is not None
    farm.cache.drop_job(job_id)  # as the worker does after its claim
    farm.cache.put_job(job_id, {**stale, "client_id": client_id}, terminal=False)  # the late reader
    assert http.get(f"/v1/jobs/{job_id}", headers=headers).get_json()["status"] == "queued"
    time.sleep(OPEN_DOCUMENT_TTL + 0.5)
    assert http.get(f"/v1/jobs/{job_id}", headers=headers).get_json()["status"] == "running"
