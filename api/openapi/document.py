"""The OpenAPI 3.1 document of an app, read from its routes and the operations they declare.

Paths and methods come from the app's URL map; each operation from its view
(``operations.documented``); every schema from the pydantic models the operations name
(request models as validated, response models as serialized). Nothing here is written by
hand but the document's description and the request examples (``examples``).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from routefarm.contract.documents import WebhookEvent

from .examples import EXAMPLES
from .operations import Answer, Operation, operation_of, problem

PARAMETER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
REF = "#/components/schemas/{model}"
UNDOCUMENTED = {"static"}  # endpoints that are not the API's
GONE = problem("Expired: made longer ago than the client's retention (it may have been deleted)")
ID = {"type": "string", "format": "uuid"}
DESCRIPTION = (
    "Vehicle-route optimization jobs.\n\nRetention: an ended job (with its solution, webhook deliveries,"
    " events, Idempotency-Key and de-duplication entry) and a completed batch are deleted once older"
    " than the client's retention (the farm's ROUTEFARM_JOB_RETENTION_S, 30 days by default, or the"
    " client's own). A job or batch whose id was made longer ago than that answers 410 Gone (problem"
    " type .../expired, with retention_s); an unknown recent id answers 404.")


def _operations(app: Flask) -> list[tuple[str, str, list[str], Operation]]:
    """(OpenAPI path, method, path parameters, operation) of every documented route."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in UNDOCUMENTED:
            continue
        operation = operation_of(app.view_functions[rule.endpoint])
        if operation is None:
            continue
        path = PARAMETER.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((path, method.lower(), PARAMETER.findall(rule.rule), operation))
    return found


def _models(operations) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for *_, op in operations:
        if op.body is not None:
            wanted[(op.body, "validation")] = None
        for answer in op.answers.values():
            if answer.model is not None:
                wanted[(answer.model, "serialization")] = None
    return list(wanted)


def _content(answer: Answer, refs) -> dict[str, Any]:
    out: dict[str, Any] = {"description": answer.description}
    if answer.headers:
        out["headers"] = dict(answer.headers)
    if answer.model is not None:
        out["content"] = {answer.media or "application/json": {"schema": refs[(answer.model, "serialization")]}}
    elif answer.media is not None:
        out["content"] = {answer.media: {"schema": {"type": "string"}}}
    return out


def _query(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation")
    parameters = []
    for name, field in model.model_fields.items():
        prop = dict(schema["properties"][name])
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": field.is_required(), "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _operation(op: Operation, arguments: list[str], refs, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": op.summary}
    if op.description:
        out["description"] = op.description
    if op.secured:
        out["security"] = [{"bearer": []}]
    parameters = [{"name": name, "in": "path", "required": True, "schema": ID} for name in arguments]
    parameters += [{"name": name, "in": "header", "required": False, **fields} for name, fields in op.headers.items()]
    if op.query is not None:
        parameters += _query(op.query)
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        media: dict[str, Any] = {"schema": refs[(op.body, "validation")]}
        if op.body.__name__ in EXAMPLES:
            media["example"] = EXAMPLES[op.body.__name__]
        out["requestBody"] = {"required": True, "content": {"application/json": media}}
    answers = dict(op.answers)
    if 404 in answers and ("{job_id}" in path or "{batch_id}" in path):
        answers.setdefault(410, GONE)  # an id older than the client's retention
    out["responses"] = {str(status): _content(a, refs) for status, a in sorted(answers.items())}
    return out


def build(app: Flask) -> dict[str, Any]:
    operations = _operations(app)
    refs, defs = models_json_schema([*_models(operations), (WebhookEvent, "serialization")], ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, arguments, op in operations:
        paths.setdefault(path, {})[method] = _operation(op, arguments, refs, path)
    return {
        "openapi": "3.1.0",
        "info": {"title": "routefarm", "version": "1", "description": DESCRIPTION},
        "components": {"schemas": defs.get("$defs", {}),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
        "webhooks": {"event": {"post": {
            "summary": "What the farm sends to a webhook endpoint or a one-off target when a job or batch ends",
            "description": ("Signed as Standard Webhooks define (webhook-id, webhook-timestamp, webhook-signature "
                            "headers); a 2xx answer ends the delivery, anything else is retried."),
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": refs[(WebhookEvent, "serialization")]}}},
            "responses": {"200": {"description": "Received (any 2xx)"}}}}},
    }
