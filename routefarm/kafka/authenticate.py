"""Who sent an event on ``routefarm.reoptimize``: the client whose ingest key signed it.

An event is the client's when its record key is the client id and its ``routefarm-signature``
header verifies with that client's ingest key, or with the key it replaced during the
rotation's grace period (``signing.py``). Anything else is ``Unauthenticated``: the ingest
sends it to the dead-letter topic and creates nothing.

Keys are cached per process for ``KEYS_TTL`` seconds. A signature that the cached keys do
not verify is checked once more against the directory (at most every ``REFRESH_EVERY``
seconds per client), so a new key verifies at once; a replaced key whose grace has ended
may verify up to ``KEYS_TTL`` seconds longer. Clients without a key are not cached: a
record key naming no client costs one directory read.
"""

from __future__ import annotations

import threading
import time

from ..db.ingest_keys import verifying
from ..errors import Unauthorized
from .signing import HEADER, verify

KEYS_TTL = 30.0  # seconds a process trusts the keys it read
REFRESH_EVERY = 1.0  # seconds between two reads of one client's keys after a failed check
MAX_CLIENT_ID_BYTES = 256  # a longer record key is no client id


class Unauthenticated(Unauthorized):
    """An event not signed by its client's ingest key (its dead letter says why)."""


class Authenticator:
    """Checks events against the ingest keys in the directory of ``db``."""

    def __init__(self, db):
        self.db = db
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[list[str], float]] = {}  # client -> (secrets, read at)

    def client_of(self, key: bytes | None, value: bytes, headers: list | None) -> str:
        """The client that signed the event; ``Unauthenticated`` otherwise (the directory
        unavailable raises ``ShardUnavailable``)."""
        client_id = _client_id(key)
        signatures = " ".join(v.decode("ascii", "replace") for k, v in headers or () if k.lower() == HEADER and v)
        if not signatures:
            raise Unauthenticated(f"the event has no {HEADER} header")
        now = time.monotonic()
        cached = self._keys.get(client_id)
        if cached and now - cached[1] < KEYS_TTL and verify(cached[0], value, signatures):
            return client_id
        if cached and now - cached[1] < REFRESH_EVERY:
            secrets = cached[0]
        else:
            secrets = self._read(client_id, now)
            if verify(secrets, value, signatures):
                return client_id
        if not secrets:
            raise Unauthenticated(f"client {client_id!r} (the record key) has no ingest key")
        raise Unauthenticated(f"the {HEADER} header does not verify with the ingest key of client {client_id!r}")

    def _read(self, client_id: str, now: float) -> list[str]:
        secrets = verifying(self.db, client_id)
        with self._lock:
            if secrets:
                self._keys[client_id] = (secrets, now)
            else:
                self._keys.pop(client_id, None)
        return secrets


def _client_id(key: bytes | None) -> str:
    if not key:
        raise Unauthenticated("the event has no record key (it must be the client id)")
    if len(key) > MAX_CLIENT_ID_BYTES:
        raise Unauthenticated(f"the record key ({len(key)} bytes) is no client id")
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError:
        raise Unauthenticated("the record key is not UTF-8 text (it must be the client id)") from None
