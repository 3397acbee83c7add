"""Signatures of the events on ``routefarm.reoptimize``: what binds an event to its client.

A Kafka producer credential lets its holder write any record to the topic; without more, it
could create jobs for any client. So each client has an ingest key (``routefarm clients
ingest-key CLIENT``), and every event carries the header

    routefarm-signature: v1,<base64 of HMAC-SHA256(key, the record's value bytes)>

with the record's key set to the client id. The ingest verifies the signature with that
client's key, so only a holder of the key can write events for the client. Several
signatures may be given, separated by spaces (a producer rotating its key may send both;
the first ``MAX_SIGNATURES`` are tried).
The HMAC key is the ingest key's text as UTF-8 bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

HEADER = "routefarm-signature"
VERSION = "v1"
MAX_SIGNATURES = 8  # signatures of one header that are tried; the rest are ignored


def sign(secret: str, value: bytes) -> str:
    """The ``routefarm-signature`` header value of ``value`` under ``secret``."""
    digest = hmac.new(secret.encode(), value, hashlib.sha256).digest()
    return f"{VERSION},{base64.b64encode(digest).decode()}"


def header(secret: str, value: bytes) -> tuple[str, bytes]:
    """The header as a (name, value) pair for a confluent-kafka ``produce(headers=[...])``."""
    return HEADER, sign(secret, value).encode()


def verify(signing_secrets: Iterable[str], value: bytes, signatures: str) -> bool:
    """Whether one of the space-separated ``signatures`` is ``value``'s under one of the
    secrets (compared in constant time)."""
    given = [s.encode() for s in signatures.split()[:MAX_SIGNATURES] if s.startswith(f"{VERSION},")]
    expected = [sign(secret, value).encode() for secret in signing_secrets]
    return any(hmac.compare_digest(g, e) for g in given for e in expected)
