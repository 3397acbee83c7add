"""Exceptions of the routefarm core, mapped to HTTP by the API's error handler.

RoutefarmError
 ├── NotFound            a job, batch or client that does not exist (for this client)
 ├── Conflict            a request that contradicts an earlier one (idempotency key reuse)
 ├── InvalidInput        a request body (other than a problem) that breaks its contract
 ├── ShardUnavailable    a database cannot be reached; the request may be retried
 └── BrokerUnavailable   Redis cannot take a message now; the job row is kept and re-sent
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
