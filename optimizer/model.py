"""The problem contract (version 1) as immutable, typed objects.

Units: distances in metres, times in seconds from an origin the client chooses, costs in
the client's currency. Structural rules (types, signs, finiteness, window order, unknown
fields) live here; rules that relate several parts of a problem live in ``validate``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

DEFAULT_TIME_LIMIT = 10.0  # seconds
DEFAULT_SPEED_KMH = 40.0  # travel speed for coordinate problems without a duration matrix

# Upper bounds of the contract's numbers and lists (the OpenAPI schema shows them as
# ``maximum`` and ``maxItems``). At these bounds, together, every engine computes in its
# integers at its finest scale (a millisecond, a millimetre) without overflow: checked by
# ``bench/bounds.py`` and ``tests/optimizer/test_bounds.py``.
MAX_TIME = 1e10  # seconds: a time window's ends, a shift, a route's duration (Unix time until 2286)
MAX_DURATION = 1e7  # seconds: a service, a break, one matrix duration (115 days)
MAX_DISTANCE = 1e8  # metres: one matrix distance (100,000 km)
MAX_ROUTE_DISTANCE = 1e12  # metres: a vehicle's max_distance
MAX_AMOUNT = 10**9  # units of a capacity, demand or amount dimension
MAX_COUNT = 10**7  # a matrix index, a vehicle's max_stops
MAX_FIXED_COST = 1e9  # currency units: a vehicle's fixed_cost
MAX_RATE = 1e6  # currency units: cost_per_km, cost_per_hour
MAX_PENALTY = 1e12  # objective units: drop_penalty, reassign_penalty
MIN_SPEED_KMH, MAX_SPEED_KMH = 1.0, 1000.0  # options.speed_kmh
MAX_TIME_LIMIT = 7 * 86_400.0  # seconds: options.time_limit (a farm may allow less)
MAX_SEED = 2**31 - 1  # options.seed
MAX_DIMENSIONS = 16  # capacity, demand and amount dimensions
MAX_WINDOWS = 100  # time windows of one stop, shipment end or break
MAX_SKILLS = 1000  # skills of one vehicle, stop or shipment
MAX_BREAKS = 50  # breaks of one vehicle
MAX_STEPS = 100_000  # steps of one route in initial_routes or locked


def _number(low: float, high: float, above: bool = False) -> object:
    return Annotated[float, Field(gt=low, le=high, allow_inf_nan=False) if above else
                     Field(ge=low, le=high, allow_inf_nan=False)]


def _list(item: object, most: int, least: int = 0) -> object:
    return Annotated[list[item], Field(min_length=least, max_length=most)]  # type: ignore[valid-type]


Time = _number(0, MAX_TIME)
Duration = _number(0, MAX_DURATION)
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Penalty = _number(0, MAX_PENALTY)
Identifier = Annotated[str, Field(min_length=1, max_length=200)]
Amounts = _list(Amount, MAX_DIMENSIONS)
Skills = _list(Identifier, MAX_SKILLS)


def _ordered(window: tuple[float, float]) -> tuple[float, float]:
    start, end = window
    if start > end:
        raise ValueError(f"start {_fmt(start)} is after end {_fmt(end)}")
    return window


def _on_earth(point: tuple[float, float]) -> tuple[float, float]:
    lon, lat = point
    problems = []
    if not -180.0 <= lon <= 180.0:
        problems.append(f"longitude {_fmt(lon)} is outside [-180, 180]")
    if not -90.0 <= lat <= 90.0:
        problems.append(f"latitude {_fmt(lat)} is outside [-90, 90]")
    if problems:
        raise ValueError("; ".join(problems))
    return point


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


Window = Annotated[tuple[Time, Time], AfterValidator(_ordered)]
Windows = _list(Window, MAX_WINDOWS)
Coordinate = Annotated[
    tuple[Annotated[float, Field(allow_inf_nan=False)], Annotated[float, Field(allow_inf_nan=False)]],
    AfterValidator(_on_earth),
]
# A matrix cell: a non-negative number, or null where no road connects the two places.
DistanceCell = _number(0, MAX_DISTANCE) | None
DurationCell = _number(0, MAX_DURATION) | None


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Break(_Frozen):
    """A driver's pause; ``time_windows`` bound when it may start."""

    id: Identifier
    time_windows: _list(Window, MAX_WINDOWS, least=1)
    duration: Duration


