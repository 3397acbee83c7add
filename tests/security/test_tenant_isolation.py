"""Tenant isolation: client A against client B's resources on every endpoint that takes an
id. A always gets the answer a made-up id gets (404, or 422 pointing at the id in a batch
body), never B's data and never a hint that the id exists; and B's resources are exactly
as they were. Run with A on B's shard (where a query that forgot its client filter would
find B's rows) and on another shard."""

from __future__ import annotations

import json
import uuid

import pytest
from support import PUBLIC_HOOK, SMALL_PROBLEM, assert_problem_json, seed_resources, solved_job

MARKER = "b-private-7f3c"  # in B's metadata and endpoint description: must never reach A
MATRIX = [
    ("get", "/v1/jobs/{job_id}", None),
    ("get", "/v1/jobs/{job_id}?wait=5", None),
    ("get", "/v1/jobs/{queued_job_id}?wait=5", None),
    ("delete", "/v1/jobs/{job_id}", None),
    ("delete", "/v1/jobs/{queued_job_id}", None),
    ("get", "/v1/jobs/{job_id}/deliveries", None),
    ("get", "/v1/jobs/{cancelled_job_id}/deliveries", None),
    ("get", "/v1/jobs/{job_id}/routes.svg", None),
    ("get", "/v1/jobs/{queued_job_id}/routes.svg", None),
    ("post", "/v1/jobs/{job_id}/reoptimize", {"at": 0}),
    ("post", "/v1/jobs/{queued_job_id}/reoptimize", {"at": 0}),
    ("get", "/v1/batches/{batch_id}", None),
    ("delete", "/v1/batches/{batch_id}", None),
    ("get", "/v1/batches/{batch_id}/deliveries", None),
    ("get", "/v1/webhooks/endpoints/{endpoint_id}", None),
    ("patch", "/v1/webhooks/endpoints/{endpoint_id}", {"description": "taken over"}),
    ("patch", "/v1/webhooks/endpoints/{endpoint_id}", {"url": PUBLIC_HOOK + "/a", "enabled": False}),
    ("post", "/v1/webhooks/endpoints/{endpoint_id}/rotate", None),
    ("delete", "/v1/webhooks/endpoints/{endpoint_id}", None),
    ("get", "/v1/deliveries/{delivery_id}", None),
    ("post", "/v1/deliveries/{delivery_id}/retry", None),
]
NOBODY = {name: str(uuid.UUID(int=(0x01a2 << 112) + (7 << 76) + (2 << 62) + i + 1)) for i, name in enumerate(
    ["job_id", "queued_job_id", "cancelled_job_id", "batch_id", "endpoint_id", "delivery_id"])}


@pytest.fixture(params=["same shard", "other shard"])
def tenants(request, http, farm, client_factory):
    """(a_headers, b_headers, b_ids, b_extra): B owns one resource of each kind; A, on B's
    shard or on another, owns a succeeded job of its own."""
    b_id, b_key = client_factory("b")
    b_headers = {"Authorization": f"Bearer {b_key}"}
    b_ids = seed_resources(http, farm, b_id, b_headers)
    same = request.param == "same shard"
    for attempt in range(64):
        a_id, a_key = client_factory(f"a{attempt}")
        if (farm.directory.shard_of(a_id) == farm.directory.shard_of(b_id)) == same:
            break
    else:
        pytest.fail("no client landed where this case needs it")
    http.patch(f"/v1/webhooks/endpoints/{b_ids['endpoint_id']}", json={"description": MARKER}, headers=b_headers)
    keyed = http.post("/v1/jobs", json={"problem": {**SMALL_PROBLEM, "options": {"time_limit": 0.7}},
                                        "metadata": {"note": MARKER}},
                      headers={**b_headers, "Idempotency-Key": "order-1"}).get_json()
    replanned = http.post(f"/v1/jobs/{b_ids['job_id']}/reoptimize", json={"at": 0, "event_id": "evt-1"},
                          headers=b_headers).get_json()
    a_job, _ = solved_job(farm, a_id, {**SMALL_PROBLEM, "options": {"time_limit": 0.6}})
    extra = {"keyed_job_id": keyed["id"], "replanned_job_id": replanned["id"], "a_job_id": a_job}
    return {"Authorization": f"Bearer {a_key}"}, b_headers, b_ids, extra


