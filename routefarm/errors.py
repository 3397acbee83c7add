"""Exceptions of the routefarm core, mapped to HTTP by the API's error handler.

RoutefarmError
 ├── NotFound            a job, batch or client that does not exist (for this client)
 ├── Conflict            a request that contradicts an earlier one (idempotency key reuse)
 ├── InvalidInput        a request body (other than a problem) that breaks its contract
 ├── ShardUnavailable    a database cannot be reached; the request may be retried
 ├── BrokerUnavailable   Redis cannot take a message now; the job row is kept and re-sent
 ├── TravelSourceUnavailable  a road travel-time source is down, paused or answers garbage
 └── RoadSnapError       a coordinate lies farther from every road than the snapping limit
"""

from __future__ import annotations


class RoutefarmError(Exception):
    """Root of routefarm's own exceptions."""


class NotFound(RoutefarmError):
    pass


class Conflict(RoutefarmError):
    pass


class InvalidInput(RoutefarmError):
    """Every error of a request body at once: ``issues`` are (JSON pointer, sentence) pairs."""

    def __init__(self, issues: list[tuple[str, str]]):
        self.issues = list(issues)
        super().__init__("; ".join(f"{pointer or '/'}: {text}" for pointer, text in self.issues))


class ShardUnavailable(RoutefarmError):
    def __init__(self, shard: str, reason: str):
        self.shard = shard
        self.reason = reason
        super().__init__(f"{shard} is unavailable: {reason}")


class BrokerUnavailable(RoutefarmError):
    pass


class TravelSourceUnavailable(RoutefarmError):
    """The road travel-time source (an OSRM-compatible server) cannot give an answer now."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"travel source {source} is unavailable: {reason}")


class RoadSnapError(RoutefarmError):
    """Coordinate ``index`` (of the points asked about) is too far from every usable road."""

    def __init__(self, index: int, distance_m: float | None = None, limit_m: float | None = None):
        self.index = index
        self.distance_m = distance_m
        self.limit_m = limit_m
        detail = ""
        if distance_m is not None and limit_m is not None:
            detail = f" ({distance_m:.0f} m from the nearest road, limit {limit_m:.0f} m)"
        super().__init__(f"coordinate {index} is too far from any road{detail}")
