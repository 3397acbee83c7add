"""Solves in a supervised child process: the one path every solve takes, farm and CLI.

    runner = Runner(memory.resolve_limit(settings.solver_memory_mib), limits=farm.limits)
    runner.start()                      # forkserver up, OR-Tools imported, once per process
    result = runner.solve(problem_json, time_limit=30, stop=lambda: None)
    result.solution                     # the final solution, or the best incumbent if stopped

``child`` runs in the child process; ``supervisor`` in the caller; ``memory`` sizes and
reads the child's memory.
"""

from .supervisor import Result, Runner

__all__ = ["Result", "Runner"]
