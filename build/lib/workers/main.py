"""Dramatiq entry point: ``python -m workers.run workers.main:setup --processes 1 --threads 1``."""

from __future__ import annotations

import os

from routefarm.observability.exposition import process_key, use_multiproc_dir
from routefarm.observability.logs import configure_logging
from routefarm.settings import Settings


def setup() -> None:
    """Configure the broker, then declare the actors (the order Dramatiq requires)."""
    # the worker processes of one dramatiq invocation share a metrics directory, named
    # after their parent (dramatiq's main process); set before prometheus-client is imported
    use_multiproc_dir("dramatiq", process_key(os.getppid()))
    settings = Settings()
    configure_logging("worker", settings.log_level)
    from . import actors, runtime

    actors.declare(runtime.install(settings))
