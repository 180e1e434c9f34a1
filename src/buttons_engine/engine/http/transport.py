"""The transport of one hop: the press deadline on every socket operation, and a connection
pool that can only reach the addresses the SSRF check accepted.

httpcore still believes it talks to the URL's host, so TLS SNI, certificate verification and
the Host header use the name while the socket goes to a pinned, checked address. Failures
surface as httpcore exceptions (and ``Cancelled`` for a press ended by its caller); the
errors module maps them.
"""

from __future__ import annotations

import os
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

from .. import ssrf


class Deadline:
    """The press deadline, plus the caller's cancel event (``smash --on-failure stop``)."""

    def __init__(self, seconds: float, cancel: threading.Event | None = None) -> None:
        self.end = time.monotonic() + max(seconds, 0.0)
        self.cancel = cancel

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def clamp(self, timeout: float | None, exc: type[Exception]) -> float:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("cancelled")
        left = self.remaining()
        if left <= 0:
            raise exc("request timed out")
        return left if timeout is None else min(timeout, left)


class Cancelled(Exception):
    """The press was cancelled by its caller while the request was in flight."""


class DeadlineStream(httpcore.NetworkStream):
    """Every socket operation waits at most until the press deadline (headers *and* body).

    Reads wait in short slices so a cancel is noticed while a server is silent; a read that
    times out has consumed nothing, so it can simply be retried until the deadline.
    """

    SLICE = 0.25

    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = self._deadline.clamp(None if end is None else end - time.monotonic(), httpcore.ReadTimeout)
            if left <= 0:
                raise httpcore.ReadTimeout("request timed out")
            step = min(left, self.SLICE) if self._deadline.cancel is not None else left
            try:
                return self._inner.read(max_bytes, step)
            except httpcore.ReadTimeout:
                if step >= left:
                    raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        t = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, t), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class PinnedBackend(httpcore.NetworkBackend):
    """Connects one expected ``host:port`` to its pre-checked addresses; never resolves a name."""

    def __init__(self, host: str, port: int, addresses: list[ssrf.IPAddress], deadline: Deadline) -> None:
        self._host = host
        self._port = port
        self._addresses = addresses
        self._deadline = deadline
        self._system = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if host.lower() != self._host.lower() or port != self._port:
            raise httpcore.ConnectError(f"refusing to connect to unchecked target {host}:{port}")
        shown = f"[{host}]" if ":" in host else host
        failures: list[str] = []
        last: BaseException | None = None
        for ip in self._addresses:
            dial = ssrf.connect_address(ip)
            t = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._system.connect_tcp(str(dial), port, timeout=t, socket_options=socket_options)
            except httpcore.ConnectTimeout:
                raise
            except httpcore.ConnectError as exc:
                last = exc
                failures.append(f"{dial}: {os_reason(origin_of(exc) or exc)}")
                continue
            return DeadlineStream(stream, self._deadline)
        if len(failures) == 1:
            reason = failures[0].split(": ", 1)[1]
            via = "" if str(self._addresses[0]) == host else f" ({self._addresses[0]})"
            if "refused" in reason:
                message = f"connection refused by {shown}:{port}{via}"
            else:
                message = f"cannot connect to {shown}:{port}{via}: {reason}"
        else:
            message = f"cannot connect to {shown}:{port}: " + "; ".join(failures)
        raise httpcore.ConnectError(message) from last

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def origin_of(exc: BaseException) -> BaseException | None:
    """The OS or TLS error behind an httpcore error (httpcore wraps it, and its pool re-raises
    ``from None``, so look at the context and the wrapped argument too)."""
    for candidate in (exc.__cause__, exc.__context__, exc.args[0] if exc.args else None):
        if isinstance(candidate, BaseException):
            return candidate
    return None


def os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        return (exc.strerror or os.strerror(exc.errno)).lower()
    return str(exc) or type(exc).__name__


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class PinnedTransport(httpx.BaseTransport):
    """httpx's HTTPTransport, minus proxies, over a pool that can only reach pinned addresses.

    Called directly (not through an ``httpx.Client``), so what it raises are httpcore's own
    exceptions, unwrapped; the response body stream raises them too.
    """

    def __init__(self, backend: PinnedBackend, ssl_context: ssl.SSLContext | None) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            network_backend=backend,
            max_connections=1,
            max_keepalive_connections=0,
            http1=True,
            http2=False,
            retries=0,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)  # noqa: S101 - built by us from bytes
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        resp = self._pool.handle_request(core)
        assert isinstance(resp.stream, Iterable)  # noqa: S101 - sync pool
        return httpx.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_ResponseStream(resp.stream),
            extensions=resp.extensions,
            request=request,
        )

    def close(self) -> None:
        self._pool.close()
