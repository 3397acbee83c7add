"""/v1/webhooks: endpoints (create, list, read, update, delete, rotate) and the client's secret.

An endpoint's secret is in the body of its creation and of each rotation, and nowhere
else. The client's default secret (``/v1/webhooks/secret``) signs one-off targets: the
``"webhook": {"url": ...}`` of a job or a batch.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from routefarm.contract import documents as doc
from routefarm.contract.requests import PageQuery, WebhookEndpointCreate, WebhookEndpointUpdate
from routefarm.errors import NotFound
from routefarm.webhooks import endpoints

from . import pages
from .auth import farm, require_client, resource_id
from .bodies import json_body, query
from .openapi import documented, empty, json

bp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks")
require_client(bp)
NOT_FOUND = "No such webhook endpoint (or another client's)"


def _on_shard(action):
    return farm().store.on_shard(g.client_id, action)


def _found(row, endpoint_id):
    if row is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return row


@bp.post("/endpoints")
@documented("Create a webhook endpoint (its secret is returned this once)", {
    201: json(doc.WebhookEndpoint, "Created"),
    409: "The client has as many endpoints as it may (ROUTEFARM_MAX_WEBHOOK_ENDPOINTS, 20 by default)"},
    body=WebhookEndpointCreate)
def create():
    fields = endpoints.validate(json_body(), farm().webhook_targets)
    limit = farm().settings.max_webhook_endpoints
    row = _on_shard(lambda conn: endpoints.create(conn, g.client_id, fields, limit))
    doc = endpoints.document(row, farm().settings.base_url)
    response = jsonify(doc)
    response.status_code = 201
    response.headers["Location"] = doc["links"]["self"]
    return response


@bp.get("/endpoints")
@documented("List the client's webhook endpoints, oldest first", {
    200: json(doc.WebhookEndpointList, "A page of endpoints"), 400: "Bad parameter"}, query=PageQuery)
def index():
    asked = query(PageQuery)
    after = pages.cursor(asked.cursor)
    rows = _on_shard(lambda conn: endpoints.listing(conn, g.client_id, asked.limit + 1, after))
    rows, next_cursor = pages.split(rows, asked.limit)
    return jsonify({"endpoints": [endpoints.document(r, farm().settings.base_url) for r in rows],
                    "next_cursor": next_cursor})


@bp.get("/endpoints/<endpoint_id>")
@documented("A webhook endpoint", {200: json(doc.WebhookEndpoint, "The endpoint"), 404: NOT_FOUND})
def get(endpoint_id: str):
    eid = resource_id(endpoint_id, "webhook endpoint")
    row = _found(_on_shard(lambda conn: endpoints.get(conn, g.client_id, eid)), eid)
    return jsonify(endpoints.document(row, farm().settings.base_url))


@bp.patch("/endpoints/<endpoint_id>")
@documented("Change url, event types, description; enable or disable", {
    200: json(doc.WebhookEndpoint, "Changed"), 404: NOT_FOUND}, body=WebhookEndpointUpdate)
def update(endpoint_id: str):
    eid = resource_id(endpoint_id, "webhook endpoint")
    fields = endpoints.validate(json_body(), farm().webhook_targets, partial=True)
    row = _found(_on_shard(lambda conn: endpoints.update(conn, g.client_id, eid, fields)), eid)
    return jsonify(endpoints.document(row, farm().settings.base_url))


@bp.delete("/endpoints/<endpoint_id>")
@documented("Delete an endpoint (pending deliveries stop; the log stays)", {
    204: empty("Deleted"), 404: NOT_FOUND})
def delete(endpoint_id: str):
    eid = resource_id(endpoint_id, "webhook endpoint")
    _found(_on_shard(lambda conn: endpoints.delete(conn, g.client_id, eid)), eid)
    return "", 204


@bp.post("/endpoints/<endpoint_id>/rotate")
@documented("New signing secret (returned once); the old one signs too during the grace period", {
    200: json(doc.WebhookEndpoint, "Rotated"), 404: NOT_FOUND})
def rotate(endpoint_id: str):
    eid = resource_id(endpoint_id, "webhook endpoint")
    grace = farm().settings.webhook_rotation_grace_s
    row = _found(_on_shard(lambda conn: endpoints.rotate(conn, g.client_id, eid, grace)), eid)
    return jsonify(endpoints.document(row, farm().settings.base_url))


@bp.get("/secret")
@documented("The client's secret for one-off targets (created on first use)",
            {200: json(doc.WebhookSecret, "The secret")})
def secret():
    row = _on_shard(lambda conn: endpoints.client_secret(conn, g.client_id))
    return jsonify(endpoints.secret_document(row))


@bp.post("/secret/rotate")
@documented("Rotate the client's secret (the old one signs too during the grace period)",
            {200: json(doc.WebhookSecret, "Rotated")})
def rotate_secret():
    grace = farm().settings.webhook_rotation_grace_s
    row = _on_shard(lambda conn: endpoints.rotate_client_secret(conn, g.client_id, grace))
    return jsonify(endpoints.secret_document(row))
