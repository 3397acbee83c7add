"""``GET /metrics``: every gunicorn worker's metrics (multiprocess files), and the HTTP
latency histogram for every request. With ``ROUTEFARM_METRICS_PORT`` set (as on Kubernetes),
gunicorn's master serves them on that port instead and this route answers 404, so that the
public Service does not expose them. The farm-wide gauges read at scrape time (queue depth,
workers, shards, outbox backlog) are the stream process's: one export, whatever the number
of API replicas, and no shard query per scrape of every pod."""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, g, request

from routefarm.errors import NotFound
from routefarm.observability import metrics as farm_metrics
from routefarm.observability.exposition import registry

from .openapi import documented, problem, text

bp = Blueprint("metrics", __name__)
# label values come from fixed sets (a client's made-up method or path adds no series): the
# method is one of these or "other", the route a rule of the app's or "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"


@bp.before_app_request
def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


@bp.after_app_request
def _observe(response):
    started = g.pop("metrics_started", None)
    if started is not None:
        rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        method = request.method if request.method in METHODS else "other"
        farm_metrics.HTTP_DURATION.labels(route=rule, method=method,
                                          status=str(response.status_code)).observe(time.perf_counter() - started)
    return response


@bp.get("/metrics")
@documented("Prometheus metrics of this API (404 when ROUTEFARM_METRICS_PORT serves them on their own port)", {
    200: text("text/plain", "Prometheus text format"), 404: problem("Served on the metrics port")}, secured=False)
def metrics():
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    if current_app.extensions["routefarm"].settings.metrics_port:
        raise NotFound("metrics are served on the metrics port (ROUTEFARM_METRICS_PORT), not here")
    body = generate_latest(registry())
    return Response(body, content_type=CONTENT_TYPE_LATEST)
