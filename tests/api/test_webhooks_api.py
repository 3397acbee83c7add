"""The webhook API against real Postgres and Redis (no worker: nothing is delivered here)."""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest
import redis
from support import SMALL_PROBLEM, make_settings

from routefarm.webhooks import endpoints

RECEIVER = "http://127.0.0.1:9/hooks"  # admitted by this module's allowlist; never called


@pytest.fixture
def settings(databases, redis_server):
    for db in (10, 11):
        redis.Redis.from_url(f"{redis_server}/{db}").flushdb()
    return make_settings(databases, redis_server, webhook_allowlist="127.0.0.0/8")


def make_endpoint(http, headers, **fields):
    response = http.post("/v1/webhooks/endpoints", json={"url": RECEIVER, **fields}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_endpoint_lifecycle(http, auth):
    _, headers = auth()
    created = make_endpoint(http, headers, event_types=["job.succeeded", "batch.completed"], description="ops")
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert created["status"] == "enabled" and created["event_types"] == ["job.succeeded", "batch.completed"]
    path = created["links"]["self"]
    shown = http.get(path, headers=headers).get_json()
    assert "secret" not in shown and shown["description"] == "ops"  # the secret is shown once
    assert [e["id"] for e in http.get("/v1/webhooks/endpoints", headers=headers).get_json()["endpoints"]] == [
        created["id"]]

    changed = http.patch(path, json={"event_types": ["job.failed"], "enabled": False}, headers=headers).get_json()
    assert changed["event_types"] == ["job.failed"] and changed["status"] == "disabled"
    assert changed["disabled_reason"] == "disabled by the client"
    enabled = http.patch(path, json={"enabled": True}, headers=headers).get_json()
    assert enabled["status"] == "enabled" and enabled["disabled_reason"] is None

    assert http.delete(path, headers=headers).status_code == 204
    assert http.get(path, headers=headers).status_code == 404


def test_rotation_keeps_the_old_secret_signing_for_the_grace_period(http, auth, farm):
    client_id, headers = auth()
    created = make_endpoint(http, headers)
    rotated = http.post(created["links"]["rotate"], headers=headers).get_json()
    assert rotated["secret"] != created["secret"] and rotated["previous_secret_expires_at"]
    row = farm.store.on_shard(client_id, lambda conn: endpoints.get(conn, client_id, uuid.UUID(created["id"])))
    assert row["signing_secrets"] == [rotated["secret"], created["secret"]]
    assert "secret" not in http.get(created["links"]["self"], headers=headers).get_json()


def test_client_secret_is_created_once_and_rotates(http, auth):
    _, headers = auth()
    first = http.get("/v1/webhooks/secret", headers=headers).get_json()
    assert first["secret"].startswith("whsec_")
    assert http.get("/v1/webhooks/secret", headers=headers).get_json()["secret"] == first["secret"]
    rotated = http.post("/v1/webhooks/secret/rotate", headers=headers).get_json()
    assert rotated["secret"] != first["secret"] and rotated["previous_secret_expires_at"]


@pytest.mark.parametrize(("body", "pointer", "detail"), [
    ({}, "/url", "required"),
    ({"url": "ftp://example.com/"}, "/url", "http or https"),
    ({"url": "http://169.254.169.254/latest"}, "/url", "link-local"),
    ({"url": "http://10.0.0.1/"}, "/url", "private"),
    ({"url": "http://[::ffff:10.0.0.1]/"}, "/url", "private"),
    ({"url": RECEIVER, "event_types": ["job.succeeded", "job.exploded"]}, "/event_types/1", "unknown event"),
    ({"url": RECEIVER, "event_types": []}, "/event_types", "non-empty"),
    ({"url": RECEIVER, "colour": "red"}, "/colour", "unknown field"),
])
def test_invalid_endpoints_are_refused_with_a_pointer(http, auth, body, pointer, detail):
    _, headers = auth()
    response = http.post("/v1/webhooks/endpoints", json=body, headers=headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = {e["pointer"]: e["detail"] for e in response.get_json()["errors"]}
    assert detail in errors[pointer]


@pytest.mark.parametrize("body", [{"event_types": None}, {"description": None}, {"url": None},
                                  {"enabled": None}])
def test_a_change_to_null_is_refused_not_stored(http, auth, body):
    """Found by the fuzzer from the OpenAPI example: an explicit null reached the NOT NULL
    columns and answered 500."""
    _, headers = auth()
    created = http.post("/v1/webhooks/endpoints", json={"url": RECEIVER}, headers=headers).get_json()
    response = http.patch(f"/v1/webhooks/endpoints/{created['id']}", json=body, headers=headers)
    assert response.status_code == 422, response.get_json()
    assert {e["pointer"] for e in response.get_json()["errors"]} == {"/" + next(iter(body))}


def test_a_jobs_one_off_webhook_is_checked_and_kept(http, auth):
    _, headers = auth()
    refused = http.post("/v1/jobs", json={"problem": SMALL_PROBLEM, "webhook": {"url": "http://100.64.0.1/"}},
                        headers=headers)
    assert refused.status_code == 422
    assert "CGNAT" in {e["pointer"]: e["detail"] for e in refused.get_json()["errors"]}["/webhook/url"]
    odd = http.post("/v1/jobs", json={"problem": SMALL_PROBLEM, "webhook": {"href": RECEIVER}}, headers=headers)
    assert {e["pointer"] for e in odd.get_json()["errors"]} == {"/webhook/href", "/webhook/url"}
    job = http.post("/v1/jobs", json={"problem": SMALL_PROBLEM, "webhook": {"url": RECEIVER}}, headers=headers)
    assert job.status_code == 202
    doc = http.get(job.get_json()["links"]["self"], headers=headers).get_json()
    assert doc["webhook"] == {"url": RECEIVER}


def test_cancelling_a_queued_job_creates_its_deliveries_with_the_state_change(http, auth, farm):
    client_id, headers = auth()
    subscribed = make_endpoint(http, headers, event_types=["job.cancelled"])
    make_endpoint(http, headers, event_types=["job.succeeded"])  # not this event
    job = http.post("/v1/jobs", json={"problem": SMALL_PROBLEM, "webhook": {"url": "http://127.0.0.2:9/x"}},
                    headers=headers).get_json()
    assert http.delete(f"/v1/jobs/{job['id']}", headers=headers).get_json()["status"] == "cancelled"

    listed = http.get(f"/v1/jobs/{job['id']}/deliveries", headers=headers).get_json()["deliveries"]
    assert {(d["endpoint_id"], d["url"]) for d in listed} == {
        (subscribed["id"], RECEIVER), (None, "http://127.0.0.2:9/x")}
    assert {d["status"] for d in listed} == {"pending"} and {d["event_type"] for d in listed} == {"job.cancelled"}
    assert all(d["webhook_id"].startswith("msg_") and d["log"] == [] for d in listed)
    shard = farm.directory.shard_of(client_id)
    with farm.db.shard(shard) as conn:
        tokens = [r[0] for r in conn.execute("SELECT message_id FROM webhook_deliveries WHERE job_id = %s",
                                             (job["id"],))]
    assert all(farm.broker.client.hexists("dramatiq:webhooks.msgs", f"{t}.0") for t in tokens)  # sent

    retried = http.post(listed[0]["links"]["retry"], headers=headers)
    assert retried.status_code == 202 and retried.get_json()["status"] == "pending"
    with farm.db.shard(shard) as conn:
        token = conn.execute("SELECT message_id FROM webhook_deliveries WHERE id = %s", (listed[0]["id"],)).fetchone()
    assert token[0] not in tokens and farm.broker.client.hexists("dramatiq:webhooks.msgs", f"{token[0]}.0")


def test_disabled_endpoints_get_no_deliveries_and_cannot_be_retried(http, auth):
    _, headers = auth()
    endpoint = make_endpoint(http, headers)
    first = http.post("/v1/jobs", json={"problem": SMALL_PROBLEM}, headers=headers).get_json()
    http.delete(f"/v1/jobs/{first['id']}", headers=headers)
    [delivery] = http.get(f"/v1/jobs/{first['id']}/deliveries", headers=headers).get_json()["deliveries"]
    http.patch(endpoint["links"]["self"], json={"enabled": False}, headers=headers)
    stopped = http.get(delivery["links"]["self"], headers=headers).get_json()
    assert stopped["status"] == "disabled" and "disabled by the client" in stopped["last_error"]
    conflict = http.post(delivery["links"]["retry"], headers=headers)
    assert conflict.status_code == 409 and "enabled" in conflict.get_json()["detail"]

    second = http.post("/v1/jobs", json={"problem": {**SMALL_PROBLEM, "options": {"time_limit": 0.3}}},
                       headers=headers).get_json()
    http.delete(f"/v1/jobs/{second['id']}", headers=headers)
    assert http.get(f"/v1/jobs/{second['id']}/deliveries", headers=headers).get_json()["deliveries"] == []


def test_tenant_isolation(http, auth):
    _, owner = auth("owner")
    _, other = auth("other")
    endpoint = make_endpoint(http, owner)
    job = http.post("/v1/jobs", json={"problem": SMALL_PROBLEM}, headers=owner).get_json()
    http.delete(f"/v1/jobs/{job['id']}", headers=owner)
    [delivery] = http.get(f"/v1/jobs/{job['id']}/deliveries", headers=owner).get_json()["deliveries"]
    eid, did = endpoint["id"], delivery["id"]
    for method, path in [("get", f"/v1/webhooks/endpoints/{eid}"), ("patch", f"/v1/webhooks/endpoints/{eid}"),
                         ("delete", f"/v1/webhooks/endpoints/{eid}"),
                         ("post", f"/v1/webhooks/endpoints/{eid}/rotate"),
                         ("get", f"/v1/jobs/{job['id']}/deliveries"), ("get", f"/v1/deliveries/{did}"),
                         ("post", f"/v1/deliveries/{did}/retry")]:
        response = getattr(http, method)(path, json={"description": "x"} if method == "patch" else None,
                                         headers=other)
        assert response.status_code == 404, (method, path, response.get_json())
    assert http.get("/v1/webhooks/endpoints", headers=other).get_json()["endpoints"] == []
    assert http.get(f"/v1/webhooks/endpoints/{eid}", headers=owner).status_code == 200
    assert http.get("/v1/webhooks/endpoints").status_code == 401


def test_openapi_lists_the_webhook_and_batch_endpoints(http):
    document = http.get("/openapi.json").get_json()
    paths = document["paths"]
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document)))
    assert refs <= set(document["components"]["schemas"])  # every reference resolves
    for path, methods in {
        "/v1/webhooks/endpoints": {"get", "post"},
        "/v1/webhooks/endpoints/{endpoint_id}": {"get", "patch", "delete"},
        "/v1/webhooks/endpoints/{endpoint_id}/rotate": {"post"},
        "/v1/webhooks/secret": {"get"}, "/v1/webhooks/secret/rotate": {"post"},
        "/v1/jobs/{job_id}/deliveries": {"get"}, "/v1/deliveries/{delivery_id}": {"get"},
        "/v1/deliveries/{delivery_id}/retry": {"post"},
        "/v1/batches": {"post"}, "/v1/batches/{batch_id}": {"get", "delete"},
        "/v1/batches/{batch_id}/deliveries": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
