"""The chaos run's load generator: jobs submitted over time, retried on 503 with the same
Idempotency-Key."""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field

from pipeline_support import (
    Api,
    random_problem,
)

TERMINAL = ("succeeded", "failed", "cancelled")
LOAD_SECONDS = 40.0  # submissions are spread over this time
SUBMIT_PATIENCE = 60.0  # seconds one submission keeps being retried (same Idempotency-Key)


@dataclass
class Client:
    name: str
    client_id: str
    key: str
    shard: str
    hook_url: str = ""  # the client's webhook endpoint (every job event)
    secret: str = ""  # the endpoint's signing secret
    oneoff_secret: str = ""  # the client's secret, signing its jobs' one-off targets


@dataclass
class Submission:
    client: Client
    idempotency_key: str
    job_id: str | None = None
    tries: int = 0
    answers: list = field(default_factory=list)  # every status (or error) answered, in order
    oneoff: bool = False  # with a one-off webhook target besides the client's endpoint
    cancel: bool = False  # cancelled (DELETE) right after it is accepted
    cancel_answers: list = field(default_factory=list)


class Load(threading.Thread):
    """One client's submissions, paced over the run. A 503 (its shard cut) or a refused
    connection is retried with the same body and Idempotency-Key; only a 202 counts."""

    def __init__(
        self,
        api: Api,
        client: Client,
        count: int,
        first_at: float,
        interval: float,
        seed: int,
        oneoff_url: str,
    ):
        super().__init__(name=f"load-{client.name}", daemon=True)
        self.api, self.client, self.count = api, client, count
        self.first_at, self.interval = first_at, interval
        self.rng = random.Random(seed)
        self.oneoff_url = oneoff_url
        self.submissions: list[Submission] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        for n in range(self.count):
            wait = self.first_at + n * self.interval - time.monotonic()
            if self.stopping.wait(max(0.0, wait)):
                return
            submission = Submission(
                self.client, str(uuid.uuid4()), oneoff=n % 4 == 1, cancel=n % 10 == 3
            )
            self.submissions.append(submission)
            body = {
                "problem": random_problem(
                    self.rng,
                    stops=self.rng.randint(4, 20),
                    time_limit=self.rng.choice((0.2, 0.3, 0.5, 0.8, 1.0)),
                ),
                "metadata": {"chaos": self.client.name, "n": n},
            }
            if submission.oneoff:
                body["webhook"] = {"url": self.oneoff_url}
            self._submit(submission, body)
            if submission.cancel and submission.job_id:
                self._cancel(submission)

    def _submit(self, submission: Submission, body: dict) -> None:
        headers = {"Idempotency-Key": submission.idempotency_key}
        deadline = time.monotonic() + SUBMIT_PATIENCE
        while time.monotonic() < deadline and not self.stopping.is_set():
            submission.tries += 1
            response = self._call("POST", "/v1/jobs", body, headers)
            submission.answers.append(response.status if response else "error")
            if response is not None and response.status == 202:
                submission.job_id = response.body["id"]
                return
            if response is not None and response.status != 503:
                return  # refused for good: not accepted (the audit reports it)
            time.sleep(_retry_after(response))

    def _cancel(self, submission: Submission) -> None:
        deadline = time.monotonic() + SUBMIT_PATIENCE
        while time.monotonic() < deadline and not self.stopping.is_set():
            response = self._call("DELETE", f"/v1/jobs/{submission.job_id}")
            submission.cancel_answers.append(response.status if response else "error")
            if response is not None and response.status != 503:
                return
            time.sleep(_retry_after(response))

    def _call(self, method: str, path: str, body=None, headers=None):
        try:
            return self.api.call(method, path, self.client.key, body, headers=headers, timeout=10)
        except OSError:
            return None


def _retry_after(response) -> float:
    """What the answer's Retry-After asks, within [0.2, 1] s (the load keeps its pace)."""
    try:
        asked = float(response.headers.get("retry-after", 1)) if response is not None else 0.5
    except ValueError:
        asked = 1.0
    return min(1.0, max(0.2, asked))


# -- faults ---------------------------------------------------------------------------------
