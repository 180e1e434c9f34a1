"""The HTTP runner: one templated request, dispatched safely (CONTRACT 7.4, DEVIATIONS D4).

Imported only when an HTTP button is pressed (``pipeline.runner_for``), so code buttons never
pay for httpx. Steps of a press::

    build   template URL and body (engine.http_template), fixed headers, httpx.Request
    check   scheme, no userinfo, host lock (allowed_host), literal address vs blocklist
            -> VALIDATION_ERROR "refusing request: ..." before any connection
    send    per hop (at most 10 redirects, every hop re-checked against lock and blocklist):
            resolve the name once, check every A/AAAA answer (engine.ssrf), connect to a
            checked address through a pinned httpcore backend; TLS SNI, certificate checks
            and the Host header keep using the name; a hop to another origin (only possible
            with allowed_host "*") loses Authorization, Proxy-Authorization and Cookie
    read    stream the body through the press's masking filter (batteries), keep the
            first max_response_bytes of what it lets out, mark truncation, stop reading

Every foreign error (httpcore, httpx, ssl, socket) is translated in :func:`_translate`, the one
place where transport failures become Buttons error codes.
"""

from __future__ import annotations

import os
import re
import ssl
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpcore
import httpx

from ... import __version__
from ...errors import ButtonsError, Cancelled, PressTimeout, ScriptError, ValidationError
from .. import http_template as tpl
from .. import ssrf
from ..outcome import Invocation, Outcome

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ...spec import ButtonSpec
    from ..capture import ChunkFilter

MAX_REDIRECTS = 10
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = f"buttons/{__version__}"
DEFAULT_PORTS = {"http": 80, "https": 443}


class HttpPolicy:
    """What the environment allows; read once per press."""

    def __init__(self, *, allow_private: bool, allow_any_host: bool, resolver: ssrf.Resolver) -> None:
        self.allow_private = allow_private
        self.allow_any_host = allow_any_host
        self.resolver = resolver

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> HttpPolicy:
        env = os.environ if environ is None else environ
        return cls(
            allow_private=env.get(ssrf.ALLOW_PRIVATE_ENV) == "1",
            allow_any_host=env.get(ssrf.ALLOW_ANY_HOST_ENV) == "1",
            resolver=ssrf.resolver_from_env(env),
        )


# ----------------------------------------------------------------------------- plan


class _Lock:
    """The locked ``host[:port]``; ``any_host`` for ``allowed_host: "*"``."""

    def __init__(self, text: str, host: str = "", port: int | None = None, any_host: bool = False) -> None:
        self.text = text
        self.host = host
        self.port = port
        self.any_host = any_host

    def admits(self, url: httpx.URL) -> bool:
        if self.any_host:
            return True
        if url.raw_host.decode("ascii", "replace").lower() != self.host:
            return False
        if self.port is not None:
            return (url.port or DEFAULT_PORTS.get(url.scheme, 0)) == self.port
        return url.port is None  # the default port of the URL's own scheme


class RequestPlan:
    def __init__(
        self,
        request: httpx.Request,
        lock: _Lock | None,
        allow_private: bool,
        cap: int,
        refusal: str | None,
    ) -> None:
        self.request = request
        self.lock = lock
        self.allow_private = allow_private
        self.cap = cap
        self.refusal = refusal


def response_cap(spec: ButtonSpec) -> int:
    value = spec.max_response_bytes
    if value > 0:
        return min(value, tpl.MAX_RESPONSE_BYTES_CEILING)
    return tpl.DEFAULT_MAX_RESPONSE_BYTES


def _headers(spec: ButtonSpec) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in spec.headers.items():
        if name.strip().lower() in tpl.MANAGED_HEADERS:
            continue  # Host and framing headers come from the URL and body, as upstream does
        problem = tpl.header_problem(name, value)
        if problem:  # create refuses these; button.json was edited by hand
            raise ValidationError(f"refusing request: header {name!r} {problem}")
        out.append((name, value))
    if not any(n.lower() == "user-agent" for n, _ in out):
        out.append(("User-Agent", USER_AGENT))
    return out


