"""The reaper and webhooks: a ``worker_lost`` failure creates its deliveries in the same
transaction, and a pending delivery whose message was lost is sent again."""

from __future__ import annotations

import redis
from support import SMALL_PROBLEM, running_job
from webhook_support import NAMESPACE

from routefarm.broker import WEBHOOK_QUEUE, messages_present
from routefarm.farm.reaper import reap


def delivery_rows(farm, client_id: str, job_id: str) -> list[tuple]:
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:
        return conn.execute("SELECT id, event_type, status, message_id FROM webhook_deliveries WHERE job_id = %s",
                            (job_id,)).fetchall()


def test_worker_lost_fires_job_failed_and_lost_messages_are_resent(farm, client_factory):
    client_id, _ = client_factory("reaped")
    job_id = running_job(farm, client_id, SMALL_PROBLEM, webhook_url="http://127.0.0.1:9/hook")

    result = reap(farm)
    assert job_id in result.failed
    [(delivery_id, event, status, token)] = delivery_rows(farm, client_id, job_id)
    assert (event, status) == ("job.failed", "pending")
    assert messages_present(farm.broker, WEBHOOK_QUEUE, [token]) == [True]  # sent after the commit

    redis.Redis(connection_pool=farm.broker.client.connection_pool).flushdb()  # the message is lost
    with farm.db.shard(farm.directory.shard_of(client_id)) as conn:  # ...and due past the grace period
        conn.execute("UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 minute' WHERE id = %s",
                     (delivery_id,))
    assert str(delivery_id) in reap(farm).deliveries
    [(_, _, status, new_token)] = delivery_rows(farm, client_id, job_id)
    assert status == "pending" and new_token != token
    assert messages_present(farm.broker, WEBHOOK_QUEUE, [new_token]) == [True]
    assert str(delivery_id) not in reap(farm).deliveries  # not again while its message waits
    assert farm.broker.namespace == NAMESPACE
