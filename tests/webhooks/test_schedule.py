"""The retry schedule: published delays with jitter; Retry-After wins, capped by the schedule."""

from __future__ import annotations

import pytest

from routefarm.settings import Settings
from routefarm.webhooks.sender import _delay


def test_default_schedule_is_the_published_one():
    assert Settings().webhook_delays == [5, 30, 120, 600, 1800, 3600, 10800, 21600, 43200, 86400]


def test_jitter_moves_each_delay_by_at_most_its_share():
    settings = Settings(webhook_jitter=0.1)
    delays = [_delay(settings, 30.0, None) for _ in range(500)]
    assert all(27.0 <= d <= 33.0 for d in delays)
    assert len({round(d, 3) for d in delays}) > 100  # spread, not one value
    assert _delay(Settings(webhook_jitter=0), 30.0, None) == 30.0


def test_retry_after_is_honoured_and_capped():
    settings = Settings(webhook_schedule="5,30,120")
    assert _delay(settings, 5.0, 60.0) == 60.0  # the receiver asked for longer than the schedule
    assert _delay(settings, 30.0, 1.0) == 1.0  # or shorter
    assert _delay(settings, 5.0, 10**9) == 120.0  # never beyond the schedule's longest delay


@pytest.mark.parametrize("schedule", ["5,x", "5,-1"])
def test_bad_schedules_are_refused(schedule):
    with pytest.raises(ValueError, match="webhook_schedule"):
        Settings(webhook_schedule=schedule)
