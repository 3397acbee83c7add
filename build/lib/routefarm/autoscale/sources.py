"""The metrics behind a ScaledObject's triggers, read the way KEDA's scalers read them.

``redis``: the length of ``listName`` in the farm's broker Redis, by the key's type (HLEN
for a hash such as Dramatiq's ``dramatiq:solve.msgs``, LLEN for a list, SCARD, ZCARD; a
missing key is 0), as KEDA's Redis scaler does. ``kafka``: the consumer group's lag on the
topic (``routefarm.kafka.lag``), per partition as KEDA's Kafka scaler counts it: where the
group has committed nothing, the whole partition with ``offsetResetPolicy: earliest``, 1
with ``latest`` (KEDA's default), 0 with ``scaleToZeroOnInvalidOffset``; with
``excludePersistentLag``, a partition whose committed offset has not moved since the last
reading still activates but is left out of the scaling metric. The connection fields of the
triggers are not used: the local farm has one Redis and one Kafka. A reading that fails is
None (and logged once until it succeeds again).
"""

from __future__ import annotations

import logging

import redis

from .rules import Measurement
from .scaledobject import Trigger

log = logging.getLogger(__name__)
LENGTH = """
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'hash' then return redis.call('HLEN', KEYS[1]) end
if kind == 'set' then return redis.call('SCARD', KEYS[1]) end
if kind == 'zset' then return redis.call('ZCARD', KEYS[1]) end
if kind == 'list' or kind == 'none' then return redis.call('LLEN', KEYS[1]) end
return redis.error_reply('unsupported key type ' .. kind)
"""


class TriggerSources:
    def __init__(self, redis_client: redis.Redis, kafka_bootstrap: str = "", kafka_timeout: float = 5.0):
        self.redis = redis_client
        self.length = redis_client.register_script(LENGTH)
        self.kafka_bootstrap = kafka_bootstrap
        self.kafka_timeout = kafka_timeout
        self._lag_reader = None
        self._failing: set[str] = set()
        self._offsets: dict[str, dict[int, int]] = {}  # trigger -> committed offsets at the last reading

    def measure(self, trigger: Trigger) -> Measurement | None:
        try:
            if trigger.type == "redis":
                value = Measurement(int(self.length(keys=[trigger.metadata["listName"]])))
            else:
                value = self._kafka(trigger)
        except Exception as exc:  # noqa: BLE001 - any failure: the trigger is unreadable this poll
            if trigger.name not in self._failing:
                log.warning("cannot read %s: %s", trigger.name, exc)
                self._failing.add(trigger.name)
            return None
        if trigger.name in self._failing:
            log.info("%s can be read again", trigger.name)
            self._failing.discard(trigger.name)
        return value

    def _kafka(self, trigger: Trigger) -> Measurement:
        meta = trigger.metadata
        lag = self._lags().lag(meta["consumerGroup"], meta["topic"])
        earliest = meta.get("offsetResetPolicy", "latest") == "earliest"
        zero_if_none = meta.get("scaleToZeroOnInvalidOffset", "false").lower() == "true"
        exclude_persistent = meta.get("excludePersistentLag", "false").lower() == "true"
        before = self._offsets.get(trigger.name, {})
        total = scaling = 0
        for partition, behind in lag.by_partition.items():
            offset = lag.committed.get(partition, -1)
            if offset < 0:  # nothing committed
                behind = 0 if zero_if_none else behind if earliest else 1
            elif exclude_persistent and before.get(partition) == offset:
                total += behind  # stuck: activates, does not scale
                continue
            total += behind
            scaling += behind
        self._offsets[trigger.name] = dict(lag.committed)
        return Measurement(total, partitions=lag.partitions, scaling=scaling if scaling != total else None)

    def close(self) -> None:
        if self._lag_reader is not None:
            self._lag_reader.close()
            self._lag_reader = None

    def _lags(self):
        if self._lag_reader is None:
            if not self.kafka_bootstrap:
                raise RuntimeError("no Kafka configured (ROUTEFARM_KAFKA_BOOTSTRAP)")
            from routefarm.kafka.lag import LagReader

            self._lag_reader = LagReader(self.kafka_bootstrap, self.kafka_timeout)
        return self._lag_reader
