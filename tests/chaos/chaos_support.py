"""The chaos run: the farm, its clients, then load (``chaos_load``), faults (``chaos_faults``)
and the audit (``chaos_audit``).

Everything talks to 127.0.0.1 only and every loop has a deadline.
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

import psycopg
from chaos_audit import Findings, audit, settle
from chaos_faults import WORKER, FaultLog, Faults
from chaos_load import LOAD_SECONDS, SUBMIT_PATIENCE, Client, Load
from kafka_support import TopicReader
from pipeline_support import (
    Api,
    Processes,
    TcpProxy,
    close_open_jobs,
    log_tail,
    shard_dsns,
)
from support import make_settings
from webhook_support import LOOPBACK, Receiver

from routefarm.farm import Farm
from routefarm.kafka.clients import ensure_topics
from routefarm.kafka.names import JOB_EVENTS_TOPIC

CLIENTS_PER_SHARD = 2
JOBS_PER_CLIENT = 50
# after the load and the faults, every job, event and webhook is through within this time;
# what is not is reported stuck or lost. The longest wait that is no fault of the farm: a
# delivery taken by the killed webhook sender, retried after its claim's lease (40 s).
SETTLE_SECONDS = 60.0



def quiet_shards(databases: dict[str, str]) -> None:
    """Earlier tests' open work is closed and their events count as sent: the reaper and the
    relay of this run act on this run's rows only."""
    close_open_jobs(databases)
    for url in shard_dsns(databases).values():
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
            conn.execute(
                "UPDATE webhook_deliveries SET status = 'failed', message_id = NULL,"
                " next_attempt_at = NULL WHERE status = 'pending'"
            )


def make_clients(settings, receiver: Receiver) -> list[Client]:
    """Two new clients on each shard (placement is by hashing: create until both have two)."""
    farm = Farm(settings).open(wait=True)
    try:
        placed: dict[str, list[Client]] = {}
        for n in range(100):
            client, key = farm.directory.create_client(f"chaos-{n}")
            on_shard = placed.setdefault(client.shard, [])
            if len(on_shard) < CLIENTS_PER_SHARD:
                name = f"{client.shard}-{len(on_shard)}"
                on_shard.append(
                    Client(name, client.id, key, client.shard, hook_url=f"{receiver.url}/{name}")
                )
            if sum(len(c) for c in placed.values()) == 2 * CLIENTS_PER_SHARD:
                break
    finally:
        farm.close()
    clients = sum(placed.values(), [])
    assert sorted(placed) == ["shard0", "shard1"] and len(clients) == 4, placed
    return clients


def run(
    databases,
    own_redis,
    kafka_broker,
    logs,
    plan=None,
    jobs_per_client: int = JOBS_PER_CLIENT,
    load_seconds: float = LOAD_SECONDS,
    settle_seconds: float = SETTLE_SECONDS,
    seed: int = 8,
) -> tuple[Findings, FaultLog]:
    """The whole chaos run: the farm, the load, the faults (``plan``, else ``default_plan``),
    waiting for the farm to settle, the audit. Processes and helpers are stopped at the end."""
    ensure_topics(kafka_broker.bootstrap, partitions=3)
    quiet_shards(databases)
    shard1 = urlparse(databases["shard1"])
    proxy = TcpProxy(target_port=shard1.port or 5432).start()
    cut_url = f"postgresql://postgres@127.0.0.1:{proxy.port}{shard1.path}"
    settings = make_settings(
        databases,
        own_redis.url(0).rsplit("/", 1)[0],
        shard_urls=f"{databases['shard0']},{cut_url}",
        db_timeout_s=1.0,
        webhook_allowlist=LOOPBACK,
        webhook_jitter=0.0,
        webhook_schedule="0.5,1,2,3,5,5,5,5",
        kafka_bootstrap=kafka_broker.bootstrap,
        kafka_partitions=3,
        kafka_session_timeout_ms=6000,
        relay_interval_s=0.2,
    )
    receiver = Receiver(answer=lambda n, _: 500 if n % 19 == 7 else 200).start()
    reader = TopicReader(kafka_broker.bootstrap, JOB_EVENTS_TOPIC)
    reader.start()
    procs = Processes(settings, logs)
    loads: list[Load] = []
    faults = None
    try:
        clients = make_clients(settings, receiver)
        procs.web()
        for n in (1, 2, 3):
            procs.worker(f"{WORKER}{n}")
        procs.webhook()
        procs.stream()
        api = Api(procs.url)
        for client in clients:
            created = api.call(
                "POST", "/v1/webhooks/endpoints", client.key, {"url": client.hook_url}
            )
            assert created.status == 201, (created.status, created.body)
            client.secret = created.body["secret"]
            client.oneoff_secret = api.call("GET", "/v1/webhooks/secret", client.key).body["secret"]

        began = time.monotonic() + 1.0
        interval = load_seconds / jobs_per_client
        loads = [
            Load(
                api,
                client,
                jobs_per_client,
                began + i * interval / len(clients),
                interval,
                seed=seed * 10 + i,
                oneoff_url=f"{client.hook_url}/oneoff",
            )
            for i, client in enumerate(clients)
        ]
        faults = Faults(
            procs, databases, own_redis, kafka_broker, proxy, began, seed=seed, plan=plan
        )
        for thread in (*loads, faults):
            thread.start()
        deadline = began + load_seconds + SUBMIT_PATIENCE + 10
        for thread in (*loads, faults):
            thread.join(max(0.0, deadline - time.monotonic()))
        print("\n".join(["", "-- faults --", *faults.log.lines]))
        assert faults.error is None, faults.error
        late = [
            f"{load.name}: {len(load.submissions)} of {load.count} submitted"
            for load in loads
            if load.is_alive()
        ]
        assert not late and not faults.is_alive(), f"the load or the faults did not end: {late}"
        accepted = {s.job_id for load in loads for s in load.submissions if s.job_id}
        took = settle(databases, [c.client_id for c in clients], accepted, reader, settle_seconds)
        print(
            f"run: load and faults {time.monotonic() - began - took:.0f} s,"
            f" then settled in {took:.0f} s"
        )
        findings = audit(databases, clients, loads, faults.log, reader, receiver)
        if findings.problems:
            for name in sorted(procs.children):
                print(f"-- {name} log --\n{log_tail(procs.logs / f'{name}.log', 15)}")
        return findings, faults.log
    finally:
        for load in loads:
            load.stopping.set()
        if faults is not None:
            faults.stopping.set()
            faults.join(30)
        procs.stop_all()
        reader.stop()
        receiver.stop()
        proxy.stop()
