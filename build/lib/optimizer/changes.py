"""What a re-planned solution changed against ``initial_routes``: moved and reordered steps."""

from __future__ import annotations

from bisect import bisect_left

from .layout import Layout
from .solution import Change, Changes


def plan_changes(layout: Layout, routes: list[list[int]] | None) -> Changes | None:
    """Compare the routes found (task nodes per vehicle) with the problem's initial routes.

    None when the problem has no initial routes or no routes were found.
    """
    problem = layout.problem
    if not problem.initial_routes or routes is None:
        return None
    vehicle_ids = [v.id for v in problem.vehicles]
    now: dict[str, tuple[int, int]] = {}  # step -> (vehicle, position)
    for v, nodes in enumerate(routes):
        for k, node in enumerate(nodes):
            now[layout.tasks[node].step] = (v, k)
    reassigned: list[Change] = []
    reordered: list[Change] = []
    unchanged = 0
    for spec in problem.initial_routes:
        v = vehicle_ids.index(spec.vehicle_id)
        stayed: list[tuple[int, str]] = []
        for k, step in enumerate(spec.steps):
            vehicle, position = now.get(step, (None, None))
            if vehicle == v:
                stayed.append((k, step))
            else:
                reassigned.append(Change(
                    step=step, from_vehicle=spec.vehicle_id, from_position=k, to_position=position,
                    to_vehicle=vehicle_ids[vehicle] if vehicle is not None else None))
        in_order = _longest_increasing([now[step][1] for _, step in stayed])
        unchanged += len(in_order)
        for i, (k, step) in enumerate(stayed):
            if i not in in_order:
                reordered.append(Change(step=step, from_vehicle=spec.vehicle_id, from_position=k,
                                        to_vehicle=spec.vehicle_id, to_position=now[step][1]))
    return Changes(reassigned=reassigned, reordered=reordered, unchanged=unchanged)


def _longest_increasing(values: list[int]) -> set[int]:
    """Indices of one longest strictly increasing subsequence (patience sorting, n log n)."""
    tails: list[int] = []  # smallest tail value of an increasing run of each length
    tail_index: list[int] = []
    before: list[int] = [-1] * len(values)
    for i, value in enumerate(values):
        length = bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[length] = value
            tail_index[length] = i
        before[i] = tail_index[length - 1] if length else -1
    out: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        out.add(i)
        i = before[i]
    return out
