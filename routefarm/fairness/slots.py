"""What one client may hold at once, farm-wide: a counting semaphore in Redis with leases.

``Slots(redis, kind, limit, lease_s)`` gives each owner (a client) at most ``limit`` slots of
one kind at a time, whatever the number of processes asking. A slot is a member of the sorted
set ``rf:slots:{kind}:{owner}`` scored by the end of its lease: a process that dies holding a
slot does not keep it past the lease (no renewal; a holder outliving its lease only lets one
more in). ``hold(owner)`` is the context manager around the held work; past the limit it
raises ``TooManyAtOnce`` with ``retry_after_s``.

``retry_after_s`` is the caller's turn: the owner's refused callers are given successive
turns, spaced by the mean time a slot of the owner is held divided by the limit (the pace at
which slots free up), and never more than ``max_wait_s`` ahead. So callers sent back all at
once come back spread out, each about when a slot should be free for it. The mean is kept
per owner (an exponentially weighted mean of the holds, ``rf:slots:{kind}:{owner}:pace``);
until a slot has been released it is the ``expected_hold_s`` of the request.

Redis down: nothing is limited (logged), as with the rate limit.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterator

import redis

from ..errors import TooManyAtOnce

log = logging.getLogger(__name__)
MEAN_WEIGHT = 0.2  # the weight of the latest hold in the owner's mean

# KEYS[1] holders (token -> lease end, ms), KEYS[2] pace {next turn, mean hold (ms)};
# ARGV token, limit, lease ms, expected hold ms, max wait ms.
# Returns {1, holders} when taken, {0, holders, ms until the caller's turn} when not.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held < limit then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
  return {1, held + 1}
end
local pace = redis.call('HMGET', KEYS[2], 'next', 'mean')
local mean = tonumber(pace[2]) or tonumber(ARGV[4])
local turn = math.max(tonumber(pace[1]) or now, now) + math.ceil(mean / limit)
turn = math.min(turn, now + tonumber(ARGV[5]))
redis.call('HSET', KEYS[2], 'next', turn)
redis.call('PEXPIRE', KEYS[2], math.max(lease, tonumber(ARGV[5])) * 10)
return {0, held, turn - now}
"""
# KEYS as above; ARGV token, how long it was held (ms). The mean counts holds that ended in time.
_RELEASE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  local mean = tonumber(redis.call('HGET', KEYS[2], 'mean'))
  local held = tonumber(ARGV[2])
  mean = mean and (mean * (1 - tonumber(ARGV[3])) + held * tonumber(ARGV[3])) or held
  redis.call('HSET', KEYS[2], 'mean', math.floor(mean))
end
return 1
"""


class Slots:
    """At most ``limit`` slots of ``kind`` per owner at once, each leased for ``lease_s`` seconds."""

    def __init__(self, client: redis.Redis, kind: str, limit: int, lease_s: float, max_wait_s: float = 60.0):
        if limit < 1 or lease_s <= 0:
            raise ValueError("a limit of at least 1 and a positive lease are required")
        self.client, self.kind, self.limit = client, kind, limit
        self.lease_s, self.max_wait_s = lease_s, max_wait_s

    def _keys(self, owner: str) -> list[str]:
        key = f"rf:slots:{self.kind}:{owner}"
        return [key, f"{key}:pace"]

    @contextlib.contextmanager
    def hold(self, owner: str, expected_hold_s: float = 1.0, what: str = "requests") -> Iterator[None]:
        """Hold one of ``owner``'s slots around the block; ``TooManyAtOnce`` when all are held
        (``what`` names them in its message)."""
        token = uuid.uuid4().hex
        keys = self._keys(owner)
        try:
            answer = self.client.register_script(_ACQUIRE)(keys=keys, args=[
                token, self.limit, _ms(self.lease_s), _ms(expected_hold_s), _ms(self.max_wait_s)])
        except (redis.RedisError, OSError) as exc:
            log.warning("%s of %s not limited now (Redis unavailable): %s", what, owner, exc)
            yield
            return
        if not answer[0]:
            raise TooManyAtOnce(f"{answer[1]} {what} of this client are in progress, the most it may have "
                                f"at once", answer[2] / 1000)
        started = time.monotonic()
        try:
            yield
        finally:
            held = _ms(time.monotonic() - started)
            try:
                self.client.register_script(_RELEASE)(keys=keys, args=[token, held, MEAN_WEIGHT])
            except (redis.RedisError, OSError) as exc:  # the lease ends it
                log.warning("slot of %s not released now (its lease ends it): %s", owner, exc)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
