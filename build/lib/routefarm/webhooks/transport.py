"""One HTTP POST to a webhook target: to the address the SSRF guard checked, within a deadline.

The socket connects to ``Target.address``; the Host header and the TLS server name (SNI and
certificate check) are the URL's host. Redirects are never followed (a 3xx is a failure),
no proxy is used, and the whole exchange (connect, send, status line and headers; the
response body is not read) must fit in the timeout, which a watchdog enforces.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from .ssrf import Target

USER_AGENT = "routefarm-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None  # None when no HTTP answer came
    latency: float  # seconds
    error: str | None  # why it failed (None on a 2xx)
    retry_after: float | None = None  # seconds, from a 429 or 503

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        return remaining


def _connect(target: Target, deadline: _Deadline) -> socket.socket:
    sock = socket.create_connection((target.address, target.port), timeout=deadline.left())
    if target.scheme != "https":
        return sock
    context = ssl.create_default_context()
    sock.settimeout(deadline.left())
    try:
        return context.wrap_socket(sock, server_hostname=target.host)
    except BaseException:
        sock.close()
        raise


class _Connection(http.client.HTTPConnection):
    """http.client over a socket we opened ourselves (to the checked address), shut down by a
    watchdog when the deadline passes (a receiver dripping bytes cannot hold it longer)."""

    def __init__(self, target: Target, deadline: _Deadline):
        super().__init__(target.host, target.port, timeout=deadline.left())
        self._target, self._deadline = target, deadline
        self.expired = threading.Event()
        self._watchdog: threading.Timer | None = None

    def connect(self) -> None:
        self.sock = sock = _connect(self._target, self._deadline)
        self._watchdog = threading.Timer(self._deadline.left(), self._expire, [sock])
        self._watchdog.daemon = True
        self._watchdog.start()

    def _expire(self, sock: socket.socket) -> None:
        self.expired.set()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        super().close()


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = datetime.fromtimestamp(now, UTC) if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST ``body`` to ``target``; never raises for network trouble (it is the outcome).
    Only the status line and headers are read: the response body does not matter."""
    started = time.monotonic()
    deadline = _Deadline(timeout)
    conn = None
    try:
        conn = _Connection(target, deadline)
        host = f"[{target.host}]" if ":" in target.host else target.host
        default_port = 443 if target.scheme == "https" else 80
        sent = {"Host": host if target.port == default_port else f"{host}:{target.port}",
                "User-Agent": USER_AGENT, "Content-Type": "application/json",
                "Content-Length": str(len(body)), "Connection": "close", **headers}
        conn.putrequest("POST", target.path, skip_host=True, skip_accept_encoding=True)
        for name, value in sent.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        status = response.status
        latency = time.monotonic() - started
        if 200 <= status < 300:
            return Outcome(status, latency, None)
        wait = retry_after(response.getheader("Retry-After")) if status in (429, 503) else None
        if 300 <= status < 400:
            error = f"redirect not followed ({status} to {response.getheader('Location', '?')})"
        else:
            error = f"HTTP {status} {response.reason}".rstrip()
        return Outcome(status, latency, error, wait)
    except (OSError, http.client.HTTPException) as exc:
        elapsed = time.monotonic() - started
        if isinstance(exc, TimeoutError) or (conn is not None and conn.expired.is_set()):
            return Outcome(None, elapsed, f"timed out after {timeout:g} s")
        if isinstance(exc, ssl.SSLError):
            return Outcome(None, elapsed, f"TLS error: {exc.reason or exc}")
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        return Outcome(None, elapsed, f"{type(exc).__name__}: {detail}")
    finally:
        if conn is not None:
            conn.close()
