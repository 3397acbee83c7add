"""Driver breaks: optional interval variables tied to the time dimension of their vehicle."""

from __future__ import annotations

from ...scaling import to_int
from .model import Model


def add_breaks(model: Model) -> None:
    """Each break of a used vehicle is taken within its route, inside one of its windows."""
    layout, routing = model.layout, model.routing
    solver = routing.solver()
    ts = layout.time_scale
    visits = None
    for v, vehicle in enumerate(layout.problem.vehicles):
        if not vehicle.breaks:
            continue
        if visits is None:
            visits = [0] * routing.Size()
            for index in range(routing.Size()):
                node = model.manager.IndexToNode(index)
                visits[index] = to_int(layout.service[node], ts)
        intervals = []
        for brk in vehicle.breaks:
            spans = sorted((to_int(a, ts), to_int(b, ts)) for a, b in brk.time_windows)
            iv = solver.FixedDurationIntervalVar(
                spans[0][0], max(b for _, b in spans), to_int(brk.duration, ts), True,
                f"break:{vehicle.id}:{brk.id}",
            )
            # a used vehicle takes each break within its route; an unused one takes none
            solver.Add(iv.PerformedExpr() == routing.ActiveVehicleVar(v))
            # unperformed (an unused vehicle): the start is taken as the latest end, which holds
            latest = model.time.CumulVar(routing.End(v)).Max()
            solver.Add(iv.SafeStartExpr(latest) >= model.time.CumulVar(routing.Start(v)))
            solver.Add(iv.SafeEndExpr(0) <= model.time.CumulVar(routing.End(v)))
            reach = spans[0][1]
            for a, b in spans[1:]:
                if a > reach + 1:
                    iv.StartExpr().Var().RemoveInterval(reach + 1, a - 1)
                reach = max(reach, b)
            routing.AddIntervalToAssignment(iv)
            intervals.append((brk, iv))
        model.time.SetBreakIntervalsOfVehicle([iv for _, iv in intervals], v, visits)
        model.breaks[v] = intervals