def build_plan(spec: ButtonSpec, args: Mapping[str, str], policy: HttpPolicy) -> RequestPlan:
    """Template the request and run every check that needs no network.

    Raises ``ValidationError`` only when no request can even be built; a request that can be
    built but must not be sent carries its reason in ``refusal``.
    """
    template = spec.url
    method = spec.method
    headers = _headers(spec)
    body_template = spec.body
    header_map = {n: v for n, v in headers}
    body = tpl.render_body(body_template, header_map, args).encode("utf-8") if body_template else b""
    url_text = _canonical_dotted(tpl.render_url(template, args))
    try:
        request = httpx.Request(method, url_text, headers=headers, content=body or None)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError) as exc:
        raise ValidationError(f"refusing request: invalid URL {url_text!r}: {exc}") from None
    allow_private = spec.allow_private_networks or policy.allow_private
    lock: _Lock | None = None
    try:
        lock = _lock_for(spec, template, policy)
        _check_first(template, request.url, lock, allow_private)
        refusal = None
    except ValidationError as exc:
        refusal = exc.message
    return RequestPlan(request, lock, allow_private, response_cap(spec), refusal)


_DOTTED_QUAD = re.compile(r"^(\w+://)(\d+\.\d+\.\d+\.\d+)(?=[:/?#]|$)")


def _canonical_dotted(url: str) -> str:
    """Rewrite a dotted quad with leading zeros (octal to a resolver: ``0177.0.0.1``) to the
    address it denotes, which httpx would otherwise reject; other numeric forms pass as is."""
    m = _DOTTED_QUAD.match(url)
    if m is None:
        return url
    ip = ssrf.parse_loose_ipv4(m.group(2))
    if ip is None or str(ip) == m.group(2):
        return url
    return m.group(1) + str(ip) + url[m.end() :]


def _lock_for(spec: ButtonSpec, template: str, policy: HttpPolicy) -> _Lock:
    text = spec.allowed_host.strip().lower() or tpl.authority_of(template).lower()
    if not text:
        raise ValidationError("refusing request: button is missing allowed_host (recreate it with --url)")
    if text == "*":
        if not policy.allow_any_host:
            raise ValidationError(
                'refusing request: allowed_host is "*" (any host), which needs BUTTONS_ALLOW_ANY_HOST=1'
            )
        return _Lock(text, any_host=True)
    scheme = tpl.scheme_of(template) or "https"
    try:
        parsed = httpx.URL(_canonical_dotted(f"{scheme}://{text}/"))
    except (httpx.InvalidURL, ValueError):
        raise ValidationError(f"refusing request: allowed_host {text!r} is not host[:port]") from None
    if parsed.raw_path != b"/" or parsed.userinfo or not parsed.raw_host:
        raise ValidationError(f"refusing request: allowed_host {text!r} is not host[:port]")
    return _Lock(text, parsed.raw_host.decode("ascii", "replace").lower(), parsed.port)


def _check_first(template: str, url: httpx.URL, lock: _Lock, allow_private: bool) -> None:
    prefix, _ = tpl.split_prefix(template)
    if "{{" in prefix or "}}" in prefix:
        raise ValidationError("refusing request: {{...}} placeholders are not allowed in the scheme or host")
    reason = _target_problem(url, lock)
    if reason:
        raise ValidationError(f"refusing request: {reason}")
    try:
        ssrf.check_literal(_host(url), allow_private=allow_private)
    except ssrf.AddressBlocked as exc:
        raise ValidationError(f"refusing request: {_literal_message(exc)}") from None


def _target_problem(url: httpx.URL, lock: _Lock) -> str | None:
    if url.scheme not in DEFAULT_PORTS:
        return f"scheme {url.scheme!r} is not http or https"
    if url.userinfo:
        return "URL must not contain user:password@"
    if not url.raw_host:
        return "URL has no host"
    if not lock.admits(url):
        return f"host {_authority(url)} is not the button's locked host {lock.text}"
    return None


def _literal_message(exc: ssrf.AddressBlocked) -> str:
    shown = exc.host if exc.host == str(exc.address) else f"{exc.host} ({exc.address})"
    if exc.label == "loopback name":
        return f"{exc.host} resolves to a blocked private range (loopback; {ssrf.OVERRIDE_HINT})"
    return f"{shown} resolves to a blocked private range ({exc.label}; {ssrf.OVERRIDE_HINT})"


