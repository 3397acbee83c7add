"""Accepting a job: validation, idempotency, de-duplication, the row, then the message.

The row is committed before the message is sent: a job exists once its row does. When
Redis cannot take the message the job is still accepted; the reaper sends it later.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from optimizer import InvalidProblem, Issue, parse_problem

from ..broker import solve_message
from ..contract.requests import MAX_URL, JobRequest, shape_issues
from ..errors import IdempotencyKeyReused, InvalidInput, TravelSourceUnavailable
from ..ids import canonical_hash, new_job_id
from ..observability import metrics
from ..untrusted import time_limit_issues
from .documents import iso_time, job_links
from .services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    document: dict[str, Any]  # the 202 body
    created: bool  # False when an Idempotency-Key replayed an earlier submission
    row: dict[str, Any]


def validate_body(body: Any, farm: Services, snap: bool = True,
                  webhooks: list[tuple[str, Any]] | None = None) -> tuple[Any, dict]:
    """Check a ``{"problem": ..., "metadata": ..., "webhook": {"url": ...}}`` body; return
    (Problem, metadata). A webhook URL must pass the SSRF guard (checked here, or left in
    ``webhooks`` as (pointer, url) for the caller to check with others). A problem priced on roads
    needs the farm's road source, and (``snap``) every place near a road: the source is asked
    within ``roads.matrices.SNAP_DEADLINE_S``; when it cannot answer that fast, the worker
    finds out."""
    issues = shape_issues(body, JobRequest)
    if not isinstance(body, dict):
        raise InvalidInput(issues, "problem")
    issues.extend(webhook_issues(body.get("webhook"), farm, webhooks))
    problem = None
    if isinstance(body.get("problem"), dict):
        try:
            problem = parse_problem(body["problem"], farm.limits)
        except InvalidProblem as exc:
            InvalidInput.of(exc).into(issues, "/problem")
    if problem is not None:
        issues.extend(time_limit_issues(problem.options.time_limit, farm.settings.max_time_limit_s,
                                        "/problem/options/time_limit"))
    if problem is not None and problem.travel is not None:
        issues.extend(_road_issues(problem, farm, snap))
    if issues:
        raise InvalidInput(issues, "problem")
    return problem, body.get("metadata", {})


def _road_issues(problem, farm: Services, snap: bool) -> list[Issue]:
    if not farm.settings.roads_url:
        return [Issue("/problem/travel", "this farm has no road source (ROUTEFARM_ROADS_URL): "
                                         "leave travel out for great-circle travel")]
    if not snap:
        return []
    from ..roads.matrices import snap_issues

    try:
        return [Issue("/problem" + i.pointer, i.message) for i in snap_issues(farm.settings, problem)]
    except TravelSourceUnavailable as exc:
        log.warning("places not checked against roads now (%s); the worker will", exc)
        return []


def webhook_issues(webhook: Any, farm: Services, later: list[tuple[str, Any]] | None = None) -> list[Issue]:
    """The SSRF guard's refusals of an optional one-off target's URL (``"webhook": {"url": ...}``;
    its shape is ``WebhookTarget``'s to check). With ``later``, the URL is added there as
    ("/webhook/url", url) instead of being checked now."""
    url = webhook.get("url") if isinstance(webhook, dict) else None
    if not isinstance(url, str) or len(url) > MAX_URL:  # a URL too long is the contract's to say
        return []
    if later is not None:
        later.append(("/webhook/url", url))
        return []
    return [Issue(p, text) for p, text in farm.webhook_targets.issues([("/webhook/url", url)])]


def submit(farm: Services, client_id: str, body: Any, idempotency_key: str | None = None,
           request_id: str | None = None) -> Accepted:
    problem, metadata = validate_body(body, farm)
    problem_hash = canonical_hash(body["problem"])
    request_hash = canonical_hash(body) if idempotency_key else None
    message = solve_message(new_job_id(), client_id)
    job = {
        "id": uuid.UUID(message.args[0]), "client_id": client_id, "problem": body["problem"],
        "problem_hash": problem_hash, "metadata": metadata, "max_attempts": farm.settings.max_attempts,
        "idempotency_key": idempotency_key, "request_hash": request_hash, "request_id": request_id,
        "message_id": message.message_id, "webhook_url": (body.get("webhook") or {}).get("url"),
    }
    row, created = farm.store.create(client_id, job, message, farm.settings.dedup_window_s)
    if not created:  # the idempotency key was used before: answer as the first time
        return _replay(row, request_hash, farm)
    metrics.JOBS_SUBMITTED.labels(kind="deduplicated" if row["status"] == "succeeded" else "single").inc()
    return Accepted(_first_response(row, farm), True, row)


def _first_response(row: dict, farm: Services) -> dict:
    return {
        "id": str(row["id"]),
        "status": row["status"],
        "created_at": iso_time(row["created_at"]),
        "links": job_links(str(row["id"]), farm.settings.base_url),
        **({"deduplicated_from": str(row["deduplicated_from"])} if row.get("deduplicated_from") else {}),
    }


def _replay(earlier: dict, request_hash: str, farm: Services) -> Accepted:
    if earlier["request_hash"] != request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request body")
    row = dict(earlier, status="succeeded" if earlier.get("deduplicated_from") else "queued")
    return Accepted(_first_response(row, farm), False, row)
