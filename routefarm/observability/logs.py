"""One JSON object per log line, from every process (configured by entry points only)."""

from __future__ import annotations

import json
import logging
import sys
import time

CONTEXT_FIELDS = ("job_id", "client_id", "shard", "attempt", "request_id", "worker")
# facts of one solve (workers.solving), kept as JSON numbers and strings
FACT_FIELDS = ("stopped", "incumbents", "elapsed_s", "peak_rss_bytes", "lease_renewals", "lease_max_gap_s")


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str):
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "process": self.process,
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = str(value)
        for key in FACT_FIELDS:
            value = getattr(record, key, None)
            if isinstance(value, int | float | str):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(process: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(process))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
