"""Fixtures of the pipeline acceptance tests (real Postgres, Redis, web/worker/stream processes).

``settings`` is overridden here so that these tests use their own Redis databases (see
``pipeline_support.BROKER_DB``); ``farm``, ``client_factory`` and ``processes`` from
tests/conftest.py pick it up.
"""

from __future__ import annotations

import pytest
from pipeline_support import Audit, pipeline_settings


@pytest.fixture
def settings(databases, redis_server):
    return pipeline_settings(databases, redis_server)


@pytest.fixture
def audit(databases):
    """Records every job status change on every shard (a trigger, removed afterwards)."""
    recorder = Audit(databases).install()
    yield recorder
    recorder.remove()
