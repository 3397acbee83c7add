"""The per-client slots on a real Redis: at most ``limit`` held at once per owner, given back
when the block ends (even by an exception), freed by their lease when a holder vanishes, and
refused callers given successive turns."""

from __future__ import annotations

import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from routefarm.errors import TooManyAtOnce
from routefarm.fairness.slots import Slots


@pytest.fixture
def client(settings):
    return redis.Redis.from_url(settings.cache_url)


def test_at_most_the_limit_per_owner_and_given_back(client):
    slots = Slots(client, "test", limit=2, lease_s=30)
    with slots.hold("a"), slots.hold("a"):
        with pytest.raises(TooManyAtOnce) as refused, slots.hold("a", what="things"):
            pass
        assert "2 things of this client are in progress" in str(refused.value)
        assert refused.value.retry_after_s >= 1
        with slots.hold("b"):  # another owner's slots are its own
            pass
    with pytest.raises(RuntimeError), slots.hold("a"), slots.hold("a"):
        raise RuntimeError("the block failed")
    with slots.hold("a"), slots.hold("a"):  # both given back despite the failure
        pass
    assert client.zcard("rf:slots:test:a") == 0


def test_a_vanished_holders_slot_ends_with_its_lease(client):
    slots = Slots(client, "test", limit=1, lease_s=0.3)
    vanished = slots.hold("a")
    vanished.__enter__()  # never left: its process died
    with pytest.raises(TooManyAtOnce), slots.hold("a"):
        pass
    time.sleep(0.4)
    with slots.hold("a"):
        pass


def test_refused_callers_get_successive_turns(client):
    slots = Slots(client, "test", limit=2, lease_s=30, max_wait_s=5)
    waits = []
    with slots.hold("a"), slots.hold("a"):
        for _ in range(4):
            with pytest.raises(TooManyAtOnce) as refused, slots.hold("a", expected_hold_s=2.0):
                pass
            waits.append(refused.value.wait_s)
    # a slot frees about every second (holds of 2 s, two slots): one turn each, in order
    assert waits == sorted(waits) and waits[-1] - waits[0] >= 2.5 and max(waits) <= 5


def test_redis_down_limits_nothing():
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    slots = Slots(down, "test", limit=1, lease_s=30)
    with slots.hold("a"), slots.hold("a"):
        pass
