"""A shard move takes the client's batches, webhook endpoints, secrets and delivery log along."""

from __future__ import annotations

import pytest
import redis
from support import SMALL_PROBLEM, make_settings

from routefarm.db.sharding import CLIENT_TABLES, move


@pytest.fixture
def settings(databases, redis_server):
    for db in (10, 11):
        redis.Redis.from_url(f"{redis_server}/{db}").flushdb()
    return make_settings(databases, redis_server, webhook_allowlist="127.0.0.0/8")


def rows(farm, shard: str, client_id: str) -> dict[str, int]:
    with farm.db.shard(shard) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t} WHERE client_id = %s", (client_id,)).fetchone()[0]
                for t in (*CLIENT_TABLES, "jobs")}


def test_move_carries_webhooks_and_batches(http, auth, farm):
    client_id, headers = auth()
    endpoint = http.post("/v1/webhooks/endpoints", json={"url": "http://127.0.0.1:9/h"}, headers=headers).get_json()
    secret = http.get("/v1/webhooks/secret", headers=headers).get_json()["secret"]
    batch = http.post("/v1/batches", json={"jobs": [{"problem": SMALL_PROBLEM}] * 2}, headers=headers).get_json()
    http.delete(f"/v1/jobs/{batch['job_ids'][0]}", headers=headers)
    source = farm.directory.shard_of(client_id, fresh=True)
    target = next(s for s in farm.db.shards if s != source)
    with farm.db.shard(source) as conn:  # one attempt in the log, as a worker would record it
        conn.execute("INSERT INTO webhook_attempts (id, delivery_id, client_id, attempt, url, status_code,"
                     " latency_ms) SELECT gen_random_uuid(), id, client_id, 1, url, 500, 3.5"
                     " FROM webhook_deliveries WHERE client_id = %s", (client_id,))
    before = rows(farm, source, client_id)
    assert all(before.values()), before

    assert move(farm, client_id, target) == 2
    assert rows(farm, target, client_id) == before
    assert set(rows(farm, source, client_id).values()) == {0}

    assert http.get(endpoint["links"]["self"], headers=headers).status_code == 200
    assert http.get("/v1/webhooks/secret", headers=headers).get_json()["secret"] == secret
    doc = http.get(batch["links"]["self"], headers=headers).get_json()
    assert doc["counts"]["cancelled"] == 1 and doc["counts"]["queued"] == 1
    [delivery] = http.get(f"/v1/jobs/{batch['job_ids'][0]}/deliveries", headers=headers).get_json()["deliveries"]
    assert [a["status_code"] for a in delivery["log"]] == [500]
