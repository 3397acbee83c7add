"""Fixtures of the metrics tests: their own Redis databases and broker namespace (see
``metrics_support``), so their queues and presence marks are never another test's."""

from __future__ import annotations

import pytest
from metrics_support import metrics_settings


@pytest.fixture
def settings(databases, redis_server):
    return metrics_settings(databases, redis_server)
