"""Every blueprint of the API, registered in one place (``create_app`` and the document)."""

from __future__ import annotations

from functools import cache

from flask import Flask

from . import (
    batches,
    deliveries,
    health,
    insertions,
    jobs,
    metrics,
    openapi,
    pictures,
    reoptimize,
    status,
    webhooks,
)

BLUEPRINTS = (health.bp, jobs.bp, reoptimize.bp, insertions.bp, webhooks.bp, deliveries.bp, batches.bp,
              openapi.bp, metrics.bp, pictures.bp, status.bp)


def register(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


@cache
def bare_app() -> Flask:
    """The API's routes and nothing behind them."""
    app = Flask("routefarm")
    register(app)
    return app


def spec() -> dict:
    """The document ``/openapi.json`` serves, without a running app."""
    return openapi.spec(bare_app())
