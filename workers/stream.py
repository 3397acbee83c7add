"""The ``stream`` process: Kafka ingest, the outbox relay, the reaper of lost jobs and
webhook deliveries, and the retention purge, each in its own thread.

Safe to run in several replicas: ingest shares partitions through the consumer group, the
relay takes each shard under a lock, the reaper and the purge take their rows with SKIP LOCKED. With
no ``ROUTEFARM_KAFKA_BOOTSTRAP`` only the reaper runs (outbox rows wait for a relay).
Run: ``python -m workers.stream``.
"""

from __future__ import annotations

import logging
import signal
import threading

from routefarm.farm import Farm
from routefarm.farm.reaper import reap
from routefarm.observability.exposition import FarmCollector
from routefarm.observability.exposition import serve as serve_metrics
from routefarm.observability.logs import configure_logging
from routefarm.observability.metrics import REAPER_ACTION_NAMES
from routefarm.settings import Settings

log = logging.getLogger("routefarm.stream")
RELAY_TIMEOUT_MS = 10000  # a relay pass waits this long for Kafka before leaving rows for later
RELAY_BACKOFF = 5.0  # seconds between passes while Kafka does not acknowledge


def serve(settings: Settings, stopping: threading.Event) -> None:
    farm = Farm(settings).open(wait=False)
    # the farm-wide gauges (queue depth, workers, shards, outbox backlog) are exported here
    # only: one process kind, whatever the number of API replicas
    gauges = [FarmCollector(farm)] + ([IngestLag(settings.kafka_bootstrap)] if settings.kafka_bootstrap else [])
    serve_metrics(settings.metrics_port, settings.metrics_host, extra=gauges, process=True)
    loops = [("purge", purge_loop)]
    if settings.kafka_bootstrap:
        loops += [("ingest", ingest_loop), ("relay", relay_loop)]
    threads = [threading.Thread(target=guard, args=(name, loop, farm, stopping), name=name) for name, loop in loops]
    for thread in threads:
        thread.start()
    kept = f"{settings.job_retention_s:g} s after they end" if settings.job_retention_s else "until deleted"
    if settings.kafka_bootstrap:
        log.info("stream started: ingest and relay on %s, reaper every %.1f s, ended jobs kept %s",
                 settings.kafka_bootstrap, settings.reaper_interval_s, kept)
    else:
        log.info("stream started without Kafka: reaper every %.1f s, ended jobs kept %s",
                 settings.reaper_interval_s, kept)
    try:
        reaper_loop(farm, stopping)
    finally:
        stopping.set()
        for thread in threads:
            thread.join()
        farm.close()
        log.info("stream stopped")


class IngestLag:
    """``routefarm_kafka_lag``: the ingest group's lag on the re-optimization topic, read from
    the broker when scraped (what KEDA's Kafka trigger reads)."""

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        from routefarm.kafka.lag import LagReader, LagUnavailable
        from routefarm.kafka.names import INGEST_GROUP, REOPTIMIZE_TOPIC

        family = GaugeMetricFamily("routefarm_kafka_lag", "Events on the topic the ingest group has not "
                                   "committed yet", labels=["topic", "group"])
        reader = LagReader(self.bootstrap, timeout=2.0)
        try:
            family.add_metric([REOPTIMIZE_TOPIC, INGEST_GROUP], reader.lag(INGEST_GROUP, REOPTIMIZE_TOPIC).total)
        except LagUnavailable as exc:
            log.warning("kafka lag not read: %s", exc)
        finally:
            reader.close()
        yield family


def guard(name: str, loop, farm: Farm, stopping: threading.Event) -> None:
    """Run ``loop``; if it crashes, log it and start it again after a pause."""
    while not stopping.is_set():
        try:
            loop(farm, stopping)
        except Exception:  # noqa: BLE001 - one bug must not stop the other loops
            log.exception("%s loop crashed; starting it again in 5 s", name)
            stopping.wait(5.0)


def reaper_loop(farm: Farm, stopping: threading.Event) -> None:
    while not stopping.is_set():
        try:
            reaped = reap(farm)
        except Exception:  # noqa: BLE001 - one bad pass must not stop the reaper
            log.exception("reaper pass failed")
        else:
            _count(reaped)
        stopping.wait(farm.settings.reaper_interval_s)


def purge_loop(farm: Farm, stopping: threading.Event) -> None:
    """Retention: a purge pass over every shard each ``purge_interval_s`` (at once again when
    a shard had more expired rows than a pass's budget)."""
    from routefarm.jobs.retention import purge

    while not stopping.is_set():
        try:
            done = purge(farm, stopping=stopping)
        except Exception:  # noqa: BLE001 - a shard down now is purged on a later pass
            log.exception("purge pass failed")
            done = None
        stopping.wait(1.0 if done is not None and done.unfinished else farm.settings.purge_interval_s)


def ingest_loop(farm: Farm, stopping: threading.Event) -> None:
    from routefarm.kafka import clients
    from routefarm.kafka.ingest import Ingest
    from routefarm.kafka.names import INGEST_GROUP

    settings = farm.settings
    consumer = clients.consumer(settings.kafka_bootstrap, INGEST_GROUP, settings.kafka_session_timeout_ms,
                                client_id="routefarm-ingest")
    producer = clients.producer(settings.kafka_bootstrap, client_id="routefarm-dlq")
    Ingest(farm, consumer, producer, settings.ingest_max_queue_depth, settings.ingest_batch, stopping).run()


def relay_loop(farm: Farm, stopping: threading.Event) -> None:
    from routefarm.kafka.clients import ProducerFailed
    from routefarm.kafka.parked import PARK_REASONS
    from routefarm.kafka.relay import Relay
    from routefarm.kafka.relay import producer as relay_producer
    from routefarm.observability import metrics

    settings = farm.settings
    producer = relay_producer(settings.kafka_bootstrap, settings.relay_max_event_bytes, RELAY_TIMEOUT_MS)
    relay = Relay(farm.db, producer, settings.relay_batch, settings.outbox_retention_s, RELAY_TIMEOUT_MS / 1000,
                  settings.relay_max_event_bytes)
    try:
        while not stopping.is_set():
            result, more = relay.run_once()
            metrics.OUTBOX_PUBLISHED.inc(result.published)
            metrics.OUTBOX_TRIMMED.inc(result.trimmed)
            metrics.RELAY_ERRORS.inc(result.failed)
            for reason in PARK_REASONS:  # 0 too: a sample from the first pass
                metrics.OUTBOX_PARKED.labels(reason=reason).inc(result.parked.get(reason, 0))
            if result.fatal:  # guard() starts the loop again, with a new producer
                raise ProducerFailed(f"the relay's producer failed: {result.fatal}")
            if not more:
                stopping.wait(RELAY_BACKOFF if result.failed else settings.relay_interval_s)
    finally:
        producer.flush(RELAY_TIMEOUT_MS / 1000)


def _count(reaped) -> None:
    from routefarm.observability import metrics

    for action in REAPER_ACTION_NAMES:
        done = len(getattr(reaped, action))
        metrics.REAPER_ACTIONS.labels(action=action).inc(done)  # 0 too: a sample from the first pass


def main() -> None:
    settings = Settings()
    configure_logging("stream", settings.log_level)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    serve(settings, stopping)


if __name__ == "__main__":
    main()
