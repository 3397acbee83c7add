"""The floor of this stack: a Flask endpoint that pushes the request body onto a Redis list.

Served by ``bench/api.py`` under the same gunicorn settings as the real API:

    gunicorn --config python:api.gunicorn_conf bench.bare_app:app

``BENCH_BARE_REDIS`` names the Redis database (default ``redis://127.0.0.1:6379/12``).
"""

from __future__ import annotations

import os

import redis
from flask import Flask, request

LIST = "bench:bare:jobs"

app = Flask(__name__)
_redis = redis.Redis.from_url(os.environ.get("BENCH_BARE_REDIS", "redis://127.0.0.1:6379/12"))


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/v1/jobs")
def create():
    _redis.lpush(LIST, request.get_data())
    return "", 202
