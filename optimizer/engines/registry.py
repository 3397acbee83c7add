"""The engines by name; each vendor library is imported only when its engine solves."""

from __future__ import annotations

from .base import Engine

NAMES = ("ortools", "pyvrp", "vroom")


def engine(name: str) -> Engine:
    if name == "ortools":
        from .ortools.engine import OrToolsEngine

        return OrToolsEngine()
    if name == "pyvrp":
        from .pyvrp_engine import PyVRPEngine

        return PyVRPEngine()
    if name == "vroom":
        from .vroom_engine import VroomEngine

        return VroomEngine()
    raise KeyError(f"unknown engine {name!r}; known: {', '.join(NAMES)}")
