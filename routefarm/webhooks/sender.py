"""One delivery attempt, from claim to recorded outcome (the ``deliver_webhook`` actor's work).

0. take one of the client's ``webhook_deliveries_per_client`` slots, counted across every
   webhook process (``fairness.slots``): a client's slow receivers hold that many of the
   webhook threads, never all of them. Past its share the attempt is postponed to the client's
   next turn (the slots' pace, at most ``POSTPONE_MAX_S`` later) by a new message: not
   lost, not an attempt, its schedule untouched;
1. claim the delivery by its message token, build the body, pick the signing secrets
   (one shard transaction; no connection is held during the HTTP call);
2. check the target with the SSRF guard (DNS may have changed since the URL was accepted),
   sign, POST to the checked address;
3. record the attempt and decide, in one transaction: succeeded; failed (410 Gone, or the
   schedule exhausted); disabled (its endpoint was disabled); or another attempt after the
   schedule's next delay with jitter (a 429/503 ``Retry-After`` wins), sent as a delayed
   message after the commit. An endpoint failing without a success for
   ``webhook_disable_after_s`` seconds, or answering 410, is disabled with its reason.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from dataclasses import dataclass

import dramatiq
from psycopg.rows import dict_row

from ..errors import TooManyAtOnce
from ..fairness.slots import Slots
from ..jobs.batches import batch_document
from ..jobs.documents import iso_time, status_document
from ..jobs.states import SUMMARY_COLUMNS
from ..observability import metrics
from . import deliveries, endpoints
from .signing import signed_headers
from .ssrf import Refused, resolve
from .transport import Outcome, post

log = logging.getLogger(__name__)
LEASE_MARGIN = 30.0  # seconds beyond the timeout before a claimed attempt counts as lost
POSTPONE_MAX_S = 30.0  # seconds: the longest a delivery over its client's share is put off at once
SLOT_MARGIN_S = 5.0  # seconds a client's delivery slot outlives the attempt's timeout (a killed process's)
EXPECTED_HOLD_S = 1.0  # seconds one delivery is taken to last until a client's are measured


@dataclass(frozen=True)
class Prepared:
    delivery: dict
    endpoint: dict | None
    url: str
    body: bytes
    secrets: list[str]


@dataclass(frozen=True)
class Done:
    status: str
    message: dramatiq.Message | None = None
    delay: float = 0.0


def deliver(farm, delivery_id: str, client_id: str, token: str) -> str | None:
    """Make the attempt that message ``token`` stands for, in one of the client's slots (else
    put it off to the client's turn); the delivery's status after it."""
    did = uuid.UUID(delivery_id)
    settings = farm.settings
    lease = settings.webhook_timeout_s + LEASE_MARGIN
    slots = Slots(farm.cache.client, "webhooks", settings.webhook_deliveries_per_client,
                  settings.webhook_timeout_s + SLOT_MARGIN_S, max_wait_s=POSTPONE_MAX_S)
    try:
        with slots.hold(client_id, expected_hold_s=EXPECTED_HOLD_S, what="webhook deliveries"):
            return _attempt(farm, did, client_id, token, lease)
    except TooManyAtOnce as busy:
        return _postpone(farm, did, client_id, token, busy.wait_s)


def _attempt(farm, did: uuid.UUID, client_id: str, token: str, lease: float) -> str | None:
    settings = farm.settings
    prepared = farm.store.on_shard(client_id, lambda conn: _prepare(conn, farm, did, client_id, token, lease))
    if prepared is None:
        log.info("delivery %s: nothing to do (done, or another message owns it)", did)
        return None
    if isinstance(prepared, Done):
        return prepared.status
    try:
        target = resolve(prepared.url, farm.webhook_allowlist)
    except Refused as exc:
        outcome = Outcome(None, 0.0, f"refused by the SSRF guard: {exc}")
    else:
        headers = signed_headers(deliveries.webhook_id(did), prepared.body, prepared.secrets)
        outcome = post(target, prepared.body, headers, settings.webhook_timeout_s)
    done = farm.store.on_shard(client_id, lambda conn: _record(conn, settings, prepared, outcome))
    _observe(outcome, done)
    if done.message is not None:
        _send(farm, done.message, done.delay, did)
    return done.status


def _postpone(farm, did: uuid.UUID, client_id: str, token: str, delay: float) -> str | None:
    """The client has as many deliveries in flight as it may: this one goes later."""
    message = farm.store.on_shard(client_id, lambda conn: deliveries.postpone(conn, did, client_id, token, delay))
    if message is None:
        return None
    metrics.WEBHOOK_POSTPONED.inc()
    log.debug("delivery %s postponed %.2f s: its client has its share of deliveries in flight", did, delay)
    _send(farm, message, delay, did)
    return "pending"


def _send(farm, message: dramatiq.Message, delay: float, did: uuid.UUID) -> None:
    farm.store.send([message], delay)  # Redis down: the reaper sends it


def _observe(outcome: Outcome, done: Done) -> None:
    """One attempt: succeeded, retry (another is scheduled), exhausted (the schedule ran out),
    gone (410) or disabled (the endpoint was disabled)."""
    if outcome.ok:
        label = "succeeded"
    elif done.status == "pending":
        label = "retry"
    elif done.status == "disabled":
        label = "disabled"
    elif outcome.status_code == 410:
        label = "gone"
    else:
        label = "exhausted"
    metrics.WEBHOOK_ATTEMPTS.labels(outcome=label).inc()
    if outcome.status_code is not None:
        metrics.WEBHOOK_LATENCY.observe(outcome.latency)


def _prepare(conn, farm, did: uuid.UUID, client_id: str, token: str, lease: float) -> Prepared | Done | None:
    delivery = deliveries.claim(conn, did, client_id, token, lease)
    if delivery is None:
        return None
    endpoint = None
    if delivery["endpoint_id"] is not None:
        endpoint = endpoints.get(conn, client_id, delivery["endpoint_id"])
        if endpoint is None:
            deliveries.settle(conn, did, "disabled", "the endpoint was deleted", attempted=False)
            return Done("disabled")
    if endpoint is not None and endpoint["disabled_at"] is not None:
        deliveries.settle(conn, did, "disabled", f"the endpoint is disabled: {endpoint['disabled_reason']}",
                          attempted=False)
        return Done("disabled")
    if endpoint is not None:
        url, secrets = endpoint["url"], list(endpoint["signing_secrets"])
    else:
        url, secrets = delivery["url"], list(endpoints.client_secret(conn, client_id)["signing_secrets"])
    return Prepared(delivery, endpoint, url, _body(conn, farm.settings, delivery), secrets)


def _body(conn, settings, delivery: dict) -> bytes:
    """The event: ``{"type", "timestamp", "data"}``, data being the job's status document
    (the solution replaced by a link above ``webhook_max_body``) or the batch's."""
    if delivery["job_id"] is not None and delivery["event_type"].startswith("job."):
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(f"SELECT {SUMMARY_COLUMNS}, solution FROM jobs WHERE id = %s AND client_id = %s",
                        (delivery["job_id"], delivery["client_id"]))
            row = cur.fetchone()
        data = status_document(row, settings.base_url) if row else {"id": str(delivery["job_id"])}
    else:
        data = batch_document(conn, delivery["client_id"], delivery["batch_id"], settings.base_url) or {
            "id": str(delivery["batch_id"])}
    event = {"type": delivery["event_type"], "timestamp": iso_time(delivery["event_at"]), "data": data}
    body = _encode(event)
    if len(body) > settings.webhook_max_body and "solution" in data:
        data = {k: v for k, v in data.items() if k != "solution"}
        data["solution_url"] = data["links"]["self"]
        body = _encode({**event, "data": data})
    return body


