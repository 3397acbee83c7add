"""Delivery logs and manual retries: /v1/jobs/{id}/deliveries, /v1/batches/{id}/deliveries,
/v1/deliveries/{id}, /v1/deliveries/{id}/retry."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from routefarm.contract.documents import Delivery, DeliveryList
from routefarm.contract.requests import PageQuery
from routefarm.errors import Conflict, NotFound
from routefarm.webhooks import deliveries, endpoints

from . import pages
from .auth import farm, require_client, resource_id
from .bodies import query
from .openapi import documented, json

bp = Blueprint("deliveries", __name__, url_prefix="/v1")
require_client(bp)


def _documents(conn, rows: list[dict]) -> list[dict]:
    logs = deliveries.attempts_of(conn, [r["id"] for r in rows]) if rows else {}
    base = farm().settings.base_url
    return [deliveries.document(r, logs.get(r["id"], []), base) for r in rows]


@bp.get("/jobs/<job_id>/deliveries")
@documented("The job's webhook deliveries, each with its attempts, oldest first", {
    200: json(DeliveryList, "A page of deliveries"), 400: "Bad parameter", 404: "No such job"}, query=PageQuery)
def of_job(job_id: str):
    return _deliveries_of("jobs", resource_id(job_id, "job"), "job", deliveries.for_job)


@bp.get("/batches/<batch_id>/deliveries")
@documented("The batch.completed deliveries, oldest first", {
    200: json(DeliveryList, "A page of deliveries"), 400: "Bad parameter", 404: "No such batch"}, query=PageQuery)
def of_batch(batch_id: str):
    return _deliveries_of("batches", resource_id(batch_id, "batch"), "batch", deliveries.for_batch)


def _deliveries_of(table: str, owner_id, what: str, fetch):
    """A page of the delivery log of one of the client's jobs or batches (404 for another's)."""
    asked = query(PageQuery)
    after = pages.cursor(asked.cursor)

    def read(conn):
        if conn.execute(f"SELECT 1 FROM {table} WHERE id = %s AND client_id = %s",
                        (owner_id, g.client_id)).fetchone() is None:
            return None
        rows, next_cursor = pages.split(fetch(conn, g.client_id, owner_id, asked.limit + 1, after), asked.limit)
        return {"deliveries": _documents(conn, rows), "next_cursor": next_cursor}

    found = farm().store.on_shard(g.client_id, read)
    if found is None:
        raise NotFound(f"no {what} {owner_id}")
    return jsonify(found)


@bp.get("/deliveries/<delivery_id>")
@documented("A delivery and its attempts", {200: json(Delivery, "The delivery"), 404: "No such delivery"})
def get(delivery_id: str):
    did = resource_id(delivery_id, "delivery")

    def read(conn):
        row = deliveries.get(conn, g.client_id, did)
        return None if row is None else _documents(conn, [row])[0]

    doc = farm().store.on_shard(g.client_id, read)
    if doc is None:
        raise NotFound(f"no delivery {did}")
    return jsonify(doc)


@bp.post("/deliveries/<delivery_id>/retry")
@documented("Send again now (same webhook-id); the retry schedule starts over", {
    202: json(Delivery, "Scheduled"), 404: "No such delivery", 409: "The endpoint is disabled or deleted"})
def retry(delivery_id: str):
    """Send the delivery again now (same webhook-id), its schedule starting over."""
    did = resource_id(delivery_id, "delivery")
    sent = []

    def reopen(conn):
        row = deliveries.get(conn, g.client_id, did)
        if row is None:
            return None
        if row["endpoint_id"] is not None:
            endpoint = endpoints.get(conn, g.client_id, row["endpoint_id"])
            if endpoint is None:
                raise Conflict("the delivery's endpoint was deleted", "endpoint-deleted")
            if endpoint["disabled_at"] is not None:
                raise Conflict("the delivery's endpoint is disabled "
                               f"({endpoint['disabled_reason']}); enable it with PATCH {{\"enabled\": true}}",
                               "endpoint-disabled")
        reopened, message = deliveries.reopen(conn, g.client_id, did)
        sent.append(message)
        return _documents(conn, [reopened])[0]

    doc = farm().store.on_shard(g.client_id, reopen)
    if doc is None:
        raise NotFound(f"no delivery {did}")
    farm().store.send(sent[-1:])
    response = jsonify(doc)
    response.status_code = 202
    return response
