"""The reaper's webhook pass: a pending delivery whose message was lost is sent again.

A delivery due for longer than the grace period (``next_attempt_at`` in the past) whose
message is in no queue of the broker (Redis flushed or restarted, Redis down when the job
ended, or a worker killed in the middle of an attempt) gets a new message. Rows are taken
with ``FOR UPDATE SKIP LOCKED``, so several reapers never send one delivery twice.
"""

from __future__ import annotations

import logging

import redis
from psycopg.rows import dict_row

from ..broker import WEBHOOK_QUEUE, delivery_message, messages_present

log = logging.getLogger(__name__)
BATCH = 500


def resend_lost(farm, shard: str) -> list[str]:
    """Re-send the lost deliveries of one shard; their ids."""
    to_send = []
    with farm.db.shard(shard) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT id, client_id, message_id FROM webhook_deliveries WHERE status = 'pending'"
            " AND next_attempt_at < now() - make_interval(secs => %s)"
            " ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED", (farm.settings.orphan_grace_s, BATCH))
        due = cur.fetchall()
        if not due:
            return []
        try:
            present = messages_present(farm.broker, WEBHOOK_QUEUE, [d["message_id"] or "" for d in due])
        except (redis.RedisError, OSError) as exc:  # cannot tell now: look again next pass
            log.warning("reaper cannot read the broker: %s", exc)
            return []
        for delivery, there in zip(due, present, strict=True):
            if there:
                continue
            message = delivery_message(str(delivery["id"]), delivery["client_id"])
            cur.execute("UPDATE webhook_deliveries SET message_id = %s, next_attempt_at = now(), updated_at = now()"
                        " WHERE id = %s", (message.message_id, delivery["id"]))
            to_send.append(message)
    farm.store.send(to_send)  # Redis down: the next pass finds them missing again
    return [m.args[0] for m in to_send]
