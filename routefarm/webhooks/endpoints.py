"""Webhook endpoints and signing secrets, in the client's shard.

A client has at most ``max_webhook_endpoints`` endpoints (enabled or not): one more is a
409 (``too-many-endpoints``). Creations of one client are serialized by a transaction lock,
so two at once cannot pass the limit together. Lists are pages in id order (``listing``).

An endpoint's secret is shown once, when it is created or rotated. After a rotation the
previous secret keeps signing (beside the new one) for the grace period. A client's
*default* secret signs its one-off targets (a job's or a batch's ``"webhook": {"url": …}``);
it is created on first need and read with ``GET /v1/webhooks/secret``.
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg.rows import dict_row

from optimizer import Issue

from ..contract.requests import (
    EVENT_TYPES,
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    shape_issues,
)
from ..errors import Conflict, InvalidInput
from ..ids import new_job_id
from ..jobs.documents import iso_time
from . import deliveries
from .lookup import Targets
from .signing import new_secret

COLUMNS = ("id, client_id, url, description, event_types, created_at, updated_at, rotated_at,"
           " previous_expires_at, first_failure_at, last_success_at, disabled_at, disabled_reason")
SIGNING = ("ARRAY[secret] || CASE WHEN previous_expires_at > now() THEN ARRAY[previous_secret]"
           " ELSE '{}'::text[] END AS signing_secrets")


def validate(body: Any, targets: Targets, partial: bool = False) -> dict[str, Any]:
    """The fields of a create (``partial``: an update) request; every error at once."""
    model = WebhookEndpointUpdate if partial else WebhookEndpointCreate
    issues: list = [_said(issue) for issue in shape_issues(body, model)]
    if not isinstance(body, dict):
        raise InvalidInput(issues)
    if isinstance(body.get("url"), str):
        issues += targets.issues([("/url", body["url"])])
    if issues:
        raise InvalidInput(issues)
    fields = {k: v for k, v in body.items() if k in model.model_fields}
    if "event_types" in body or not partial:
        fields["event_types"] = list(dict.fromkeys(body.get("event_types", EVENT_TYPES)))
    return fields


def _said(issue: Issue) -> Issue:
    """The model's words for the event types, in the API's."""
    kinds = ", ".join(EVENT_TYPES)
    if issue.pointer == "/event_types":
        return Issue(issue.pointer, f"must be a non-empty list of {kinds}")
    if issue.pointer.startswith("/event_types/"):
        return Issue(issue.pointer, f"unknown event type; one of {kinds}")
    return issue


def create(conn, client_id: str, fields: dict[str, Any], limit: int) -> dict:
    """A new endpoint; the returned row carries its ``secret`` (shown this once). ``Conflict``
    when the client has ``limit`` endpoints already."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"webhook_endpoints:{client_id}",))
    count = conn.execute("SELECT count(*) FROM webhook_endpoints WHERE client_id = %s", (client_id,)).fetchone()[0]
    if count >= limit:
        raise Conflict(f"the client has {count} webhook endpoints, the most it may have ({limit}); "
                       "delete one to add another", "too-many-endpoints", limit=limit)
    secret = new_secret()
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "INSERT INTO webhook_endpoints (id, client_id, url, description, event_types, secret)"
            f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}",
            (new_job_id(), client_id, fields["url"], fields.get("description") or "",
             fields["event_types"], secret))
        return {**cur.fetchone(), "secret": secret}


