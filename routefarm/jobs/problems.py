"""A stored job's problem, read for the API's own use (pictures, insertion quotes).

A matrix is most of a large problem: decoded as JSON it costs a Python float and a list slot
per cell, several times its text (a 1,500-place problem of 15 MB took 150 MB). So the shard
gives the problem without its matrices, and each matrix as its text, which becomes an array
(``optimizer.travel.matrix_from_json``): the problem's ``matrix`` then holds arrays, as
``Travel`` does, and nothing per cell is ever a Python object. The problem was validated
when it was submitted; here its structure is read again (a stored problem the contract no
longer takes: ``Outdated``).
"""

from __future__ import annotations

import uuid

from pydantic import ValidationError

from optimizer import Problem
from optimizer.model import Matrix
from optimizer.travel import matrix_from_json

from ..errors import Conflict

# the problem without its matrices, then each matrix's text (or null)
COLUMNS = ("problem - 'matrix', (problem->'matrix'->'distances')::text,"
           " (problem->'matrix'->'durations')::text")


class Outdated(Conflict):
    def __init__(self, job_id: uuid.UUID):
        super().__init__(f"job {job_id}'s problem no longer fits the problem contract: submit it again",
                         "problem-outdated")


def problem_of(job_id: uuid.UUID, rest: dict, distances: str | None, durations: str | None) -> Problem:
    """The problem of the three ``COLUMNS`` read from a job's row."""
    try:
        problem = Problem.model_validate(rest)
    except ValidationError:
        raise Outdated(job_id) from None
    if distances is None and durations is None:
        return problem
    matrix = Matrix.model_construct(distances=None if distances is None else matrix_from_json(distances),
                                    durations=None if durations is None else matrix_from_json(durations))
    return problem.model_copy(update={"matrix": matrix})
