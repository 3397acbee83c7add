"""The per-client rate limit: a token bucket in Redis (``rf:rate:{client}``), shared by every
process of the farm.

The bucket holds up to ``rate_burst`` tokens and refills at ``rate_limit`` per second. Every
authenticated request takes one. A request that creates N jobs (a batch) takes N in all: its
own and N - 1 more. A request needing more than one token is let through when the bucket held
``min(N, rate_burst)`` when it came, and may leave the bucket in debt (below zero): a batch
larger than the burst is possible when the bucket is full, and the client's next requests
then wait until it has refilled. Refused, nothing is taken; the answer is 429 with
``Retry-After``. Redis down: the limit is not applied (logged), never a failed request.
"""

from __future__ import annotations

import logging
import math

import redis

from ..errors import RateLimited

log = logging.getLogger(__name__)

# KEYS[1] the bucket; ARGV rate (tokens/s), burst, tokens to take, tokens the request already
# took. Taken when the bucket plus what was already taken reaches min(all, burst).
# Returns {allowed, milliseconds to wait}.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local take, paid = tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local need = math.min(take + paid, burst) - paid
local allowed, wait = 0, 0
if tokens >= need then
  tokens = tokens - take
  allowed = 1
else
  wait = math.ceil((need - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {allowed, wait}
"""


def take(client: redis.Redis, client_id: str, rate: float, burst: int, tokens: int = 1,
         paid: int = 0) -> float | None:
    """Take ``tokens`` from the client's bucket (``paid``: tokens the same request took
    already); None when taken, else the seconds to wait. Fails open."""
    try:
        allowed, wait_ms = client.register_script(_TAKE)(keys=[f"rf:rate:{client_id}"],
                                                         args=[rate, burst, tokens, paid])
    except (redis.RedisError, OSError) as exc:
        log.warning("rate limit not applied (Redis unavailable): %s", exc)
        return None
    return None if allowed else wait_ms / 1000


def charge(farm, client_id: str) -> None:
    """One request of the client: its token, or ``RateLimited``."""
    settings = farm.settings
    wait = take(farm.cache.client, client_id, settings.rate_limit, settings.rate_burst)
    if wait is not None:
        seconds = _seconds(wait)
        raise RateLimited(f"more than {settings.rate_limit:g} requests per second; retry in {seconds} s", seconds)


def charge_jobs(farm, client_id: str, jobs: int) -> None:
    """A request creating ``jobs`` jobs: one token per job, the request's own (taken by
    ``charge`` when it came) counting as the first. ``RateLimited`` when the bucket cannot
    pay for them; nothing is taken then."""
    if jobs <= 1:
        return
    settings = farm.settings
    wait = take(farm.cache.client, client_id, settings.rate_limit, settings.rate_burst, jobs - 1, paid=1)
    if wait is not None:
        seconds = _seconds(wait)
        raise RateLimited(
            f"{jobs} jobs take {jobs} tokens of the client's rate limit ({settings.rate_limit:g} per second, "
            f"at most {settings.rate_burst} at once); retry in {seconds} s", seconds)


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))
