"""OpenAPI paths and schemas of the operator's view: routes pictures, farm status, the page."""

from __future__ import annotations

REF = "#/components/schemas/{model}"


def _problem(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="ProblemDetails")}}}}


_ERRORS = {"401": _problem("Missing or unknown API key"), "429": _problem("Rate limit exceeded; see Retry-After")}
_JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_NULLABLE_COUNT = {"type": ["integer", "null"], "minimum": 0}

SCHEMAS = {
    "FarmStatus": {
        "type": "object", "required": ["workers", "queue_depth", "kafka_lag", "jobs_per_s"],
        "description": ("The farm as a whole. workers and kafka_lag come from the local autoscaler "
                        "(routefarm up); without one, workers.current counts the live solve workers "
                        "and desired, max and kafka_lag are null. jobs_per_s: jobs finished per second "
                        "over the last 30 s (null while Redis cannot be read)."),
        "properties": {
            "workers": {"type": "object", "required": ["current", "desired", "max"], "properties": {
                "current": _NULLABLE_COUNT, "desired": _NULLABLE_COUNT, "max": _NULLABLE_COUNT}},
            "queue_depth": {"type": "integer", "minimum": 0,
                            "description": "solve messages queued, in flight or delayed (what KEDA reads)"},
            "kafka_lag": _NULLABLE_COUNT,
            "jobs_per_s": {"type": ["number", "null"], "minimum": 0},
        },
    },
}

PATHS = {
    "/v1/jobs/{job_id}/routes.svg": {"get": {
        "summary": "The job's solution drawn as SVG: depots, stops, one path per route, unassigned crossed",
        "description": ("Coordinate problems are drawn in an equirectangular projection; matrix problems "
                        "have no coordinates, so their places are laid out by classical multidimensional "
                        "scaling of the distance matrix (the picture's title says so). No map tiles."),
        "security": [{"bearer": []}],
        "parameters": [_JOB_ID, {"name": "geometry", "in": "query", "schema": {"type": "boolean"},
                                 "description": "a job priced on roads: draw its routes along the roads "
                                                "(asked of the road source it was priced on)"}],
        "responses": {"200": {"description": "The picture", "content": {"image/svg+xml": {
                          "schema": {"type": "string"}}}},
                      "404": _problem("No such job"),
                      "409": _problem("The job has no solution yet"),
                      "503": _problem("The job's shard, or (geometry) its road source, cannot be reached"),
                      **_ERRORS},
    }},
    "/v1/farm": {"get": {
        "summary": "Farm status: workers, queue depth, Kafka lag, throughput (null: not measured here)",
        "security": [{"bearer": []}],
        "responses": {"200": {"description": "Farm status", "content": {"application/json": {
                          "schema": {"$ref": REF.format(model="FarmStatus")}}}},
                      "503": _problem("The queue cannot be read"), **_ERRORS},
    }},
    "/": {"get": {
        "summary": "The status page (HTML; asks for an API key and calls this API with it)",
        "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
    }},
}
