"""All configuration, read once from ``ROUTEFARM_*`` environment variables at process start.

Nothing reads the environment at import time: a process calls ``Settings()`` (or
``Settings.from_env()``) in its entry point and passes the object down; tests build one
explicitly. Every default works with the services that ``routefarm up`` starts locally.
"""

from __future__ import annotations

import os

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_PG = "postgresql://postgres@127.0.0.1:5432"
# durations now carry their unit in their name: an old name set in the environment is an
# error that says the new one (it would otherwise be ignored without a word)
RENAMED = {old: new for old, new in (
    ("DB_TIMEOUT", "DB_TIMEOUT_S"), ("LEASE_SECONDS", "LEASE_S"), ("REAPER_INTERVAL", "REAPER_INTERVAL_S"),
    ("ORPHAN_GRACE", "ORPHAN_GRACE_S"), ("DEFAULT_TIME_LIMIT", "DEFAULT_TIME_LIMIT_S"),
    ("MAX_TIME_LIMIT", "MAX_TIME_LIMIT_S"), ("DEDUP_WINDOW", "DEDUP_WINDOW_S"), ("CACHE_TTL", "CACHE_TTL_S"),
    ("MAX_WAIT", "MAX_WAIT_S"), ("WEBHOOK_TIMEOUT", "WEBHOOK_TIMEOUT_S"),
    ("WEBHOOK_DISABLE_AFTER", "WEBHOOK_DISABLE_AFTER_S"), ("WEBHOOK_ROTATION_GRACE", "WEBHOOK_ROTATION_GRACE_S"),
    ("RELAY_INTERVAL", "RELAY_INTERVAL_S"), ("OUTBOX_RETENTION", "OUTBOX_RETENTION_S"))}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTEFARM_", frozen=True, extra="ignore")

    # storage: one directory database and N shard databases (comma-separated DSNs)
    directory_url: str = f"{LOCAL_PG}/routefarm_directory"
    shard_urls: str = f"{LOCAL_PG}/routefarm_shard0,{LOCAL_PG}/routefarm_shard1"
    db_pool_size: int = Field(8, ge=1)
    db_timeout_s: float = Field(3.0, gt=0)  # seconds to get a connection before answering 503
    # Redis: the Dramatiq broker and the cache may share a server (different databases)
    redis_url: str = "redis://127.0.0.1:6379/0"
    cache_url: str = "redis://127.0.0.1:6379/1"
    namespace: str = "dramatiq"  # broker key prefix

    # jobs
    lease_s: float = Field(20.0, gt=0)  # a running job's lease, renewed while solving
    reaper_interval_s: float = Field(5.0, gt=0)  # seconds between reaper passes
    orphan_grace_s: float = Field(10.0, ge=0)  # seconds before a queued job's lost message is re-sent
    max_attempts: int = Field(3, ge=1)
    default_time_limit_s: float = Field(10.0, gt=0)  # seconds, when a problem sets none
    max_time_limit_s: float = Field(300.0, gt=0)  # seconds: a problem asking more is refused
    dedup_window_s: float = Field(3600.0, ge=0)  # seconds during which an identical problem is reused
    cache_ttl_s: float = Field(3600.0, gt=0)  # seconds a status document stays cached
    # a solver child's memory limit in MiB; 0 = sized from the machine (routefarm.runner.memory)
    solver_memory_mib: int = Field(0, ge=0)
    max_stops: int = Field(5000, ge=1)
    max_vehicles: int = Field(500, ge=1)
    # after a solve, unassigned tasks get their smallest fixes (optimizer.decisions.explain):
    explain_max_tasks: int = Field(200, ge=0)  # tasks explained per solution; 0: none
    explain_budget_s: float = Field(2.0, ge=0)  # seconds the solver child may spend on it

    # API
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    rate_limit: float = Field(50.0, gt=0)  # requests per second per client, sustained
    rate_burst: int = Field(200, ge=1)  # requests a client may send at once
    max_wait_s: float = Field(60.0, gt=0)  # seconds a long-poll may hold a request
    # long-polls one client may hold open at once, farm-wide (a quarter of a web process's
    # 64 threads: one client never holds a whole process); past it: 429
    max_long_polls_per_client: int = Field(16, ge=1)
    base_url: str = ""  # prefix for links in responses; empty: relative links
    max_batch_jobs: int = Field(1000, ge=1)  # jobs in one POST /v1/batches
    picture_max_places: int = Field(2000, ge=1)  # places a routes.svg draws; a plan using more: 422
    picture_layout_s: float = Field(2.0, gt=0)  # seconds a matrix problem's layout may refine
    # bytes one POST /v1/batches/reoptimize may derive, all its jobs together (each base job's
    # problem and the changes, as JSON): bounds the request's memory and its one insert, as
    # max_body_bytes bounds a POST /v1/batches
    max_reoptimize_batch_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    # jobs whose parsed problem, travel and ended solution an API process keeps for insertion
    # quotes (a 1,000-stop job takes about 20 MiB)
    decisions_cache_jobs: int = Field(4, ge=0)
    decisions_cache_mib: int = Field(128, ge=0)  # MiB of matrices those kept jobs may hold together
    decisions_budget_s: float = Field(2.0, gt=0)  # seconds one quote request may judge places for
    metrics_port: int = Field(0, ge=0, le=65535)  # worker/webhook/stream metrics port; 0 = off
    # the interface the metrics port binds: every one in a pod (Prometheus scrapes the pod's
    # address); `routefarm up` sets 127.0.0.1
    metrics_host: str = "0.0.0.0"
    log_level: str = "INFO"  # of every process's JSON log lines
    # a local farm's folder (routefarm up --data-dir): where operator commands find its state.json
    data_dir: str = ".routefarm"

    # road travel times: an OSRM-compatible server (osrm-backend, or `routefarm roads serve`)
    roads_url: str = ""  # empty: a problem asking for road travel is refused
    roads_timeout_s: float = Field(10.0, gt=0)  # one request, connection to last byte
    roads_retries: int = Field(2, ge=0)  # tries after a failed request
    roads_deadline_s: float = Field(60.0, gt=0)  # one job's matrices, all requests together
    roads_max_table_size: int = Field(100, ge=2)  # coordinates per table request (osrm-routed's default)
    roads_snap_limit_m: float = Field(1000.0, gt=0)  # a place farther than this from every road: 422
    roads_cache_ttl_s: float = Field(3600.0, ge=0)  # computed matrices kept in Redis; 0: not kept
    roads_cache_max_places: int = Field(2000, ge=0)  # larger matrices are not cached

    # webhooks
    webhook_schedule: str = "5,30,120,600,1800,3600,10800,21600,43200,86400"  # seconds between attempts
    webhook_jitter: float = Field(0.1, ge=0, lt=1)  # each delay is moved by up to this share, up or down
    webhook_timeout_s: float = Field(10.0, gt=0)  # seconds for one attempt, connection to last byte
    webhook_disable_after_s: float = Field(5 * 86400.0, ge=0)  # seconds failing without a success
    webhook_max_body: int = Field(256 * 1024, ge=1024)  # bytes; above it the solution becomes a link
    webhook_allowlist: str = ""  # addresses or CIDRs admitted despite the SSRF guard (comma-separated)
    # one request's DNS lookups of webhook hosts, all hosts together (a host not resolved by then: 422)
    webhook_resolve_deadline_s: float = Field(2.0, gt=0)
    webhook_rotation_grace_s: float = Field(86400.0, ge=0)  # seconds a rotated-out secret still signs
    # one client's deliveries in flight at once, across every webhook process (one more waits
    # for its turn, not counted as an attempt): a client's slow receivers hold that many threads
    webhook_deliveries_per_client: int = Field(2, ge=1)
    max_webhook_endpoints: int = Field(20, ge=1)  # endpoints per client (one more: 409)

    # Kafka: empty bootstrap = no Kafka (no ingest, no relay; outbox rows wait for a relay)
    kafka_bootstrap: str = ""
    kafka_partitions: int = Field(6, ge=1)  # partitions of the topics the farm creates
    kafka_session_timeout_ms: int = Field(45000, ge=1000)  # the ingest group's session timeout
    ingest_max_queue_depth: int = Field(500, ge=1)  # pause ingest while the solve queue is deeper
    ingest_batch: int = Field(100, ge=1)  # events taken from Kafka at once
    relay_batch: int = Field(500, ge=1)  # outbox rows published at once
    relay_interval_s: float = Field(0.5, gt=0)  # seconds between relay passes when idle
    outbox_retention_s: float = Field(3600.0, ge=0)  # seconds a sent outbox row is kept
    # bytes: a larger job event is published without its largest data members (data.omitted);
    # keep it under the job-events topic's max.message.bytes (Kafka's default: 1048588)
    relay_max_event_bytes: int = Field(900_000, ge=4096)
    # seconds an ingest key replaced by `routefarm clients ingest-key` still verifies events
    ingest_key_rotation_grace_s: float = Field(86400.0, ge=0)
    # retention: ended jobs (and their deliveries, events, keys) and completed batches are
    # deleted this long after they ended, unless their client has its own (routefarm clients
    # retention); 0 keeps them
    job_retention_s: float = Field(30 * 86400.0, ge=0)
    purge_interval_s: float = Field(60.0, gt=0)  # the stream process's purge passes
    purge_slice: int = Field(1000, ge=1)  # rows deleted per transaction

    @model_validator(mode="after")
    def _no_renamed_variables(self) -> Settings:
        old = sorted(name for name in RENAMED if f"ROUTEFARM_{name}" in os.environ)
        if old:
            raise ValueError("renamed settings: " + ", ".join(
                f"ROUTEFARM_{name} is now ROUTEFARM_{RENAMED[name]}" for name in old))
        return self

    @field_validator("shard_urls")
    @classmethod
    def _some_shard(cls, value: str) -> str:
        if not [u for u in value.split(",") if u.strip()]:
            raise ValueError("at least one shard URL is required")
        return value

    @field_validator("webhook_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        try:
            delays = [float(d) for d in value.split(",") if d.strip()]
        except ValueError:
            raise ValueError("webhook_schedule must be comma-separated seconds") from None
        if any(d < 0 for d in delays):
            raise ValueError("webhook_schedule delays must not be negative")
        return value

    @property
    def webhook_delays(self) -> list[float]:
        """Seconds to wait after each failed attempt; one attempt more than delays in all."""
        return [float(d) for d in self.webhook_schedule.split(",") if d.strip()]

    @property
    def shards(self) -> dict[str, str]:
        """Shard name -> DSN; names follow the order of ``shard_urls`` (shard0, shard1, ...)."""
        urls = [u.strip() for u in self.shard_urls.split(",") if u.strip()]
        return {f"shard{i}": url for i, url in enumerate(urls)}
