"""Acceptance: signed deliveries with retries, and an endpoint that is gone for good.

Real web and webhook processes, real Postgres and Redis, a real HTTP receiver on 127.0.0.1.
The job's terminal event comes from cancelling it while queued (no solve worker runs here).
The schedule is compressed to 0.2 s between attempts (tests/webhooks/conftest.py).
"""

from __future__ import annotations

import time

from support import free_port
from webhook_support import Api, tiny_problem, verify


def cancelled_job(api: Api, n: int = 1) -> str:
    job = api.ok("POST", "/v1/jobs", {"problem": tiny_problem(n)})
    assert api.ok("DELETE", f"/v1/jobs/{job['id']}")["status"] == "cancelled"
    return job["id"]


def test_three_failures_then_success(processes, client_factory, receivers):
    _, key = client_factory("flaky")
    receiver = receivers(answer=lambda n, r: 500 if n < 3 else 200)
    processes.webhook()
    processes.web()
    api = Api(processes.port, key)
    endpoint = api.ok("POST", "/v1/webhooks/endpoints", {"url": receiver.url, "event_types": ["job.cancelled"]})
    assert endpoint["secret"].startswith("whsec_")

    job_id = cancelled_job(api)
    got = receiver.wait_for(lambda rs: len(rs) >= 4, timeout=30, what="four attempts")
    time.sleep(0.6)  # no fifth attempt after the success
    assert len(receiver.requests) == 4

    ids = {r.headers["webhook-id"] for r in got}
    assert len(ids) == 1  # the same webhook-id on every attempt
    for request in got:
        event = verify(endpoint["secret"], request)
        assert event["type"] == "job.cancelled" and event["data"]["id"] == job_id
        assert event["data"]["status"] == "cancelled"
    assert [r.body for r in got] == [got[0].body] * 4  # the same body every time
    gaps = [b.at - a.at for a, b in zip(got, got[1:], strict=False)]
    assert all(gap >= 0.15 for gap in gaps), gaps  # retries wait for the schedule

    [delivery] = api.wait(f"/v1/jobs/{job_id}/deliveries",
                          lambda d: d["deliveries"] and d["deliveries"][0]["status"] == "succeeded",
                          timeout=10)["deliveries"]
    assert delivery["attempts"] == 4 and delivery["webhook_id"] == ids.pop()
    log = delivery["log"]
    assert [a["status_code"] for a in log] == [500, 500, 500, 200]
    assert [a["error"] is None for a in log] == [False, False, False, True]
    assert all(a["next_attempt_at"] for a in log[:3]) and log[3]["next_attempt_at"] is None
    assert all(a["latency_ms"] >= 0 for a in log)
    assert api.ok("GET", f"/v1/webhooks/endpoints/{endpoint['id']}")["status"] == "enabled"


def test_receiver_gone_for_good_disables_the_endpoint(processes, client_factory):
    # attempts at about 0, 1, 2 and 3 s; the endpoint is disabled once it has failed for 2.5 s
    processes.env.update(ROUTEFARM_WEBHOOK_SCHEDULE="1,1,1", ROUTEFARM_WEBHOOK_DISABLE_AFTER="2.5")
    _, key = client_factory("gone")
    processes.webhook()
    processes.web()
    api = Api(processes.port, key)
    gone = f"http://127.0.0.1:{free_port()}/hooks"  # nothing listens there
    endpoint = api.ok("POST", "/v1/webhooks/endpoints", {"url": gone})

    job_id = cancelled_job(api)
    doc = api.wait(f"/v1/webhooks/endpoints/{endpoint['id']}", lambda e: e["status"] == "disabled", timeout=30)
    assert "no successful delivery since" in doc["disabled_reason"]
    assert "Connection refused" in doc["disabled_reason"] or "ConnectionRefused" in doc["disabled_reason"]

    [delivery] = api.wait(f"/v1/jobs/{job_id}/deliveries",
                          lambda d: d["deliveries"][0]["status"] != "pending", timeout=10)["deliveries"]
    assert delivery["status"] == "failed", delivery
    assert delivery["attempts"] == 4  # the first attempt and three retries: the schedule is exhausted
    assert "gave up after 4 attempts" in delivery["last_error"]
    assert [a["status_code"] for a in delivery["log"]] == [None] * 4
    assert all("refused" in a["error"].lower() for a in delivery["log"])

    # a later event to the disabled endpoint is not even attempted; its log says why
    later = cancelled_job(api, 2)
    _, listing = api.call("GET", f"/v1/jobs/{later}/deliveries")
    assert listing["deliveries"] == []  # disabled endpoints get no new deliveries
    assert processes.logs.joinpath("webhook.log").read_text().count(
        f"webhook endpoint {endpoint['id']} disabled") == 1

    # the client re-enables it: new events are delivered (attempted) again
    api.ok("PATCH", f"/v1/webhooks/endpoints/{endpoint['id']}", {"enabled": True})
    again = cancelled_job(api, 3)
    api.wait(f"/v1/jobs/{again}/deliveries", lambda d: d["deliveries"] and d["deliveries"][0]["attempts"] >= 1,
             timeout=10)
