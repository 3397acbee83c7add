"""Fixtures for the local-farm tests: real processes, cleaned up whatever the outcome."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from farmtools import HERE, Running, clean_env


@pytest.fixture
def spawn():
    started: list[Running] = []

    def start(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Running:
        running = Running(argv, env=env, cwd=cwd)
        started.append(running)
        return running

    yield start
    for running in started:
        running.cleanup()


@pytest.fixture
def supervise(spawn, tmp_path):
    """Run a Procfile (given as text) under the Supervisor in a real parent process."""

    def start(procfile: str, grace: float = 5.0) -> Running:
        path = tmp_path / "Procfile"
        path.write_text(procfile)
        return spawn([sys.executable, str(HERE / "supervise.py"), str(path), str(grace)], env=clean_env())

    return start
