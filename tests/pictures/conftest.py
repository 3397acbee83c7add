import pytest

from api import create_app


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
