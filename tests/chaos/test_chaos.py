"""Chaos: about 200 jobs from 4 clients on both shards, over real processes, while faults hit
the farm; then an auditor checks that nothing was lost and prints its counts.

The farm: web (gunicorn), 3 solve workers, the webhook sender and the stream process
(ingest, outbox relay, reaper; lease 6 s, reaper every second), a Redis server of its own
with its append-only file (as ``routefarm up`` runs it), an embedded Kafka broker, shard1
reached through a TCP proxy, a webhook endpoint per client on a real HTTP receiver that
answers 500 to one request in 19 (so deliveries are retried too).

The faults, on a fixed schedule while the load is submitted over ~40 s:

- ``kill -9`` of a random solve worker every ~4 s, a replacement started at once;
- Redis killed (SIGKILL: what its append-only file had not written yet is lost) and started
  again on its port 2 s later;
- the Kafka broker stopped for 10 s with SIGSTOP, then SIGCONT. The embedded broker keeps
  its log in memory, so stopping its process would lose every event it had and make "every
  event reached the topic" impossible to check; a frozen broker is the outage a client
  sees (connections hang, requests time out) with the log kept. A real stop and restart
  is covered by tests/kafka/test_outage.py;
- ``kill -9`` of the webhook sender and, later, of the stream process (relay, ingest and
  reaper), each started again at once;
- shard1 cut for 8 s at the proxy: its clients' submissions get 503 and are submitted
  again by the load with the same Idempotency-Key (only a 202 counts as accepted);
- SIGTERM to a worker in the middle of a solve (a scale-down), another one started.

The load also cancels one job in ten right after it is accepted.

The auditor (``chaos_support.audit``), once the farm has settled (what is not through 60 s
after the load counts as stuck or lost): every accepted job has exactly one row, is terminal
with exactly one stored outcome, none lost or stuck; every outbox event of these clients
reached ``routefarm.job-events`` (at least once, a duplicate with the same id and content)
and each job's events arrived in the order of its changes; every webhook delivery succeeded
and arrived at least once, duplicates with the same ``webhook-id``, each signature valid.
The counts are printed (``pytest -m chaos -s`` shows them).
"""

from __future__ import annotations

import time

import pytest
from chaos_support import JOBS_PER_CLIENT, run
from support import processes_with_env


@pytest.mark.chaos
@pytest.mark.slow
def test_nothing_is_lost_under_faults(databases, own_redis, kafka_broker, tmp_path):
    if not hasattr(kafka_broker, "process"):
        pytest.skip("needs the embedded broker (a configured one cannot be stopped here)")
    findings, faults = run(databases, own_redis, kafka_broker, tmp_path)
    assert findings.problems == [], (
        f"{len(findings.problems)} problem(s), first: {findings.problems[:10]}"
    )
    c = findings.counts
    assert c["accepted"] == 4 * JOBS_PER_CLIENT
    assert c["lost_jobs"] == c["stuck_jobs"] == c["lost_events"] == c["lost_webhooks"] == 0
    assert faults.killed >= 8 and faults.redis_restarts == 1 and faults.terminated == 1
    # every process of the farm has stopped: no solver child (or forkserver) is left running
    marker = ("ROUTEFARM_REDIS_URL", own_redis.url(0).rsplit("/", 1)[0] + "/")
    deadline = time.monotonic() + 5
    while (left := processes_with_env(*marker, comms=("rf-solve", "python3", "python"))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], f"left running after the chaos run: {left}"
