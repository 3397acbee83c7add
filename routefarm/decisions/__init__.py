"""Decisions over a job's plan, for the API: insertion quotes, and applying one.

``plans`` reads the plan (a job's problem and solution, or a running job's incumbent);
``quotes`` answers a quote at once and applies one through re-optimization. The decisions
themselves are ``optimizer.decisions``'s pure functions. Nothing under ``routefarm.jobs``
imports this package.
"""