_FRAMING_HEADERS = (b"host", b"content-length", b"transfer-encoding")
CREDENTIAL_HEADERS = (b"authorization", b"proxy-authorization", b"cookie")


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Same scheme, host and (effective) port."""
    return a.scheme == b.scheme and _host(a).lower() == _host(b).lower() and _port(a) == _port(b)


def _host(url: httpx.URL) -> str:
    return url.raw_host.decode("ascii", "replace")


def _port(url: httpx.URL) -> int:
    return url.port or DEFAULT_PORTS.get(url.scheme, 0)


def _authority(url: httpx.URL) -> str:
    host = _host(url)
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{url.port}" if url.port else shown


def _target(url: httpx.URL) -> str:
    host = _host(url)
    return f"{f'[{host}]' if ':' in host else host}:{_port(url)}"


# ----------------------------------------------------------------------------- dry run


def dry_run_view(spec: ButtonSpec, args: Mapping[str, str]) -> dict[str, Any]:
    """The exact request a press would send: method, URL, headers (as sent) and body."""
    policy = HttpPolicy.from_environ()
    try:
        plan = build_plan(spec, args, policy)
    except ValidationError as exc:
        return {
            "url": tpl.render_url(spec.url, args),
            "method": spec.method,
            "refused": exc.message.removeprefix("refusing request: "),
        }
    req = plan.request
    view: dict[str, Any] = {
        "url": str(req.url),
        "method": req.method,
        "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in req.headers.raw},
        "body": req.content.decode("utf-8", "replace"),
        "max_response_bytes": plan.cap,
    }
    if plan.refusal:
        view["refused"] = plan.refusal.removeprefix("refusing request: ")
    return view


# ----------------------------------------------------------------------------- transport


class _Deadline:
    """The press deadline, plus the caller's cancel event (``smash --on-failure stop``)."""

    def __init__(self, seconds: float, cancel: threading.Event | None = None) -> None:
        self.end = time.monotonic() + max(seconds, 0.0)
        self.cancel = cancel

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def clamp(self, timeout: float | None, exc: type[Exception]) -> float:
        if self.cancel is not None and self.cancel.is_set():
            raise _Cancelled("cancelled")
        left = self.remaining()
        if left <= 0:
            raise exc("request timed out")
        return left if timeout is None else min(timeout, left)


class _Cancelled(Exception):
    """The press was cancelled by its caller while the request was in flight."""


class _DeadlineStream(httpcore.NetworkStream):
    """Every socket operation waits at most until the press deadline (headers *and* body).

    Reads wait in short slices so a cancel is noticed while a server is silent; a read that
    times out has consumed nothing, so it can simply be retried until the deadline.
    """

    SLICE = 0.25

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
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
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, t), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects one expected ``host:port`` to its pre-checked addresses; never resolves a name.

    httpcore still believes it talks to ``host``, so TLS SNI, certificate verification and the
    Host header use the name while the socket goes to an address the SSRF check accepted.
    """

    def __init__(self, host: str, port: int, addresses: list[ssrf.IPAddress], deadline: _Deadline) -> None:
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
                failures.append(f"{dial}: {_os_reason(_origin_of(exc) or exc)}")
                continue
            return _DeadlineStream(stream, self._deadline)
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


def _os_reason(exc: BaseException) -> str:
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


class _PinnedTransport(httpx.BaseTransport):
    """httpx's HTTPTransport, minus proxies, over a pool that can only reach pinned addresses."""

    def __init__(self, backend: _PinnedBackend, ssl_context: ssl.SSLContext | None) -> None:
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


# ----------------------------------------------------------------------------- runner


class HttpRunner:
    def __init__(self, policy: HttpPolicy | None = None) -> None:
        self._policy = policy

    def run(self, inv: Invocation) -> Outcome:
        policy = self._policy or HttpPolicy.from_environ()
        deadline = _Deadline(inv.timeout, inv.cancel)
        try:
            plan = build_plan(inv.spec, inv.args, policy)
            if plan.refusal:
                raise ValidationError(plan.refusal)
            return _Press(plan, policy, deadline, inv.filter_factory()).run()
        except ButtonsError as exc:
            return _failure(exc)


def _failure(exc: ButtonsError) -> Outcome:
    return Outcome.failure(exc)


