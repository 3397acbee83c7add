"""OpenAPI paths and schemas of webhooks, deliveries and batches (merged by ``api.openapi``)."""

from __future__ import annotations

from typing import Any

REF = "#/components/schemas/{model}"
AUTH = [{"bearer": []}]
EVENT_TYPES = ["job.succeeded", "job.failed", "job.cancelled", "batch.completed"]
STRING, TIME, UUID = {"type": "string"}, {"type": ["string", "null"], "format": "date-time"}, {
    "type": "string", "format": "uuid"}


def _ref(model: str) -> dict:
    return {"$ref": REF.format(model=model)}


def _json(model: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("ProblemDetails")}}}


def _body(model: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(model)}}}


def _id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": UUID}


ERRORS = {"401": _problem("Missing or unknown API key"), "429": _problem("Rate limit exceeded; see Retry-After"),
          "503": _problem("The client's shard cannot be reached; see Retry-After")}
NOT_FOUND = {"404": _problem("Not found (or another client's)")}
INVALID = {"400": _problem("Not JSON"), "422": _problem("Invalid body, every error with its JSON pointer")}
LINKS = {"type": "object", "additionalProperties": {"type": "string"}}

SCHEMAS: dict[str, Any] = {
    "WebhookTarget": {"type": "object", "additionalProperties": False, "required": ["url"],
                      "description": "A one-off target, signed with the client's secret (GET /v1/webhooks/secret)",
                      "properties": {"url": {"type": "string", "format": "uri"}}},
    "WebhookEndpointRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {"url": {"type": "string", "format": "uri", "description": "http or https; public addresses only"},
                       "event_types": {"type": "array", "minItems": 1, "items": {"enum": EVENT_TYPES},
                                       "description": "default: every event type"},
                       "description": {"type": "string", "maxLength": 500},
                       "enabled": {"type": "boolean", "description": "PATCH only: false disables, true re-enables"}},
    },
    "WebhookEndpoint": {
        "type": "object", "required": ["id", "url", "event_types", "status"],
        "properties": {"id": UUID, "url": STRING, "description": STRING,
                       "event_types": {"type": "array", "items": {"enum": EVENT_TYPES}},
                       "status": {"enum": ["enabled", "disabled"]}, "disabled_at": TIME,
                       "disabled_reason": {"type": ["string", "null"]}, "failing_since": TIME,
                       "last_success_at": TIME, "created_at": TIME, "updated_at": TIME, "secret_rotated_at": TIME,
                       "previous_secret_expires_at": TIME, "links": LINKS,
                       "secret": {"type": "string", "description": "whsec_…: only at creation and rotation"}},
    },
    "WebhookEndpointList": {"type": "object", "properties": {"endpoints": {
        "type": "array", "items": _ref("WebhookEndpoint")}}},
    "WebhookSecret": {"type": "object", "properties": {"secret": STRING, "rotated_at": TIME,
                                                       "previous_secret_expires_at": TIME}},
    "Delivery": {
        "type": "object",
        "properties": {"id": UUID, "webhook_id": {"type": "string", "description": "the webhook-id header"},
                       "event_type": {"enum": EVENT_TYPES},
                       "status": {"enum": ["pending", "succeeded", "failed", "disabled"]},
                       "url": STRING, "endpoint_id": {"type": ["string", "null"]},
                       "job_id": {"type": ["string", "null"]}, "batch_id": {"type": ["string", "null"]},
                       "attempts": {"type": "integer"}, "next_attempt_at": TIME,
                       "last_error": {"type": ["string", "null"]}, "created_at": TIME, "finished_at": TIME,
                       "links": LINKS,
                       "log": {"type": "array", "items": {"type": "object", "properties": {
                           "attempt": {"type": "integer"}, "at": TIME, "url": STRING,
                           "status_code": {"type": ["integer", "null"]}, "latency_ms": {"type": "number"},
                           "error": {"type": ["string", "null"]}, "next_attempt_at": TIME}}}},
    },
    "DeliveryList": {"type": "object", "properties": {"deliveries": {"type": "array", "items": _ref("Delivery")}}},
    "BatchRequest": {
        "type": "object", "additionalProperties": False, "required": ["jobs"],
        "properties": {"jobs": {"type": "array", "minItems": 1, "maxItems": 1000, "items": _ref("JobRequest")},
                       "metadata": {"type": "object"}, "webhook": _ref("WebhookTarget")},
    },
    "BatchReoptimizeRequest": {
        "type": "object", "additionalProperties": False, "required": ["jobs"],
        "description": "Re-plan several succeeded jobs with shared changes, as one batch: each job's "
                       "request is `changes` plus its own `vehicles` (and `at`, if given)",
        "properties": {
            "jobs": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {
                "type": "object", "additionalProperties": False, "required": ["job_id"],
                "properties": {"job_id": UUID,
                               "vehicles": {"type": "array", "items": _ref("VehicleState")},
                               "at": {"type": "number", "minimum": 0}}}},
            "changes": {"type": "object", "description": "the shared changes: the fields of ReoptimizeBody "
                                                         "other than vehicles and event_id"},
            "metadata": {"type": "object"}, "webhook": _ref("WebhookTarget")},
    },
    "BatchAccepted": {"type": "object", "properties": {
        "id": UUID, "status": STRING, "total": {"type": "integer"},
        "job_ids": {"type": "array", "items": UUID}, "links": LINKS}},
    "Batch": {
        "type": "object",
        "properties": {"id": UUID, "status": {"enum": ["queued", "running", "cancelling", "completed"]},
                       "total": {"type": "integer"}, "done": {"type": "integer"},
                       "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                       "percent_done": {"type": "number"}, "metadata": {"type": "object"},
                       "created_at": TIME, "started_at": TIME, "finished_at": TIME,
                       "cancel_requested_at": TIME, "links": LINKS},
    },
    "WebhookEvent": {
        "type": "object", "description": "The body of every webhook (Standard Webhooks signed)",
        "properties": {"type": {"enum": EVENT_TYPES}, "timestamp": TIME,
                       "data": {"description": "the Job (solution_url instead of solution above the size limit)"
                                               " or the Batch"}},
    },
}


