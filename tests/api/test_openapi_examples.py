"""Every request body in /openapi.json carries an example that is valid: it conforms to its
schema, and the submissions are accepted by the real app (so a fuzzer's positive cases,
which start from them, reach the solver)."""

from __future__ import annotations

import jsonschema
import pytest

from api.openapi import EXAMPLES
from api.routes import spec


def _operations():
    for path, operations in spec()["paths"].items():
        for method, operation in operations.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is not None:
                yield path, method, media


@pytest.mark.parametrize(("path", "method", "media"), list(_operations()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_request_body_has_an_example_that_fits_its_schema(path, method, media):
    assert "example" in media, f"{method} {path}: no example"
    document = spec()
    schema = {**media["schema"], "components": document["components"]}
    resolver = jsonschema.validators.validator_for({"$schema": "https://json-schema.org/draft/2020-12/schema"})
    resolver(schema).validate(media["example"])


def test_the_submission_examples_are_accepted(http, auth):
    _, headers = auth("examples")
    job = http.post("/v1/jobs", json=EXAMPLES["JobRequest"], headers=headers)
    assert job.status_code == 202, job.get_json()
    batch = http.post("/v1/batches", json=EXAMPLES["BatchRequest"], headers=headers)
    assert batch.status_code == 202, batch.get_json()
    endpoint = http.post("/v1/webhooks/endpoints", json=EXAMPLES["WebhookEndpointCreate"], headers=headers)
    assert endpoint.status_code == 201, endpoint.get_json()