class _Press:
    def __init__(
        self,
        plan: RequestPlan,
        policy: HttpPolicy,
        deadline: _Deadline,
        chunk_filter: ChunkFilter | None = None,
    ) -> None:
        self.plan = plan
        self.policy = policy
        self.deadline = deadline
        # Secret masking (the pipeline's MaskingFilter when the press has batteries): the body
        # goes through it *before* the cap, so a value straddling the cap is never cut in half.
        self.chunk_filter = chunk_filter
        # One answer per name for the whole press: a same-host redirect cannot be rebound.
        self.pins: dict[tuple[str, int], list[ssrf.IPAddress]] = {}
        self._ssl: ssl.SSLContext | None = None

    def run(self) -> Outcome:
        request = self.plan.request
        hop = 0
        while True:
            transport = self._transport_for(request, hop)
            try:
                try:
                    response = transport.handle_request(self._with_timeouts(request))
                except Exception as exc:
                    raise _translate(exc, request.url, hop) from None
                if response.status_code in REDIRECT_CODES and "location" in response.headers:
                    response.close()
                    hop += 1
                    if hop > MAX_REDIRECTS:
                        raise ScriptError(f"request failed: stopped after {MAX_REDIRECTS} redirects")
                    request = self._follow(request, response, hop)
                    continue
                return self._read(response)
            finally:
                transport.close()

    # -- per hop ----------------------------------------------------------------

    def _transport_for(self, request: httpx.Request, hop: int) -> _PinnedTransport:
        url = request.url
        host, port = _host(url), _port(url)
        try:
            literal = ssrf.check_literal(host, allow_private=self.plan.allow_private)
            if literal is not None:
                addresses = [literal]
            else:
                key = (host.lower(), port)
                if key not in self.pins:
                    self.pins[key] = ssrf.resolve_checked(
                        host,
                        port,
                        self.policy.resolver,
                        allow_private=self.plan.allow_private,
                        timeout=max(self.deadline.remaining(), 0.0),
                    )
                addresses = self.pins[key]
        except Exception as exc:
            raise _translate(exc, url, hop) from None
        backend = _PinnedBackend(host, port, addresses, self.deadline)
        return _PinnedTransport(backend, self._ssl_context() if url.scheme == "https" else None)

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        return self._ssl

    def _with_timeouts(self, request: httpx.Request) -> httpx.Request:
        left = max(self.deadline.remaining(), 0.001)
        request.extensions["timeout"] = {"connect": left, "read": left, "write": left, "pool": left}
        return request

    def _follow(self, request: httpx.Request, response: httpx.Response, hop: int) -> httpx.Request:
        location = response.headers["location"]
        try:
            url = request.url.join(location).copy_with(fragment=None)
        except (httpx.InvalidURL, ValueError) as exc:
            raise ScriptError(
                f"request failed: redirect #{hop} has an invalid Location {location!r}: {exc}"
            ) from None

        def refuse(reason: str) -> ScriptError:
            return ScriptError(f"request failed: refusing redirect #{hop} to {url}: {reason}")

        assert self.plan.lock is not None  # noqa: S101 - a refused plan never gets here
        problem = _target_problem(url, self.plan.lock)
        if problem:
            raise refuse(problem)
        if request.url.scheme == "https" and url.scheme == "http":
            raise refuse("downgrade from https to http")
        try:
            ssrf.check_literal(_host(url), allow_private=self.plan.allow_private)
        except ssrf.AddressBlocked as exc:
            raise refuse(_literal_message(exc)) from None

        method, content = request.method, request.content
        if response.status_code in (301, 302, 303) and method not in ("GET", "HEAD"):
            method, content = "GET", b""
        # Credentials are for the origin they were given for: a hop to another scheme, host or
        # port (possible only with allowed_host "*") does not get them, as in curl and httpx.
        # Once dropped they stay dropped, also if a later hop comes back.
        dropped = _FRAMING_HEADERS if same_origin(request.url, url) else _FRAMING_HEADERS + CREDENTIAL_HEADERS
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in request.headers.raw
            if k.lower() not in dropped
        ]
        return httpx.Request(method, url, headers=headers, content=content or None)

    # -- response ---------------------------------------------------------------

    def _read(self, response: httpx.Response) -> Outcome:
        """Keep the first ``cap`` bytes of the (masked) body.

        The cap applies to what the filter lets out: the filter emits only bytes that can no
        longer become part of a secret, so cutting its output leaves no partial value behind.
        """
        cap = self.plan.cap
        flt = self.chunk_filter
        body = bytearray()
        beyond = 0
        status = response.status_code
        timed_out = False
        try:
            for chunk in response.iter_raw():
                body += flt.feed(chunk) if flt is not None else chunk
                if len(body) > cap:
                    beyond = len(body) - cap
                    break
        except Exception as exc:
            err = _translate(exc, response.request.url, 0)
            if err.code != "TIMEOUT":
                failed = _failure(err)
                failed.http_status_code = status
                return failed
            timed_out = True
        finally:
            response.close()
        if flt is not None:
            rest = flt.flush()  # the held-back tail, masked
            if beyond:
                beyond += len(rest)
            else:
                body += rest
                beyond = max(len(body) - cap, 0)
        del body[cap:]

        text = body.decode("utf-8", "replace")
        del body  # the cap bounds memory: hold the bytes and the text no longer than needed
        out = Outcome(status="ok", exit_code=status, stdout=text, http_status_code=status)
        if beyond:
            declared = _content_length(response)
            out.stdout_dropped = declared - cap if declared is not None and declared > cap else beyond
            out.extra["response_bytes_limit"] = cap
            if declared is not None:
                out.extra["response_content_length"] = declared
        if timed_out:
            out.stderr = "request timed out"
            out.fail(PressTimeout(out.stderr), exit_code=-1)
        elif not 200 <= status < 400:
            reason = response.reason_phrase or ""
            out.stderr = f"HTTP {status} {status} {reason}".rstrip()
            out.fail(ScriptError(out.stderr))
        return out


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


