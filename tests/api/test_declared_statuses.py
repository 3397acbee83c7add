"""Every status a route answers is one its operation in /openapi.json declares: each route is
called as an unknown caller, with ids that name nothing, with its example body, and with
the client's shard unreachable (a real farm whose shard URLs point at a closed port: the
directory answers, the shard does not)."""

from __future__ import annotations

import re
import uuid

import pytest
from support import free_port, make_settings

from api import create_app
from api.routes import spec

NOT_IN_DOCUMENT = {"/static/<path:filename>"}


def _operations():
    document = spec()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def _call(http, path: str, method: str, operation: dict, headers: dict):
    concrete = re.sub(r"\{[a-z_]+\}", lambda _: str(uuid.uuid4()), path)
    media = operation.get("requestBody", {}).get("content", {}).get("application/json")
    kwargs = {"json": media["example"]} if media else {}
    return getattr(http, method)(concrete, headers=headers, **kwargs)


@pytest.fixture
def broken_shards(databases, redis_server, farm):
    """An app over the same directory and Redis, its shard URLs pointing at a closed port."""
    from routefarm.farm import Farm

    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    settings = make_settings(databases, redis_server, shard_urls=f"{dead},{dead}", db_timeout_s=0.2)
    broken = Farm(settings).open(wait=False)
    app = create_app(settings, broken)
    yield app.test_client()
    app.extensions["routefarm.waiter"].stop()
    broken.close()


def test_every_route_is_in_the_document(app):
    documented = {re.sub(r"\{([a-z_]+)\}", r"<\1>", p) for p in spec()["paths"]}
    routes = {rule.rule for rule in app.url_map.iter_rules()} - NOT_IN_DOCUMENT
    assert routes <= documented, routes - documented


def test_statuses_answered_are_declared(http, auth, broken_shards):
    _, headers = auth("statuses")
    undeclared, seen = [], {}
    for path, method, operation in _operations():
        declared = set(operation["responses"])
        secured = bool(operation.get("security"))
        calls = [("a caller without a key", http, {}), ("ids that name nothing", http, headers),
                 ("the shard unreachable", broken_shards, headers)]
        for why, client, sent in calls:
            if not secured and why != "ids that name nothing":
                continue
            status = _call(client, path, method, operation, sent).status_code
            seen[why] = seen.get(why, set()) | {status}
            if str(status) not in declared:
                undeclared.append(f"{method.upper()} {path} ({why}): {status} not in {sorted(declared)}")
    assert undeclared == [], "\n".join(undeclared)
    # the three situations were reached: refusals, misses, and the shard's outage
    assert seen["a caller without a key"] == {401}
    assert 404 in seen["ids that name nothing"] and 202 in seen["ids that name nothing"]
    assert 503 in seen["the shard unreachable"]
