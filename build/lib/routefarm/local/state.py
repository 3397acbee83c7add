"""``<data-dir>/state.json``: how other commands find a farm that ``routefarm up`` runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path(".routefarm")
STATE_FILE = "state.json"


def state_path(data_dir: Path | str | None = None) -> Path:
    return Path(data_dir or DEFAULT_DATA_DIR) / STATE_FILE


def write_state(data_dir: Path | str, state: dict[str, Any]) -> Path:
    path = state_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_state(data_dir: Path | str | None = None) -> dict[str, Any] | None:
    path = state_path(data_dir)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def environment_from_state(state: dict[str, Any]) -> dict[str, str]:
    """The ``ROUTEFARM_*`` variables that point a process at the farm in ``state``."""
    env = {
        "ROUTEFARM_DIRECTORY_URL": state["directory_url"],
        "ROUTEFARM_SHARD_URLS": ",".join(state["shard_urls"]),
        "ROUTEFARM_REDIS_URL": state["redis_url"],
    }
    if state.get("cache_url"):
        env["ROUTEFARM_CACHE_URL"] = state["cache_url"]
    if state.get("kafka_bootstrap"):
        env["ROUTEFARM_KAFKA_BOOTSTRAP"] = state["kafka_bootstrap"]
    return env
