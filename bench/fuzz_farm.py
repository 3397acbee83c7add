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
        time.sleep(5)  # the last jobs the fuzzer submitted are solved
        solved = {}
        for status in ("succeeded", "queued", "running", "failed", "cancelled"):
            _, page = _farm.api_request(state["api_url"], state["api_key"], "GET", f"/v1/jobs?status={status}&limit=100")
            solved[status] = len(page.get("jobs", [])) if isinstance(page, dict) else 0
            if status == "failed":
                reasons = [json.dumps(j.get("error"))[:300] for j in page.get("jobs", [])]
                _keep_problems(state, [j["id"] for j in page.get("jobs", [])], farm.data)
    finally:
        farm.stop(keep=args.keep)

    summary = output[output.rfind("SUMMARY"):] if "SUMMARY" in output else output[-3000:]
    print(summary.strip())
    timeouts = len(re.findall(r"(?i)timed? ?out", summary))
    operations = re.search(r"Tested:\s+(\d+)", summary)
    cases = re.search(r"(\d+) generated, (\d+) passed", summary)
    failed = re.search(r"(\d+) failed", summary)
    print(f"\n{'operations':>10} {'examples':>9} {'cases':>7} {'passed':>7} {'failed':>7} {'timeouts':>9} "
          f"{'exit':>5} {'wall s':>8}")
    print(f"{operations.group(1) if operations else '?':>10} {args.examples:>9} "
          f"{cases.group(1) if cases else '?':>7} {cases.group(2) if cases else '?':>7} "
          f"{failed.group(1) if failed else 0:>7} {timeouts:>9} {code:>5} {wall:>8.1f}")
    print("# the fuzzer's jobs by status (up to 100 each): "
          + ", ".join(f"{k} {v}" for k, v in solved.items()))
    for reason in reasons:
        print(f"# failed: {reason}")
    if overran:
        print(f"# the run overran its budget of {args.budget:g} s")
    return 0 if code == 0 and not overran else 1


def _keep_problems(state: dict, job_ids: list[str], folder: Path) -> None:
    """Write each failed job's problem to ``folder`` (kept with --keep), to reproduce it."""
    import psycopg

    for url in state["shard_urls"]:
        with psycopg.connect(url) as conn:
            for job_id, problem in conn.execute("SELECT id, problem FROM jobs WHERE id = ANY(%s::uuid[])",
                                                (job_ids,)).fetchall():
                path = folder / f"failed-{job_id}.json"
                path.write_text(json.dumps(problem))
                print(f"# failed job's problem: {path}")


if __name__ == "__main__":
    sys.exit(main())
