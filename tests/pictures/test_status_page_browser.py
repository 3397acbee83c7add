"""The status page in headless Chromium (Debian's ``chromium``) against a real gunicorn.

The key reaches the page in the URL fragment (``/#key=...``), which the browser never sends
to a server; the page moves it into sessionStorage. Without Chromium the test skips on a
laptop and fails under CI=true.
"""

import json
import os
import re
import shutil
import subprocess
import urllib.request

import pytest
from picture_support import MATRIX_PROBLEM
from support import finish_job

from optimizer import parse_problem
from optimizer.engines import engine

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def post_job(base: str, key: str, metadata: dict) -> str:
    body = json.dumps({"problem": MATRIX_PROBLEM, "metadata": metadata}).encode()
    request = urllib.request.Request(f"{base}/v1/jobs", data=body, method="POST", headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["id"]


def dump_dom(browser: str, url: str, profile) -> str:
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_page_lists_the_clients_jobs_and_the_queue_depth(processes, farm, client_factory, tmp_path):
    browser = chromium()
    processes.web()
    client_id, key = client_factory("page")
    jobs = [post_job(processes.url, key, {"n": n}) for n in range(3)]
    finish_job(farm, client_id, jobs[0], engine("ortools").solve(parse_problem(MATRIX_PROBLEM)).to_json_dict())
    _, other_key = client_factory("other")
    foreign = post_job(processes.url, other_key, {})

    dom = dump_dom(browser, f"{processes.url}/#key={key}", tmp_path / "profile")

    rows = re.findall(r'<tr class="job (\w+)" data-job-id="([0-9a-f-]+)">', dom)
    statuses = {job_id: status for status, job_id in rows}
    assert set(statuses) == set(jobs), dom[-3000:]
    assert foreign not in dom
    assert statuses[jobs[0]] == "succeeded" and statuses[jobs[1]] == "queued"
    row = re.search(rf'data-job-id="{jobs[0]}">(.*?)</tr>', dom).group(1)
    assert 'class="routes"' in row  # the solved job opens its picture
    depth = re.search(r'<dd id="queue-depth"[^>]*>([^<]*)</dd>', dom).group(1)
    assert depth == "4"  # four solve messages wait: no worker runs here
    assert re.search(r'<dd id="workers"[^>]*>0 running</dd>', dom)  # no worker, no autoscaler here
    assert re.search(r'<dd id="kafka-lag" class="na">not available</dd>', dom)
    assert re.search(r'<dd id="jobs-per-s"[^>]*>0.00 jobs/s</dd>', dom)
    assert re.search(r'<section id="login" hidden="">', dom)  # the key was taken, no prompt


def test_without_a_key_the_page_asks_for_one(processes, tmp_path):
    browser = chromium()
    processes.web()
    dom = dump_dom(browser, f"{processes.url}/", tmp_path / "profile")
    assert re.search(r'<section id="login">', dom), dom[-2000:]
    assert re.search(r'<main id="main" hidden="">', dom)
