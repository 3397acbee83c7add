"""Fixtures of the webhook tests: their own Redis databases (see ``webhook_support``), a
loopback receiver, an API client of a fresh client over real farm processes."""

from __future__ import annotations

import pytest
from webhook_support import Receiver, webhook_settings


@pytest.fixture
def settings(databases, redis_server):
    return webhook_settings(databases, redis_server, webhook_schedule="0.2,0.2,0.2")


@pytest.fixture
def receivers():
    """Start receivers with ``receivers(answer=..., hang=...)``; all stopped afterwards."""
    started: list[Receiver] = []

    def start(**kwargs) -> Receiver:
        receiver = Receiver(**kwargs).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()
