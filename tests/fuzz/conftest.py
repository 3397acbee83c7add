"""Fixtures of the fuzz tests: no DNS query leaves the machine, and a client owning one of
each resource the API names by id (a succeeded job, a batch, a webhook endpoint, a delivery)."""

from __future__ import annotations

import pytest
from support import hermetic_dns, seed_resources


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch):
    hermetic_dns(monkeypatch)


@pytest.fixture
def seeded(http, auth, farm):
    """(headers, ids): a client and one resource of each kind it owns."""
    client_id, headers = auth("fuzz")
    return headers, seed_resources(http, farm, client_id, headers)
