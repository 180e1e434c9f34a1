"""The one table that turns a failed request into a Buttons error.

The transport is called directly (never through an ``httpx.Client``), so the exceptions that
reach here are: httpcore's own (the pool, the h11 connection and the sync backend map every
``OSError``, ``socket.timeout`` and ``ssl.SSLError`` to ``ConnectError``, ``ConnectTimeout``,
``ReadError``, ``ReadTimeout``, ``WriteError``, ``WriteTimeout``, ``RemoteProtocolError``,
``LocalProtocolError``, ``UnsupportedProtocol``), the SSRF checks' (``AddressBlocked``,
``ResolutionFailed``, ``ResolutionTimeout``), ``transport.Cancelled``, and, from code around
the pool, a bare ``OSError``/``TimeoutError`` or ``ValueError``. httpx's own exception classes
are raised only while building a request, which the plan and the redirect step handle.

Rows are tried in order; the first whose types match builds the error. A ``ButtonsError``
passes through unchanged.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import httpcore
import httpx

from ...errors import ButtonsError, Cancelled, PressTimeout, ScriptError
from .. import ssrf
from .plan import target_of
from .transport import Cancelled as CancelledInFlight
from .transport import origin_of, os_reason


class Failure:
    """Where a failure happened: the URL of the hop and its number (0 for the first request)."""

    def __init__(self, url: httpx.URL, hop: int) -> None:
        self.where = f"redirect #{hop} to {url}: " if hop else ""
        self.target = target_of(url)
        self.hop = hop

    def failed(self, text: str) -> ScriptError:
        return ScriptError(f"request failed: {self.where}{text}")


def _blocked(exc: ssrf.AddressBlocked, at: Failure) -> ButtonsError:
    if at.hop:
        return ScriptError(f"request failed: refusing {at.where}{exc}")
    return ScriptError(
        f"request failed: SSRF blocked: {exc.host} resolves to private address {exc.address} "
        f"({ssrf.OVERRIDE_HINT})"
    )


def _connect(exc: httpcore.ConnectError, at: Failure) -> ButtonsError:
    cause = origin_of(exc)
    if isinstance(cause, ssl.SSLCertVerificationError):
        detail = getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or str(cause)
        return at.failed(f"TLS certificate of {at.target} could not be verified: {detail}")
    if isinstance(cause, ssl.SSLError):
        return at.failed(f"TLS handshake with {at.target} failed: {getattr(cause, 'reason', None) or cause}")
    return at.failed(str(exc))


def _remote_protocol(exc: httpcore.RemoteProtocolError, at: Failure) -> ButtonsError:
    text = str(exc)
    if "disconnected" in text.lower() or "closed" in text.lower():
        return at.failed(f"{at.target} closed the connection without a complete response")
    return at.failed(f"{at.target} sent a response that is not valid HTTP: {text}")


def _broke(while_: str) -> Callable[[Exception, Failure], ButtonsError]:
    def build(exc: Exception, at: Failure) -> ButtonsError:
        return at.failed(
            f"connection to {at.target} broke while {while_}: {os_reason(origin_of(exc) or exc)}"
        )

    return build


# (exception types, builder): the builder gets the exception (of one of the types) and where.
Rule = tuple[tuple[type[BaseException], ...], Callable[[Any, Failure], ButtonsError]]

RULES: tuple[Rule, ...] = (
    ((ButtonsError,), lambda exc, at: exc),
    ((CancelledInFlight,), lambda exc, at: Cancelled("cancelled: the press was ended before it finished")),
    # Before OSError: TimeoutError (socket.timeout) is one.
    (
        (httpcore.TimeoutException, ssrf.ResolutionTimeout, TimeoutError),
        lambda exc, at: PressTimeout("request timed out"),
    ),
    ((ssrf.AddressBlocked,), _blocked),
    ((ssrf.ResolutionFailed,), lambda exc, at: at.failed(str(exc))),
    ((httpcore.ConnectError,), _connect),
    ((httpcore.RemoteProtocolError,), _remote_protocol),
    ((httpcore.LocalProtocolError,), lambda exc, at: at.failed(f"the request could not be sent: {exc}")),
    ((httpcore.ReadError,), _broke("reading the response")),
    ((httpcore.WriteError,), _broke("sending the request")),
    ((httpcore.NetworkError, OSError), lambda exc, at: at.failed(f"{at.target}: {os_reason(exc)}")),
    ((httpcore.UnsupportedProtocol, ValueError), lambda exc, at: at.failed(str(exc))),
)


def translate(exc: Exception, url: httpx.URL, hop: int) -> ButtonsError:
    """The Buttons error for ``exc``, raised while requesting ``url`` (hop ``hop``)."""
    at = Failure(url, hop)
    for types, build in RULES:
        if isinstance(exc, types):
            return build(exc, at)
    return at.failed(f"{type(exc).__name__}: {exc}")
