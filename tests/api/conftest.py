import pytest

from api import create_app

SMALL = {
    "vehicles": [{"id": "v1", "start_index": 0, "end_index": 0, "capacity": [10]}],
    "stops": [{"id": "a", "location_index": 1, "demand": [1]}, {"id": "b", "location_index": 2, "demand": [2]}],
    "matrix": {"distances": [[0, 5, 7], [5, 0, 3], [7, 3, 0]]},
    "options": {"time_limit": 0.2},
}


@pytest.fixture
def app(farm):
    app = create_app(farm.settings, farm)
    yield app
    app.extensions["routefarm.waiter"].stop()


@pytest.fixture
def http(app):
    return app.test_client()


@pytest.fixture
def auth(client_factory):
    """Headers of a new client: returns (client_id, headers)."""

    def make(name: str = "acme"):
        client_id, key = client_factory(name)
        return client_id, {"Authorization": f"Bearer {key}"}

    return make
