"""The operator's view: ``GET /`` (the status page) and ``GET /v1/farm`` (farm status JSON).

``/v1/farm`` has the shape the autoscaler issue defines; a figure this farm cannot measure
yet is null rather than a guess: ``workers`` (no worker registry before the autoscaler),
``kafka_lag`` (no Kafka ingest yet) and ``jobs_per_s`` (counting finished jobs would scan
every shard's jobs table: there is no index on ``finished_at``). ``queue_depth`` is the
solve queue's queued, in-flight and delayed messages, the number KEDA reads.
"""

from __future__ import annotations

import base64
import hashlib

import redis
from flask import Blueprint, Response, jsonify

from routefarm.broker import SOLVE_QUEUE, queue_depth

from .auth import current_client, farm, rate_limit
from .errors import ApiError
from .status_page import PAGE, SCRIPT

bp = Blueprint("status", __name__)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; "
            f"script-src 'sha256-{_SCRIPT_HASH}'; connect-src 'self'; img-src 'self' blob:; "
            "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")


@bp.get("/")
def page():
    response = Response(PAGE, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/v1/farm")
def farm_status():
    f = farm()
    rate_limit(f, current_client(f))
    try:
        depth = queue_depth(f.broker, SOLVE_QUEUE)
    except (redis.RedisError, OSError):
        raise ApiError(503, "Broker unavailable", "the queue cannot be read; retry later",
                       "broker-unavailable", headers={"Retry-After": "5"}) from None
    return jsonify({
        "workers": {"current": None, "desired": None, "max": None},
        "queue_depth": depth,
        "kafka_lag": None,
        "jobs_per_s": None,
    })
