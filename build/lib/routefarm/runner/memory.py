"""How much memory a solver child may use, and how much it uses (Linux ``/proc``, cgroups).

The default limit is sized from the machine. In a container with a memory limit (its
cgroup's ``memory.max``), three quarters of that limit: the container is the worker's own.
Elsewhere, three quarters of the machine's RAM divided by the CPUs this process may run on,
since as many workers as cores may solve at once. A search that needs more fails its job
with reason ``memory_limit`` instead of bringing the kernel's OOM killer to the worker.
"""

from __future__ import annotations

import os
from pathlib import Path

MIB = 1024 * 1024
SHARE = 0.75  # of the memory available per core
FLOOR = 512 * MIB  # a limit below this could not hold the interpreter and OR-Tools
_CGROUP_FILES = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def physical_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def cgroup_limit() -> int | None:
    """Bytes: this process's cgroup memory limit, when one is set below the physical RAM."""
    for name in _CGROUP_FILES:
        try:
            text = Path(name).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < physical_memory():
            return int(text)
    return None


def default_limit() -> int:
    """Bytes: the default memory limit of one solver child."""
    contained = cgroup_limit()
    if contained is not None:
        return max(FLOOR, int(SHARE * contained))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(FLOOR, int(SHARE * physical_memory() / max(1, cpus)))


def resolve_limit(mib: int) -> int:
    """Bytes for a configured limit in MiB (0 = the default)."""
    return mib * MIB if mib > 0 else default_limit()


def usage(pid: int) -> dict[str, int]:
    """Bytes of ``VmRSS``, ``VmHWM`` (peak resident), ``VmSize`` and ``VmPeak`` of ``pid``
    (empty when the process is gone or ``/proc`` is absent)."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "VmSize", "VmPeak"):
                    out[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError):
        return {}
    return out
