"""The HTTP runner: send the planned request hop by hop and read the response.

Per hop (at most 10 redirects): resolve the name once, check every A/AAAA answer (engine.ssrf),
connect through the pinned transport; a redirect is re-checked against the lock and the
blocklist, and a hop to another origin (only possible with ``allowed_host: "*"``) loses
Authorization, Proxy-Authorization and Cookie. The body streams through the press's masking
filter (batteries) and is kept up to ``max_response_bytes`` of what it lets out.
"""

from __future__ import annotations

import ssl

import httpx

from ...errors import ButtonsError, PressTimeout, ScriptError, ValidationError
from .. import http_template as tpl
from .. import ssrf
from ..outcome import Invocation, Outcome
from . import plan as planning
from .errors import translate
from .plan import HttpPolicy, RequestPlan, host_of, port_of
from .transport import Deadline, PinnedBackend, PinnedTransport

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..capture import ChunkFilter

MAX_REDIRECTS = 10
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_FRAMING_HEADERS = (b"host", b"content-length", b"transfer-encoding")
CREDENTIAL_HEADERS = (b"authorization", b"proxy-authorization", b"cookie")


class HttpRunner:
    def __init__(self, policy: HttpPolicy | None = None) -> None:
        self._policy = policy

    def run(self, inv: Invocation) -> Outcome:
        policy = self._policy or HttpPolicy.from_environ()
        deadline = Deadline(inv.timeout, inv.cancel)
        plan: RequestPlan | None = None
        try:
            # A missing battery is reported before anything else is built or sent.
            planning.check_batteries(inv.spec, inv.batteries)
            plan = planning.build_plan(inv.spec, inv.args, policy, tpl.Batteries(inv.batteries))
            if plan.refusal:
                raise ValidationError(plan.refusal)
            outcome = _Press(plan, policy, deadline, inv.filter_factory()).run()
        except ButtonsError as exc:
            outcome = Outcome.failure(exc)
        if plan is not None and plan.secrets and outcome.error is not None:
            _scrub(outcome, plan)
        return outcome


def _scrub(outcome: Outcome, plan: RequestPlan) -> None:
    """Keep the request's battery values (in every spelling it sent them) out of the error."""
    outcome.stderr = plan.scrub(outcome.stderr)
    err = outcome.error
    if err is not None:
        err.message = plan.scrub(err.message)
        err.args = (err.message,)


class _Press:
    def __init__(
        self,
        plan: RequestPlan,
        policy: HttpPolicy,
        deadline: Deadline,
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
                    raise translate(exc, request.url, hop) from None
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

    def _transport_for(self, request: httpx.Request, hop: int) -> PinnedTransport:
        url = request.url
        host, port = host_of(url), port_of(url)
        plan = self.plan
        try:
            literal = ssrf.check_literal(host, allow_private=plan.allow_private, own=plan.own)
            if literal is not None:
                addresses = [literal]
            else:
                key = (host.lower(), port)
                if key not in self.pins:
                    self.pins[key] = ssrf.resolve_checked(
                        host,
                        port,
                        self.policy.resolver,
                        allow_private=plan.allow_private,
                        timeout=max(self.deadline.remaining(), 0.0),
                        own=plan.own,
                    )
                addresses = self.pins[key]
        except Exception as exc:
            raise translate(exc, url, hop) from None
        backend = PinnedBackend(host, port, addresses, self.deadline)
        return PinnedTransport(backend, self._ssl_context() if url.scheme == "https" else None)

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
        problem = planning.target_problem(url, self.plan.lock)
        if problem:
            raise refuse(problem)
        if request.url.scheme == "https" and url.scheme == "http":
            raise refuse("downgrade from https to http")
        try:
            ssrf.check_literal(host_of(url), allow_private=self.plan.allow_private, own=self.plan.own)
        except ssrf.AddressBlocked as exc:
            raise refuse(planning.literal_message(exc)) from None

        method, content = request.method, request.content
        if response.status_code in (301, 302, 303) and method not in ("GET", "HEAD"):
            method, content = "GET", b""
        # Credentials are for the origin they were given for: a hop to another scheme, host or
        # port (possible only with allowed_host "*") does not get them, as in curl and httpx.
        # Once dropped they stay dropped, also if a later hop comes back.
        same = planning.same_origin(request.url, url)
        dropped = _FRAMING_HEADERS if same else _FRAMING_HEADERS + CREDENTIAL_HEADERS
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
            err = translate(exc, response.request.url, 0)
            if not isinstance(err, PressTimeout):
                failed = Outcome.failure(err)
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
