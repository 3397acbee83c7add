"""/openapi.json: OpenAPI 3.1 for every endpoint, with the problem and solution schemas."""

from __future__ import annotations

from functools import cache

from flask import Blueprint, jsonify
from pydantic.json_schema import models_json_schema

from optimizer import Problem, Solution
from routefarm.reoptimize.request import ReoptimizeBody

from . import openapi_status, openapi_webhooks

bp = Blueprint("openapi", __name__)
REF = "#/components/schemas/{model}"


def _problem_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="ProblemDetails")}}}}


def _json(schema_ref: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=schema_ref)}}}}


ERRORS = {
    "401": _problem_response("Missing or unknown API key"),
    "429": _problem_response("Rate limit exceeded; see Retry-After"),
    "503": _problem_response("The client's shard cannot be reached; see Retry-After"),
}
JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
REOPTIMIZE = {"post": {
    "summary": "Re-plan a succeeded job from what happened since (a new job, solved like any other)",
    "security": [{"bearer": []}], "parameters": [JOB_ID],
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": REF.format(model="ReoptimizeBody")}}}},
    "responses": {"202": _json("JobAccepted", "Accepted (or replayed for a known event_id)"),
                  "400": _problem_response("Not JSON"), "404": _problem_response("No such job"),
                  "409": _problem_response("The base job has not succeeded"),
                  "422": _problem_response("Invalid request, every error with its JSON pointer"), **ERRORS},
}}

EXTRA_SCHEMAS = {
    "ProblemDetails": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "instance": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "pointer": {"type": "string"}, "detail": {"type": "string"}}}},
        },
        "required": ["type", "title", "status", "detail"],
    },
    "JobRequest": {
        "type": "object", "additionalProperties": False, "required": ["problem"],
        "properties": {"problem": {"$ref": REF.format(model="Problem")},
                       "metadata": {"type": "object", "description": "returned as given"},
                       "webhook": {"$ref": REF.format(model="WebhookTarget")}},
    },
    "JobAccepted": {
        "type": "object", "required": ["id", "status", "created_at", "links"],
        "properties": {"id": {"type": "string", "format": "uuid"},
                       "status": {"type": "string", "enum": ["queued", "succeeded"]},
                       "created_at": {"type": "string", "format": "date-time"},
                       "deduplicated_from": {"type": "string", "format": "uuid"},
                       "links": {"type": "object", "additionalProperties": {"type": "string"}}},
    },
    "Job": {
        "type": "object", "required": ["id", "status", "created_at", "links"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "cancelled"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
            "started_at": {"type": ["string", "null"], "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "attempts": {"type": "integer"},
            "metadata": {"type": "object"},
            "cancel_requested": {"type": "boolean"},
            "deduplicated_from": {"type": "string", "format": "uuid"},
            "batch_id": {"type": "string", "format": "uuid"},
            "webhook": {"$ref": REF.format(model="WebhookTarget")},
            "progress": {
                "type": "object",
                "description": "while running: the best solution found so far",
                "properties": {
                    "objective": {"type": "integer", "description": "the solver's internal objective (lower is better)"},
                    "elapsed": {"type": "number", "description": "seconds from the solve's start to the best solution"},
                    "found_at": {"type": "string", "format": "date-time", "description": "when the best solution was found"},
                    "summary": {"$ref": REF.format(model="Summary")},
                    "incumbents": {"type": "integer", "description": "improving solutions received so far"},
                    "improvements": {"type": "array", "items": {"type": "array"},
                                     "description": "the latest (elapsed seconds, objective) pairs"}}},
            "incumbent": {"allOf": [{"$ref": REF.format(model="Solution")}],
                          "description": "while running, with ?include=incumbent: the best solution so far, "
                                         "routes included (refreshed about every second)"},
            "solution": {"$ref": REF.format(model="Solution")},
            "error": {"type": "object", "properties": {"reason": {"type": "string"}, "detail": {"type": "string"}}},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "JobPage": {
        "type": "object", "required": ["jobs", "next_cursor"],
        "properties": {"jobs": {"type": "array", "items": {"$ref": REF.format(model="Job")}},
                       "next_cursor": {"type": ["string", "null"]}},
    },
}


@cache
def spec() -> dict:
    _, defs = models_json_schema([(Problem, "validation"), (Solution, "serialization"),
                                   (ReoptimizeBody, "validation")], ref_template=REF)
    schemas = {**defs.get("$defs", {}), **EXTRA_SCHEMAS, **openapi_webhooks.SCHEMAS,
               **openapi_status.SCHEMAS}
    auth = [{"bearer": []}]
    return _with_examples(_with_expiry({
        "openapi": "3.1.0",
        "info": {"title": "routefarm", "version": "1", "description": DESCRIPTION},
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/v1/jobs": {
                "post": {
                    "summary": "Submit a routing problem", "security": auth,
                    "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                    "schema": {"type": "string", "maxLength": 200}}],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": REF.format(model="JobRequest")}}}},
                    "responses": {"202": _json("JobAccepted", "Accepted (or replayed for a known Idempotency-Key)"),
                                  "400": _problem_response("Not JSON"),
                                  "413": _problem_response("Body too large"),
                                  "422": _problem_response("Invalid problem, every error with its JSON pointer"),
                                  **ERRORS},
                },
                "get": {
                    "summary": "List the client's jobs, newest first", "security": auth,
                    "parameters": [
                        {"name": "status", "in": "query", "schema": {"type": "string", "enum": [
                            "queued", "running", "succeeded", "failed", "cancelled"]}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": _json("JobPage", "A page of jobs"),
                                  "400": _problem_response("Bad parameter"), **ERRORS},
                },
            },
            "/v1/jobs/{job_id}": {
                "get": {
                    "summary": "A job's status, progress and solution", "security": auth,
                    "parameters": [JOB_ID, {"name": "wait", "in": "query", "schema": {
                        "type": "number", "minimum": 0, "maximum": 60},
                        "description": "hold the request until the job ends or this many seconds pass"},
                        {"name": "include", "in": "query", "schema": {"type": "string", "enum": ["incumbent"]},
                         "description": "incumbent: a running job's best solution so far, routes included"}],
                    "responses": {"200": _json("Job", "The job"), "404": _problem_response("No such job"),
                                  "400": _problem_response("Bad parameter"), **ERRORS},
                },
                "delete": {
                    "summary": "Cancel a job", "security": auth, "parameters": [JOB_ID],
                    "responses": {"200": _json("Job", "Cancelled"),
                                  "202": _json("Job", "Running: the solver stops within a second"),
                                  "404": _problem_response("No such job"),
                                  "409": _problem_response("The job already ended"), **ERRORS},
                },
            },
            "/v1/jobs/{job_id}/reoptimize": REOPTIMIZE,
            **openapi_webhooks.PATHS,
            **openapi_status.PATHS,
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "alive"}}}},
            "/readyz": {"get": {"summary": "Readiness of the directory, every shard and Redis",
                                "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics of this API (404 when ROUTEFARM_METRICS_PORT "
                                            "serves them on their own port)",
                                 "responses": {"200": {"description": "Prometheus text format", "content": {
                                     "text/plain": {"schema": {"type": "string"}}}},
                                               "404": _problem_response("Served on the metrics port")}}},
        },
    }))


