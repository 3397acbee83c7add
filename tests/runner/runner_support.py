"""Problems for the solve runner's tests."""

from __future__ import annotations

import math
import random


def matrix_problem(stops: int, seed: int = 1, time_limit: float = 2.0) -> dict:
    """A capacitated problem over a Euclidean matrix, a vehicle per ten stops."""
    rng = random.Random(seed)
    points = [(rng.uniform(0, 1000), rng.uniform(0, 1000)) for _ in range(stops + 1)]
    matrix = [[round(math.dist(a, b)) for b in points] for a in points]
    return {
        "vehicles": [{"id": f"v{i}", "start_index": 0, "end_index": 0, "capacity": [40]}
                     for i in range(max(1, stops // 8))],
        "stops": [{"id": f"s{i}", "location_index": i, "demand": [rng.randint(1, 6)]} for i in range(1, stops + 1)],
        "matrix": {"distances": matrix},
        "options": {"time_limit": time_limit, "seed": seed},
    }


def coordinate_problem(stops: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    return {
        "vehicles": [{"id": f"v{i}", "start": [13.4, 52.5], "end": [13.4, 52.5]} for i in range(stops // 20 + 1)],
        "stops": [{"id": f"s{i}", "location": [13.0 + rng.random(), 52.2 + rng.random() * 0.6]}
                  for i in range(stops)],
    }
