"""How processes expose ``routefarm.observability.metrics``: multiprocess directories, the metrics port,
and the gauges read from Redis and the shards at scrape time.

prometheus-client picks per-process or multiprocess values when it is first imported, from
``PROMETHEUS_MULTIPROC_DIR``. So ``use_multiproc_dir`` must run before anything imports it
(this module imports it only inside functions). Each process group (gunicorn's workers, one
Dramatiq invocation's worker processes) gets its own directory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..broker import SOLVE_QUEUE, WEBHOOK_QUEUE, queue_depth
from . import scaler as autoscaler_record

log = logging.getLogger(__name__)
ENV = "PROMETHEUS_MULTIPROC_DIR"
PRESENCE_EVERY = 5.0  # seconds between two worker presence marks
PRESENCE_TTL = 20.0  # seconds after which a worker that stopped marking counts as gone
SHARD_CHECK_TIMEOUT = 1.0


def presence_key(namespace: str) -> str:
    return f"{namespace}:routefarm:workers"


def process_key(pid: int) -> str:
    """``pid`` plus its start time where /proc tells it: a reused pid gets another directory."""
    try:
        started = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return str(pid)
    return f"{pid}-{started}"


def use_multiproc_dir(group: str, key: str | int | None = None) -> Path:
    """Point prometheus-client at this process group's directory (created if needed)."""
    if "prometheus_client" in sys.modules and ENV not in os.environ:
        log.warning("prometheus_client was imported before its multiprocess directory was set")
    base = Path(tempfile.gettempdir()) / "routefarm-metrics"
    path = base / f"{group}-{key if key is not None else os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(path)
    return path


def multiproc_dir() -> str | None:
    return os.environ.get(ENV) or None


def mark_dead(pid: int) -> None:
    """Drop a finished process's live gauges (gunicorn ``child_exit``, Dramatiq shutdown)."""
    if multiproc_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def registry(extra: list | None = None, process: bool = False):
    """A registry for one scrape: the multiprocess files (or the global registry), plus ``extra``."""
    from prometheus_client import REGISTRY, CollectorRegistry, ProcessCollector
    from prometheus_client.multiprocess import MultiProcessCollector

    if multiproc_dir():
        reg = CollectorRegistry()
        MultiProcessCollector(reg)
        if process:
            ProcessCollector(registry=reg)
    else:
        reg = REGISTRY
    if extra:
        reg = _Combined(reg, extra)
    return reg


class _Combined:
    """A registry-like view over a registry and extra collectors (nothing registered globally)."""

    def __init__(self, base, extra: list):
        self.base, self.extra = base, extra

    def collect(self):
        yield from self.base.collect()
        for collector in self.extra:
            yield from collector.collect()


def serve(port: int, host: str, extra: list | None = None, process: bool = False) -> bool:
    """Serve ``/metrics`` on ``host:port`` from a thread; False if the port is taken (another
    process of the same group serves the same multiprocess directory)."""
    from prometheus_client import start_http_server

    if port <= 0:
        return False
    try:
        start_http_server(port, addr=host, registry=registry(extra, process))
    except OSError as exc:
        log.info("metrics port %s:%d not served by this process: %s", host, port, exc)
        return False
    log.info("metrics on %s:%d", host, port)
    return True


class FarmCollector:
    """Queue depth (what KEDA reads), live workers, shard readiness, outbox backlog and parked
    outbox rows, read when scraped."""

    def __init__(self, farm):
        self.farm = farm

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        broker = self.farm.broker
        depth = GaugeMetricFamily("routefarm_queue_depth", "Queued, in-flight and delayed messages per queue",
                                  labels=["queue"])
        workers = GaugeMetricFamily("routefarm_workers", "Worker processes: current (live, by presence "
                                    "marks in Redis); desired (solve workers, from the local autoscaler's "
                                    "record while one runs)", labels=["state", "queue"])
        try:
            for queue in (SOLVE_QUEUE, WEBHOOK_QUEUE):
                depth.add_metric([queue], queue_depth(broker, queue))
            for queue, count in live_workers(broker.client, broker.namespace).items():
                workers.add_metric(["current", queue], count)
            scaler = autoscaler_record.read(self.farm.cache.client)
            if scaler is not None:
                workers.add_metric(["desired", SOLVE_QUEUE], scaler.desired)
        except Exception as exc:  # noqa: BLE001 - a scrape must answer while Redis is down
            log.warning("queue depth not read: %s", exc)
        yield depth
        yield workers
        up = GaugeMetricFamily("routefarm_shard_up", "1 when the shard answers SELECT 1", labels=["shard"])
        backlog = GaugeMetricFamily("routefarm_outbox_backlog", "Job lifecycle events waiting to be published "
                                    "to Kafka, per shard (parked ones apart)", labels=["shard"])
        parked = GaugeMetricFamily("routefarm_outbox_parked_rows", "Outbox rows the relay parked (Kafka "
                                   "refused them for good), per shard: routefarm outbox parked", labels=["shard"])
        for name, pool in self.farm.db.shards.items():
            try:
                with pool.connection(timeout=SHARD_CHECK_TIMEOUT) as conn:
                    waiting, aside = conn.execute(
                        "SELECT count(*) FILTER (WHERE parked_at IS NULL), count(*) FILTER (WHERE parked_at IS NOT NULL)"
                        " FROM outbox WHERE sent_at IS NULL").fetchone()
                up.add_metric([name], 1)
                backlog.add_metric([name], waiting)
                parked.add_metric([name], aside)
            except Exception:  # noqa: BLE001 - any failure means down
                up.add_metric([name], 0)
        yield up
        yield backlog
        yield parked


def live_workers(client, namespace: str) -> dict[str, int]:
    """Queue -> worker processes whose presence mark is fresh (always lists solve and webhooks)."""
    now = time.time()
    members = client.zrangebyscore(presence_key(namespace), now - PRESENCE_TTL, "+inf")
    counts = {SOLVE_QUEUE: 0, WEBHOOK_QUEUE: 0}
    for member in members:
        queues = member.decode().rsplit("|", 1)[-1]
        for queue in queues.split(","):
            if queue:
                counts[queue] = counts.get(queue, 0) + 1
    return counts


class Presence(threading.Thread):
    """Marks this worker process as live in Redis every few seconds; removed on ``stop()``."""

    def __init__(self, client, namespace: str, queues: list[str]):
        super().__init__(name="metrics-presence", daemon=True)
        self.client, self.key = client, presence_key(namespace)
        self.member = f"{socket.gethostname()}:{os.getpid()}|{','.join(sorted(queues))}"
        self.stopping = threading.Event()

    def run(self) -> None:
        while True:
            try:
                now = time.time()
                pipe = self.client.pipeline(transaction=False)
                pipe.zadd(self.key, {self.member: now})
                pipe.zremrangebyscore(self.key, "-inf", now - 10 * PRESENCE_TTL)
                pipe.execute()
            except Exception as exc:  # noqa: BLE001 - Redis down: try again later
                log.debug("presence mark failed: %s", exc)
            if self.stopping.wait(PRESENCE_EVERY):
                break

    def stop(self) -> None:
        self.stopping.set()
        with contextlib.suppress(Exception):  # best effort; the mark expires anyway
            self.client.zrem(self.key, self.member)
