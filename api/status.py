"""The operator's view: ``GET /`` (the status page) and ``GET /v1/farm`` (farm status JSON).

``/v1/farm``: ``queue_depth`` is the solve queue's queued, in-flight and delayed messages
(the number KEDA reads); ``jobs_per_s`` the jobs workers finished per second over the last
30 s (``routefarm.observability.throughput``: a counter per second in Redis, no job table is scanned).
``workers`` and ``kafka_lag`` come from the local autoscaler's record when ``routefarm up``
runs one; without it (on Kubernetes KEDA scales) ``workers.current`` counts the solve
workers marked live in Redis and the other figures are null: not measured, not guessed.
"""

from __future__ import annotations

import base64
import hashlib

import redis
from flask import Blueprint, Response, jsonify

from routefarm.broker import SOLVE_QUEUE, queue_depth
from routefarm.contract.documents import FarmStatus
from routefarm.errors import BrokerUnavailable
from routefarm.observability import scaler as record
from routefarm.observability.exposition import live_workers
from routefarm.observability.throughput import jobs_per_second

from .auth import current_client, farm, rate_limit
from .openapi import documented, json, text
from .status_page import PAGE, SCRIPT

bp = Blueprint("status", __name__)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; "
            f"script-src 'sha256-{_SCRIPT_HASH}'; connect-src 'self'; img-src 'self' blob:; "
            "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")


@bp.get("/")
@documented("The status page (HTML; asks for an API key and calls this API with it)",
            {200: text("text/html", "HTML")}, secured=False)
def page():
    response = Response(PAGE, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/v1/farm")
@documented("Farm status: workers, queue depth, Kafka lag, throughput (null: not measured here)", {
    200: json(FarmStatus, "Farm status"), 503: "The queue cannot be read"}, shard=False)
def farm_status():
    f = farm()
    rate_limit(f, current_client(f))
    try:
        depth = queue_depth(f.broker, SOLVE_QUEUE)
        scaler = record.read(f.cache.client)
        if scaler is None:
            live = live_workers(f.broker.client, f.broker.namespace)[SOLVE_QUEUE]
    except (redis.RedisError, OSError):
        raise BrokerUnavailable("the queue cannot be read") from None
    if scaler is not None:
        workers = {"current": scaler.current, "desired": scaler.desired, "max": scaler.max}
    else:
        workers = {"current": live, "desired": None, "max": None}
    return jsonify({
        "workers": workers,
        "queue_depth": depth,
        "kafka_lag": scaler.kafka_lag if scaler is not None else None,
        "jobs_per_s": jobs_per_second(f.cache.client),
    })
