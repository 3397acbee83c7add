"""gunicorn settings for ``web``: threads let long-polls wait without holding a process."""

import os
import shutil

from routefarm.observability.exposition import mark_dead, serve, use_multiproc_dir
from routefarm.settings import Settings


def bind_address(environ) -> str:
    """Platform conventions (Heroku, Dokku, Cloud Run): ``PORT`` alone means every interface,
    ``0.0.0.0:$PORT``; ``HOST`` overrides the interface; neither: ``127.0.0.1:8000``."""
    port = environ.get("PORT") or "8000"
    host = environ.get("HOST") or ("0.0.0.0" if environ.get("PORT") else "127.0.0.1")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


bind = bind_address(os.environ)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))  # the platforms' name for it
worker_class = "gthread"
# a long-poll holds a thread (not a process) for up to 60 s; 64 threads per process keep
# submissions answered while many clients wait
threads = int(os.environ.get("WEB_THREADS", "64"))
keepalive = 5
timeout = 90  # seconds of silence before a worker process is recycled (above the longest wait)
graceful_timeout = 30
max_requests = 0
accesslog = None
control_socket_disable = True  # gunicorn's shared ~/.gunicorn control socket is not used

# Prometheus: the workers of this gunicorn share one multiprocess directory (set here, in the
# master, before any worker imports prometheus-client); a dead worker's live gauges are dropped.
METRICS_DIR = use_multiproc_dir("web")


def when_ready(server):
    """With ROUTEFARM_METRICS_PORT, every worker's metrics are served on that port by the
    master (the public port's /metrics then answers 404)."""
    settings = Settings()
    serve(settings.metrics_port, settings.metrics_host)


def child_exit(server, worker):
    mark_dead(worker.pid)


def on_exit(server):
    shutil.rmtree(METRICS_DIR, ignore_errors=True)

# one JSON object per line, like every other process of the farm
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "routefarm.observability.logs.JsonFormatter", "process": "web"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": Settings().log_level, "handlers": ["stderr"]},
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False}},
}
