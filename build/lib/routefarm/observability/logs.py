"""One JSON object per log line, from every process (configured by entry points only), with
python-json-logger.

What a line is about comes from two places: the ``extra`` of a log call, and the context of
the work under way, set with ``bound(...)`` (a ``contextvars`` variable, so each request
thread and each actor call has its own): the API binds the request id and, once the key is
checked, the client id; a worker binds the job id (or the delivery id) for the whole solve.
Every line written meanwhile, by routefarm or a library, carries them.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

CONTEXT_FIELDS = ("job_id", "client_id", "shard", "attempt", "request_id", "worker", "delivery_id")
# facts of one solve (workers.solving) and of one request (the access line), kept as JSON
# numbers and strings
FACT_FIELDS = ("stopped", "incumbents", "elapsed_s", "peak_rss_bytes", "lease_renewals", "lease_max_gap_s",
               "method", "route", "path", "status", "duration_ms", "bytes")

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("routefarm_log_context", default=None)


def bind(**fields: Any) -> contextvars.Token:
    """Add ``fields`` to every line of the current context; ``unbind(token)`` undoes it."""
    return _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})


def unbind(token: contextvars.Token) -> None:
    _context.reset(token)


@contextlib.contextmanager
def bound(**fields: Any) -> Iterator[None]:
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def context() -> dict[str, Any]:
    return dict(_context.get() or {})


class JsonFormatter(_JsonFormatter):
    """``{"time", "level", "process", "pid", "logger", "message", <context>, <facts>}``."""

    def __init__(self, process: str):
        super().__init__(json_ensure_ascii=False)
        self.process = process

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["time"] = (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                            + f".{int(record.msecs):03d}Z")
        log_data["level"] = record.levelname.lower()
        log_data["process"] = self.process
        log_data["pid"] = record.process
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        bound_now = _context.get() or {}
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            value = bound_now.get(key) if value is None else value
            if value is not None:
                log_data[key] = str(value)
        for key in FACT_FIELDS:
            value = getattr(record, key, None)
            if isinstance(value, int | float | str) and not isinstance(value, bool):
                log_data[key] = value
        if record.exc_info:
            log_data["exception"] = self.formatException(record.exc_info)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in log_data.items() if k not in ("exc_info", "stack_info")}


def configure_logging(process: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(process))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
