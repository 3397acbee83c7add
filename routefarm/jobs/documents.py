"""The job status document, as the API returns it and the cache stores it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..contract.statuses import TERMINAL


def iso_time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def job_links(job_id: str, base_url: str = "") -> dict[str, str]:
    return {"self": f"{base_url}/v1/jobs/{job_id}"}


def status_document(row: dict[str, Any], base_url: str = "") -> dict[str, Any]:
    """The public view of a job row (``solution`` included when the row carries it)."""
    job_id = str(row["id"])
    doc: dict[str, Any] = {
        "id": job_id,
        "status": row["status"],
        "created_at": iso_time(row["created_at"]),
        "updated_at": iso_time(row.get("updated_at")),
        "started_at": iso_time(row.get("started_at")),
        "finished_at": iso_time(row.get("finished_at")),
        "attempts": row.get("attempts", 0),
        "metadata": row.get("metadata") or {},
        "links": job_links(job_id, base_url),
    }
    if row.get("cancel_requested") and row["status"] == "running":
        doc["cancel_requested"] = True
    if row.get("deduplicated_from"):
        doc["deduplicated_from"] = str(row["deduplicated_from"])
    if row.get("batch_id"):
        doc["batch_id"] = str(row["batch_id"])
    if row.get("webhook_url"):
        doc["webhook"] = {"url": row["webhook_url"]}
    if row.get("solution") is not None:
        doc["solution"] = row["solution"]
    if row.get("error"):
        doc["error"] = row["error"]
    return doc


def is_terminal(doc: dict[str, Any]) -> bool:
    return doc.get("status") in TERMINAL
