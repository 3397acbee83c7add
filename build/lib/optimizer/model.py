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

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]
Identifier = Annotated[str, Field(min_length=1, max_length=200)]


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


Window = Annotated[tuple[NonNegative, NonNegative], AfterValidator(_ordered)]
Coordinate = Annotated[
    tuple[Annotated[float, Field(allow_inf_nan=False)], Annotated[float, Field(allow_inf_nan=False)]],
    AfterValidator(_on_earth),
]
# A matrix cell: a non-negative number, or null where no road connects the two places.
Cell = Annotated[float, Field(ge=0, allow_inf_nan=False)] | None


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Break(_Frozen):
    """A driver's pause; ``time_windows`` bound when it may start."""

    id: Identifier
    time_windows: Annotated[list[Window], Field(min_length=1)]
    duration: NonNegative


class Vehicle(_Frozen):
    id: Identifier
    start: Coordinate | None = None
    start_index: Count | None = None
    end: Coordinate | None = None
    end_index: Count | None = None
    capacity: list[Count] = []  # one per dimension; omitted: no capacity limit
    time_window: Window | None = None
    skills: list[Identifier] = []
    max_distance: NonNegative | None = None
    max_duration: NonNegative | None = None
    max_stops: Count | None = None
    fixed_cost: NonNegative = 0.0
    cost_per_km: NonNegative = 1.0
    cost_per_hour: NonNegative = 0.0
    breaks: list[Break] = []


class Stop(_Frozen):
    id: Identifier
    location: Coordinate | None = None
    location_index: Count | None = None
    demand: list[Count] = []
    service: NonNegative = 0.0
    time_windows: list[Window] = []
    skills: list[Identifier] = []
    drop_penalty: NonNegative | None = None  # absent: the stop is mandatory


class Task(_Frozen):
    """One end of a shipment: where it happens, for how long, and when."""

    location: Coordinate | None = None
    location_index: Count | None = None
    service: NonNegative = 0.0
    time_windows: list[Window] = []


class Shipment(_Frozen):
    id: Identifier
    amount: list[Count] = []
    pickup: Task
    delivery: Task
    skills: list[Identifier] = []
    drop_penalty: NonNegative | None = None


class Matrix(_Frozen):
    distances: list[list[Cell]] | None = None  # metres
    durations: list[list[Cell]] | None = None  # seconds


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
    time_limit: Positive = DEFAULT_TIME_LIMIT  # seconds of search
    seed: Count = 0
    speed_kmh: Positive = DEFAULT_SPEED_KMH
    engine: Engine = "auto"  # auto: chosen by the problem's features and size (optimizer.engines.auto)
    first_solution: FirstSolution = "automatic"
    metaheuristic: Metaheuristic = "automatic"


class RouteSpec(_Frozen):
    """Steps of one vehicle: stop ids, or ``"<shipment>:pickup"`` / ``"<shipment>:delivery"``."""

    vehicle_id: Identifier
    steps: list[Identifier]


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
    reassign_penalty: NonNegative | None = None

    @property
    def dimensions(self) -> int:
        """Number of capacity dimensions (0 when no vehicle declares a capacity)."""
        return max((len(v.capacity) for v in self.vehicles), default=0)
