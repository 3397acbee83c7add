"""``<data-dir>/state.json``: how other commands find a farm that ``routefarm up`` runs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path(".routefarm")
STATE_FILE = "state.json"
STATE_MODE = 0o600  # owner read and write only


def state_path(data_dir: Path | str | None = None) -> Path:
    return Path(data_dir or DEFAULT_DATA_DIR) / STATE_FILE


def write_state(data_dir: Path | str, state: dict[str, Any]) -> Path:
    """Write ``state`` (it holds the demo client's API key) readable by its owner only: the
    file is created with mode 0600, never another mode first, then renamed into place."""
    path = state_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)  # a leftover keeps its mode: create the file anew
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, STATE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(state, indent=2) + "\n")
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
