"""Routing engines behind one interface: OR-Tools, PyVRP and VROOM.

    from optimizer.engines import engine, plan, run_checked
    pyvrp = engine("pyvrp")
    if not pyvrp.unsupported(problem):          # the features it cannot model exactly
        solution = pyvrp.solve(problem, time_limit=5, seed=1)   # our Solution document
    checked = run_checked(pyvrp, problem, time_limit=5)         # .solution or .rejection
    steps = plan(problem, 30)                                   # what optimizer.solve would run

``optimizer.solve`` is the way in: it runs ``plan``'s steps with ``portfolio.run``, which
checks each engine's result and falls back to OR-Tools. The OR-Tools engine lives in
``ortools/`` (its model, search and region search), PyVRP and VROOM in ``pyvrp_*`` and
``vroom_*`` (the engine and its exact translation each).

Each engine translates our problem exactly (integers at the layout's decimal scales) or
says what it cannot (``unsupported``); results come back as node orders with the engine's
schedule and are assembled like OR-Tools' (``assemble``), reasons included. Vendor objects
never leave this package, and each vendor library is imported only when its engine runs.

What each engine models (``features.TABLE``; "no" = unsupported: the engine refuses the problem):

| feature | ortools | pyvrp | vroom |
|---|---|---|---|
| travel from `matrix` (distances and/or durations) | yes | yes | yes |
| `[lon, lat]` places (great-circle, `speed_kmh`) | yes | yes (our matrices) | yes (our matrices) |
| `null` matrix cells (no road) | yes (arcs removed) | yes (arc longer than any route + `max_distance` below it) | yes (same, within uint32) |
| objective `distance` | yes | yes (unit distance cost) | yes (cost matrix = distances) |
| objective `duration` (waiting included) | yes (transit + slack) | yes (unit duration cost) | no (VROOM costs travel time only) |
| objective `cost` | yes | yes (scaled unit costs per vehicle type) | yes when no `cost_per_hour` (cost matrix per `cost_per_km`) |
| `cost_per_hour` > 0 under `cost` | yes (span cost) | yes (unit duration cost) | no (VROOM's per_hour ignores waiting and service) |
| `fixed_cost` under `cost` | yes | yes | yes |
| `min_vehicles` | yes (vehicle fee above any route) | yes (same fee) | yes (same fee) |
| `capacity` / `demand` / `amount`, several dimensions | yes | yes (pickup loads) | yes (pickup amounts) |
| one time window per stop or shipment end | yes | yes | yes |
| several time windows on one stop or shipment end | yes | no (one window per client) | yes |
| vehicle `time_window` | yes | yes | yes |
| `service` times, waiting | yes | yes | yes |
| vehicle without `end` (or `start`) | yes (free node) | yes (free depot: travel 0 both ways) | yes (no start/end location) |
| vehicle with neither `start` nor `end` | yes | yes (free depot) | no (VROOM needs one of them) |
| `max_distance` | yes | yes | yes |
| `max_duration` (route time, waiting included) | yes (span bound) | yes (`shift_duration`) | no (VROOM bounds travel time only) |
| `max_stops` | yes | yes without shipments (a load dimension of 1 per stop) | yes (`max_tasks`) |
| `max_stops` with shipments | yes | no (a shipment's count unloads at its delivery) | yes |
| `skills` | yes | yes (a routing profile per skill set, forbidden arcs) | yes |
| driver `breaks` | yes (may pause mid-drive) | no | yes (taken at a stop, never mid-drive) |
| `shipments` (pickup before delivery, same vehicle) | yes | yes | yes |
| optional stops and shipments (`drop_penalty`) | yes | yes (`required=False`, prize = penalty) | no (VROOM serves what it can, no penalties) |
| mandatory work that cannot all be served | yes (unassigned with reasons) | no solution (the caller falls back) | yes (unassigned with reasons) |
| `initial_routes` warm start | yes (hint) | yes (initial solution) | no |
| `locked` steps | yes | no | no |
| `reassign_penalty` | yes | no | no |
| improving solutions while it runs | yes | yes (on each new best) | no (the final one) |
"""

from ..features import markdown, present
from ..incumbent import Incumbent
from .base import Engine
from .plan import STRATEGIES, Step, plan
from .registry import NAMES, engine
from .score import objective_value, score
from .verify import Checked, Rejection, problem_hash, rejections, run_checked

__all__ = [
    "NAMES", "STRATEGIES", "Checked", "Engine", "Incumbent", "Rejection", "Step", "engine", "markdown",
    "objective_value", "plan", "present", "problem_hash", "rejections", "run_checked", "score",
]
