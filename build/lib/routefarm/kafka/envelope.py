"""Job lifecycle events as CloudEvents (structured mode: the whole envelope is the value).

One event per change of a job's status, written by the shard's outbox trigger:
``routefarm.job.queued | running | succeeded | failed | cancelled``; ``data`` carries the
job id, client id, status, previous status, attempt, batch, metadata, times, and for a
finished job its error or its solution's status and summary (never the whole solution:
read it with ``GET /v1/jobs/{id}``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

SOURCE = "/routefarm/jobs"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
EVENT_TYPES = tuple(f"routefarm.job.{status}"
                    for status in ("queued", "running", "succeeded", "failed", "cancelled"))


def envelope(event_id: str, event_type: str, job_id: str, time: datetime, data: dict[str, Any]) -> dict:
    return {
        "specversion": "1.0",
        "id": event_id,
        "type": event_type,
        "source": SOURCE,
        "subject": job_id,
        "time": time.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": data,
    }


def encode(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


HEADERS = [("content-type", CONTENT_TYPE.encode())]  # the Kafka binding's structured mode
