"""RFC 9457 problem details: the body of every error answer."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from optimizer import MAX_ISSUES


class FieldError(BaseModel):
    """One error in a request body, at its JSON pointer."""

    model_config = ConfigDict(extra="forbid")
    pointer: str = Field(description="RFC 6901 JSON pointer into the request body ('/' for the whole body)")
    detail: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; an error may add members of its own (``retention_s`` on 410,
    ``job_status`` on a re-plan of an unfinished job)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(description="a URI naming the kind of problem")
    title: str
    status: int
    detail: str
    instance: str | None = Field(None, description="the request's path")
    errors: list[FieldError] | None = Field(None, max_length=MAX_ISSUES, description=(
        f"422: every error of the body at once, at most {MAX_ISSUES} of them"))
    errors_omitted: int | None = Field(None, ge=1, description=(
        f"422: how many more errors the body has than the {MAX_ISSUES} listed (absent: none)"))
    jobs_unchecked: int | None = Field(None, ge=1, description=(
        "422 of a batch: jobs not validated because the errors listed had reached the limit "
        "(they may have errors of their own)"))