DESCRIPTION = (
    "Vehicle-route optimization jobs.\n\nRetention: an ended job (with its solution, webhook deliveries,"
    " events, Idempotency-Key and de-duplication entry) and a completed batch are deleted once older"
    " than the client's retention (the farm's ROUTEFARM_JOB_RETENTION_S, 30 days by default, or the"
    " client's own). A job or batch whose id was made longer ago than that answers 410 Gone (problem"
    " type .../expired, with retention_s); an unknown recent id answers 404.")
GONE = _problem_response("Expired: made longer ago than the client's retention (it may have been deleted)")


# a valid body for every request body (schemathesis' positive cases start from these, so that
# they are accepted and solved, not only refused); tests/api check that each one is
EXAMPLE_PROBLEM = {
    "vehicles": [{"id": "van-1", "start": [13.405, 52.52], "end": [13.405, 52.52], "capacity": [10],
                  "time_window": [28800, 61200]}],
    "stops": [{"id": "bakery", "location": [13.3777, 52.5163], "demand": [3], "service": 300,
               "time_windows": [[28800, 43200]]},
              {"id": "cafe", "location": [13.4125, 52.5219], "demand": [4], "service": 240}],
    "options": {"time_limit": 1},
}
EXAMPLES = {
    "JobRequest": {"problem": EXAMPLE_PROBLEM, "metadata": {"route_day": "2026-12-03"}},
    "BatchRequest": {"jobs": [{"problem": EXAMPLE_PROBLEM},
                              {"problem": {**EXAMPLE_PROBLEM, "stops": EXAMPLE_PROBLEM["stops"][:1]}}],
                     "metadata": {"depot": "berlin"}},
    "ReoptimizeBody": {"at": 36000, "cancel_stops": ["cafe"], "time_limit": 1},
    "BatchReoptimizeRequest": {"jobs": [{"job_id": "01a2b3c4-0000-7000-8000-000000000000"}],
                               "changes": {"at": 36000, "cancel_stops": ["cafe"]}},
    "WebhookEndpointRequest": {"url": "https://93.184.216.34/routefarm-hooks", "event_types": ["job.succeeded"],
                               "description": "dispatch board"},
}


def _with_examples(document: dict) -> dict:
    for operations in document["paths"].values():
        for operation in operations.values():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is not None:
                name = media["schema"].get("$ref", "").rsplit("/", 1)[-1]
                if name in EXAMPLES:
                    media.setdefault("example", EXAMPLES[name])
    return document


def _with_expiry(document: dict) -> dict:
    """Every operation on one job or batch that can answer 404 can answer 410 too."""
    for path, operations in document["paths"].items():
        if "{job_id}" in path or "{batch_id}" in path:
            for operation in operations.values():
                if "404" in operation.get("responses", {}):
                    operation["responses"].setdefault("410", GONE)
    return document


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())
