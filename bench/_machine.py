"""What the benchmark ran on: one header line shared by the bench scripts."""

from __future__ import annotations

import os
import platform
from importlib import metadata


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def header(**extra: object) -> str:
    parts = [
        f"nproc {nproc()}",
        f"CPU {cpu_model()}",
        f"Python {platform.python_version()}",
        f"OR-Tools {package_version('ortools')}",
    ]
    parts += [f"{key.replace('_', ' ')} {value}" for key, value in extra.items()]
    return "# " + " | ".join(parts)
