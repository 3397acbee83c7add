"""``/openapi.json``: the document read from the app's routes (``document``), each view
declaring its operation (``operations.documented``) in terms of ``routefarm.contract``'s
models."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify

from .document import build
from .examples import EXAMPLES
from .operations import documented, empty, json, problem, text

__all__ = ["EXAMPLES", "bp", "documented", "empty", "json", "problem", "spec", "text"]
bp = Blueprint("openapi", __name__)
_BUILT = "routefarm.openapi"


def spec(app: Flask) -> dict:
    """The document of ``app``, built once per app (``api.routes.spec``: without an app)."""
    if _BUILT not in app.extensions:
        app.extensions[_BUILT] = build(app)
    return app.extensions[_BUILT]


@bp.get("/openapi.json")
@documented("This document", {200: text("application/json", "OpenAPI 3.1")}, secured=False)
def openapi():
    return jsonify(spec(current_app._get_current_object()))
