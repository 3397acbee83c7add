"""The response documents of the API, as the farm builds them (``jobs.documents``,
``jobs.batches``, ``webhooks.endpoints``, ``webhooks.deliveries``, ``api.status``).

Each model forbids members it does not name, so a document that gains a member without its
model is caught by the tests that hold every answer against the operation's schema.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from optimizer import Solution
from optimizer.solution import Summary

from .requests import EventType, JobStatus, Metadata, WebhookTarget

Time = datetime | None


def _links() -> Any:
    return Field(description="self, and the operations on this resource")


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobAccepted(_Document):
    """The answer to a submission (202)."""

    id: uuid.UUID
    status: Literal["queued", "succeeded"] = Field(description="succeeded: de-duplicated, already solved")
    created_at: datetime
    deduplicated_from: uuid.UUID | None = Field(None, description="the earlier job whose solution this one took")
    links: dict[str, str] = _links()


class Progress(_Document):
    """While running: the best solution found so far."""

    objective: int = Field(description="the solver's internal objective (lower is better)")
    engine: str | None = Field(None, description="the engine that found it")
    elapsed: float = Field(description="seconds from the solve's start to the best solution")
    found_at: datetime = Field(description="when the best solution was found")
    summary: Summary
    incumbents: int = Field(description="improving solutions received so far")
    improvements: list[tuple[float, int]] = Field(description="the latest (elapsed seconds, objective) pairs")


class JobError(_Document):
    """Why a job failed."""

    reason: str = Field(description="invalid_problem, no_solution, solver_error, worker_lost, ...")
    detail: str | None = None


class Job(_Document):
    """A job's status document (and the ``data`` of its webhook events)."""

    id: uuid.UUID
    status: JobStatus
    created_at: datetime
    updated_at: Time = None
    started_at: Time = None
    finished_at: Time = None
    attempts: int = 0
    metadata: Metadata = {}
    cancel_requested: bool | None = Field(None, description="true while a running job is being stopped")
    deduplicated_from: uuid.UUID | None = None
    batch_id: uuid.UUID | None = None
    webhook: WebhookTarget | None = None
    progress: Progress | None = None
    incumbent: Solution | None = Field(None, description=(
        "while running, with ?include=incumbent: the best solution so far, routes included "
        "(refreshed about every second)"))
    solution: Solution | None = None
    solution_url: str | None = Field(None, description=(
        "in a webhook event whose solution is above the size limit: where to read it"))
    error: JobError | None = None
    links: dict[str, str] = _links()


class JobPage(_Document):
    jobs: list[Job]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last")


class BatchAccepted(_Document):
    id: uuid.UUID
    status: Literal["queued"]
    total: int
    job_ids: list[uuid.UUID]
    links: dict[str, str] = _links()


class Batch(_Document):
    """Counts by status, percent done, started and finished times."""

    id: uuid.UUID
    status: Literal["queued", "running", "cancelling", "completed"]
    total: int
    done: int
    counts: dict[JobStatus, int]
    percent_done: float
    metadata: Metadata = {}
    created_at: datetime
    started_at: Time = None
    finished_at: Time = None
    cancel_requested_at: Time = None
    links: dict[str, str] = _links()


class WebhookEndpoint(_Document):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[EventType]
    status: Literal["enabled", "disabled"]
    disabled_at: Time = None
    disabled_reason: str | None = None
    failing_since: Time = None
    last_success_at: Time = None
    created_at: Time = None
    updated_at: Time = None
    secret_rotated_at: Time = None
    previous_secret_expires_at: Time = None
    secret: str | None = Field(None, description="whsec_…: only at creation and rotation")
    links: dict[str, str] = _links()


class WebhookEndpointList(_Document):
    """A page of the client's endpoints, oldest first."""

    endpoints: list[WebhookEndpoint]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last")


class WebhookSecret(_Document):
    secret: str = Field(description="whsec_…")
    rotated_at: Time = None
    previous_secret_expires_at: Time = None


class DeliveryAttempt(_Document):
    attempt: int
    at: Time = None
    url: str
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    next_attempt_at: Time = None


class Delivery(_Document):
    id: uuid.UUID
    webhook_id: str = Field(description="the webhook-id header, the same on every attempt")
    event_type: EventType
    status: Literal["pending", "succeeded", "failed", "disabled"]
    url: str
    endpoint_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = None
    batch_id: uuid.UUID | None = None
    attempts: int
    next_attempt_at: Time = None
    last_error: str | None = None
    created_at: Time = None
    finished_at: Time = None
    log: list[DeliveryAttempt] | None = None
    links: dict[str, str] = _links()


class DeliveryList(_Document):
    """A page of deliveries, oldest first."""

    deliveries: list[Delivery]
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last")


class WorkerCounts(_Document):
    current: NonNegativeInt | None
    desired: NonNegativeInt | None
    max: NonNegativeInt | None


class FarmStatus(_Document):
    """The farm as a whole. workers and kafka_lag come from the local autoscaler (routefarm
    up); without one, workers.current counts the live solve workers and desired, max and
    kafka_lag are null. jobs_per_s: jobs finished per second over the last 30 s (null while
    Redis cannot be read)."""

    workers: WorkerCounts
    queue_depth: NonNegativeInt = Field(description="solve messages queued, in flight or delayed (what KEDA reads)")
    kafka_lag: NonNegativeInt | None
    jobs_per_s: float | None = Field(ge=0)


class Deleted(_Document):
    """What an event says of a job or batch deleted (past its retention) before delivery."""

    id: uuid.UUID


class WebhookEvent(_Document):
    """The body of every webhook (Standard Webhooks signed)."""

    type: EventType
    timestamp: datetime
    data: Job | Batch | Deleted = Field(description=(
        "the Job (solution_url instead of solution above the size limit) or the Batch"))


class Health(_Document):
    status: Literal["ok"]


class Readiness(_Document):
    """The directory's, every shard's and Redis' state: ok, or why not."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str]
