"""Request bodies and query strings, validated with these models and documented from them.

A body is checked in two steps. ``shape_issues`` holds it against its model here: no member
outside the model, the required ones present, each member of the right type. A member
declared with ``later(...)`` (a job's problem, a batch's jobs) is only checked to be an object
or a list here: its content is validated next with the farm's own limits (``optimizer.parse_problem``
with ``Limits``, each batch job as a job, each re-plan against its base job), where every
error keeps its pointer into the body.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    ValidationError,
    create_model,
)

from optimizer import Issues, Problem, pydantic_issues
from optimizer.issues import collect
from optimizer.model import Time

from ..settings import Settings
from .reoptimize import MAX_VEHICLE_STATES, ReoptimizeChanges, VehicleState
from .statuses import EVENT_TYPES, EventType, JobStatus

MAX_DESCRIPTION = 500
MAX_METADATA_BYTES = 16 * 1024  # a body's (or a batch job's) metadata, as compact JSON
MAX_URL = 2048  # characters of a webhook URL
MAX_BATCH_JOBS = Settings.model_fields["max_batch_jobs"].default  # documented; a farm may set another
Model = TypeVar("Model", bound=BaseModel)


def _kind(kind: type, name: str):
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise ValueError(f"must be {name}")
        return value
    return check


def later(model: Any, kind: type = dict, **schema: Any) -> Any:
    """A member documented as ``model`` whose content a later step validates; here it only
    has to be an object (with ``kind=list``, a list; with ``kind=object``, anything)."""
    name = {dict: "an object", list: "a list"}.get(kind, "a value")
    return Annotated[model, PlainValidator(_kind(kind, name), json_schema_input_type=model),
                     Field(json_schema_extra=schema or None)]


def absent(description: str | None = None, **schema: Any) -> Any:
    """The default of a member that may be left out but not sent as null (no default shown)."""
    def shown(document: dict) -> None:
        document.pop("default", None)
        document.update(schema)
    return Field(None, description=description, json_schema_extra=shown)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a cache-buster or a tracking parameter is no error


def _compact(metadata: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "replace"))
    if size > MAX_METADATA_BYTES:
        raise ValueError(f"is {size:,} bytes as compact JSON; at most {MAX_METADATA_BYTES:,} are kept")
    return metadata


Metadata = Annotated[dict[str, Any], AfterValidator(_compact), Field(description=(
    f"the client's own, returned as given: at most {MAX_METADATA_BYTES // 1024} KiB as compact JSON "
    "(UTF-8, no spaces)"))]
URL_DESCRIPTION = f"http or https; public addresses only; at most {MAX_URL} characters"
Url = Annotated[str, Field(max_length=MAX_URL, description=URL_DESCRIPTION, json_schema_extra={"format": "uri"})]


class WebhookTarget(_Body):
    """A one-off target, signed with the client's secret (GET /v1/webhooks/secret)."""

    url: Url


class JobRequest(_Body):
    """``POST /v1/jobs``: a problem, the client's metadata, an optional one-off webhook."""

    problem: later(Problem)
    metadata: Metadata = {}
    webhook: WebhookTarget | None = None


class BatchRequest(_Body):
    """``POST /v1/batches``: jobs validated as ``POST /v1/jobs`` validates one; nothing is
    created unless every job is valid."""

    jobs: later(list[JobRequest], list, minItems=1, maxItems=MAX_BATCH_JOBS) = Field(
        description=f"1 to ROUTEFARM_MAX_BATCH_JOBS ({MAX_BATCH_JOBS:,} by default) jobs")
    metadata: Metadata = {}
    webhook: WebhookTarget | None = None


class BatchReoptimizeJob(_Body):
    """One job of a batch re-plan: its id, its vehicles' states, and optionally its own ``at``
    (those two are checked with the shared changes, as one re-optimization request)."""

    job_id: uuid.UUID
    vehicles: later(list[VehicleState], list) = absent("the states of this job's vehicles",
                                                       maxItems=MAX_VEHICLE_STATES)
    at: later(Time, object) = absent("this job's own time of re-plan; absent: changes.at")


SharedChanges = create_model(
    "SharedChanges", __base__=_Body,
    __doc__="The changes every job of a batch re-plan shares: a re-optimization request "
            "without vehicles (they belong to one plan: set per job)",
    **{name: (field.annotation, field) for name, field in ReoptimizeChanges.model_fields.items()
       if name not in ("vehicles", "at")},
    at=(Time | None, Field(None, description="seconds: the time of the re-plan, unless a job sets its own")),
)


class BatchReoptimizeRequest(_Body):
    """Re-plan several succeeded jobs with shared changes, as one batch: each job's request is
    ``changes`` plus its own ``vehicles`` (and ``at``, if given)."""

    jobs: later(list[BatchReoptimizeJob], list, minItems=1, maxItems=MAX_BATCH_JOBS)
    changes: later(SharedChanges) = {}
    metadata: Metadata = {}
    webhook: WebhookTarget | None = None


class WebhookEndpointCreate(_Body):
    """``POST /v1/webhooks/endpoints``."""

    url: Url
    event_types: list[EventType] = Field(list(EVENT_TYPES), min_length=1, max_length=len(EVENT_TYPES),
                                         description="default: every event type")
    description: str = Field("", max_length=MAX_DESCRIPTION)


class WebhookEndpointUpdate(_Body):
    """``PATCH /v1/webhooks/endpoints/{id}``: the members sent change; none may be null."""

    url: Annotated[str, Field(max_length=MAX_URL)] = absent(URL_DESCRIPTION, format="uri")
    event_types: Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES))] = absent()
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = absent()
    enabled: Annotated[bool, Strict()] = absent("false disables the endpoint, true re-enables it")


class JobListQuery(_Query):
    """``GET /v1/jobs``."""

    status: JobStatus = absent("only jobs in this status")
    limit: int = Field(20, ge=1, le=100, description="jobs per page")
    cursor: str = absent("next_cursor of the previous page")


class PageQuery(_Query):
    """A page of a list: webhook endpoints, a job's or a batch's deliveries."""

    limit: int = Field(50, ge=1, le=100, description="items per page")
    cursor: str = absent("next_cursor of the previous page")


class JobReadQuery(_Query):
    """``GET /v1/jobs/{id}``."""

    wait: Annotated[float, Field(ge=0, allow_inf_nan=False)] = absent(
        "hold the request until the job ends or this many seconds pass (at most ROUTEFARM_MAX_WAIT_S, "
        "60 by default)")
    include: Literal["incumbent"] = absent("incumbent: a running job's best solution so far, routes included")


class PictureQuery(_Query):
    """``GET /v1/jobs/{id}/routes.svg``."""

    geometry: bool = Field(False, description=(
        "a job priced on roads: draw its routes along the roads (asked of the road source it was priced on)"))


def shape_issues(body: Any, model: type[BaseModel]) -> Issues:
    """What is wrong with ``body`` against ``model``, every issue at once (the first
    ``MAX_ISSUES``, and how many more; none: it fits)."""
    found = Issues()
    if not isinstance(body, dict):
        required = [n for n, f in model.model_fields.items() if f.is_required()]
        wanted = " and ".join(f"'{name}'" for name in required)
        found.add("", "the body must be a JSON object" + (f" with {wanted}" if wanted else ""))
    else:
        collect(model, body, found)
    return found


def parse_query(args: dict[str, str], model: type[Model]) -> Model:
    """A query string as ``model``; ``ValueError`` naming the first bad parameter."""
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        first = next(pydantic_issues(exc))
        raise ValueError(f"{first.pointer.lstrip('/') or 'query'}: {first.message}") from None
