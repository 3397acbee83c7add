"""RFC 9457 problem details: every error the API returns, in one place."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from optimizer import InvalidProblem
from routefarm.errors import (
    BadRequest,
    BrokerUnavailable,
    Conflict,
    Gone,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    OperatorError,
    RateLimited,
    RequestError,
    RoadSnapError,
    RoutefarmError,
    ShardUnavailable,
    TooLarge,
    TravelSourceUnavailable,
    Unauthorized,
    Unavailable,
)
from routefarm.webhooks.ssrf import Refused

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://routefarm.dev/problems/"


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


# every error of routefarm's tree, once: (class, status, title, slug); the first match wins
STATUSES: tuple[tuple[type[RoutefarmError], int, str, str], ...] = (
    (BadRequest, 400, "Bad request", "bad-request"),
    (Unauthorized, 401, "Unauthorized", "unauthorized"),
    (Gone, 410, "Gone", "expired"),
    (NotFound, 404, "Not found", "not-found"),
    (Conflict, 409, "Conflict", "conflict"),
    (IdempotencyKeyReused, 422, "Idempotency key reused", "idempotency-key-reused"),
    (InvalidInput, 422, "Invalid request", "invalid-request"),
    (TooLarge, 422, "Too large", "too-large"),
    (RateLimited, 429, "Too many requests", "too-many-requests"),
    (ShardUnavailable, 503, "Storage unavailable", "storage-unavailable"),
    (BrokerUnavailable, 503, "Broker unavailable", "broker-unavailable"),
    (TravelSourceUnavailable, 503, "Travel source unavailable", "travel-source-unavailable"),
    (RoadSnapError, 422, "Too far from roads", "too-far-from-roads"),
    (Refused, 422, "Refused target", "refused-target"),
    (Unavailable, 503, "Service unavailable", "unavailable"),
    (OperatorError, 500, "Misconfigured", "misconfigured"),
)
UNAVAILABLE_DETAIL = {
    Unavailable: "a service this request needs cannot be reached; retry later",
    ShardUnavailable: "the database holding this client's data cannot be reached; retry later",
    BrokerUnavailable: "the queue cannot be read; retry later",
    TravelSourceUnavailable: "the road travel-time source cannot be reached; retry later",
}
RETRY_AFTER_S = 5  # what a 503 asks a client to wait


def status_row(kind: type[RoutefarmError]) -> tuple[type[RoutefarmError], int, str, str] | None:
    """The row of ``STATUSES`` that answers ``kind`` (the first that it is a subclass of)."""
    return next((r for r in STATUSES if issubclass(kind, r[0])), None)


def answer(exc: RoutefarmError) -> Response:
    """The problem document of one of routefarm's errors."""
    row = status_row(type(exc))
    if row is None:  # a new error class without a row above is a bug: logged, answered as such
        log.error("no HTTP status for %s: %s", type(exc).__name__, exc)
        return problem(500, "Internal server error", "an unexpected error occurred; it has been logged")
    kind, status, title, slug = row
    headers: dict[str, str] = {}
    extra: dict = {}
    detail = str(exc)
    if isinstance(exc, InvalidInput):
        if exc.about == "problem":
            title, slug = "Invalid problem", "invalid-problem"
        extra["errors"] = [{"pointer": i.pointer or "/", "detail": i.message} for i in exc.issues]
        detail = f"{len(exc.issues) + exc.omitted} error(s) in the request body"
        if exc.omitted:
            extra["errors_omitted"] = exc.omitted
            detail += f"; the first {len(exc.issues)} are listed"
        if exc.extra.get("jobs_unchecked"):
            detail += f"; {exc.extra['jobs_unchecked']} job(s) not checked (they may have errors too)"
    elif isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="routefarm"' + (f', error="{exc.error}"' if exc.error else "")
    elif isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_s)
    elif isinstance(exc, OperatorError):
        log.error("misconfigured: %s", exc)
        detail = "the farm is misconfigured; it has been logged"
    elif isinstance(exc, Unavailable):
        log.warning("unavailable: %s", exc)
        detail, headers["Retry-After"] = UNAVAILABLE_DETAIL[kind], str(RETRY_AFTER_S)
    if isinstance(exc, RequestError):
        slug = exc.slug or slug
        extra.update(exc.extra)
        detail = detail or exc.detail
    if isinstance(exc, NotFound):
        detail = detail or "no such resource"
    return problem(status, title, detail, slug, headers, **extra)


def register(app: Flask) -> None:
    @app.errorhandler(RoutefarmError)
    def _routefarm(exc: RoutefarmError):
        return answer(exc)

    @app.errorhandler(InvalidProblem)
    def _invalid(exc: InvalidProblem):  # the optimizer's own error, should a path not convert it
        return answer(InvalidInput.of(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        title = HTTPStatus(status).phrase
        detail = exc.description or title
        if status == 413 and detail == type(exc).description:  # werkzeug's words: say the limit
            detail = f"the request body exceeds {app.config['MAX_CONTENT_LENGTH']} bytes"
        headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
        return problem(status, title, detail, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal server error", "an unexpected error occurred; it has been logged")