def _op(summary: str, responses: dict, parameters: list | None = None, body: str | None = None) -> dict:
    op: dict[str, Any] = {"summary": summary, "security": AUTH, "responses": {**responses, **ERRORS}}
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = _body(body)
    return op


ENDPOINT, DELIVERY, BATCH, JOB = _id("endpoint_id"), _id("delivery_id"), _id("batch_id"), _id("job_id")

PATHS: dict[str, Any] = {
    "/v1/webhooks/endpoints": {
        "post": _op("Create a webhook endpoint (its secret is returned this once)",
                    {"201": _json("WebhookEndpoint", "Created"), **INVALID}, body="WebhookEndpointRequest"),
        "get": _op("List the client's webhook endpoints", {"200": _json("WebhookEndpointList", "Endpoints")}),
    },
    "/v1/webhooks/endpoints/{endpoint_id}": {
        "get": _op("A webhook endpoint", {"200": _json("WebhookEndpoint", "The endpoint"), **NOT_FOUND}, [ENDPOINT]),
        "patch": _op("Change url, event types, description; enable or disable",
                     {"200": _json("WebhookEndpoint", "Changed"), **INVALID, **NOT_FOUND}, [ENDPOINT],
                     "WebhookEndpointRequest"),
        "delete": _op("Delete an endpoint (pending deliveries stop; the log stays)",
                      {"204": {"description": "Deleted"}, **NOT_FOUND}, [ENDPOINT]),
    },
    "/v1/webhooks/endpoints/{endpoint_id}/rotate": {
        "post": _op("New signing secret (returned once); the old one signs too during the grace period",
                    {"200": _json("WebhookEndpoint", "Rotated"), **NOT_FOUND}, [ENDPOINT]),
    },
    "/v1/webhooks/secret": {
        "get": _op("The client's secret for one-off targets (created on first use)",
                   {"200": _json("WebhookSecret", "The secret")}),
    },
    "/v1/webhooks/secret/rotate": {
        "post": _op("Rotate the client's secret (the old one signs too during the grace period)",
                    {"200": _json("WebhookSecret", "Rotated")}),
    },
    "/v1/jobs/{job_id}/deliveries": {
        "get": _op("The job's webhook deliveries, each with its attempts",
                   {"200": _json("DeliveryList", "Deliveries"), **NOT_FOUND}, [JOB]),
    },
    "/v1/deliveries/{delivery_id}": {
        "get": _op("A delivery and its attempts", {"200": _json("Delivery", "The delivery"), **NOT_FOUND}, [DELIVERY]),
    },
    "/v1/deliveries/{delivery_id}/retry": {
        "post": _op("Send again now (same webhook-id); the retry schedule starts over",
                    {"202": _json("Delivery", "Scheduled"), **NOT_FOUND,
                     "409": _problem("The endpoint is disabled or deleted")}, [DELIVERY]),
    },
    "/v1/batches": {
        "post": _op("Submit up to 1,000 jobs at once", {"202": _json("BatchAccepted", "Accepted"), **INVALID,
                                                         "413": _problem("Body too large")}, body="BatchRequest"),
    },
    "/v1/batches/reoptimize": {
        "post": _op("Re-plan many succeeded jobs with shared changes (a depot closed, a stop cancelled "
                    "everywhere), as one batch", {"202": _json("BatchAccepted", "Accepted"), **INVALID},
                    body="BatchReoptimizeRequest"),
    },
    "/v1/batches/{batch_id}": {
        "get": _op("Counts by status, percent done, started and finished times",
                   {"200": _json("Batch", "The batch"), **NOT_FOUND}, [BATCH]),
        "delete": _op("Cancel what is left: queued jobs at once, running ones within a second",
                      {"200": _json("Batch", "Cancelled"), "202": _json("Batch", "Running jobs are stopping"),
                       **NOT_FOUND}, [BATCH]),
    },
    "/v1/batches/{batch_id}/deliveries": {
        "get": _op("The batch.completed deliveries", {"200": _json("DeliveryList", "Deliveries"), **NOT_FOUND},
                   [BATCH]),
    },
}