def b_view(http, headers, ids) -> dict:
    """Everything B can read about its resources (what A's attempts must leave alone)."""
    paths = [f"/v1/jobs/{ids['job_id']}", f"/v1/jobs/{ids['queued_job_id']}", f"/v1/batches/{ids['batch_id']}",
             f"/v1/webhooks/endpoints/{ids['endpoint_id']}", f"/v1/deliveries/{ids['delivery_id']}",
             f"/v1/jobs/{ids['cancelled_job_id']}/deliveries", "/v1/webhooks/endpoints", "/v1/webhooks/secret"]
    return {path: http.get(path, headers=headers).get_json() for path in paths}


def attempt(http, method: str, template: str, body, headers, ids):
    return getattr(http, method)(template.format(**ids), json=body, headers=headers)


def test_a_gets_what_a_made_up_id_gets_and_b_keeps_everything(http, tenants):
    a, b, b_ids, _ = tenants
    before = b_view(http, b, b_ids)
    secrets = {before["/v1/webhooks/secret"]["secret"], PUBLIC_HOOK, MARKER}
    for method, template, body in MATRIX:
        answer = attempt(http, method, template, body, a, b_ids)
        problem = assert_problem_json(answer, 404)
        text = answer.get_data(as_text=True)
        assert not any(s in text for s in secrets), (template, text)
        made_up = attempt(http, method, template, body, a, NOBODY)
        assert made_up.status_code == 404, (template, made_up.get_json())
        expected = json.loads(made_up.get_data(as_text=True).replace(*_swap(template, NOBODY, b_ids)))
        assert problem == expected, (template, problem, expected)
    assert b_view(http, b, b_ids) == before


def _swap(template: str, nobody: dict, owned: dict) -> tuple[str, str]:
    name = template.split("{", 1)[1].split("}", 1)[0]
    return nobody[name], owned[name]


def test_batch_bodies_naming_b_jobs_are_422_at_the_id(http, tenants):
    a, b, b_ids, extra = tenants
    for job in (b_ids["job_id"], extra["replanned_job_id"]):
        body = {"jobs": [{"job_id": extra["a_job_id"]}, {"job_id": job}], "changes": {"at": 0}}
        problem = assert_problem_json(http.post("/v1/batches/reoptimize", json=body, headers=a), 422)
        assert problem["errors"] == [{"pointer": "/jobs/1/job_id", "detail": f"no job {job}"}]
    assert http.get("/v1/batches/" + b_ids["batch_id"], headers=a).status_code == 404
    listed = http.get("/v1/jobs?limit=100", headers=a).get_json()["jobs"]
    assert [j["id"] for j in listed] == [extra["a_job_id"]]  # nothing was created by the refusals


def test_listings_secrets_and_keys_are_per_client(http, tenants):
    a, b, b_ids, extra = tenants
    mine = {j["id"] for j in http.get("/v1/jobs?limit=100", headers=a).get_json()["jobs"]}
    assert mine == {extra["a_job_id"]}
    for status in ("queued", "succeeded", "cancelled"):
        assert {j["id"] for j in http.get(f"/v1/jobs?status={status}", headers=a).get_json()["jobs"]} <= mine
    assert http.get("/v1/webhooks/endpoints", headers=a).get_json()["endpoints"] == []
    assert http.get("/v1/webhooks/secret", headers=a).get_json()["secret"] != \
        http.get("/v1/webhooks/secret", headers=b).get_json()["secret"]
    # B's Idempotency-Key and event id mean nothing to A: A gets jobs of its own
    keyed = http.post("/v1/jobs", json={"problem": {**SMALL_PROBLEM, "options": {"time_limit": 0.7}}},
                      headers={**a, "Idempotency-Key": "order-1"})
    assert keyed.status_code == 202 and "Idempotent-Replayed" not in keyed.headers
    assert keyed.get_json()["id"] != extra["keyed_job_id"] and keyed.get_json()["status"] == "queued"
    replanned = http.post(f"/v1/jobs/{extra['a_job_id']}/reoptimize", json={"at": 0, "event_id": "evt-1"},
                          headers=a)
    assert replanned.status_code == 202 and "Idempotent-Replayed" not in replanned.headers
    assert replanned.get_json()["id"] != extra["replanned_job_id"]
    # a job B just read is in the cache: A still cannot read it from there
    assert http.get(f"/v1/jobs/{extra['keyed_job_id']}", headers=b).status_code == 200
    assert_problem_json(http.get(f"/v1/jobs/{extra['keyed_job_id']}", headers=a), 404)