def listing(conn, client_id: str, limit: int, after: uuid.UUID | None = None) -> list[dict]:
    """Up to ``limit`` of the client's endpoints, in id order, after ``after``."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT {COLUMNS} FROM webhook_endpoints WHERE client_id = %s"
                    + (" AND id > %s" if after else "") + " ORDER BY id LIMIT %s",
                    (client_id, *([after] if after else []), limit))
        return cur.fetchall()


def get(conn, client_id: str, endpoint_id: uuid.UUID, lock: bool = False) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT {COLUMNS}, {SIGNING} FROM webhook_endpoints WHERE id = %s AND client_id = %s"
                    + (" FOR UPDATE" if lock else ""), (endpoint_id, client_id))
        return cur.fetchone()


def update(conn, client_id: str, endpoint_id: uuid.UUID, fields: dict[str, Any]) -> dict | None:
    """Change url, description, event types; ``enabled`` false disables it, true re-enables it."""
    if get(conn, client_id, endpoint_id, lock=True) is None:
        return None
    sets, params = ["updated_at = now()"], []
    for name in ("url", "description", "event_types"):
        if name in fields:
            sets.append(f"{name} = %s")
            params.append(fields[name])
    if fields.get("enabled") is True:
        sets += ["disabled_at = NULL", "disabled_reason = NULL", "first_failure_at = NULL"]
    elif fields.get("enabled") is False:
        sets += ["disabled_at = coalesce(disabled_at, now())",
                 "disabled_reason = coalesce(disabled_reason, 'disabled by the client')"]
        deliveries.close_pending(conn, endpoint_id, "the endpoint was disabled by the client")
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"UPDATE webhook_endpoints SET {', '.join(sets)} WHERE id = %s AND client_id = %s"
                    f" RETURNING {COLUMNS}", [*params, endpoint_id, client_id])
        return cur.fetchone()


def delete(conn, client_id: str, endpoint_id: uuid.UUID) -> bool | None:
    """Remove an endpoint (its delivery log stays); None when there is no such endpoint."""
    if get(conn, client_id, endpoint_id, lock=True) is None:
        return None
    deliveries.close_pending(conn, endpoint_id, "the endpoint was deleted")
    conn.execute("DELETE FROM webhook_endpoints WHERE id = %s AND client_id = %s", (endpoint_id, client_id))
    return True


def rotate(conn, client_id: str, endpoint_id: uuid.UUID, grace: float) -> dict | None:
    """A new secret (returned in the row, once); the current one signs for ``grace`` seconds more."""
    secret = new_secret()
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "UPDATE webhook_endpoints SET previous_secret = secret, secret = %s, rotated_at = now(),"
            " previous_expires_at = now() + make_interval(secs => %s), updated_at = now()"
            f" WHERE id = %s AND client_id = %s RETURNING {COLUMNS}", (secret, grace, endpoint_id, client_id))
        row = cur.fetchone()
    return None if row is None else {**row, "secret": secret}


def disable(conn, endpoint_id: uuid.UUID, reason: str) -> bool:
    """Disable an endpoint (once) and stop its pending deliveries."""
    done = conn.execute("UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = %s,"
                        " updated_at = now() WHERE id = %s AND disabled_at IS NULL",
                        (reason, endpoint_id)).rowcount
    if done:
        deliveries.close_pending(conn, endpoint_id, f"the endpoint was disabled: {reason}")
    return bool(done)


def active_for(conn, client_id: str) -> list[dict]:
    """Enabled endpoints of a client: (id, url, event_types)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT id, url, event_types FROM webhook_endpoints"
                    " WHERE client_id = %s AND disabled_at IS NULL", (client_id,))
        return cur.fetchall()


def client_secret(conn, client_id: str) -> dict:
    """The client's default signing secret, created on first need."""
    conn.execute("INSERT INTO client_secrets (client_id, secret) VALUES (%s, %s)"
                 " ON CONFLICT (client_id) DO NOTHING", (client_id, new_secret()))
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT secret, rotated_at, previous_expires_at, {SIGNING}"
                    " FROM client_secrets WHERE client_id = %s", (client_id,))
        return cur.fetchone()


def rotate_client_secret(conn, client_id: str, grace: float) -> dict:
    client_secret(conn, client_id)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "UPDATE client_secrets SET previous_secret = secret, secret = %s, rotated_at = now(),"
            " previous_expires_at = now() + make_interval(secs => %s) WHERE client_id = %s"
            " RETURNING secret, rotated_at, previous_expires_at", (new_secret(), grace, client_id))
        return cur.fetchone()


def secret_document(row: dict) -> dict[str, Any]:
    return {"secret": row["secret"], "rotated_at": iso_time(row["rotated_at"]),
            "previous_secret_expires_at": iso_time(row["previous_expires_at"])}


def document(row: dict, base_url: str = "") -> dict[str, Any]:
    """The public view of an endpoint (``secret`` only right after creation or rotation)."""
    endpoint_id = str(row["id"])
    doc: dict[str, Any] = {
        "id": endpoint_id, "url": row["url"], "description": row["description"],
        "event_types": list(row["event_types"]),
        "status": "disabled" if row["disabled_at"] else "enabled",
        "disabled_at": iso_time(row["disabled_at"]), "disabled_reason": row["disabled_reason"],
        "failing_since": iso_time(row["first_failure_at"]), "last_success_at": iso_time(row["last_success_at"]),
        "created_at": iso_time(row["created_at"]), "updated_at": iso_time(row["updated_at"]),
        "secret_rotated_at": iso_time(row["rotated_at"]),
        "previous_secret_expires_at": iso_time(row["previous_expires_at"]),
        "links": {"self": f"{base_url}/v1/webhooks/endpoints/{endpoint_id}",
                  "rotate": f"{base_url}/v1/webhooks/endpoints/{endpoint_id}/rotate"},
    }
    if "secret" in row:
        doc["secret"] = row["secret"]
    return doc
