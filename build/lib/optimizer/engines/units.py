"""Integer data shared by the engines that work on integers (PyVRP, VROOM).

Times are counted in ``1 / time_scale`` s and distances in ``1 / distance_scale`` m, the
layout's decimal scales, so no precision the caller gave is lost. The objective is counted
in units small enough that every per-metre and per-second price, fixed cost and drop
penalty is a whole number of them (``Units``). A missing road becomes an arc longer than
any route can be (``Arcs.bound``): with ``max_distance`` capped below it, a route using it
is infeasible for the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..layout import Layout
from ..scaling import decimal_scale, to_int


class NotExact(Exception):
    """The problem's numbers do not fit an engine's integers."""


def fits(numbers: Callable[[Layout], object], layout: Layout) -> list[str]:
    """Why ``numbers(layout)`` cannot hold the problem exactly (empty: it can)."""
    try:
        numbers(layout)
    except NotExact as exc:
        return [str(exc)]
    return []


@dataclass(frozen=True, eq=False)
class Arcs:
    distance: np.ndarray  # node by node, distance ticks; -1 where there is no road
    duration: np.ndarray  # node by node, time ticks of travel (no service); -1: no road
    missing: np.ndarray  # bool, node by node
    bound: int  # more than any route's distance in ticks (sum of every node's longest arc)
    time_bound: int  # more than any route's duration in ticks


def arcs(layout: Layout) -> Arcs:
    distance = layout.place_matrix(layout.travel.distances, layout.distance_scale)
    duration = layout.place_matrix(layout.travel.durations, layout.time_scale)
    missing = (distance < 0) | (duration < 0)
    distance[missing] = 0
    duration[missing] = 0
    ts = layout.time_scale
    ends = [b for ws in layout.windows for _, b in ws]
    ends += [v.time_window[1] for v in layout.problem.vehicles if v.time_window]
    service = sum(to_int(s, ts) for s in layout.service)
    time_bound = int(duration.max(axis=1).sum()) + service + to_int(max(ends, default=0.0), ts) + 1
    return Arcs(distance, duration, missing, int(distance.max(axis=1).sum()) + 1, time_bound)


@dataclass(frozen=True)
class Units:
    """The objective in integers: per vehicle, units per distance tick and per time tick, and
    fixed units; ``scale`` units make one unit of the objective (metre, second, currency)."""

    per_distance: tuple[int, ...]
    per_duration: tuple[int, ...]
    fixed: tuple[int, ...]
    scale: int
    money: int  # for the cost objective: cost scale; a penalty is round(money * x) * (scale / money)

    def penalty(self, value: float) -> int:
        return to_int(value, self.money) * (self.scale // self.money)

    def bound(self, arcs: Arcs) -> int:
        """More than all routes together can cost."""
        vehicles = len(self.fixed)
        return (arcs.bound * max(self.per_distance, default=0)
                + arcs.time_bound * max(self.per_duration, default=0) * vehicles
                + sum(self.fixed) + 1)


def units(layout: Layout) -> Units:
    p = layout.problem
    ds, ts, n = layout.distance_scale, layout.time_scale, len(p.vehicles)
    penalties = [x.drop_penalty for x in [*p.stops, *p.shipments] if x.drop_penalty is not None]
    if p.objective in ("distance", "duration"):
        base = ds if p.objective == "distance" else ts
        k = decimal_scale([np.asarray(penalties, dtype=np.float64) * base])
        one = (k,) * n
        zero = (0,) * n
        if p.objective == "distance":
            return Units(one, zero, zero, base * k, base * k)
        return Units(zero, one, zero, base * k, base * k)
    money = decimal_scale([np.asarray(penalties + [x for v in p.vehicles for x in
                                                   (v.cost_per_km, v.cost_per_hour, v.fixed_cost)],
                                      dtype=np.float64)])
    per_money = math.lcm(1000 * ds, 3600 * ts)  # units per currency unit, per unit of money scale
    return Units(
        per_distance=tuple(to_int(v.cost_per_km, money) * (per_money // (1000 * ds)) for v in p.vehicles),
        per_duration=tuple(to_int(v.cost_per_hour, money) * (per_money // (3600 * ts)) for v in p.vehicles),
        fixed=tuple(to_int(v.fixed_cost, money) * per_money for v in p.vehicles),
        scale=money * per_money,
        money=money,
    )
