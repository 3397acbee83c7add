"""Acceptance: one client's slow receiver holds at most its share of the webhook threads
(``webhook_deliveries_per_client``, across processes); its other deliveries wait for their
turn (not lost, not counted as attempts) while another client's delivery goes through.

Real web and webhook processes (eight threads), real HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import time

from webhook_support import Api, tiny_problem

SHARE = 2  # the default of ROUTEFARM_WEBHOOK_DELIVERIES_PER_CLIENT
BACKLOG = 12  # the slow client's deliveries: more than the webhook process's eight threads


def cancelled_jobs(api: Api, count: int, first: int = 0) -> list[str]:
    jobs = [api.ok("POST", "/v1/jobs", {"problem": tiny_problem(first + n)})["id"] for n in range(count)]
    for job_id in jobs:
        assert api.ok("DELETE", f"/v1/jobs/{job_id}")["status"] == "cancelled"  # each: one delivery
    return jobs


def test_a_slow_receiver_does_not_hold_back_another_clients_webhooks(processes, client_factory, receivers):
    _, slow_key = client_factory("slow-receiver")
    _, fast_key = client_factory("fast-receiver")
    slow = receivers(hang=9)  # holds each request until released (within the 10 s attempt timeout)
    fast = receivers()
    processes.webhook(threads=8)
    processes.web()
    slow_api, fast_api = Api(processes.port, slow_key), Api(processes.port, fast_key)
    slow_api.ok("POST", "/v1/webhooks/endpoints", {"url": slow.url, "event_types": ["job.cancelled"]})
    fast_api.ok("POST", "/v1/webhooks/endpoints", {"url": fast.url, "event_types": ["job.cancelled"]})

    held = cancelled_jobs(slow_api, BACKLOG)
    slow.wait_for(lambda rs: len(rs) >= SHARE, timeout=15, what="the slow client's first deliveries")
    time.sleep(0.5)  # the webhook threads have taken the rest of the backlog by now
    [job_id] = cancelled_jobs(fast_api, 1, first=100)
    [got] = fast.wait_for(lambda rs: len(rs) >= 1, timeout=5, what="the other client's delivery")
    assert got.event["data"]["id"] == job_id
    assert slow.in_flight == SHARE and len(slow.requests) == SHARE  # the rest wait for their turn

    slow.release()
    received = slow.wait_for(lambda rs: len(rs) >= BACKLOG, timeout=90, what="the whole backlog")
    assert sorted(r.event["data"]["id"] for r in received) == sorted(held)  # each once, none lost
    for held_id in held:
        [delivery] = slow_api.ok("GET", f"/v1/jobs/{held_id}/deliveries")["deliveries"]
        assert delivery["status"] == "succeeded" and delivery["attempts"] == 1  # waiting is no attempt
        assert [a["status_code"] for a in delivery["log"]] == [200]