# ----------------------------------------------------------------------------- errors


def _origin_of(exc: BaseException) -> BaseException | None:
    """The OS or TLS error behind an httpcore error (httpcore wraps it, and its pool re-raises
    ``from None``, so look at the context and the wrapped argument too)."""
    for candidate in (exc.__cause__, exc.__context__, exc.args[0] if exc.args else None):
        if isinstance(candidate, BaseException):
            return candidate
    return None


def _translate(exc: Exception, url: httpx.URL, hop: int) -> ButtonsError:
    """The one place where transport, TLS, DNS and SSRF failures become Buttons errors."""
    if isinstance(exc, ButtonsError):
        return exc
    where = f"redirect #{hop} to {url}: " if hop else ""
    target = _target(url)
    if isinstance(exc, _Cancelled):
        return Cancelled("cancelled: the press was ended before it finished")
    if isinstance(
        exc, httpcore.TimeoutException | httpx.TimeoutException | ssrf.ResolutionTimeout | TimeoutError
    ):
        return PressTimeout("request timed out")
    if isinstance(exc, ssrf.AddressBlocked):
        if hop:
            return ScriptError(f"request failed: refusing {where}{exc}")
        return ScriptError(
            f"request failed: SSRF blocked: {exc.host} resolves to private address {exc.address} "
            f"({ssrf.OVERRIDE_HINT})"
        )
    if isinstance(exc, ssrf.ResolutionFailed):
        return ScriptError(f"request failed: {where}{exc}")
    if isinstance(exc, httpcore.ConnectError | httpx.ConnectError):
        cause = _origin_of(exc)
        if isinstance(cause, ssl.SSLCertVerificationError):
            detail = cause.verify_message or cause.reason or str(cause)
            return ScriptError(
                f"request failed: {where}TLS certificate of {target} could not be verified: {detail}"
            )
        if isinstance(cause, ssl.SSLError):
            return ScriptError(
                f"request failed: {where}TLS handshake with {target} failed: {cause.reason or cause}"
            )
        return ScriptError(f"request failed: {where}{exc}")
    if isinstance(exc, httpcore.RemoteProtocolError | httpx.RemoteProtocolError):
        text = str(exc)
        if "disconnected" in text.lower() or "closed" in text.lower():
            return ScriptError(
                f"request failed: {where}{target} closed the connection without a complete response"
            )
        return ScriptError(f"request failed: {where}{target} sent a response that is not valid HTTP: {text}")
    if isinstance(exc, httpcore.LocalProtocolError | httpx.LocalProtocolError):
        return ScriptError(f"request failed: {where}the request could not be sent: {exc}")
    if isinstance(exc, httpcore.ReadError | httpx.ReadError):
        return ScriptError(
            f"request failed: {where}connection to {target} broke while reading the response: "
            f"{_os_reason(_origin_of(exc) or exc)}"
        )
    if isinstance(exc, httpcore.WriteError | httpx.WriteError):
        return ScriptError(
            f"request failed: {where}connection to {target} broke while sending the request: "
            f"{_os_reason(_origin_of(exc) or exc)}"
        )
    if isinstance(exc, httpcore.NetworkError | httpx.NetworkError | OSError):
        return ScriptError(f"request failed: {where}{target}: {_os_reason(exc)}")
    if isinstance(exc, httpx.HTTPError | httpcore.UnsupportedProtocol | httpx.InvalidURL | ValueError):
        return ScriptError(f"request failed: {where}{exc}")
    return ScriptError(f"request failed: {where}{type(exc).__name__}: {exc}")
