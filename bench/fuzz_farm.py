#!/usr/bin/env python
"""schemathesis over every operation of a running farm's /openapi.json.

    python bench/fuzz_farm.py                 # 25 examples per operation, deterministic
    python bench/fuzz_farm.py --examples 10

Starts ``routefarm up`` on a fresh data folder (one solve worker), runs schemathesis' CLI
against it with the farm's API key, checks ``not_a_server_error`` and
``response_schema_conformance`` (plus status codes the document declares), every request
bounded by ``--request-timeout``, the whole run by ``--budget`` seconds, then prints
schemathesis' summary and a table: operations, test cases, failures by check, timeouts,
wall time. Exit status 1 when a check failed or the run overran its budget.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import _farm  # noqa: E402

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25)
    parser.add_argument("--request-timeout", type=float, default=70.0)
    parser.add_argument("--budget", type=float, default=600.0, help="seconds for the whole schemathesis run")
    parser.add_argument("--keep", action="store_true", help="keep the farm's data folder and logs")
    args = parser.parse_args(argv)

    farm = _farm.UpFarm("fuzz", max_workers=1, cooldown=10)
    try:
        state = farm.wait_ready()
        report = farm.data / "schemathesis.json"
        command = ["schemathesis", "run", f"{state['api_url']}/openapi.json", "--checks", CHECKS,
                   "--max-examples", str(args.examples), "--generation-deterministic",
                   "--header", f"Authorization: Bearer {state['api_key']}",
                   "--request-timeout", str(args.request_timeout),
                   "--report", "ndjson", "--report-ndjson-path", str(report), "--no-color"]
        began = time.monotonic()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=args.budget)
            output, code, overran = done.stdout + done.stderr, done.returncode, False
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            code, overran = -1, True
        wall = time.monotonic() - began
    finally:
        farm.stop(keep=args.keep)

    summary = output[output.rfind("SUMMARY"):] if "SUMMARY" in output else output[-3000:]
    print(summary.strip())
    events = _events(report) if report.exists() else []
    cases = sum(1 for e in events if "ScenarioFinished" in e)
    timeouts = len(re.findall(r"(?i)timed? ?out", output))
    operations = re.search(r"API Operations:\s+(\d+)\s+selected", output)
    print(f"\n{'operations':>10} {'examples':>9} {'scenarios':>10} {'exit':>5} {'timeouts':>9} {'wall s':>8}")
    print(f"{operations.group(1) if operations else '?':>10} {args.examples:>9} {cases:>10} {code:>5} "
          f"{timeouts:>9} {wall:>8.1f}")
    if overran:
        print(f"# the run overran its budget of {args.budget:g} s")
    return 0 if code == 0 and not overran else 1


def _events(path: Path) -> list[dict]:
    found = []
    for line in path.read_text().splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


if __name__ == "__main__":
    sys.exit(main())
