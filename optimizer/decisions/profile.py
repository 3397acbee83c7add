"""A route read once, so that every place new work could take in it is judged in O(1).

For the part of the route that may change (after its frozen steps), ``Profile`` keeps:

- forward, the ``Clock`` at each step (when the vehicle is ready to leave it, as a function
  of the start departure, and the latest departure that keeps the steps so far in time);
- backward, the latest arrival at each step that keeps every later step in its windows and
  the route within its shift (and which constraint decides it), the same without the shift
  end, and the end arrival as a function ``max(a + c, m)`` of the arrival ``a`` there;
- the load after each step and its running maximum to the end, the legs' distances and
  times, and the route's totals.

New work between two steps then needs its legs, one ``Clock.serve`` per new step and a
comparison with the latest arrival at the next step: exact for any number of windows. Its
end and duration (the least, as ``schedule.timed`` sets it) come in closed form while every
step has at most one window; otherwise the duration is only bounded from below (driving and
service) and the schedule decides. Routes of vehicles with breaks are not read this way:
the insertion walks them (``schedule``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from ..model import Problem
from ..travel import Travel
from .clock import EPSILON, INF, Clock, latest_arrival, single
from .misses import Miss
from .plan import Plan, RouteView, Work


@dataclass(slots=True)
class Slot:
    """New work at one place of one route: what it breaks, or what the route is then worth."""

    v: int
    positions: tuple[int, ...]  # work before each new step, counted in the current route
    misses: list[Miss]
    value: float = math.nan  # the route's objective value after (a lower bound when not exact)
    exact: bool = True  # value and every limit known; else the schedule decides

    @property
    def feasible(self) -> bool:
        return not self.misses


class Profile:
    def __init__(self, plan: Plan, view: RouteView):
        problem, travel = plan.problem, plan.travel
        self.plan, self.view, self.v = plan, view, view.v
        self.vehicle = vehicle = problem.vehicles[view.v]
        self.objective = problem.objective
        self.floor = -INF if plan.at is None else plan.at
        free = view.work[view.frozen:]
        self.first = view.pinned - view.frozen  # the first slot new work may take
        if view.frozen:
            last = view.steps[view.frozen]
            departure, self.start_time = last.departure or 0.0, view.steps[0].departure or 0.0
            load, anchor = list(last.load), view.work[view.frozen - 1].place
            self.opens = departure
        else:
            shift = vehicle.time_window
            self.opens = departure = max(shift[0] if shift else 0.0, plan.at if plan.at is not None else 0.0)
            self.start_time = None
            load, anchor = [0] * problem.dimensions, travel.start_place[view.v]
        self.free = free
        self.places = [anchor, *(w.place for w in free), travel.end_place[view.v]]
        self._legs(problem, travel, view)
        self._forward(departure)
        self._backward()
        self._loads(load)
        self.tasks = view.tasks

    # -- reading the route ---------------------------------------------------------------

    def _legs(self, problem: Problem, travel: Travel, view: RouteView) -> None:
        p = self.places
        self.leg_time = [travel.duration(a, b) for a, b in zip(p, p[1:], strict=False)]
        self.leg_distance = [travel.distance(a, b) for a, b in zip(p, p[1:], strict=False)]
        whole = [travel.start_place[view.v], *(w.place for w in view.work), travel.end_place[view.v]]
        legs = list(zip(whole, whole[1:], strict=False))
        self.distance = sum(travel.distance(a, b) for a, b in legs)
        self.busy = sum(travel.duration(a, b) for a, b in legs) + sum(w.service for w in view.work)

    def _forward(self, departure: float) -> None:
        clock: Clock | None = Clock(departure)
        self.clocks: list[Clock | None] = [clock]
        for k, w in enumerate(self.free):
            if clock is not None:
                clock = clock.serve(self.leg_time[k], w.windows, w.service, self.floor)[0]
            self.clocks.append(clock)

    def _backward(self) -> None:
        m = len(self.free)
        shift = self.vehicle.time_window
        self.latest = [0.0] * (m + 2)
        self.latest_open = [0.0] * (m + 2)
        self.binder = [""] * (m + 2)
        self.end_c = [0.0] * (m + 2)  # end arrival = max(a + end_c, end_m) from arrival a here
        self.end_m = [-INF] * (m + 2)
        self.closed = [True] * (m + 2)  # that form holds from here on
        self.latest[m + 1] = shift[1] if shift else INF
        self.latest_open[m + 1] = INF
        self.binder[m + 1] = "end"
        for k in range(m, 0, -1):
            w = self.free[k - 1]
            after = self.leg_time[k] + w.service
            self.latest[k], by_window = latest_arrival(w.windows, self.latest[k + 1] - after)
            self.binder[k] = w.label if by_window else self.binder[k + 1]
            self.latest_open[k] = latest_arrival(w.windows, self.latest_open[k + 1] - after)[0]
            opens = max(w.windows[0][0] if w.windows else -INF, self.floor)
            self.end_c[k] = after + self.end_c[k + 1]
            self.end_m[k] = max(opens + after + self.end_c[k + 1], self.end_m[k + 1])
            self.closed[k] = self.closed[k + 1] and single(w.windows)

    def _loads(self, load: list[int]) -> None:
        loads = [load]
        for w in self.free:
            load = [a + d for a, d in zip(load, w.demand, strict=True)]
            loads.append(load)
        self.loads = loads
        peak = list(loads[-1])
        self.peak_after: list[list[int]] = [peak] * len(loads)  # the most carried from here to the end
        for k in range(len(loads) - 1, -1, -1):
            peak = [max(a, b) for a, b in zip(peak, loads[k], strict=True)]
            self.peak_after[k] = peak

    # -- new work ------------------------------------------------------------------------

    def stop_slots(self, w: Work, travel: Travel) -> Iterator[Slot]:
        """A new stop after each free position of the route (``travel``: with the stop's place)."""
        q = w.place
        for i in range(self.first, len(self.free) + 1):
            clock = self.clocks[i]
            here, there = self.places[i], self.places[i + 1]
            t_in, t_out = travel.duration(here, q), travel.duration(q, there)
            d_in, d_out = travel.distance(here, q), travel.distance(q, there)
            full = (self.view.frozen + i,)
            if not all(map(math.isfinite, (t_in, t_out, d_in, d_out))):
                yield Slot(self.v, full, [Miss("unreachable", step=w.label)])
                continue
            if clock is None:
                yield Slot(self.v, full, [Miss("time_window", self._late_before(i), self._late_step(i))])
                continue
            served, late = clock.serve(t_in, w.windows, w.service, self.floor)
            if served is None:
                yield Slot(self.v, full, [Miss("time_window", late, w.label)])
                continue
            yield self._close(full, served, t_out, i + 1, self.peak_after[i], w.demand,
                              d_in + d_out - self.leg_distance[i], t_in + t_out - self.leg_time[i] + w.service, 1)

    def shipment_slots(self, pickup: Work, delivery: Work, travel: Travel) -> Iterator[Slot]:
        """A new shipment: its pickup after each free position, its delivery after it."""
        p = pickup.place
        m = len(self.free)
        for i in range(self.first, m + 1):
            clock = self.clocks[i]
            here = self.places[i]
            t_in, d_in = travel.duration(here, p), travel.distance(here, p)
            if not (math.isfinite(t_in) and math.isfinite(d_in)):
                yield Slot(self.v, (self.view.frozen + i,) * 2, [Miss("unreachable", step=pickup.label)])
                continue
            if clock is None:
                yield Slot(self.v, (self.view.frozen + i,) * 2,
                           [Miss("time_window", self._late_before(i), self._late_step(i))])
                continue
            served, late = clock.serve(t_in, pickup.windows, pickup.service, self.floor)
            if served is None:
                yield Slot(self.v, (self.view.frozen + i,) * 2, [Miss("time_window", late, pickup.label)])
                continue
            yield from self._deliveries(i, served, pickup, delivery, t_in, d_in, travel)

    def _deliveries(self, i: int, served: Clock, pickup: Work, delivery: Work,
                    t_in: float, d_in: float, travel: Travel) -> Iterator[Slot]:
        p, d = pickup.place, delivery.place
        frozen = self.view.frozen
        peak = self.loads[i]
        clock, place = served, p
        added_t, added_d = t_in + pickup.service - self.leg_time[i], d_in - self.leg_distance[i]
        for j in range(i, len(self.free) + 1):
            if j > i:  # the route's step j, reached later
                w = self.free[j - 1]
                t, dist = travel.duration(place, w.place), travel.distance(place, w.place)
                if j == i + 1:
                    added_t, added_d = added_t + t, added_d + dist
                clock, late = clock.serve(t, w.windows, w.service, self.floor)
                if clock is None:
                    yield Slot(self.v, (frozen + i, frozen + j), [Miss("time_window", late, w.label)])
                    return
                place = w.place
                peak = [max(a, b) for a, b in zip(peak, self.loads[j], strict=True)]
            there = self.places[j + 1]
            t_to, d_to = travel.duration(place, d), travel.distance(place, d)
            t_out, d_out = travel.duration(d, there), travel.distance(d, there)
            full = (frozen + i, frozen + j)
            if not all(map(math.isfinite, (t_to, d_to, t_out, d_out))):
                yield Slot(self.v, full, [Miss("unreachable", step=delivery.label)])
                continue
            at_delivery, late = clock.serve(t_to, delivery.windows, delivery.service, self.floor)
            if at_delivery is None:
                yield Slot(self.v, full, [Miss("time_window", late, delivery.label)])
                continue
            if j == i:
                more_t = t_to + delivery.service + t_out
                more_d = d_to + d_out
            else:
                more_t = t_to + delivery.service + t_out - self.leg_time[j]
                more_d = d_to + d_out - self.leg_distance[j]
            yield self._close(full, at_delivery, t_out, j + 1, peak, pickup.demand,
                              added_d + more_d, added_t + more_t, 2)

    def _close(self, positions: tuple[int, ...], clock: Clock, t_out: float, k: int, peak: list[int],
               demand: tuple[int, ...], added_distance: float, added_busy: float, added_tasks: int) -> Slot:
        """The route after new work ending with ``clock``, ``t_out`` seconds before its step ``k``."""
        vehicle = self.vehicle
        misses: list[Miss] = []
        arrival, c, m = clock.arrival(t_out, self.floor)
        if arrival > self.latest[k] + EPSILON:
            binder = self.binder[k]
            misses.append(Miss("shift", arrival - self.latest[k], "end") if binder == "end"
                          else Miss("time_window", arrival - self.latest[k], binder))
        for dim, (load, more, cap) in enumerate(zip(peak, demand, vehicle.capacity, strict=False)):
            if load + more > cap:
                misses.append(Miss("capacity", load + more - cap, dimension=dim))
        distance = self.distance + added_distance
        limit = vehicle.max_distance
        if limit is not None and distance > limit + EPSILON:
            misses.append(Miss("max_distance", distance - limit))
        if vehicle.max_stops is not None and self.tasks + added_tasks > vehicle.max_stops:
            misses.append(Miss("max_stops", self.tasks + added_tasks - vehicle.max_stops))
        busy = self.busy + added_busy
        duration = self._duration(clock, c, m, k) if not misses else None
        limit = vehicle.max_duration
        if duration is not None and limit is not None and duration > limit + EPSILON:
            misses.append(Miss("max_duration", duration - limit))
        if misses:
            return Slot(self.v, positions, misses)
        exact = duration is not None or (limit is None and self._distance_only())
        return Slot(self.v, positions, [], self._value(distance, duration if duration is not None else busy), exact)

    def _duration(self, clock: Clock, c: float, m: float, k: int) -> float | None:
        """The route's least duration after the new work (None: no closed form)."""
        if not (clock.exact and self.closed[k]):
            return None
        x = c + self.end_c[k]
        y = max(m + self.end_c[k], self.end_m[k])
        if self.start_time is not None:  # the start stays: the vehicle goes on from a kept step
            return max(self.opens + x, y) - self.start_time
        end = max(self.opens + x, y)
        latest = min(clock.latest, self.latest[k] - c)
        return end - max(self.opens, min(latest, end - x))

    def _distance_only(self) -> bool:
        return self.objective == "distance" or (self.objective == "cost" and self.vehicle.cost_per_hour == 0)

    def _value(self, distance: float, duration: float) -> float:
        if self.objective == "distance":
            return distance
        if self.objective == "duration":
            return duration
        v = self.vehicle
        return v.fixed_cost + v.cost_per_km * distance / 1000 + v.cost_per_hour * duration / 3600

    def _late_step(self, i: int) -> str:
        """The first step of the route that the vehicle can no longer reach in time."""
        k = next(k for k in range(1, i + 1) if self.clocks[k] is None)
        return self.free[k - 1].label

    def _late_before(self, i: int) -> float:
        k = next(k for k in range(1, i + 1) if self.clocks[k] is None)
        w = self.free[k - 1]
        return self.clocks[k - 1].serve(self.leg_time[k - 1], w.windows, w.service, self.floor)[1]