class Vehicle(_Frozen):
    id: Identifier
    start: Coordinate | None = None
    start_index: Count | None = None
    end: Coordinate | None = None
    end_index: Count | None = None
    capacity: Amounts = []  # one per dimension; omitted: no capacity limit
    time_window: Window | None = None
    skills: Skills = []
    max_distance: _number(0, MAX_ROUTE_DISTANCE) | None = None
    max_duration: Time | None = None
    max_stops: Count | None = None
    fixed_cost: _number(0, MAX_FIXED_COST) = 0.0
    cost_per_km: _number(0, MAX_RATE) = 1.0
    cost_per_hour: _number(0, MAX_RATE) = 0.0
    breaks: _list(Break, MAX_BREAKS) = []


class Stop(_Frozen):
    id: Identifier
    location: Coordinate | None = None
    location_index: Count | None = None
    demand: Amounts = []
    service: Duration = 0.0
    time_windows: Windows = []
    skills: Skills = []
    drop_penalty: Penalty | None = None  # absent: the stop is mandatory


class Task(_Frozen):
    """One end of a shipment: where it happens, for how long, and when."""

    location: Coordinate | None = None
    location_index: Count | None = None
    service: Duration = 0.0
    time_windows: Windows = []


class Shipment(_Frozen):
    id: Identifier
    amount: Amounts = []
    pickup: Task
    delivery: Task
    skills: Skills = []
    drop_penalty: Penalty | None = None


class Matrix(_Frozen):
    distances: list[list[DistanceCell]] | None = None  # metres
    durations: list[list[DurationCell]] | None = None  # seconds


FirstSolution = Literal[
    "automatic",
    "path_cheapest_arc",
    "savings",
    "parallel_cheapest_insertion",
    "local_cheapest_insertion",
    "global_cheapest_arc",
    "christofides",
]
Metaheuristic = Literal[
    "automatic",
    "iterated_local_search",
    "guided_local_search",
    "simulated_annealing",
    "tabu_search",
    "greedy_descent",
]


Engine = Literal["auto", "ortools", "pyvrp", "vroom"]


class Options(_Frozen):
    time_limit: _number(0, MAX_TIME_LIMIT, above=True) = DEFAULT_TIME_LIMIT  # seconds of search
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    speed_kmh: _number(MIN_SPEED_KMH, MAX_SPEED_KMH) = DEFAULT_SPEED_KMH
    engine: Engine = "auto"  # auto: chosen by the problem's features and size (optimizer.engines.plan)
    first_solution: FirstSolution = "automatic"
    metaheuristic: Metaheuristic = "automatic"


class RouteSpec(_Frozen):
    """Steps of one vehicle: stop ids, or ``"<shipment>:pickup"`` / ``"<shipment>:delivery"``."""

    vehicle_id: Identifier
    steps: _list(Identifier, MAX_STEPS)


Objective = Literal["distance", "duration", "cost"]


class RoadTravel(_Frozen):
    """Price the problem's coordinates on real roads (the farm's road source) for a profile."""

    profile: Literal["car", "truck"] = "car"


class Problem(_Frozen):
    vehicles: list[Vehicle]
    stops: list[Stop] = []
    shipments: list[Shipment] = []
    matrix: Matrix | None = None
    travel: RoadTravel | None = None  # absent: coordinates are priced by great-circle distance
    objective: Objective = "distance"
    min_vehicles: bool = False
    options: Options = Options()
    initial_routes: list[RouteSpec] = []
    locked: list[RouteSpec] = []
    # Plan stability: what serving a stop or shipment of ``initial_routes`` with another
    # vehicle costs, in objective units (metres, seconds or currency). Absent: no cost.
    reassign_penalty: Penalty | None = None

    @property
    def dimensions(self) -> int:
        """Number of capacity dimensions (0 when no vehicle declares a capacity)."""
        return max((len(v.capacity) for v in self.vehicles), default=0)
