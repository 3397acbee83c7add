"""Every Kafka test starts with no open job and no unsent event in the shards (the shard
databases live for the whole session: earlier tests leave queued jobs, which a stream
process's reaper would send to this test's workers, and unsent events, which its relay
would publish), and leaves none behind for later tests."""

import pytest
from support import close_open_work


@pytest.fixture(autouse=True)
def quiet_shards(farm):
    dsns = farm.settings.shards.values()
    close_open_work(dsns, events=True)
    yield
    close_open_work(dsns, events=True)


@pytest.fixture
def ingest_key(farm):
    """Give a client an ingest key (or a new one): ``ingest_key(client_id, grace_s=0)`` -> secret."""
    from routefarm.db.ingest_keys import issue

    def give(client_id: str, grace_s: float = 0.0) -> str:
        return issue(farm.db, client_id, grace_s).secret

    return give
