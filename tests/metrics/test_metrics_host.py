"""The metrics port binds ``ROUTEFARM_METRICS_HOST``: every interface by default (a pod is
scraped on its own address), loopback alone when set so (as ``routefarm up`` does)."""

from __future__ import annotations

import sys
import time

from metrics_support import scrape
from support import free_port, listening_hosts


def _bound(port: int, timeout: float = 30.0) -> set[str]:
    deadline = time.monotonic() + timeout
    while not (hosts := listening_hosts(port)):
        assert time.monotonic() < deadline, f"nothing listens on {port}"
        time.sleep(0.2)
    return hosts


def test_the_metrics_port_binds_the_configured_interface(processes, settings):
    assert settings.metrics_host == "0.0.0.0"
    everywhere, loopback = free_port(), free_port()
    processes._start("stream", [sys.executable, "-m", "workers.stream"], {"ROUTEFARM_METRICS_PORT": str(everywhere)})
    assert _bound(everywhere) == {"0.0.0.0"}
    processes.stop("stream")
    processes._start("stream", [sys.executable, "-m", "workers.stream"], {"ROUTEFARM_METRICS_PORT": str(loopback),
                                                                   "ROUTEFARM_METRICS_HOST": "127.0.0.1"})
    assert _bound(loopback) == {"127.0.0.1"}
    assert "routefarm_queue_depth" in scrape(f"http://127.0.0.1:{loopback}/metrics")
