"""``GET /metrics``: every gunicorn worker's metrics (multiprocess files) plus the gauges read
from Redis and the shards at scrape time; and the HTTP latency histogram for every request."""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, g, request

from routefarm.observability import metrics as farm_metrics
from routefarm.observability.exposition import FarmCollector, registry

bp = Blueprint("metrics", __name__)


@bp.before_app_request
def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


@bp.after_app_request
def _observe(response):
    started = g.pop("metrics_started", None)
    if started is not None:
        rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        farm_metrics.HTTP_DURATION.labels(route=rule, method=request.method,
                             status=str(response.status_code)).observe(time.perf_counter() - started)
    return response


@bp.get("/metrics")
def metrics():
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    farm = current_app.extensions["routefarm"]
    body = generate_latest(registry([FarmCollector(farm)]))
    return Response(body, content_type=CONTENT_TYPE_LATEST)
