"""Every answer of the app is what /openapi.json says of it: the status is declared, the
content type is the declared one, and a JSON body validates against the declared schema
(which the response models of ``routefarm.contract`` generate, members they do not name
refused). One walk through every operation of the document, on real shards and Redis, with
each operation answered with success at least once."""

from __future__ import annotations

import json

import jsonschema
from flask import request
from support import PUBLIC_HOOK, SMALL_PROBLEM, seed_resources

from api.routes import spec
from routefarm.ids import new_job_id

NEW_STOP = {"id": "new", "location_index": 2, "demand": [1]}  # for SMALL_PROBLEM's matrix

VALIDATOR = jsonschema.validators.validator_for({"$schema": "https://json-schema.org/draft/2020-12/schema"})


def _operation(rule: str, method: str) -> dict:
    path = rule.replace("<", "{").replace(">", "}")
    return spec()["paths"][path][method.lower()]


def _check(answer: tuple[str, str, int, str, bytes]) -> list[str]:
    rule, method, status, mimetype, body = answer
    where = f"{method} {rule} {status}"
    declared = _operation(rule, method)["responses"]
    if str(status) not in declared:
        return [f"{where}: status not declared ({sorted(declared)})"]
    content = declared[str(status)].get("content", {})
    if not content:
        return [] if not body else [f"{where}: a body where none is declared"]
    if mimetype not in content:
        return [f"{where}: {mimetype} where {sorted(content)} is declared"]
    if not mimetype.endswith("json") or "$ref" not in content[mimetype]["schema"]:
        return []
    schema = {**content[mimetype]["schema"], "components": spec()["components"]}
    return [f"{where}: {error.json_path}: {error.message}"
            for error in VALIDATOR(schema).iter_errors(json.loads(body))]


def test_every_answer_is_as_documented(app, http, auth, farm):
    answers: list[tuple[str, str, int, str, bytes]] = []

    @app.after_request
    def _record(response):
        if request.url_rule is not None:
            answers.append((request.url_rule.rule, request.method, response.status_code, response.mimetype,
                            response.get_data()))
        return response

    client_id, headers = auth("documented")
    owned = seed_resources(http, farm, client_id, headers)
    job, batch = owned["job_id"], owned["batch_id"]
    endpoint, delivery = owned["endpoint_id"], owned["delivery_id"]
    calls = [
        ("get", "/", None), ("get", "/healthz", None), ("get", "/readyz", None), ("get", "/openapi.json", None),
        ("get", "/metrics", None), ("get", "/v1/farm", None),
        ("post", "/v1/jobs", {"problem": SMALL_PROBLEM, "metadata": {"n": 1}, "webhook": {"url": PUBLIC_HOOK}}),
        ("get", "/v1/jobs?limit=2", None), ("get", "/v1/jobs?status=succeeded", None),
        ("get", f"/v1/jobs/{job}", None), ("get", f"/v1/jobs/{job}?wait=0.1&include=incumbent", None),
        ("get", f"/v1/jobs/{owned['cancelled_job_id']}", None), ("get", f"/v1/jobs/{job}/routes.svg", None),
        ("get", f"/v1/jobs/{job}/deliveries", None),
        ("post", f"/v1/jobs/{job}/reoptimize", {"at": 10, "time_limit": 0.2}),
        ("post", f"/v1/jobs/{job}/insertions", {"stops": [NEW_STOP], "limit": 2}),
        ("post", f"/v1/jobs/{job}/insertions", {"stops": [{**NEW_STOP, "demand": [99]}]}),  # fits nowhere
        ("post", f"/v1/jobs/{job}/insertions/apply", {"stops": [NEW_STOP], "time_limit": 0.2}),
        ("post", f"/v1/jobs/{owned['queued_job_id']}/insertions", {"stops": [NEW_STOP]}),
        ("post", "/v1/batches", {"jobs": [{"problem": SMALL_PROBLEM}], "metadata": {"b": 1}}),
        ("post", "/v1/batches/reoptimize", {"jobs": [{"job_id": job}], "changes": {"at": 5}}),
        ("get", f"/v1/batches/{batch}", None), ("get", f"/v1/batches/{batch}/deliveries", None),
        ("delete", f"/v1/batches/{batch}", None),
        ("get", "/v1/webhooks/endpoints", None), ("get", f"/v1/webhooks/endpoints/{endpoint}", None),
        ("patch", f"/v1/webhooks/endpoints/{endpoint}", {"description": "night shift", "enabled": True}),
        ("post", f"/v1/webhooks/endpoints/{endpoint}/rotate", None),
        ("get", "/v1/webhooks/secret", None), ("post", "/v1/webhooks/secret/rotate", None),
        ("get", f"/v1/deliveries/{delivery}", None), ("post", f"/v1/deliveries/{delivery}/retry", None),
        ("delete", f"/v1/webhooks/endpoints/{endpoint}", None),
        ("delete", f"/v1/jobs/{owned['queued_job_id']}", None),
        # refusals: each kind of problem details
        ("post", "/v1/jobs", {"problem": {"vehicles": []}, "colour": 1}), ("get", "/v1/jobs?limit=0", None),
        ("get", f"/v1/jobs/{new_job_id()}", None), ("get", "/v1/jobs/00000000-0000-7000-8000-000000000000", None),
        ("delete", f"/v1/jobs/{job}", None), ("post", "/v1/webhooks/endpoints", {"url": "http://10.0.0.1/"}),
    ]
    for method, path, body in calls:
        getattr(http, method)(path, headers=headers, **({"json": body} if body is not None else {}))
    http.get("/v1/farm")  # no key: 401

    wrong = [line for answer in answers for line in _check(answer)]
    assert wrong == [], "\n".join(wrong)
    succeeded = {(rule.replace("<", "{").replace(">", "}"), method.lower())
                 for rule, method, status, *_ in answers if status < 300}
    every = {(path, method) for path, operations in spec()["paths"].items() for method in operations}
    assert every - succeeded == set()
    assert {status for _, _, status, *_ in answers} >= {200, 201, 202, 204, 400, 401, 404, 409, 410, 422}


def test_a_member_no_model_names_is_caught():
    document = {"id": "0190a8d6-1b5c-7000-8000-000000000000", "status": "queued",
                "created_at": "2026-12-03T10:00:00Z", "links": {"self": "/v1/jobs/x"}}
    assert _check(("/v1/jobs/<job_id>", "GET", 200, "application/json", json.dumps(document).encode())) == []
    drifted = json.dumps({**document, "eta": 5}).encode()
    assert _check(("/v1/jobs/<job_id>", "GET", 200, "application/json", drifted)) != []
    assert _check(("/v1/jobs/<job_id>", "GET", 418, "application/json", drifted)) != []
