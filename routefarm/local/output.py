"""Honcho-style output: every line of every process, prefixed with its name."""

from __future__ import annotations

import sys
import threading
import time
from typing import IO

COLORS = (36, 33, 32, 35, 34, 31)  # cyan, yellow, green, magenta, blue, red
SYSTEM = "system"


class Output:
    """Writes ``HH:MM:SS name  | text`` lines; safe to call from several threads."""

    def __init__(self, stream: IO[str] | None = None, color: bool | None = None):
        self.stream = stream or sys.stdout
        self.color = self.stream.isatty() if color is None else color
        self.width = len(SYSTEM)
        self._lock = threading.Lock()
        self._colors: dict[str, int] = {}

    def register(self, names: list[str]) -> None:
        """Pad prefixes to the longest name and give each a color."""
        self.width = max([self.width, *map(len, names)])
        for name in names:
            key = name.split(".", 1)[0]
            self._colors.setdefault(key, COLORS[len(self._colors) % len(COLORS)])

    def line(self, name: str, text: str) -> None:
        prefix = f"{time.strftime('%H:%M:%S')} {name:<{self.width}} |"
        if self.color:
            code = 1 if name == SYSTEM else self._colors.get(name.split(".", 1)[0], 37)
            prefix = f"\x1b[{code}m{prefix}\x1b[0m"
        self.write(f"{prefix} {text.rstrip()}\n")

    def system(self, text: str) -> None:
        self.line(SYSTEM, text)

    def write(self, text: str) -> None:
        with self._lock:
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):  # a closed terminal must not stop the farm
                pass
