"""Logs: one JSON object per line from every process; a job's lines carry its job id, client
id, shard, attempt and the request id that created it; API keys never appear."""

from __future__ import annotations

import http.client
import json
import time

from support import SMALL_PROBLEM


def lines(path) -> list[dict]:
    out = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if raw.strip():
            out.append(json.loads(raw))  # every line is one JSON object
    return out


def test_job_lines_carry_their_context_and_never_a_key(processes, client_factory, farm, tmp_path):
    processes.web()
    processes.worker()
    processes.stream()
    client_id, key = client_factory("logs")
    conn = http.client.HTTPConnection("127.0.0.1", processes.port, timeout=30)
    conn.request("POST", "/v1/jobs", body=json.dumps({"problem": SMALL_PROBLEM}),
                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                          "X-Request-ID": "req-logs-1"})
    job = json.loads(conn.getresponse().read())
    conn.request("GET", f"/v1/jobs/{job['id']}?wait=30", headers={"Authorization": f"Bearer {key}"})
    assert json.loads(conn.getresponse().read())["status"] == "succeeded"
    conn.close()
    time.sleep(1.5)  # the stream's first reaper pass, the worker's last lines
    processes.stop_all()

    worker = [e for e in lines(tmp_path / "worker.log") if e.get("job_id") == job["id"]]
    assert {e["message"] for e in worker} >= {"solving", "job succeeded"}
    for entry in worker:
        assert entry["client_id"] == client_id and entry["process"] == "worker"
        assert entry["shard"] == farm.directory.shard_of(client_id)
        if entry["message"] != "job not claimable (already taken, ended or cancelled)":
            assert entry["attempt"] == "1" and entry["request_id"] == "req-logs-1"
    for name in ("web", "worker", "stream"):
        text = (tmp_path / f"{name}.log").read_text()
        assert key not in text
        assert lines(tmp_path / f"{name}.log"), name
