"""Standard Webhooks signatures (https://www.standardwebhooks.com), with the PyPI library.

A secret is ``whsec_`` + base64 of 32 random bytes. During a rotation's grace period a
message carries one signature per valid secret, space-separated, so receivers verifying
with either the old or the new secret accept it.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(webhook_id: str, body: bytes, signing_secrets: list[str],
                   at: datetime | None = None) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` for ``body``."""
    if not signing_secrets:
        raise ValueError("at least one secret is needed to sign a webhook")
    at = (at or datetime.now(UTC)).replace(microsecond=0)
    text = body.decode()
    signatures = [Webhook(secret).sign(webhook_id, at, text) for secret in dict.fromkeys(signing_secrets)]
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": " ".join(signatures)}
