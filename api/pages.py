"""Keyset pagination, the same for every list: a page of ``limit`` items and ``next_cursor``,
the last item's id (opaque to clients, null on the last page), which the next request sends
back as ``cursor``."""

from __future__ import annotations

import base64
import uuid

from routefarm.errors import BadRequest


def cursor(value: str | None) -> uuid.UUID | None:
    """The id a ``cursor`` parameter names (None: the first page); 400 for anything else."""
    if not value:
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except ValueError:
        raise BadRequest("cursor is not one this API returned") from None


def split(rows: list[dict], limit: int) -> tuple[list[dict], str | None]:
    """Rows read with ``limit + 1`` as (the page, the next cursor: None on the last page)."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], _encode(rows[limit - 1]["id"])


def _encode(item_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(item_id.bytes).decode().rstrip("=")
