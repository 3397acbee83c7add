"""The security tests resolve no name through DNS (see ``support.hermetic_dns``)."""

import pytest
from support import hermetic_dns


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch):
    hermetic_dns(monkeypatch)
