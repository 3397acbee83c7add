"""The one way out of a job: what follows a terminal transition, on every path.

A job ends when a worker stores its result, when it is cancelled while queued (alone or
with its batch), when the reaper fails it (``worker_lost``), or when it is accepted already
solved (de-duplicated). Its terminal transition has committed by then, with its outbox
event and webhook deliveries (``states``, ``webhooks.events``). ``ended`` then runs the
same steps in the same order for all of them:

1. metrics: the outcome and its reason; the time from creation to the end; the quality of
   a stored solution (unassigned work, vehicles used);
2. the cache: the terminal document, which also wakes the job's long-polls (skipped for a
   de-duplicated job, which has no finished document to cache yet);
3. the jobs-per-second counter, for jobs a worker solved;
4. the webhook deliveries' messages, last: a receiver that reads the job at once sees it ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..observability import metrics
from ..observability.throughput import count_finished
from .documents import status_document


@dataclass(frozen=True)
class Ended:
    """A job that has just reached a terminal state."""

    row: dict  # the job row as the transition returned it (``solution`` included when stored)
    client_id: str
    reason: str | None = None  # the failure's reason, or why it ended early ("deduplicated")


def ended(farm, jobs: list[Ended], messages: list, *, cache: bool = True, solved: bool = False) -> None:
    """Run the end-of-job steps for ``jobs``; ``messages`` are their webhook deliveries."""
    for job in jobs:
        _observe(job)
    if cache and jobs:
        base = farm.settings.base_url
        farm.cache.finished_many({str(j.row["id"]): {**status_document(j.row, base), "client_id": j.client_id}
                                  for j in jobs})
    if solved:
        for _ in jobs:
            count_finished(farm.cache.client)
    farm.store.dispatch(messages)


def _observe(job: Ended) -> None:
    row = job.row
    status = row["status"]
    reason = job.reason if job.reason is not None else (row.get("error") or {}).get("reason")
    metrics.observe_finished(status, reason)
    created, finished = row.get("created_at"), row.get("finished_at")
    if isinstance(created, datetime) and isinstance(finished, datetime):
        metrics.E2E_SECONDS.labels(outcome=status).observe(max(0.0, (finished - created).total_seconds()))
    summary = (row.get("solution") or {}).get("summary") or {}
    if "unassigned" in summary:
        unassigned = summary["unassigned"]
        metrics.UNASSIGNED_STOPS.observe(unassigned if isinstance(unassigned, int) else len(unassigned))
    if "vehicles_used" in summary:
        metrics.VEHICLES_USED.observe(summary["vehicles_used"])
