"""The metrics behind a ScaledObject's triggers, read the way KEDA's scalers read them.

``redis``: the length of ``listName`` in the farm's broker Redis, by the key's type (HLEN
for a hash such as Dramatiq's ``dramatiq:solve.msgs``, LLEN for a list, SCARD, ZCARD; a
missing key is 0), as KEDA's Redis scaler does. ``kafka``: the consumer group's lag on the
topic (``routefarm.kafka.lag``). The connection fields of the triggers are not used: the
local farm has one Redis and one Kafka. A reading that fails is None (and logged once until
it succeeds again).
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

    def measure(self, trigger: Trigger) -> Measurement | None:
        try:
            if trigger.type == "redis":
                value = Measurement(int(self.length(keys=[trigger.metadata["listName"]])))
            else:
                lag = self._lags().lag(trigger.metadata["consumerGroup"], trigger.metadata["topic"])
                value = Measurement(lag.total, partitions=lag.partitions)
        except Exception as exc:  # noqa: BLE001 - any failure: the trigger is unreadable this poll
            if trigger.name not in self._failing:
                log.warning("cannot read %s: %s", trigger.name, exc)
                self._failing.add(trigger.name)
            return None
        if trigger.name in self._failing:
            log.info("%s can be read again", trigger.name)
            self._failing.discard(trigger.name)
        return value

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
