"""Acceptance: signed deliveries with retries, an endpoint that is gone for good, 410 Gone,
the SSRF guard at delivery time, and deliveries surviving a Redis flush.

Real web, webhook (and stream) processes, real Postgres and Redis, real HTTP receivers on
127.0.0.1. A job's terminal event comes from cancelling it while queued (no solve worker
runs here). The schedule is compressed to 0.2 s between attempts (tests/webhooks/conftest.py).
"""

from __future__ import annotations

import time

import redis
from support import free_port
from webhook_support import Api, tiny_problem, verify


def cancelled_job(api: Api, n: int = 1) -> str:
    job = api.ok("POST", "/v1/jobs", {"problem": tiny_problem(n)})
    assert api.ok("DELETE", f"/v1/jobs/{job['id']}")["status"] == "cancelled"
    return job["id"]


def deliveries_of(api: Api, job_id: str, done: int, timeout: float = 10) -> dict[str, dict]:
    """endpoint id -> delivery, once ``done`` of the job's deliveries have ended."""
    listing = api.wait(f"/v1/jobs/{job_id}/deliveries",
                       lambda d: sum(x["status"] != "pending" for x in d["deliveries"]) >= done, timeout)
    return {d["endpoint_id"]: d for d in listing["deliveries"]}


def test_three_failures_then_success(processes, client_factory, receivers):
    _, key = client_factory("flaky")
    receiver = receivers(answer=lambda n, r: 500 if n < 3 else 200)
    gone = receivers(answer=lambda n, r: 410)  # another endpoint of the client asks to stop
    processes.webhook()
    processes.web()
    api = Api(processes.port, key)
    endpoint = api.ok("POST", "/v1/webhooks/endpoints", {"url": receiver.url, "event_types": ["job.cancelled"]})
    assert endpoint["secret"].startswith("whsec_")
    stopping = api.ok("POST", "/v1/webhooks/endpoints", {"url": gone.url})

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

    by_endpoint = deliveries_of(api, job_id, done=2)
    delivery = by_endpoint[endpoint["id"]]
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 4 and delivery["webhook_id"] == ids.pop()
    log = delivery["log"]
    assert [a["status_code"] for a in log] == [500, 500, 500, 200]
    assert [a["error"] is None for a in log] == [False, False, False, True]
    assert all(a["next_attempt_at"] for a in log[:3]) and log[3]["next_attempt_at"] is None
    assert all(a["latency_ms"] >= 0 for a in log)
    assert api.ok("GET", f"/v1/webhooks/endpoints/{endpoint['id']}")["status"] == "enabled"

    # 410 Gone: one attempt; the delivery fails and the endpoint is disabled, saying why
    assert len(gone.requests) == 1
    refused = by_endpoint[stopping["id"]]
    assert refused["status"] == "failed" and refused["attempts"] == 1 and "410" in refused["last_error"]
    stopped = api.ok("GET", f"/v1/webhooks/endpoints/{stopping['id']}")
    assert stopped["status"] == "disabled" and stopped["disabled_reason"] == f"{gone.url} answered 410 Gone"


def test_receiver_gone_for_good_disables_the_endpoint(processes, client_factory):
    # attempts at about 0, 1, 2 and 3 s; the endpoint is disabled once it has failed for 2.5 s
    processes.env.update(ROUTEFARM_WEBHOOK_SCHEDULE="1,1,1", ROUTEFARM_WEBHOOK_DISABLE_AFTER_S="2.5")
    _, key = client_factory("gone")
    processes.webhook()
    processes.web()
    api = Api(processes.port, key)
    gone = f"http://127.0.0.1:{free_port()}/hooks"  # nothing listens there
    endpoint = api.ok("POST", "/v1/webhooks/endpoints", {"url": gone})

    job_id = cancelled_job(api)
    doc = api.wait(f"/v1/webhooks/endpoints/{endpoint['id']}", lambda e: e["status"] == "disabled", timeout=30)
    assert "no successful delivery since" in doc["disabled_reason"]
    assert "Connection refused" in doc["disabled_reason"]

    delivery = deliveries_of(api, job_id, done=1)[endpoint["id"]]
    assert delivery["status"] == "failed", delivery
    assert delivery["attempts"] == 4  # the first attempt and three retries: the schedule is exhausted
    assert "gave up after 4 attempts" in delivery["last_error"]
    assert [a["status_code"] for a in delivery["log"]] == [None] * 4
    assert all("refused" in a["error"].lower() for a in delivery["log"])
    log = processes.logs.joinpath("webhook.log").read_text()
    assert log.count(f"webhook endpoint {endpoint['id']} disabled: no successful delivery since") == 1

    # a later event is not delivered to the disabled endpoint
    later = cancelled_job(api, 2)
    assert api.ok("GET", f"/v1/jobs/{later}/deliveries")["deliveries"] == []
    # the client re-enables it: new events are attempted again
    api.ok("PATCH", f"/v1/webhooks/endpoints/{endpoint['id']}", {"enabled": True})
    again = cancelled_job(api, 3)
    api.wait(f"/v1/jobs/{again}/deliveries", lambda d: d["deliveries"] and d["deliveries"][0]["attempts"] >= 1,
             timeout=10)


def test_the_guard_runs_again_at_delivery_time(processes, client_factory, receivers):
    """A URL accepted by the API but refused where it is delivered (DNS may have changed)."""
    _, key = client_factory("rebinding")
    receiver = receivers()
    processes.env["ROUTEFARM_WEBHOOK_ALLOWLIST"] = ""  # the webhook process admits no loopback
    processes.webhook()
    processes.env["ROUTEFARM_WEBHOOK_ALLOWLIST"] = "127.0.0.0/8"
    processes.web()
    api = Api(processes.port, key)
    endpoint = api.ok("POST", "/v1/webhooks/endpoints", {"url": receiver.url})
    job_id = cancelled_job(api)
    delivery = deliveries_of(api, job_id, done=1)[endpoint["id"]]
    assert delivery["status"] == "failed" and delivery["attempts"] == 4
    assert all(a["error"].startswith("refused by the SSRF guard: 127.0.0.1 is a loopback address")
               for a in delivery["log"])
    assert receiver.requests == []  # never connected


def test_deliveries_survive_a_redis_flush(processes, client_factory, receivers, settings):
    _, key = client_factory("flushed")
    receiver = receivers()
    processes.web()
    api = Api(processes.port, key)
    endpoint = api.ok("POST", "/v1/webhooks/endpoints", {"url": receiver.url})
    jobs = [cancelled_job(api, n) for n in range(3)]  # deliveries committed, messages queued
    redis.Redis.from_url(settings.redis_url).flushdb()  # ...and lost
    processes.stream()  # the reaper sends them again
    processes.webhook()
    received = receiver.wait_for(lambda rs: len(rs) >= 3, timeout=30, what="the three callbacks")
    assert sorted(verify(endpoint["secret"], r)["data"]["id"] for r in received) == sorted(jobs)
    for job_id in jobs:
        assert deliveries_of(api, job_id, done=1)[endpoint["id"]]["status"] == "succeeded"
