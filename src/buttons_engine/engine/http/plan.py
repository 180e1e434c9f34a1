"""Request planning: templating, the host lock and the checks that need no network.

A plan is the request a press would send (what ``--dry-run`` shows), plus the lock every
redirect is held to and, when a check refuses it, the reason. Nothing here touches the network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import httpx

from ... import __version__
from ...errors import ValidationError
from .. import http_template as tpl
from .. import ssrf

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ...spec import ButtonSpec

USER_AGENT = f"buttons/{__version__}"
# As engine.masking.MIN_SECRET_LENGTH (not imported: that module is for presses with batteries):
# replacing every "a1" in a message would hide more than it protects.
MIN_SECRET_LENGTH = 4
DEFAULT_PORTS = {"http": 80, "https": 443}


class HttpPolicy:
    """What the environment allows; read once per press (the machine's own addresses too)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        allow_any_host: bool,
        resolver: ssrf.Resolver,
        own_addresses: frozenset[ssrf.IPAddress] | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.allow_any_host = allow_any_host
        self.resolver = resolver
        self._own = own_addresses

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> HttpPolicy:
        env = os.environ if environ is None else environ
        return cls(
            allow_private=env.get(ssrf.ALLOW_PRIVATE_ENV) == "1",
            allow_any_host=env.get(ssrf.ALLOW_ANY_HOST_ENV) == "1",
            resolver=ssrf.resolver_from_env(env),
        )

    def own_addresses(self) -> frozenset[ssrf.IPAddress]:
        """The machine's interface addresses, read on first use and kept for the press."""
        if self._own is None:
            self._own = ssrf.own_addresses()
        return self._own


class HostLock:
    """The locked ``host[:port]``; ``any_host`` for ``allowed_host: "*"``."""

    def __init__(self, text: str, host: str = "", port: int | None = None, any_host: bool = False) -> None:
        self.text = text
        self.host = host
        self.port = port
        self.any_host = any_host

    def admits(self, url: httpx.URL) -> bool:
        if self.any_host:
            return True
        if host_of(url).lower() != self.host:
            return False
        if self.port is not None:
            return port_of(url) == self.port
        return url.port is None  # the default port of the URL's own scheme


class RequestPlan:
    """The request to send and what every hop of it is held to.

    ``secrets`` are the battery values the request carries, in every spelling it carries them
    (raw and escaped), so error messages about it can show ``***`` instead.
    """

    def __init__(
        self,
        request: httpx.Request,
        *,
        lock: HostLock | None,
        allow_private: bool,
        own: frozenset[ssrf.IPAddress],
        cap: int,
        refusal: str | None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.request = request
        self.lock = lock
        self.allow_private = allow_private
        self.own = own
        self.cap = cap
        self.refusal = refusal
        self.secrets = secrets

    def scrub(self, text: str) -> str:
        return scrub(text, self.secrets)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every one of ``secrets`` (longest first) shown as ``***``."""
    for secret in secrets:
        text = text.replace(secret, tpl.MASK)
    return text


def response_cap(spec: ButtonSpec) -> int:
    value = spec.max_response_bytes
    if value > 0:
        return min(value, tpl.MAX_RESPONSE_BYTES_CEILING)
    return tpl.DEFAULT_MAX_RESPONSE_BYTES


def _headers(spec: ButtonSpec, batteries: tpl.Batteries) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in spec.headers.items():
        if name.strip().lower() in tpl.MANAGED_HEADERS:
            continue  # Host and framing headers come from the URL and body, as upstream does
        problem = tpl.header_problem(name, value)
        if problem:  # create refuses these; button.json was edited by hand
            raise ValidationError(f"refusing request: header {name!r} {problem}")
        out.append((name, tpl.render_header(name, value, batteries)))
    if not any(n.lower() == "user-agent" for n, _ in out):
        out.append(("User-Agent", USER_AGENT))
    return out


def check_batteries(spec: ButtonSpec, values: Mapping[str, str]) -> None:
    """Raise ``MissingBattery`` naming every battery the request references but is not set."""
    texts = [tpl.sent_suffix(spec.url), spec.body, *spec.headers.values()]
    refs = list(dict.fromkeys(ref for text in texts for ref in tpl.battery_refs(text)))
    missing = [ref for ref in refs if ref not in values]
    if missing:
        raise tpl.missing_battery(missing)


def build_plan(
    spec: ButtonSpec,
    args: Mapping[str, str],
    policy: HttpPolicy,
    batteries: tpl.Batteries | None = None,
) -> RequestPlan:
    """Template the request and run every check that needs no network.

    ``batteries`` supplies the values of ``{{batteries.NAME}}`` (a masked one renders ``***``,
    for the dry run). Raises ``ValidationError`` only when no request can even be built; a
    request that can be built but must not be sent carries its reason in ``refusal``.
    """
    bats = batteries if batteries is not None else tpl.Batteries(masked=True)
    template = spec.url
    headers = _headers(spec, bats)
    header_map = dict(headers)
    body = tpl.render_body(spec.body, header_map, args, bats).encode("utf-8") if spec.body else b""
    url_text = _canonical_dotted(tpl.render_url(template, args, batteries=bats))
    secrets = _secrets(bats, header_map)
    try:
        request = httpx.Request(spec.method, url_text, headers=headers, content=body or None)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError) as exc:
        raise ValidationError(scrub(f"refusing request: invalid URL {url_text!r}: {exc}", secrets)) from None
    allow_private = spec.allow_private_networks or policy.allow_private
    own = ssrf.NO_ADDRESSES if allow_private else policy.own_addresses()
    lock: HostLock | None = None
    try:
        _check_placeholders(spec, args)
        lock = lock_for(spec, template, policy)
        _check_first(template, request.url, lock, allow_private, own)
        refusal = None
    except ValidationError as exc:
        refusal = exc.message
    return RequestPlan(
        request,
        lock=lock,
        allow_private=allow_private,
        own=own,
        cap=response_cap(spec),
        refusal=refusal,
        secrets=secrets,
    )


def _secrets(bats: tpl.Batteries, headers: Mapping[str, str]) -> tuple[str, ...]:
    """Every spelling of the used battery values the request can carry, longest first."""
    if bats.masked:
        return ()
    spellings: set[str] = set()
    escapes = (tpl.escape_raw, tpl.escape_path, tpl.escape_query, tpl.escape_json, tpl.body_escape(headers))
    for name in bats.used:
        value = bats.values[name]
        spellings.update(escape(value) for escape in escapes)
        spellings.add(_httpx_path_spelling(value))
    return tuple(sorted((s for s in spellings if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True))


def _httpx_path_spelling(value: str) -> str:
    """``value`` as httpx normalises it in a URL path (a redirect URL is shown that way)."""
    try:
        return httpx.URL("http://h/").copy_with(path="/" + value).raw_path[1:].decode("ascii")
    except (httpx.InvalidURL, ValueError):
        return ""


def _check_placeholders(spec: ButtonSpec, args: Mapping[str, str]) -> None:
    """A declared argument with a placeholder in what is sent must have a value (issue 10.6)."""
    declared = [a.name for a in spec.args]
    texts = [tpl.sent_suffix(spec.url), spec.body]
    unfilled = tpl.unfilled_placeholders(texts, declared, args)
    if unfilled:
        name = unfilled[0]
        where = "URL" if "{{" + name + "}}" in texts[0] else "body"
        raise ValidationError(
            f"refusing request: placeholder {{{{{name}}}}} in the {where} has no value: "
            f"the optional argument '{name}' was not given (pass --arg {name}=VALUE)"
        )


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


def lock_for(spec: ButtonSpec, template: str, policy: HttpPolicy) -> HostLock:
    text = spec.allowed_host.strip().lower() or tpl.authority_of(template).lower()
    if not text:
        raise ValidationError("refusing request: button is missing allowed_host (recreate it with --url)")
    if text == "*":
        if not policy.allow_any_host:
            raise ValidationError(
                'refusing request: allowed_host is "*" (any host), which needs BUTTONS_ALLOW_ANY_HOST=1'
            )
        return HostLock(text, any_host=True)
    scheme = tpl.scheme_of(template) or "https"
    try:
        parsed = httpx.URL(_canonical_dotted(f"{scheme}://{text}/"))
    except (httpx.InvalidURL, ValueError):
        raise ValidationError(f"refusing request: allowed_host {text!r} is not host[:port]") from None
    if parsed.raw_path != b"/" or parsed.userinfo or not parsed.raw_host:
        raise ValidationError(f"refusing request: allowed_host {text!r} is not host[:port]")
    return HostLock(text, host_of(parsed).lower(), parsed.port)


def _check_first(
    template: str, url: httpx.URL, lock: HostLock, allow_private: bool, own: frozenset[ssrf.IPAddress]
) -> None:
    prefix, _ = tpl.split_prefix(template)
    if "{{" in prefix or "}}" in prefix:
        raise ValidationError("refusing request: {{...}} placeholders are not allowed in the scheme or host")
    reason = target_problem(url, lock)
    if reason:
        raise ValidationError(f"refusing request: {reason}")
    try:
        ssrf.check_literal(host_of(url), allow_private=allow_private, own=own)
    except ssrf.AddressBlocked as exc:
        raise ValidationError(f"refusing request: {literal_message(exc)}") from None


def target_problem(url: httpx.URL, lock: HostLock) -> str | None:
    """Why ``url`` may not be requested under ``lock`` (scheme, userinfo, host), or None."""
    if url.scheme not in DEFAULT_PORTS:
        return f"scheme {url.scheme!r} is not http or https"
    if url.userinfo:
        return "URL must not contain user:password@"
    if not url.raw_host:
        return "URL has no host"
    if not lock.admits(url):
        return f"host {authority_of(url)} is not the button's locked host {lock.text}"
    return None


def literal_message(exc: ssrf.AddressBlocked) -> str:
    shown = exc.host if exc.host == str(exc.address) else f"{exc.host} ({exc.address})"
    if exc.label == "loopback name":
        return f"{exc.host} resolves to a blocked private range (loopback; {ssrf.OVERRIDE_HINT})"
    return f"{shown} resolves to a blocked private range ({exc.label}; {ssrf.OVERRIDE_HINT})"


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Same scheme, host and (effective) port."""
    return a.scheme == b.scheme and host_of(a).lower() == host_of(b).lower() and port_of(a) == port_of(b)


def host_of(url: httpx.URL) -> str:
    return url.raw_host.decode("ascii", "replace")


def port_of(url: httpx.URL) -> int:
    return url.port or DEFAULT_PORTS.get(url.scheme, 0)


def authority_of(url: httpx.URL) -> str:
    host = host_of(url)
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{url.port}" if url.port else shown


def target_of(url: httpx.URL) -> str:
    """``host:port`` as dialled (IPv6 in brackets), for messages."""
    host = host_of(url)
    return f"{f'[{host}]' if ':' in host else host}:{port_of(url)}"


def dry_run_view(spec: ButtonSpec, args: Mapping[str, str]) -> dict[str, Any]:
    """The exact request a press would send: method, URL, headers (as sent) and body, with
    every battery value shown as ``***`` (the dry run never reads or reveals them)."""
    policy = HttpPolicy.from_environ()
    try:
        plan = build_plan(spec, args, policy)
    except ValidationError as exc:
        return {
            "url": tpl.render_url(spec.url, args, batteries=tpl.Batteries(masked=True)),
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
