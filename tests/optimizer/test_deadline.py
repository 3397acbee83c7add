"""The deadline rule every engine keeps (``optimizer.deadline``)."""

import time

import pytest

from optimizer.deadline import MAX_RESERVE_S, MIN_SEARCH_S, search_end, seconds_left


def test_a_search_ends_before_its_time_limit_by_the_reserve():
    assert search_end(10.0, 100.0) == pytest.approx(100.0 + 10.0 - (0.05 + 0.02 * 10.0))
    assert search_end(60.0, 0.0) == pytest.approx(60.0 - MAX_RESERVE_S)  # the reserve is bounded


def test_a_tiny_time_limit_still_gets_its_least_search():
    assert search_end(0.05, 7.0) == pytest.approx(7.0 + MIN_SEARCH_S)
    assert seconds_left(time.monotonic() - 1.0) == MIN_SEARCH_S  # an end already past
    assert seconds_left(time.monotonic() - 1.0, least=0.01) == 0.01
