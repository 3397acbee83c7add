"""Dead letters: why an event on ``routefarm.reoptimize`` made no job, as records of
``routefarm.reoptimize.dlq`` cut down to fit in one Kafka message whatever the event.

A record's value is ``{"error": {"type", "detail", "errors": [{"pointer", "detail"}],
"errors_omitted"?}, "source": {"topic", "partition", "offset"}, "failed_at", "event_bytes",
"event_sha256", "event", "event_truncated"?}``:

- at most ``MAX_ERRORS`` errors, the number of the others in ``errors_omitted``; each
  pointer and detail at most ``MAX_TEXT`` bytes once encoded, the error's detail ``MAX_DETAIL``;
- ``event``: the event as JSON (or as text when it is not JSON) when that takes at most
  ``MAX_EVENT_COPY`` bytes, else the text of its beginning with ``event_truncated: true``;
  ``event_bytes`` and ``event_sha256`` describe the original whole;
- the record key is the event's (its first ``MAX_KEY_BYTES``), its headers are copied up to
  ``MAX_HEADER_BYTES`` in all (``headers_omitted``: how many were not).

So a value stays under about 180 kB (Kafka's default limit is 1 MB). The ``minimal`` record
is the same without the errors (``errors_omitted`` counts them all), the event
(``event_omitted: true``) and the headers: what the ingest sends when Kafka refuses the
first one for good.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Message

MAX_ERRORS = 100
MAX_TEXT = 512  # bytes of one error's pointer or detail, encoded
MAX_DETAIL = 2048  # bytes of the error's detail, encoded
MAX_EVENT_COPY = 64 * 1024  # bytes of the event's copy, encoded
MAX_KEY_BYTES = 256
MAX_HEADER_BYTES = 16 * 1024  # names and values of the copied headers, together


@dataclass(frozen=True)
class DeadLetter:
    kind: str  # a short slug: malformed-event, invalid-event, unauthenticated, not-found, ...
    detail: str
    errors: tuple[dict, ...] = ()
    omitted: int = 0  # errors found but not in ``errors`` (validation lists at most MAX_ISSUES)


def record(message: Message, letter: DeadLetter, minimal: bool = False) -> tuple[bytes | None, bytes, list]:
    """(key, value, headers) of the dead-letter record of ``message``."""
    raw = message.value() or b""
    error: dict[str, Any] = {"type": letter.kind, "detail": clip(letter.detail, MAX_TEXT if minimal else MAX_DETAIL)}
    kept = () if minimal else letter.errors[:MAX_ERRORS]
    if not minimal:
        error["errors"] = [{"pointer": clip(str(e.get("pointer", "")), MAX_TEXT),
                            "detail": clip(str(e.get("detail", "")), MAX_TEXT)} for e in kept]
    if len(letter.errors) + letter.omitted > len(kept):
        error["errors_omitted"] = len(letter.errors) + letter.omitted - len(kept)
    body: dict[str, Any] = {
        "error": error,
        "source": {"topic": message.topic(), "partition": message.partition(), "offset": message.offset()},
        "failed_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "event_bytes": len(raw),
        "event_sha256": hashlib.sha256(raw).hexdigest(),
    }
    headers: list = []
    if minimal:
        body["event_omitted"] = True
    else:
        body.update(_copy(raw))
        headers, dropped = _headers(message.headers() or [])
        if dropped:
            body["headers_omitted"] = dropped
    key = message.key()
    return (key[:MAX_KEY_BYTES] if key else key), json.dumps(body, separators=(",", ":")).encode(), headers


def clip(text: str, limit: int) -> str:
    """The longest start of ``text`` whose JSON encoding takes at most ``limit`` bytes."""
    size = len(json.dumps(text))
    while size > limit:
        text = text[:max(0, len(text) * limit // size - 1)]
        size = len(json.dumps(text))
    return text


def _copy(raw: bytes) -> dict[str, Any]:
    """The ``event`` member (and ``event_truncated``) for the event ``raw``."""
    try:
        event: Any = json.loads(raw, parse_constant=_refuse)
        size = len(json.dumps(event, separators=(",", ":")))
    except (ValueError, RecursionError):  # not JSON (UnicodeDecodeError is a ValueError)
        event = raw.decode("utf-8", errors="replace")
        size = len(json.dumps(event))
    if size <= MAX_EVENT_COPY:
        return {"event": event}
    return {"event": clip(raw.decode("utf-8", errors="replace"), MAX_EVENT_COPY), "event_truncated": True}


def _refuse(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _headers(headers: list) -> tuple[list, int]:
    """The headers to copy, in order, up to ``MAX_HEADER_BYTES``; and how many were left out."""
    kept, used = [], 0
    for name, value in headers:
        used += len(name.encode()) + len(value or b"")
        if used > MAX_HEADER_BYTES:
            break
        kept.append((name, value))
    return kept, len(headers) - len(kept)
