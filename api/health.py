"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from routefarm.contract.documents import Health, Readiness

from .openapi import documented, json

bp = Blueprint("health", __name__)
CHECK_TIMEOUT = 2.0  # seconds per database in /readyz


@bp.get("/healthz")
@documented("Liveness", {200: json(Health, "alive")}, secured=False)
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@documented("Readiness of the directory, every shard and Redis", {
    200: json(Readiness, "ready"), 503: json(Readiness, "not ready")}, secured=False)
def readyz():
    """Ready when the directory, every shard and Redis answer; lists each one's state."""
    farm = current_app.extensions["routefarm"]
    checks: dict[str, str] = {}
    pools = {"directory": farm.db.directory, **farm.db.shards}
    for name, pool in pools.items():
        try:
            with pool.connection(timeout=CHECK_TIMEOUT) as conn:
                conn.execute("SELECT 1")
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            checks[name] = f"unavailable: {type(exc).__name__}"
    checks["redis"] = "ok" if farm.cache.ping() else "unavailable"
    ready = all(v == "ok" for v in checks.values())
    response = jsonify({"status": "ready" if ready else "not ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response
