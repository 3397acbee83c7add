"""Decisions a dispatcher acts on: pure functions over a problem and a solution.

    issues = work_issues(problem, stops, shipments)      # new work held against the problem
    quotes = quote(problem, travel, solution, stops, shipments, at=None, limit=5)
    explained = explain(problem, travel, solution)       # unassigned[].fixes, bounded
    solution = priced(problem, solution)                 # routes' and summary's costs, tightest

``quote`` finds where each new stop or shipment fits (``insertion``), ``explain`` what it would
take for unassigned work to fit (``explain``), ``priced`` what each route costs as the
objective counts it (``costs``). Every route a quote or a relaxation returns is timed as the
solution would report it (``schedule``) and confirmed by ``optimizer.check`` (``confirm``).
"""

from .costs import priced
from .explain import explain
from .insertion import NewTask, Quoter, quote
from .plan import Plan
from .work import extend, lazily, work_issues

__all__ = ["NewTask", "Plan", "Quoter", "explain", "extend", "lazily", "priced", "quote", "work_issues"]
