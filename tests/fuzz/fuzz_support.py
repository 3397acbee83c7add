"""How hard the fuzz tests try: ``ROUTEFARM_FUZZ_SCALE`` multiplies every example budget
(default 1: the folder runs within a couple of minutes on two cores; 10 or 100 for a long
run). Examples are derandomized, so a run repeats the previous one at the same scale."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = max(1, int(os.environ.get("ROUTEFARM_FUZZ_SCALE", "1")))


def budget(examples: int) -> int:
    return examples * SCALE


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings for ``examples`` (times the scale), deterministic, no deadline."""
    return settings(max_examples=budget(examples), derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck))
