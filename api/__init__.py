"""The HTTP API: ``create_app(settings)`` builds a Flask app; gunicorn serves ``api.wsgi:app``."""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, g, request

from routefarm.farm import Farm
from routefarm.observability import logs
from routefarm.settings import Settings

from . import errors, routes
from .waiter import Waiter

log = logging.getLogger(__name__)
access = logging.getLogger("routefarm.access")
REQUEST_ID = "X-Request-ID"


def create_app(settings: Settings | None = None, farm: Farm | None = None) -> Flask:
    """Build the app. Pools open without waiting: a database that is down answers 503."""
    settings = settings or Settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    farm = farm or Farm(settings).open(wait=False)
    app.extensions["routefarm"] = farm
    app.extensions["routefarm.waiter"] = Waiter(farm.cache.client)

    @app.before_request
    def _request_id():
        g.access_started = time.perf_counter()
        incoming = request.headers.get(REQUEST_ID, "")[:100]
        g.request_id = incoming if incoming.isprintable() and incoming else uuid.uuid4().hex
        g.log_token = logs.bind(request_id=g.request_id)  # every line of this request carries it

    @app.after_request
    def _echo_request_id(response):
        response.headers[REQUEST_ID] = g.get("request_id", "")
        started = g.get("access_started")
        if started is not None:  # one access line per request
            rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
            access.info("%s %s %d", request.method, rule, response.status_code, extra={
                "method": request.method, "route": rule, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "bytes": response.calculate_content_length() or 0})
        return response

    @app.teardown_request
    def _unbind(exc):
        token = g.pop("log_token", None)
        if token is not None:
            logs.unbind(token)

    errors.register(app)
    routes.register(app)
    return app
