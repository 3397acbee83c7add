"""Every Kafka test starts with an empty outbox backlog (earlier tests of the session share
the shard databases and leave unsent events behind)."""

import pytest


@pytest.fixture(autouse=True)
def quiet_outbox(farm):
    for shard in farm.db.shards:
        with farm.db.shard(shard) as conn:
            conn.execute("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")
