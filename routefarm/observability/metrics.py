"""Every Prometheus metric the farm exports, in one place (names start with ``routefarm_``).

The metric objects are created in prometheus-client's global registry on first use
(``metrics.JOBS_FINISHED``), not at import: importing this module imports nothing of
prometheus-client and reads no environment. Whether values are kept per process or in
multiprocess files is decided by prometheus-client when it is first imported, from
``PROMETHEUS_MULTIPROC_DIR``; ``routefarm.observability.exposition`` sets that variable for each
process group before anything imports prometheus-client.

Gauges read at scrape time (queue depth, live workers, shard readiness) are not here: they
come from ``exposition.FarmCollector`` (exported by the stream process only), whose family names are listed in
``SCRAPE_TIME_FAMILIES`` so that dashboards and alert rules can be checked against them.
"""

from __future__ import annotations

import threading
from typing import Any

FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SLOW = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
COUNTS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)

def _build() -> dict[str, Any]:
    from prometheus_client import Counter, Histogram

    HTTP_DURATION = Histogram(
        "routefarm_http_request_duration_seconds", "HTTP request latency by route template, method and status",
        ["route", "method", "status"], buckets=FAST)
    JOBS_SUBMITTED = Counter(
        "routefarm_jobs_submitted_total", "Jobs accepted (new rows; de-duplicated ones are counted as such)",
        ["kind"])
    JOBS_FINISHED = Counter(
        "routefarm_jobs_finished_total", "Jobs that reached a terminal state, by outcome and reason",
        ["outcome", "reason"])
    QUEUE_WAIT = Histogram(
        "routefarm_job_queue_wait_seconds", "From a job's creation (or re-queue) to its claim by a worker",
        buckets=SLOW)
    SOLVE_SECONDS = Histogram(
        "routefarm_job_solve_seconds", "Wall time of one solve inside a worker", buckets=SLOW)
    SOLVER_PEAK_BYTES = Histogram(
        "routefarm_solver_peak_rss_bytes", "Peak resident memory of one solver child process",
        buckets=tuple(2**k * 2**20 for k in range(6, 15)))
    LEASE_GAP_SECONDS = Histogram(
        "routefarm_lease_renewal_max_gap_seconds", "Longest time between two lease renewals of one solve",
        buckets=FAST)
    E2E_SECONDS = Histogram(
        "routefarm_job_e2e_seconds", "From a job's creation to its stored terminal state", ["outcome"], buckets=SLOW)
    UNASSIGNED_STOPS = Histogram(
        "routefarm_solution_unassigned_stops", "Unassigned stops and shipments per stored solution", buckets=COUNTS)
    VEHICLES_USED = Histogram(
        "routefarm_solution_vehicles_used", "Vehicles used per stored solution", buckets=COUNTS)
    CACHE_LOOKUPS = Counter(
        "routefarm_cache_lookups_total", "Job document lookups in the Redis cache", ["result"])
    WEBHOOK_ATTEMPTS = Counter(
        "routefarm_webhook_attempts_total",
        "Webhook delivery attempts by outcome (succeeded, retry, exhausted, gone, disabled)",
        ["outcome"])
    WEBHOOK_POSTPONED = Counter(
        "routefarm_webhook_postponed_total",
        "Webhook deliveries put off to their client's turn (its share of deliveries was in flight)")
    WEBHOOK_LATENCY = Histogram(
        "routefarm_webhook_latency_seconds", "Duration of one webhook POST", buckets=FAST)
    SHARD_SECONDS = Histogram(
        "routefarm_shard_transaction_seconds", "Duration of one shard transaction (connection held)", ["shard"],
        buckets=FAST)
    SHARD_ERRORS = Counter(
        "routefarm_shard_errors_total", "Shard transactions that failed because the shard was unavailable",
        ["shard"])
    REAPER_ACTIONS = Counter(
        "routefarm_reaper_actions_total",
        "Reaper actions: requeued, failed (worker_lost), cancelled (asked to stop), resent (lost message),"
        " deliveries, skipped shards",
        ["action"])
    # Kafka: ingest of re-optimization events, relay of the outbox
    INGEST_EVENTS = Counter(
        "routefarm_ingest_events_total",
        "Re-optimization events taken from Kafka: created (a job), duplicate (its job existed), dead_letter,"
        " dropped (a dead letter Kafka refused for good)",
        ["outcome"])
    OUTBOX_PUBLISHED = Counter(
        "routefarm_outbox_published_total", "Job lifecycle events published to Kafka and marked sent")
    RELAY_ERRORS = Counter(
        "routefarm_relay_errors_total", "Job lifecycle events Kafka did not acknowledge (they are sent again)")
    OUTBOX_PARKED = Counter(
        "routefarm_outbox_parked_total",
        "Outbox rows the relay parked, by reason: too_large, invalid (Kafka refused them for good), unencodable",
        ["reason"])
    OUTBOX_TRIMMED = Counter(
        "routefarm_outbox_trimmed_total", "Job lifecycle events published without their largest data members"
        " (too large whole)")
    PURGED_ROWS = Counter(
        "routefarm_purged_rows_total", "Rows deleted by the retention purge, by shard and table",
        ["shard", "table"])
    return {name: value for name, value in locals().items() if name.isupper()}


_lock = threading.Lock()
_defined: dict[str, Any] = {}


def _all() -> dict[str, Any]:
    with _lock:
        if not _defined:
            _defined.update(_build())
    return _defined


def __getattr__(name: str) -> Any:
    """The metric objects, created on first use (after the process chose its value store)."""
    if name.isupper() and name in _all():
        return _defined[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Families produced by ``exposition.FarmCollector`` on the stream process's metrics port.
QUEUE_DEPTH = "routefarm_queue_depth"
WORKERS = "routefarm_workers"
SHARD_UP = "routefarm_shard_up"
OUTBOX_BACKLOG = "routefarm_outbox_backlog"
OUTBOX_PARKED_ROWS = "routefarm_outbox_parked_rows"
KAFKA_LAG = "routefarm_kafka_lag"  # on the stream process's metrics port (workers.stream.IngestLag)
SCRAPE_TIME_FAMILIES = (QUEUE_DEPTH, WORKERS, SHARD_UP, OUTBOX_BACKLOG, OUTBOX_PARKED_ROWS, KAFKA_LAG)
REAPER_ACTION_NAMES = ("requeued", "failed", "cancelled", "resent", "deliveries", "unavailable")  # fields of farm.reaper.Reaped
# From prometheus-client's process collector on the worker metrics port.
PROCESS_FAMILIES = ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds")

def family_names() -> set[str]:
    """Every family name the farm exports (as Prometheus sees it, ``_total`` included)."""
    names: set[str] = set(SCRAPE_TIME_FAMILIES) | set(PROCESS_FAMILIES)
    for metric in _all().values():
        for family in metric.describe():
            names.add(family.name + ("_total" if family.type == "counter" else ""))
    return names


def observe_finished(outcome: str, reason: str | None = None) -> None:
    _all()["JOBS_FINISHED"].labels(outcome=outcome, reason=reason or "").inc()
