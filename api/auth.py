"""Bearer API keys: each request is tied to one client; a client sees only its own jobs."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, g, request

from routefarm.cache import KEY_TTL
from routefarm.db.directory import hash_key
from routefarm.errors import NotFound, Unauthorized
from routefarm.fairness import rates
from routefarm.observability import logs


def key_owner(farm, key: str) -> str | None:
    """The client of an accepted key: from Redis (shared by every process, overwritten by a
    revocation) or else the directory, then remembered there until the key ends or KEY_TTL."""
    digest = hash_key(key)
    cached = farm.cache.key_owner(digest)
    if cached is not None:
        return cached or None  # "" is a key refused
    found = farm.directory.owner_of(digest)
    if found is None:
        return None
    client_id, left_s = found
    farm.cache.remember_key(digest, client_id, KEY_TTL if left_s is None else min(KEY_TTL, left_s))
    return client_id


def current_client(farm) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("send 'Authorization: Bearer <api key>'")
    client_id = key_owner(farm, key.strip())
    if client_id is None:
        raise Unauthorized("unknown or revoked API key", error="invalid_token")
    g.client_id = client_id
    logs.bind(client_id=client_id)  # the request's lines from here on (reset with the request's)
    return client_id


def rate_limit(farm, client_id: str) -> None:
    rates.charge(farm, client_id)


def farm():
    """The farm resources of the running app."""
    return current_app.extensions["routefarm"]


def require_client(bp: Blueprint) -> None:
    """Every request of ``bp`` carries a known API key and passes its client's rate limit."""

    @bp.before_request
    def _authenticate():
        rate_limit(farm(), current_client(farm()))


def resource_id(value: str, what: str) -> uuid.UUID:
    """A UUID from a URL; anything else names nothing that exists (404)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"no {what} {value!r}") from None
