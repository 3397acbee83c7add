"""Honcho-style output: every line of every process, prefixed with its name, and on a
terminal one status line kept under them, redrawn in place."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import IO

COLORS = (36, 33, 32, 35, 34, 31)  # cyan, yellow, green, magenta, blue, red
SYSTEM = "system"
CLEAR = "\r\x1b[K"  # back to the start of the line, erase it


class Output:
    """Writes ``HH:MM:SS name  | text`` lines; safe to call from several threads."""

    def __init__(self, stream: IO[str] | None = None, color: bool | None = None, live: bool | None = None):
        self.stream = stream or sys.stdout
        tty = self.stream.isatty()
        self.color = tty if color is None else color
        self.live = tty if live is None else live  # a status line redrawn in place
        self.width = len(SYSTEM)
        self._lock = threading.Lock()
        self._colors: dict[str, int] = {}
        self._status = ""

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

    def status(self, text: str) -> None:
        """Show ``text`` as the status line (``live``); a no-op otherwise."""
        if not self.live:
            return
        columns = shutil.get_terminal_size((100, 24)).columns
        with self._lock:
            self._status = text[:max(columns - 1, 10)]  # a wrapped line could not be redrawn
            self._emit(CLEAR + self._status)

    def clear_status(self) -> None:
        with self._lock:
            if self._status:
                self._status = ""
                self._emit(CLEAR)

    def write(self, text: str) -> None:
        with self._lock:
            self._emit(CLEAR + text + self._status if self._status else text)

    def _emit(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal must not stop the farm
            pass
