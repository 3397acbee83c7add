"""Sending one attempt: to the checked address with the URL's Host, no redirects, a deadline,
Retry-After; and Standard Webhooks signatures checked with the PyPI library."""

from __future__ import annotations

import base64
import email.utils
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from support import free_port

from routefarm.webhooks.signing import new_secret, signed_headers
from routefarm.webhooks.ssrf import Target
from routefarm.webhooks.transport import post, retry_after

BODY = b'{"type":"job.succeeded","data":{"id":"x"}}'


def target(port: int, host: str = "hooks.example.test", path: str = "/in?a=1") -> Target:
    """A target whose name is not resolved: the socket goes to the checked 127.0.0.1."""
    return Target(f"http://{host}:{port}{path}", "http", host, port, path, "127.0.0.1")


def test_posts_to_the_checked_address_with_the_urls_host(receivers):
    receiver = receivers()
    port = receiver.server.server_address[1]
    outcome = post(target(port), BODY, {"webhook-id": "msg_1"}, timeout=5)
    assert outcome.ok and outcome.status_code == 200 and outcome.error is None
    [request] = receiver.requests
    assert request.path == "/in?a=1" and request.body == BODY
    assert request.headers["host"] == f"hooks.example.test:{port}"
    assert request.headers["content-type"] == "application/json" and request.headers["webhook-id"] == "msg_1"


def test_redirects_are_not_followed(receivers):
    receiver = receivers(answer=lambda n, r: (302, {"Location": "http://169.254.169.254/"}))
    outcome = post(target(receiver.server.server_address[1]), BODY, {}, timeout=5)
    assert not outcome.ok and outcome.status_code == 302
    assert outcome.error == "redirect not followed (302 to http://169.254.169.254/)"
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(("status", "header", "expected"), [
    (429, "7", 7.0), (503, "120", 120.0), (500, "7", None), (429, None, None)])
def test_retry_after_is_read_from_429_and_503(receivers, status, header, expected):
    headers = {"Retry-After": header} if header else {}
    receiver = receivers(answer=lambda n, r: (status, headers))
    outcome = post(target(receiver.server.server_address[1]), BODY, {}, timeout=5)
    assert outcome.status_code == status and outcome.retry_after == expected
    assert outcome.error.startswith(f"HTTP {status}")


def test_retry_after_as_a_date():
    now = time.time()
    assert retry_after(email.utils.formatdate(now + 60, usegmt=True), now=now) == pytest.approx(60, abs=1)
    assert retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0
    assert retry_after("soon") is None and retry_after(None) is None


def test_a_hanging_receiver_times_out(receivers):
    receiver = receivers(hang=10)
    started = time.monotonic()
    outcome = post(target(receiver.server.server_address[1]), BODY, {}, timeout=0.5)
    assert time.monotonic() - started < 2
    assert outcome.status_code is None and outcome.error == "timed out after 0.5 s"


def test_connection_refused():
    outcome = post(target(free_port()), BODY, {}, timeout=2)
    assert outcome.status_code is None and "refused" in outcome.error.lower()


def test_secrets_are_whsec_and_24_to_64_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_") and 24 <= len(base64.b64decode(secret[6:])) <= 64
    assert new_secret() != secret


def test_signatures_verify_with_every_current_secret():
    old, new, other = new_secret(), new_secret(), new_secret()
    headers = signed_headers("msg_abc", BODY, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2  # one per secret during a rotation
    assert Webhook(new).verify(BODY, headers) == Webhook(old).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(BODY + b" ", headers)
