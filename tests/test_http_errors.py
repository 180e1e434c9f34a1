"""The one table from transport failures to Buttons errors (engine/http/errors.py), in-process.

The end-to-end tests (test_http_limits, test_http_tls, test_http_ssrf) reach most rows through a
real server; here each row is held to its type and message, including the order that matters
(``TimeoutError`` is an ``OSError``; an ``ssl`` error hides behind httpcore's ``ConnectError``).
"""

from __future__ import annotations

import errno
import ipaddress
import ssl

import httpcore
import httpx
import pytest

from buttons_engine.engine import ssrf
from buttons_engine.engine.http import errors, transport
from buttons_engine.errors import Cancelled, PressTimeout, ScriptError, ValidationError

URL = httpx.URL("https://api.test/x")


def _wrapped(outer: Exception, cause: BaseException) -> Exception:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "kind", "message"),
    [
        (httpcore.ReadTimeout("x"), PressTimeout, "request timed out"),
        (TimeoutError("x"), PressTimeout, "request timed out"),  # before the OSError row
        (ssrf.ResolutionTimeout("x"), PressTimeout, "request timed out"),
        (transport.Cancelled("x"), Cancelled, "cancelled: the press was ended before it finished"),
        (
            ssrf.AddressBlocked("api.test", ipaddress.ip_address("10.0.0.1"), "private", literal=False),
            ScriptError,
            "request failed: SSRF blocked: api.test resolves to private address 10.0.0.1 (set",
        ),
        (
            ssrf.ResolutionFailed("cannot resolve host api.test: nope"),
            ScriptError,
            "request failed: cannot resolve",
        ),
        (
            _wrapped(httpcore.ConnectError("x"), ssl.SSLCertVerificationError(1, "bad cert")),
            ScriptError,
            "request failed: TLS certificate of api.test:443 could not be verified: ",
        ),
        (
            _wrapped(httpcore.ConnectError("x"), ssl.SSLError(1, "handshake")),
            ScriptError,
            "request failed: TLS handshake with api.test:443 failed: ",
        ),
        (
            httpcore.ConnectError("connection refused by api.test:443"),
            ScriptError,
            "request failed: connection refused",
        ),
        (
            httpcore.RemoteProtocolError("Server disconnected without sending a response."),
            ScriptError,
            "request failed: api.test:443 closed the connection without a complete response",
        ),
        (
            httpcore.RemoteProtocolError("illegal status line"),
            ScriptError,
            "request failed: api.test:443 sent a response that is not valid HTTP: illegal status line",
        ),
        (
            httpcore.LocalProtocolError("bad"),
            ScriptError,
            "request failed: the request could not be sent: bad",
        ),
        (
            _wrapped(
                httpcore.ReadError("x"), ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
            ),
            ScriptError,
            "request failed: connection to api.test:443 broke while reading the response: "
            "connection reset by peer",
        ),
        (
            _wrapped(httpcore.WriteError("x"), BrokenPipeError(errno.EPIPE, "Broken pipe")),
            ScriptError,
            "request failed: connection to api.test:443 broke while sending the request: broken pipe",
        ),
        (
            OSError(errno.ENETUNREACH, "Network is unreachable"),
            ScriptError,
            "request failed: api.test:443: network",
        ),
        (ValueError("odd"), ScriptError, "request failed: odd"),
        (RuntimeError("boom"), ScriptError, "request failed: RuntimeError: boom"),  # no row: the fallback
    ],
)
def test_each_failure_maps_to_one_error(exc: Exception, kind: type, message: str) -> None:
    err = errors.translate(exc, URL, 0)
    assert type(err) is kind
    assert err.message.startswith(message), err.message


def test_a_buttons_error_passes_through_and_hops_are_named() -> None:
    original = ValidationError("refusing request: x")
    assert errors.translate(original, URL, 0) is original
    err = errors.translate(httpcore.LocalProtocolError("bad"), httpx.URL("https://api.test/next"), 2)
    assert (
        err.message
        == "request failed: redirect #2 to https://api.test/next: the request could not be sent: bad"
    )


def test_the_table_checks_httpcore_classes_only() -> None:
    """httpx's exception classes cannot reach the table (the transport is called directly)."""
    for types, _build in errors.RULES:
        for t in types:
            assert not t.__module__.startswith("httpx"), t
