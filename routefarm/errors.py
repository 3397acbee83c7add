"""Exceptions of the routefarm core, mapped to HTTP by the API's error handler.

RoutefarmError
 ├── NotFound            a job, batch or client that does not exist (for this client)
 ├── Conflict            a request that contradicts an earlier one (idempotency key reuse)
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


class ShardUnavailable(RoutefarmError):
    def __init__(self, shard: str, reason: str):
        self.shard = shard
        self.reason = reason
        super().__init__(f"{shard} is unavailable: {reason}")


class BrokerUnavailable(RoutefarmError):
    pass
