"""Exceptions of routefarm: one root, mapped to HTTP in one place (``api/errors.py``) and to
one-line messages by the CLI.

RoutefarmError
 ├── RequestError              the client's request cannot be served as it is
 │    ├── BadRequest           a malformed parameter or body (not JSON, a bad query value)
 │    ├── Unauthorized         no API key, or one that is unknown or revoked
 │    ├── InvalidInput         a body that breaks its contract: every error at once (the
 │    │                        first ``MAX_ISSUES``, and how many more), each with a JSON
 │    │                        pointer into the body (problem, batch, request)
 │    ├── NotFound             a job, batch, delivery or client that does not exist (for this client)
 │    │    └── Gone            a job or batch older than the client's retention (it may have been purged)
 │    ├── Conflict             the resource's state forbids it (a job that ended, a base job
 │    │                        that has not succeeded, a disabled endpoint, a move under way)
 │    ├── IdempotencyKeyReused an Idempotency-Key sent again with another body
 │    ├── TooLarge             what the request asks is beyond a size limit (a picture of too
 │    │                        many places)
 │    ├── RateLimited          more requests than the client's rate; retry after ``retry_after_s``
 │    │    └── TooManyAtOnce   more held at once than the client's share (open long-polls,
 │    │                        webhook deliveries in flight): its turn comes in ``wait_s``
 │    └── RoadSnapError        a coordinate lies farther from every road than the snapping limit
 ├── Unavailable               a service the request needs cannot be reached; retry later
 │    ├── ShardUnavailable     a database cannot be reached
 │    ├── BrokerUnavailable    Redis cannot take or give messages now; rows are kept and re-sent
 │    └── TravelSourceUnavailable  a road travel-time source is down, paused or answers garbage
 └── OperatorError             the farm's own set-up is wrong: a migration changed after it was
                               applied, a ScaledObject the local autoscaler cannot apply, a
                               local service that cannot start (the command says it on one line)

Each stage subclasses these for its own cases (``reoptimize.submit.BaseJobNotSucceeded`` is a
``Conflict``, ``kafka.clients.ProducerFailed`` an ``Unavailable``, ``db.migrate.MigrationChanged``
an ``OperatorError``, ...); ``api/errors.py`` gives every class of the tree one HTTP status (a
test walks the tree).

A ``RequestError`` may carry a ``slug`` (the last part of the problem type URI) and
``extra`` members for the problem document (``job_status``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from optimizer import InvalidProblem, Issue, Issues
from optimizer.errors import describe


class RoutefarmError(Exception):
    """Root of routefarm's own exceptions."""


class RequestError(RoutefarmError):
    slug: str | None = None

    def __init__(self, detail: str, slug: str | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        if slug is not None:
            self.slug = slug
        self.extra = extra


class BadRequest(RequestError):
    pass


class Unauthorized(RequestError):
    def __init__(self, detail: str, error: str | None = None):
        super().__init__(detail)
        self.error = error  # the RFC 6750 error code, when a key was given


class InvalidInput(RequestError):
    """Every error of a request body at once: ``issues`` (at most ``MAX_ISSUES``) and the
    number of others (``omitted``). ``about`` names what broke its contract ("problem": a
    routing problem, or a body of which one is a part; "request": another body); ``extra``
    members go into the problem document."""

    def __init__(self, issues: Issues | Iterable[Issue | tuple[str, str]], about: str = "request",
                 omitted: int = 0, **extra: Any):
        found = issues if isinstance(issues, Issues) else Issues(
            (i if isinstance(i, Issue) else Issue(*i) for i in issues), omitted)
        self.issues = list(found.kept)
        self.omitted = found.omitted
        self.about = about
        super().__init__(describe(self.issues, self.omitted, "; "), **extra)

    @classmethod
    def of(cls, exc: InvalidProblem | InvalidInput, under: str = "", about: str = "problem") -> InvalidInput:
        """The issues of ``exc`` with their pointers moved under ``under`` (``/problem``)."""
        return cls(Issues(exc.issues, exc.omitted).under(under), about)

    def into(self, issues: Issues, under: str = "") -> None:
        """Add these issues (pointers moved under ``under``) and their omitted count to ``issues``."""
        issues.extend(Issues(self.issues, self.omitted).under(under))


class NotFound(RequestError):
    pass


class Gone(NotFound):
    pass


class Conflict(RequestError):
    pass


class IdempotencyKeyReused(RequestError):
    pass


class TooLarge(RequestError):
    pass


class RateLimited(RequestError):
    def __init__(self, detail: str, retry_after_s: int):
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class TooManyAtOnce(RateLimited):
    def __init__(self, detail: str, wait_s: float):
        self.wait_s = wait_s  # seconds until the caller's turn (a whole number in Retry-After)
        seconds = max(1, math.ceil(wait_s))
        super().__init__(f"{detail}; retry in {seconds} s", seconds)


class Unavailable(RoutefarmError):
    pass


class ShardUnavailable(Unavailable):
    def __init__(self, shard: str, reason: str):
        self.shard = shard
        self.reason = reason
        super().__init__(f"{shard} is unavailable: {reason}")


class BrokerUnavailable(Unavailable):
    pass


class TravelSourceUnavailable(Unavailable):
    """The road travel-time source (an OSRM-compatible server) cannot give an answer now."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"travel source {source} is unavailable: {reason}")


class OperatorError(RoutefarmError):
    """The farm's own set-up is wrong or cannot be made to work."""


class RoadSnapError(RequestError):
    """Coordinate ``index`` (of the points asked about) is too far from every usable road."""

    def __init__(self, index: int, distance_m: float | None = None, limit_m: float | None = None):
        self.index = index
        self.distance_m = distance_m
        self.limit_m = limit_m
        detail = ""
        if distance_m is not None and limit_m is not None:
            detail = f" ({distance_m:.0f} m from the nearest road, limit {limit_m:.0f} m)"
        super().__init__(f"coordinate {index} is too far from any road{detail}", "too-far-from-roads")
