"""The words of the contract that the farm's stages share: a job's statuses, a batch's, and
the event types a webhook endpoint subscribes to (``jobs.states`` moves jobs between them)."""

from __future__ import annotations

from typing import Literal

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]  # in the state machine's order
STATUSES: tuple[str, ...] = JobStatus.__args__  # type: ignore[attr-defined]
TERMINAL: tuple[str, ...] = STATUSES[2:]  # a job in one of these has ended, for good
EventType = Literal["job.succeeded", "job.failed", "job.cancelled", "batch.completed"]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
