"""RFC 9457 problem details: every error the API returns, in one place."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from optimizer import InvalidProblem
from routefarm.errors import Conflict, InvalidInput, NotFound, ShardUnavailable

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://routefarm.dev/problems/"


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str, slug: str | None = None,
                 headers: dict[str, str] | None = None, **extra):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.slug = slug or title.lower().replace(" ", "-")
        self.headers = headers or {}
        self.extra = extra


def problem(status: int, title: str, detail: str, slug: str | None = None,
            headers: dict[str, str] | None = None, **extra) -> Response:
    body = {
        "type": TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path if request else None,
        **extra,
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return problem(exc.status, exc.title, exc.detail, exc.slug, exc.headers, **exc.extra)

    @app.errorhandler(InvalidProblem)
    def _invalid(exc: InvalidProblem):
        errors = [{"pointer": i.pointer or "/", "detail": i.message} for i in exc.issues]
        return problem(422, "Invalid problem", f"{len(errors)} error(s) in the request body",
                       "invalid-problem", errors=errors)

    @app.errorhandler(InvalidInput)
    def _invalid_input(exc: InvalidInput):
        errors = [{"pointer": pointer or "/", "detail": text} for pointer, text in exc.issues]
        return problem(422, "Invalid request", f"{len(errors)} error(s) in the request body",
                       "invalid-request", errors=errors)

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        return problem(404, "Not found", str(exc) or "no such resource", "not-found")

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict):
        return problem(422, "Idempotency key reused", str(exc), "idempotency-key-reused")

    @app.errorhandler(ShardUnavailable)
    def _unavailable(exc: ShardUnavailable):
        log.warning("storage unavailable: %s", exc)
        return problem(503, "Storage unavailable",
                       "the database holding this client's data cannot be reached; retry later",
                       "storage-unavailable", headers={"Retry-After": "5"})

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        title = HTTPStatus(status).phrase
        detail = exc.description or title
        if status == 413:
            detail = f"the request body exceeds {app.config['MAX_CONTENT_LENGTH']} bytes"
        headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
        return problem(status, title, detail, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal server error", "an unexpected error occurred; it has been logged")
