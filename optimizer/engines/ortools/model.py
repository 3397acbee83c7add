"""The OR-Tools objects of one laid-out problem, as ``routing`` builds them and ``search``,
``breaks`` and ``stability`` use them. Nothing here leaves ``optimizer``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp

from ...layout import Layout


@dataclass(eq=False)
class Model:
    layout: Layout
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time: pywrapcp.RoutingDimension | None
    objective_scale: float  # internal objective units per unit of the chosen objective
    cost_scale: int  # internal units per currency unit (cost objective)
    breaks: dict[int, list] = field(default_factory=dict)  # vehicle -> [(Break, IntervalVar)]
    matrices: tuple[np.ndarray, np.ndarray] | None = None  # (time, distance) node matrices

    def index(self, node: int) -> int:
        return self.manager.NodeToIndex(node)
