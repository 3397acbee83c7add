"""Which vehicle of a group of identical ones drives a route an engine found for the group.

Engines that pool identical vehicles (PyVRP's vehicle types) return routes per group; the
route goes to the free vehicle whose ``initial_routes`` share the most steps with it, so a
warm-started plan keeps its vehicles where it can.
"""

from __future__ import annotations

from ..layout import Layout


class Assigner:
    def __init__(self, layout: Layout):
        self.layout = layout
        vehicle_of = {v.id: i for i, v in enumerate(layout.problem.vehicles)}
        self.initial: dict[int, set[int]] = {}
        for spec in layout.problem.initial_routes:
            nodes = {layout.step_node[s] for s in spec.steps if s in layout.step_node}
            self.initial.setdefault(vehicle_of[spec.vehicle_id], set()).update(nodes)
        self.taken: set[int] = set()

    def take(self, members: list[int], nodes: list[int]) -> int:
        free = [v for v in members if v not in self.taken]
        best = max(free, key=lambda v: (len(self.initial.get(v, set()) & set(nodes)), -v))
        self.taken.add(best)
        return best
