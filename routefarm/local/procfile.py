"""Procfiles: ``name: command`` lines (honcho and foreman format), and the farm's formation."""

from __future__ import annotations

import re
from pathlib import Path

from .common import FarmError
from .supervisor import ProcessSpec

LINE = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)\s*:\s*(?P<command>\S.*)$")
FARM_PROCESSES = ("web", "stream", "worker")
SINGLETONS = ("webhook",)  # run once each when the Procfile defines them


def parse_procfile(text: str, source: str = "Procfile") -> dict[str, str]:
    """Process name -> command, in file order; blank lines and ``#`` comments are skipped."""
    processes: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if match is None:
            raise FarmError(f"{source}:{number}: not a 'name: command' line")
        name = match["name"]
        if name in processes:
            raise FarmError(f"{source}:{number}: process {name!r} is defined twice")
        processes[name] = match["command"].strip()
    return processes


def read_procfile(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FarmError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_procfile(text, str(path))


def find_procfile(explicit: Path | None = None) -> Path:
    """``explicit``, else ``./Procfile``, else the Procfile of the checkout routefarm runs from,
    else the copy the package carries (an install that is not a checkout)."""
    if explicit is not None:
        return Path(explicit).resolve()
    here = Path(__file__).resolve()
    candidates = [Path.cwd() / "Procfile", here.parents[2] / "Procfile", here.parent / "Procfile"]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise FarmError("no Procfile here or in the routefarm checkout; pass --procfile")


def formation(processes: dict[str, str], port: int, host: str = "127.0.0.1") -> list[ProcessSpec]:
    """web.1 (with PORT, and HOST: a local farm listens on loopback, where a platform's PORT
    alone means every interface), stream.1 and webhook.1 (when defined) from the Procfile;
    ``worker`` processes are the autoscaler's to start (``worker.1``, ``worker.2``, ...)."""
    missing = [name for name in FARM_PROCESSES if name not in processes]
    if missing:
        raise FarmError(f"the Procfile defines no {', '.join(missing)} process")
    specs = [ProcessSpec("web.1", processes["web"], {"PORT": str(port), "HOST": host}),
             ProcessSpec("stream.1", processes["stream"])]
    specs += [ProcessSpec(f"{name}.1", processes[name]) for name in SINGLETONS if name in processes]
    return specs