def _encode(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _record(conn, settings, p: Prepared, outcome: Outcome) -> Done:
    d, endpoint = p.delivery, p.endpoint
    delivery_id = d["id"]
    if outcome.ok:
        deliveries.add_attempt(conn, d, p.url, outcome.status_code, outcome.latency, None, None)
        deliveries.settle(conn, delivery_id, "succeeded", None)
        if endpoint is not None:
            conn.execute("UPDATE webhook_endpoints SET first_failure_at = NULL, last_success_at = now()"
                         " WHERE id = %s", (endpoint["id"],))
        log.info("delivery %s succeeded (%s) on attempt %d", delivery_id, outcome.status_code, d["attempts"] + 1)
        return Done("succeeded")
    error = outcome.error or "failed"
    disabled = _disable_reason(conn, settings, endpoint, outcome, p.url) if endpoint is not None else None
    number = d["attempts"] + 1 - d["schedule_from"]  # attempts since the delivery (re)started
    delays = settings.webhook_delays
    if outcome.status_code == 410:
        status, final = "failed", f"the receiver answered 410 Gone: no more attempts ({error})"
    elif number > len(delays):
        status, final = "failed", f"gave up after {number} attempts (the schedule is exhausted); last: {error}"
    elif disabled:
        status, final = "disabled", f"the endpoint was disabled: {disabled}"
    else:
        delay = _delay(settings, delays[number - 1], outcome.retry_after)
        message, next_at = deliveries.reschedule(conn, d, delay, error)
        deliveries.add_attempt(conn, d, p.url, outcome.status_code, outcome.latency, error, next_at)
        log.info("delivery %s attempt %d failed (%s); next in %.1f s", delivery_id, d["attempts"] + 1, error, delay)
        return Done("pending", message, delay)
    deliveries.add_attempt(conn, d, p.url, outcome.status_code, outcome.latency, error, None)
    deliveries.settle(conn, delivery_id, status, final)
    log.warning("delivery %s %s: %s", delivery_id, status, final)
    return Done(status)


def _delay(settings, scheduled: float, retry_after: float | None) -> float:
    """The schedule's delay moved by up to ±jitter, or what Retry-After asked (capped)."""
    if retry_after is not None:
        return min(retry_after, max(settings.webhook_delays, default=retry_after))
    jitter = settings.webhook_jitter
    return max(0.0, scheduled * random.uniform(1 - jitter, 1 + jitter))


def _disable_reason(conn, settings, endpoint: dict, outcome: Outcome, url: str) -> str | None:
    """Record the failure on the endpoint; disable it (with the reason) on 410 or when it has
    failed without a success for ``webhook_disable_after_s`` seconds."""
    row = conn.execute(
        "UPDATE webhook_endpoints SET first_failure_at = coalesce(first_failure_at, now())"
        " WHERE id = %s RETURNING first_failure_at,"
        " now() - first_failure_at >= make_interval(secs => %s)",
        (endpoint["id"], settings.webhook_disable_after_s)).fetchone()
    if row is None:
        return None
    if outcome.status_code == 410:
        reason = f"{url} answered 410 Gone"
    elif row[1]:
        reason = (f"no successful delivery since {iso_time(row[0])} (more than "
                  f"{_duration(settings.webhook_disable_after_s)}); last error: {outcome.error}")
    else:
        return None
    if endpoints.disable(conn, endpoint["id"], reason):
        log.warning("webhook endpoint %s disabled: %s", endpoint["id"], reason)
    return reason


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"
