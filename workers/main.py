"""Dramatiq entry point: ``python -m workers.run workers.main:setup --processes 1 --threads 1``."""

from __future__ import annotations

import importlib
import os

from routefarm.logs import configure_logging
from routefarm.metrics_runtime import process_key, use_multiproc_dir
from routefarm.settings import Settings


def setup() -> None:
    """Configure the broker, then import the actors (the order Dramatiq requires)."""
    # the worker processes of one dramatiq invocation share a metrics directory, named
    # after their parent (dramatiq's main process); set before prometheus-client is imported
    use_multiproc_dir("dramatiq", process_key(os.getppid()))
    configure_logging("worker")
    from . import runtime

    runtime.install(Settings())
    importlib.import_module("workers.actors")
