"""Every Kafka test starts with no open job and no unsent event in the shards (the shard
databases live for the whole session: earlier tests leave queued jobs, which a stream
process's reaper would send to this test's workers, and unsent events, which its relay
would publish), and leaves none behind for later tests."""

import pytest


def _close(farm) -> None:
    for shard in farm.db.shards:
        with farm.db.shard(shard) as conn:
            conn.execute("UPDATE jobs SET status = 'cancelled', finished_at = now(), updated_at = now(),"
                         " lease_until = NULL WHERE status IN ('queued', 'running')")
            conn.execute("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")


@pytest.fixture(autouse=True)
def quiet_shards(farm):
    _close(farm)
    yield
    _close(farm)
