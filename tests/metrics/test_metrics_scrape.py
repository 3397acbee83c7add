"""Acceptance: after a run over real processes that submits, solves, de-duplicates, cancels,
long-polls and delivers (failing) webhooks, a scrape of web's ``/metrics`` and of the
worker, webhook and stream metrics ports shows every required family with samples; the
farm-wide gauges come from the stream process alone."""

from __future__ import annotations

import sys
import time

from metrics_support import FailingReceiver, call, scrape, value
from support import SMALL_PROBLEM, free_port

REQUIRED = (
    "routefarm_http_request_duration_seconds", "routefarm_jobs_submitted_total", "routefarm_jobs_finished_total",
    "routefarm_job_solve_seconds", "routefarm_job_e2e_seconds", "routefarm_queue_depth", "routefarm_workers",
    "routefarm_webhook_attempts_total", "routefarm_outbox_backlog",
)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.2)


def test_every_required_family_has_samples(processes, client_factory):
    ports = {name: free_port() for name in ("worker", "webhook", "stream")}
    processes._start("worker", _dramatiq("solve", 1), {"ROUTEFARM_METRICS_PORT": str(ports["worker"]),
                                                        "dramatiq_queue_prefetch": "1"})
    processes._start("webhook", _dramatiq("webhooks", 4), {"ROUTEFARM_METRICS_PORT": str(ports["webhook"])})
    processes._start("stream", [sys.executable, "-m", "workers.stream"], {"ROUTEFARM_METRICS_PORT": str(ports["stream"])})
    processes.web()
    receiver = FailingReceiver()
    try:
        _, key = client_factory("metrics")
        port = processes.port
        status, _ = call(port, "POST", "/v1/webhooks/endpoints", key, {"url": receiver.url})
        assert status == 201
        status, job = call(port, "POST", "/v1/jobs", key, {"problem": SMALL_PROBLEM})
        assert status == 202
        status, doc = call(port, "GET", f"/v1/jobs/{job['id']}?wait=30", key)
        assert status == 200 and doc["status"] == "succeeded", doc
        call(port, "GET", f"/v1/jobs/{job['id']}", key)  # from the cache
        status, again = call(port, "POST", "/v1/jobs", key, {"problem": SMALL_PROBLEM})  # de-duplicated
        assert status == 202 and again.get("deduplicated_from") == job["id"], again
        call(port, "GET", "/v1/jobs/not-a-job", key)  # a 4xx is measured too

        worker_url = f"http://127.0.0.1:{ports['worker']}/metrics"
        webhook_url = f"http://127.0.0.1:{ports['webhook']}/metrics"
        stream_url = f"http://127.0.0.1:{ports['stream']}/metrics"
        # two events, each tried twice (schedule "0.2"): a retry, then the schedule is exhausted
        webhook = _wait(lambda: (lambda f: f if value(f, "routefarm_webhook_attempts_total", outcome="exhausted") >= 2
                                 else None)(scrape(webhook_url)), 30, "webhook retries exhausted")
        stream = _wait(lambda: (lambda f: f if "routefarm_reaper_actions_total" in f else None)(scrape(stream_url)),
                       20, "a reaper pass")
        worker = scrape(worker_url)
        web = scrape(f"http://127.0.0.1:{port}/metrics")
    finally:
        receiver.stop()

    scrapes = {"web": web, "worker": worker, "webhook": webhook, "stream": stream}
    for name in REQUIRED:
        assert any(f.get(name) for f in scrapes.values()), f"{name} has no samples in any scrape"

    assert value(web, "routefarm_http_request_duration_seconds_count", route="/v1/jobs", method="POST",
                 status="202") == 2
    assert value(web, "routefarm_http_request_duration_seconds_count", route="/v1/jobs/<job_id>",
                 method="GET", status="404") >= 1
    assert value(web, "routefarm_jobs_submitted_total", kind="single") == 1
    assert value(web, "routefarm_jobs_submitted_total", kind="deduplicated") == 1
    assert value(web, "routefarm_cache_lookups_total", result="hit") >= 1
    assert value(worker, "routefarm_jobs_finished_total", outcome="succeeded", reason="") == 1
    assert value(worker, "routefarm_job_solve_seconds_count") == 1
    assert value(worker, "routefarm_job_e2e_seconds_count", outcome="succeeded") == 1
    assert value(worker, "routefarm_job_queue_wait_seconds_count") == 1
    assert value(worker, "routefarm_solution_vehicles_used_sum") == 1
    assert value(worker, "process_cpu_seconds_total") > 0
    assert value(webhook, "routefarm_webhook_attempts_total", outcome="retry") >= 2
    assert value(webhook, "routefarm_webhook_latency_seconds_count") >= 4
    assert receiver.count >= 4
    # the farm-wide gauges: from the stream process, not from web
    assert not {"routefarm_queue_depth", "routefarm_workers", "routefarm_shard_up", "routefarm_outbox_backlog"} & set(web)
    assert {s.labels["queue"] for s in stream["routefarm_queue_depth"]} == {"solve", "webhooks"}
    assert value(stream, "routefarm_workers", state="current", queue="solve") == 1
    assert value(stream, "routefarm_workers", state="current", queue="webhooks") == 1
    assert {s.labels["shard"]: s.value for s in stream["routefarm_shard_up"]} == {"shard0": 1, "shard1": 1}
    # no relay runs here (no Kafka): the job's three events and the duplicate's one wait
    assert sum(s.value for s in stream["routefarm_outbox_backlog"]) >= 4
    assert value(stream, "routefarm_reaper_actions_total", action="requeued") == 0
    assert any(s.labels.get("shard") for s in web["routefarm_shard_transaction_seconds"])


def _dramatiq(queue: str, threads: int) -> list[str]:
    return [sys.executable, "-m", "workers.run", "workers.main:setup", "--processes", "1", "--threads", str(threads),
            "--queues", queue]
