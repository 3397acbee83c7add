#!/usr/bin/env python
"""Which locked dependencies have wheels for a platform: the core install (requirements.lock)
and the [local] extra, each downloaded from PyPI as binaries only for that platform.

    python bench/platforms.py                       # linux aarch64 (Graviton, arm64 images)
    python bench/platforms.py --platform manylinux_2_28_x86_64 --python 3.12

Prints one row per package: the version and the wheel pip chose, or "no wheel".
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AARCH64 = ["manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64", "linux_aarch64"]


def locked() -> list[tuple[str, str, str]]:
    """(name, version, marker) of every pin in requirements.lock."""
    pins = []
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.*?))?\s*\\?$", line)
        if match:
            pins.append((match.group(1), match.group(2), (match.group(3) or "").strip()))
    return pins


def applies(marker: str, python: str, machine: str) -> bool:
    if not marker:
        return True
    from packaging.markers import Marker

    full = python if python.count(".") == 2 else python + ".0"
    return Marker(marker).evaluate({"python_version": python, "python_full_version": full,
                                    "sys_platform": "linux", "platform_system": "Linux",
                                    "platform_machine": machine, "implementation_name": "cpython",
                                    "platform_python_implementation": "CPython"})


def download(spec: str, platforms: list[str], python: str, folder: Path) -> str | None:
    args = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
            "--python-version", python, "--implementation", "cp", "-d", str(folder), spec,
            "--index-url", "https://pypi.org/simple"]
    for platform in platforms:
        args += ["--platform", platform]
    before = set(folder.iterdir())
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        return None
    new = sorted(set(folder.iterdir()) - before)
    return new[0].name if new else "(already downloaded)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", action="append", help="pip platform tag (repeatable; default: linux aarch64)")
    parser.add_argument("--python", default="3.11")
    args = parser.parse_args(argv)
    platforms = args.platform or AARCH64
    machine = "aarch64" if any("aarch64" in p for p in platforms) else "x86_64"
    local = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["local"]
    rows = [("core", n, v) for n, v, m in locked() if applies(m, args.python, machine)]
    rows += [("[local]", re.split(r"[<>=!~\[ ]", r, maxsplit=1)[0], "latest") for r in local]
    print(f"# wheels for {', '.join(platforms)}, CPython {args.python}")
    print(f"{'set':<8} {'package':<22} {'version':<12} wheel")
    missing = []
    with tempfile.TemporaryDirectory() as tmp:
        for group, name, version in rows:
            spec = name if version == "latest" else f"{name}=={version}"
            wheel = download(spec, platforms, args.python, Path(tmp))
            if wheel is None:
                missing.append((group, name))
            print(f"{group:<8} {name:<22} {version:<12} {wheel or 'no wheel'}", flush=True)
    core_missing = [n for g, n in missing if g == "core"]
    print(f"\n# core: {len([r for r in rows if r[0] == 'core'])} packages, without a wheel: "
          f"{', '.join(core_missing) or 'none'}; [local] without a wheel: "
          f"{', '.join(n for g, n in missing if g != 'core') or 'none'}")
    return 1 if core_missing else 0


if __name__ == "__main__":
    sys.exit(main())
