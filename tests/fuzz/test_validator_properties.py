"""Properties of ``optimizer.validate.parse_problem`` over hostile input.

Whatever decoded JSON arrives (anything ``json.loads`` can return, NaN and huge integers
included), the validator returns a ``Problem`` or raises ``InvalidProblem``, never anything
else; and every issue's JSON pointer names a place in the input: the value it complains
about, or the object that lacks a required field (the pointer's parent).

Inputs are a valid problem with some of its values replaced by arbitrary JSON, added
fields, and random documents built from the contract's own field names (so the rules that
relate parts of a problem, not only the type checks, see strange values).
"""

from __future__ import annotations

import copy
import math

from fuzz_support import fuzz_settings
from hypothesis import example, given
from hypothesis import strategies as st

from optimizer import InvalidProblem, Problem, parse_problem
from optimizer.model import Break, Matrix, Options, RouteSpec, Shipment, Stop, Task, Vehicle

BASE = {
    "vehicles": [
        {"id": "v1", "start_index": 0, "end_index": 0, "capacity": [10], "time_window": [0, 1000],
         "skills": ["cold"], "breaks": [{"id": "lunch", "time_windows": [[100, 200]], "duration": 30}]},
        {"id": "v2", "start_index": 0, "capacity": [5]},
    ],
    "stops": [
        {"id": "a", "location_index": 1, "demand": [1], "time_windows": [[0, 500]], "service": 5},
        {"id": "b", "location_index": 2, "demand": [2], "skills": ["cold"], "drop_penalty": 100},
    ],
    "shipments": [{"id": "s1", "amount": [1], "pickup": {"location_index": 1},
                   "delivery": {"location_index": 2, "time_windows": [[0, 900]]}}],
    "matrix": {"distances": [[0, 5, 7], [5, 0, 3], [7, 3, 0]], "durations": [[0, 5, 7], [5, 0, 3], [7, 3, 0]]},
    "objective": "distance",
    "options": {"time_limit": 1, "seed": 1},
    "initial_routes": [{"vehicle_id": "v1", "steps": ["a", "s1:pickup", "s1:delivery"]}],
    "locked": [{"vehicle_id": "v1", "steps": ["a"]}],
    "reassign_penalty": 10,
}
FIELDS = sorted({name for model in (Problem, Vehicle, Break, Stop, Task, Shipment, Matrix, Options, RouteSpec)
                 for name in model.model_fields} | {"s1:pickup", "a", "v1", "pickup", "delivery"})

scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**40), max_value=10**40)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
           | st.sampled_from(["a", "b", "s1", "v1", "s1:pickup", "s1:delivery", "lunch", "", "~/", "-1"]))
keys = st.sampled_from(FIELDS) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


def paths(value, prefix=()):
    """Every (path, value) of a JSON document, the root first."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


@st.composite
def mutated(draw):
    """BASE with a few values replaced by arbitrary JSON, fields added or removed."""
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        places = list(paths(doc))
        path, _ = draw(st.sampled_from(places[1:]))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(keys)] = draw(json_values)
        else:
            parent.append(draw(json_values))
    return doc


def resolve(doc, pointer: str) -> bool:
    """Whether the RFC 6901 ``pointer`` names a value of ``doc``."""
    if pointer == "":
        return True
    if not pointer.startswith("/"):
        return False
    node = doc
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def parent_of(pointer: str) -> str:
    return pointer.rpartition("/")[0]


def audit(doc) -> None:
    try:
        problem = parse_problem(doc)
    except InvalidProblem as exc:
        assert exc.issues, "InvalidProblem without an issue"
        for issue in exc.issues:
            assert isinstance(issue.message, str) and issue.message
            assert resolve(doc, issue.pointer) or resolve(doc, parent_of(issue.pointer)), (
                f"{issue.pointer!r} ({issue.message}) points nowhere in the input")
    else:
        assert isinstance(problem, Problem)


PROPERTY = fuzz_settings(300)


def test_the_base_problem_is_valid():
    assert isinstance(parse_problem(BASE), Problem)


@PROPERTY
@given(json_values)
def test_arbitrary_json_only_raises_invalid_problem(doc):
    audit(doc)


@PROPERTY
@given(st.dictionaries(keys, json_values, max_size=8))
def test_arbitrary_objects_only_raise_invalid_problem(doc):
    audit(doc)


@PROPERTY
@given(mutated())
# an unhashable id (an object or a list) once crashed the route checks with a TypeError
@example({**BASE, "shipments": [{**BASE["shipments"][0], "id": {"x": 1}}]})
@example({**BASE, "stops": [{**BASE["stops"][0], "id": [1]}], "vehicles": [{**BASE["vehicles"][0], "id": {}}]})
@example({**BASE, "matrix": {"distances": [[math.nan]]}, "options": {"time_limit": 10**400}})
def test_a_damaged_problem_only_raises_invalid_problem(doc):
    audit(doc)
