"""Identifiers and hashes: time-ordered job ids, canonical JSON hashes, worker names."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
import uuid
from typing import Any


def new_job_id(at: float | None = None) -> uuid.UUID:
    """A UUID version 7: 48 bits of Unix milliseconds (now, or ``at``), then randomness
    (time-ordered)."""
    value = (int((time.time() if at is None else at) * 1000) & ((1 << 48) - 1)) << 80
    value |= int.from_bytes(secrets.token_bytes(10), "big")
    value &= ~(0xF << 76)
    value |= 0x7 << 76  # version
    value &= ~(0x3 << 62)
    value |= 0x2 << 62  # variant
    return uuid.UUID(int=value)


def made_at(resource_id: uuid.UUID) -> float | None:
    """Unix seconds at which a ``new_job_id`` id was made (None: not a version 7 id)."""
    return (resource_id.int >> 80) / 1000 if resource_id.version == 7 else None


def worker_name() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"


def canonical_hash(document: Any) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
