"""Job lifecycle events as CloudEvents (structured mode: the whole envelope is the value).

One event per change of a job's status, written by the shard's outbox trigger:
``routefarm.job.queued | running | succeeded | failed | cancelled``; ``data`` carries the
job id, client id, status, previous status, attempt, batch, metadata, times, and for a
finished job its error or its solution's status and summary (never the whole solution:
read it with ``GET /v1/jobs/{id}``). An event too large for the topic (a job written with
megabytes of metadata) is published without its largest ``data`` members, named in
``data.omitted`` (``fit``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

SOURCE = "/routefarm/jobs"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
KEPT = ("job_id", "client_id", "status")  # what a cut-down event always keeps of its data
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


def fit(event: dict, limit: int) -> tuple[bytes, list[str]]:
    """(the encoded event, the ``data`` members it lost): an event over ``limit`` bytes loses
    its largest members but ``KEPT``, one at a time, until it fits; they are listed in
    ``data.omitted``. The value may still be over the limit when nothing more can go."""
    value = encode(event)
    if len(value) <= limit:
        return value, []
    data = dict(event["data"])
    largest = sorted(((len(encode(item)), name) for name, item in data.items() if name not in KEPT), reverse=True)
    omitted: list[str] = []
    for _size, name in largest:
        del data[name]
        omitted.append(name)
        value = encode({**event, "data": {**data, "omitted": omitted}})
        if len(value) <= limit:
            break
    return value, omitted


HEADERS = [("content-type", CONTENT_TYPE.encode())]  # the Kafka binding's structured mode
