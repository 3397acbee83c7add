"""Dramatiq entry point: ``dramatiq workers.main:setup --processes 1 --threads 1``."""

from __future__ import annotations

import importlib

from routefarm.logs import configure_logging
from routefarm.settings import Settings

from . import runtime


def setup() -> None:
    """Configure the broker, then import the actors (the order Dramatiq requires)."""
    configure_logging("worker")
    runtime.install(Settings())
    importlib.import_module("workers.actors")
