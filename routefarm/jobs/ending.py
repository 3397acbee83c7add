"""A job that has just ended, and what its end is measured by (``observe``: the outcome and
its reason, the time from creation to the end, the quality of a stored solution). The door
(``door.Transitions._ended``) runs the end-of-job steps for every path, in one order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..observability import metrics


@dataclass(frozen=True)
class Ended:
    """A job that has just reached a terminal state."""

    row: dict  # the job row as the transition returned it (``solution`` included when stored)
    client_id: str
    reason: str | None = None  # the failure's reason, or why it ended early ("deduplicated")


def observe(job: Ended) -> None:
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
