"""The ASGI application of ``buttons serve``: routes, envelope and hardening (CONTRACT 13, seed 004).

Layers, outermost first (each a small ASGI wrapper, so every response passes through all of them,
errors included)::

    SecureHeaders   nosniff, DENY, CSP, no-referrer, no-store on every response; a last-resort
                    INTERNAL_ERROR envelope if anything below raises
    Cors            no Access-Control-Allow-Origin unless the Origin is one of --cors-origin
                    (exact match); preflights answered 204 (allowed) or 403 FORBIDDEN
    Guard           bearer auth (constant time; failed attempts limited per address, stricter),
                    then the per-client rate limit (API key, else address); health is exempt
    Starlette       the routes below; unknown path 404 NOT_FOUND, wrong method 405

Every body is the envelope: ``{"ok": true, "data": ...}`` or ``{"ok": false, "error": {"code",
"message"}}``, compact JSON and a newline. A traceback or a battery value never reaches a client:
unexpected errors are logged on stderr and answered ``500 INTERNAL_ERROR`` with a fixed message.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import ipaddress
import json
import math
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import anyio
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ButtonsError
from ..services import presses
from ..services import serve as service
from . import openapi

MAX_BODY = 1024 * 1024  # bytes: a larger press body is 413 BODY_TOO_LARGE
BODY_TIMEOUT = 10.0  # seconds to receive a whole body once the headers are in: else 408
AUTH_FAILURE_RATE = "10/minute"  # failed auth attempts per address
HEALTH = "/api/health"
MCP_PATH = "/mcp"
PUBLIC = (HEALTH, "/api/openapi.json")

# HTTP status of each error code the API answers with (CONTRACT 13; beyond it: RATE_LIMITED,
# FORBIDDEN, METHOD_NOT_ALLOWED, REQUEST_TIMEOUT, CANCELLED, HOST_NOT_ALLOWED and the drawer codes).
STATUS = {
    "BAD_REQUEST": 400,
    "MISSING_ARG": 400,
    "MISSING_INPUT": 400,
    "VALIDATION_ERROR": 400,
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "HTTP_BUTTON_BLOCKED": 403,
    "NOT_FOUND": 404,
    "DRAWER_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "REQUEST_TIMEOUT": 408,
    "FLOW_RUNTIME_REQUIRED": 409,
    "BODY_TOO_LARGE": 413,
    "HOST_NOT_ALLOWED": 421,
    "RATE_LIMITED": 429,
    "INTERNAL_ERROR": 500,
    "BUSY": 503,
    "FLEET_UNAVAILABLE": 503,  # serve --redis: the fleet could not be reached; nothing ran
    "CANCELLED": 503,
}

SECURE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)
CORS_METHODS = "GET, POST"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key"


LOG_PREFIX = ["[serve]"]  # ``webhook listen`` logs as ``[webhook]``


def log(message: str) -> None:
    try:
        sys.stderr.write(f"{LOG_PREFIX[0]} {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class ApiError(Exception):
    """An error answered as the envelope with ``STATUS[code]`` (and optional extra headers)."""

    def __init__(self, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}


def envelope(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"
    return Response(text.encode(), status_code=status, media_type="application/json", headers=headers)


def ok(data: Any) -> Response:
    return envelope(200, {"ok": True, "data": data} if data is not None else {"ok": True})


def failure(code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return envelope(
        STATUS.get(code, 500), {"ok": False, "error": {"code": code, "message": message}}, headers
    )


def _from_domain(exc: ButtonsError, *, preflight: bool = False) -> Response:
    """A ``ButtonsError`` as the API answers it. ``preflight``: a press refused before it ran,
    where codes without a REST status are ``500 INTERNAL_ERROR`` (CONTRACT 13)."""
    code = exc.code
    if code not in STATUS or (preflight and code == "INTERNAL_ERROR"):
        return failure("INTERNAL_ERROR", exc.message)
    return failure(code, exc.message)


async def _send_response(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    await response(scope, receive, send)


# ---------------------------------------------------------------------------- settings and state
class Settings:
    """What one server was started with."""

    def __init__(
        self,
        layout: Any,
        *,
        api_key: str = "",
        allow_http: bool = False,
        max_in_flight: int = 8,
        rate_limit: str | None = "120/minute",
        cors_origins: tuple[str, ...] = (),
        triggers: bool = True,
        mcp: bool = True,
        loopback: bool = True,
        fleet_status: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.layout = layout
        self.api_key = api_key
        self.allow_http = allow_http
        self.max_in_flight = max_in_flight
        self.rate_limit = rate_limit
        self.cors_origins = cors_origins
        self.triggers = triggers
        self.mcp = mcp  # mount the MCP server at /mcp (streamable HTTP)
        self.loopback = loopback  # bound to a loopback address only
        # With `serve --redis`: GET /api/fleet answers with this (buttons_engine.fleet.status).
        self.fleet_status = fleet_status


class InFlight:
    """The presses running now (at most ``limit``) and their cancel events; touched on the loop only."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.cancels: set[threading.Event] = set()
        self.draining = False

    def enter(self, cancel: threading.Event) -> bool:
        if self.draining or len(self.cancels) >= self.limit:
            return False
        self.cancels.add(cancel)
        return True

    def leave(self, cancel: threading.Event) -> None:
        self.cancels.discard(cancel)

    def cancel_all(self) -> int:
        """End every running press through the kill chain (the drain deadline passed).

        A drawer run takes no cancel event; the process-wide interrupt (what SIGTERM does to a
        ``buttons drawer NAME press``) ends its running step and the run ends ``cancelled``."""
        for cancel in self.cancels:
            cancel.set()
        if self.cancels:
            service.interrupt_presses()
        return len(self.cancels)


# ---------------------------------------------------------------------------- middlewares
class SecureHeaders:
    """Adds the secure headers to every response; answers INTERNAL_ERROR if anything below raises."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_secure(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                names = {k.lower() for k, _ in headers}
                headers.extend(h for h in SECURE_HEADERS if h[0] not in names)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_secure)
        except Exception as exc:
            log(f"unexpected error on {scope.get('method')} {scope.get('path')}: {exc!r}")
            log(traceback.format_exc().rstrip())
            if not started:
                response = failure("INTERNAL_ERROR", "an unexpected error occurred; see the server's log")
                await _send_response(response, scope, receive, send_secure)


class Cors:
    """CORS denied by default: only the exact origins of ``--cors-origin`` get Allow-Origin."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        origin_raw = headers.get(b"origin")
        if origin_raw is None:
            await self.app(scope, receive, send)
            return
        origin = origin_raw.decode("latin-1")
        allowed = origin in self.origins
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            if not allowed:
                response = failure("FORBIDDEN", "cross-origin requests from this origin are not allowed")
                response.headers["Vary"] = "Origin"
            else:
                response = Response(
                    status_code=204,
                    headers={
                        "Access-Control-Allow-Origin": origin,
                        "Access-Control-Allow-Methods": CORS_METHODS,
                        "Access-Control-Allow-Headers": CORS_HEADERS,
                        "Access-Control-Max-Age": "600",
                        "Vary": "Origin",
                    },
                )
            await _send_response(response, scope, receive, send)
            return

        async def send_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"vary", b"Origin")]
                if allowed:
                    extra.append((b"access-control-allow-origin", origin_raw))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_cors)


class Guard:
    """Bearer auth, then the per-client rate limit. ``/api/health`` passes untouched."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.key = settings.api_key.encode()
        storage = MemoryStorage()
        self.limiter = MovingWindowRateLimiter(storage)
        self.rate: RateLimitItem | None = parse(settings.rate_limit) if settings.rate_limit else None
        self.auth_rate: RateLimitItem = parse(AUTH_FAILURE_RATE)
        # Without a key the API is open to anything that reaches the loopback listener, which a
        # web page can do by DNS rebinding (a name of its own re-resolved to 127.0.0.1): its
        # requests carry that name in Host. So keyless, only loopback Host names are served.
        self.check_host = not settings.api_key and settings.loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == HEALTH:
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        client = f"addr:{address}"
        # Webhook triggers live outside /api/ and /mcp and carry their own token (CONTRACT 12.1).
        path = scope["path"]
        guarded = path.startswith("/api/") or path == MCP_PATH or path.startswith(MCP_PATH + "/")
        if self.check_host and guarded:
            host = _host(scope)
            if host is not None and not loopback_host(host):
                shown = host.decode("latin-1")[:100]
                response = failure(
                    "HOST_NOT_ALLOWED",
                    f"Host {shown!r} is not a loopback name or address: a server without an API key "
                    "answers only requests for localhost, 127.0.0.1 or [::1] (DNS-rebinding defence)",
                )
                await _send_response(response, scope, receive, send)
                return
        if self.key and guarded and path not in PUBLIC:
            if not self.limiter.test(self.auth_rate, "auth", address):
                await self._limited(self.auth_rate, ("auth", address), scope, receive, send, failed=True)
                return
            token = _bearer(scope)
            if token is None or not hmac.compare_digest(token, self.key):
                self.limiter.hit(self.auth_rate, "auth", address)
                message = "missing API key" if token is None else "wrong API key"
                response = failure(
                    "UNAUTHORIZED",
                    f"{message}: send the header 'Authorization: Bearer <key>'",
                    {"WWW-Authenticate": 'Bearer realm="buttons"'},
                )
                await _send_response(response, scope, receive, send)
                return
            client = "key:" + hashlib.sha256(token).hexdigest()[:32]
        if self.rate is not None and not self.limiter.hit(self.rate, "rate", client):
            await self._limited(self.rate, ("rate", client), scope, receive, send, failed=False)
            return
        await self.app(scope, receive, send)

    async def _limited(
        self,
        item: RateLimitItem,
        ids: tuple[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        failed: bool,
    ) -> None:
        stats = self.limiter.get_window_stats(item, *ids)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        what = "failed authentication attempts" if failed else "requests"
        response = failure(
            "RATE_LIMITED",
            f"too many {what} ({item.amount} per {item.get_expiry()} s); retry in {retry} s",
            {"Retry-After": str(retry)},
        )
        await _send_response(response, scope, receive, send)


def _host(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers") or []:
        if name == b"host":
            return bytes(value)
    return None  # HTTP/1.0 without Host: no browser sends that


def loopback_host(host: bytes) -> bool:
    """``localhost``, a ``127.0.0.0/8`` address or ``[::1]``, with or without a port."""
    text = host.decode("latin-1").strip().lower()
    if text.startswith("["):
        inner, sep, rest = text[1:].partition("]")
        if not sep or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return False
        name = inner
    else:
        name, sep, port = text.partition(":")
        if sep and not port.isdigit():
            return False
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _bearer(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return bytes(token.strip())
            return b""  # present but not a bearer token: a wrong key
    return None


# ---------------------------------------------------------------------------- the API
class Api:
    """The route handlers of one server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.layout = settings.layout
        self.policy = service.policy(allow_http=settings.allow_http)
        self.inflight = InFlight(settings.max_in_flight)
        # Presses run in worker threads (the press service is synchronous); reads use anyio's default pool.
        self.press_threads = anyio.CapacityLimiter(max(1, settings.max_in_flight))
        self.mcp_manager: Any = None  # the /mcp session manager, when MCP is mounted
        self.background: set[asyncio.Task[None]] = set()  # trigger fires answered already
        self.deliveries: set[str] = set()  # webhook delivery keys whose press is running

    def fire(
        self,
        req: presses.PressRequest,
        cancel: threading.Event,
        source: str,
        done: Callable[[], None] | None = None,
    ) -> None:
        """Press in the background (a trigger fire); ``cancel`` is already counted in flight."""

        async def run() -> None:
            try:
                response = await anyio.to_thread.run_sync(
                    presses.press, self.layout, req, self.policy, limiter=self.press_threads
                )
                result = response.result
                status = result.status if result is not None else "cached"
                log(f"{source}: pressed {req.name} ({status})")
            except ButtonsError as exc:
                log(f"{source}: {req.name} was not pressed: {exc.code}: {exc.message}")
            except Exception as exc:
                log(f"{source}: {req.name} failed unexpectedly: {exc!r}")
                log(traceback.format_exc().rstrip())
            finally:
                self.inflight.leave(cancel)
                if done is not None:
                    done()

        task = asyncio.get_running_loop().create_task(run())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def wait_background(self) -> None:
        """Wait for the trigger fires still running (the drain deadline cancels their presses)."""
        while self.background:
            await asyncio.wait(set(self.background))

    def routes(self) -> list[Route]:
        return [
            Route("/api/health", self.health, methods=["GET"]),
            Route("/api/openapi.json", self.openapi, methods=["GET"]),
            Route("/api/buttons", self.list_buttons, methods=["GET"]),
            Route("/api/buttons/{name}", self.spec, methods=["GET"]),
            Route("/api/buttons/{name}/runs", self.runs, methods=["GET"]),
            Route("/api/buttons/{name}/press", self.press, methods=["POST"]),
            Route("/api/runs/{run_id}", self.run, methods=["GET"]),
            Route("/api/drawers", self.list_drawers, methods=["GET"]),
            Route("/api/drawers/{name}", self.drawer, methods=["GET"]),
            Route("/api/drawers/{name}/runs", self.drawer_runs, methods=["GET"]),
            Route("/api/drawers/{name}/press", self.press_drawer, methods=["POST"]),
        ] + ([Route("/api/fleet", self.fleet, methods=["GET"])] if self.settings.fleet_status else [])

    async def fleet(self, request: Request) -> Response:
        status = self.settings.fleet_status
        assert status is not None  # noqa: S101 - the route exists only with a fleet
        try:
            return ok(await anyio.to_thread.run_sync(status))
        except ButtonsError as exc:
            return _from_domain(exc)

    async def health(self, request: Request) -> Response:
        return ok({"status": "ok", "service": "buttons"})

    async def openapi(self, request: Request) -> Response:
        return ok(
            openapi.document(
                auth=bool(self.settings.api_key),
                mcp=self.mcp_manager is not None,
                fleet=self.settings.fleet_status is not None,
            )
        )

    async def list_buttons(self, request: Request) -> Response:
        try:
            specs = await anyio.to_thread.run_sync(service.button_specs, self.layout)
        except ButtonsError as exc:
            return failure("INTERNAL_ERROR", exc.message)
        return ok({"buttons": specs})

    async def _read(self, read: Callable[[Any, str], Any], arg: str, key: str = "") -> Response:
        """Answer ``read(layout, arg)``, run off the event loop (under ``key`` if given), or its error."""
        try:
            value = await anyio.to_thread.run_sync(read, self.layout, arg)
        except ButtonsError as exc:
            return _from_domain(exc)
        return ok({key: value} if key else value)

    async def spec(self, request: Request) -> Response:
        return await self._read(service.button_spec, request.path_params["name"])

    async def runs(self, request: Request) -> Response:
        return await self._read(service.button_runs, request.path_params["name"], "runs")

    async def run(self, request: Request) -> Response:
        return await self._read(service.run, request.path_params["run_id"])

    async def press(self, request: Request) -> Response:
        name = request.path_params["name"]
        try:
            body = await _read_body(request)
        except ApiError as exc:
            return failure(exc.code, exc.message, {"Connection": "close", **exc.headers})
        except ClientDisconnect:
            return failure("BAD_REQUEST", "the client went away before sending the whole body")
        try:
            args, timeout, body_key = _parse_press(body)
        except ApiError as exc:
            return failure(exc.code, exc.message)
        key = request.headers.get("idempotency-key") or body_key
        cancel = threading.Event()
        if not self.inflight.enter(cancel):
            why = (
                "the server is stopping"
                if self.inflight.draining
                else f"{self.inflight.limit} presses are already running"
            )
            return failure("BUSY", f"{why}; retry later", {"Retry-After": "1"})
        try:
            req = presses.PressRequest(name, args=args, timeout=timeout, idempotency_key=key, cancel=cancel)
            response = await self._press(request, req, cancel)
        except ButtonsError as exc:
            return _from_domain(exc, preflight=True)
        finally:
            self.inflight.leave(cancel)
        data = response.data()
        if response.result is not None:  # the seconds this press was allowed, after the 300 s cap
            data["timeout_seconds"] = _seconds(response.timeout)
        return ok(data)

    # -------------------------------------------------------------- drawers
    async def list_drawers(self, request: Request) -> Response:
        try:
            docs = await anyio.to_thread.run_sync(service.drawer_docs, self.layout)
        except ButtonsError as exc:
            return failure("INTERNAL_ERROR", exc.message)
        return ok({"drawers": docs})

    async def drawer(self, request: Request) -> Response:
        return await self._read(service.drawer_doc, request.path_params["name"])

    async def drawer_runs(self, request: Request) -> Response:
        return await self._read(service.drawer_runs, request.path_params["name"], "runs")

    async def press_drawer(self, request: Request) -> Response:
        """Run a drawer and answer its result (CONTRACT 11.7), 200 whatever its status.

        A drawer run cannot be cancelled from here (``drawer_run.press`` takes no cancel event):
        a client that goes away leaves it running to its end; at the server's drain deadline the
        process-wide interrupt ends it (run.py)."""
        name = request.path_params["name"]
        try:
            body = await _read_body(request)
        except ApiError as exc:
            return failure(exc.code, exc.message, {"Connection": "close", **exc.headers})
        except ClientDisconnect:
            return failure("BAD_REQUEST", "the client went away before sending the whole body")
        try:
            inputs, mode, concurrency, on_failure = _parse_drawer_press(body)
        except ApiError as exc:
            return failure(exc.code, exc.message)
        cancel = threading.Event()
        if not self.inflight.enter(cancel):
            return failure("BUSY", "too many presses are running; retry later", {"Retry-After": "1"})
        try:
            result = await anyio.to_thread.run_sync(
                functools.partial(
                    service.press_drawer,
                    self.layout,
                    name,
                    inputs,
                    mode,
                    concurrency=concurrency,
                    on_failure=on_failure,
                ),
                limiter=self.press_threads,
            )
        except ButtonsError as exc:
            return _from_domain(exc, preflight=True)
        finally:
            self.inflight.leave(cancel)
        return ok(result)

    def fire_drawer(
        self,
        drawer: str,
        inputs: dict[str, Any],
        cancel: threading.Event,
        key: str,
        *,
        cap: float | None = None,
    ) -> None:
        """Run a drawer in the background (a webhook delivery, of ``serve`` or ``webhook listen``);
        ``cancel`` is counted in flight and ends the run (the drain deadline, or ``cap`` seconds).
        A successful run with a delivery ``key`` is remembered, so a redelivery runs nothing."""
        from ..services import triggers

        source = f"webhook {inputs['webhook']['path']}"

        def work() -> str:
            timer = threading.Timer(cap, cancel.set) if cap else None
            if timer is not None:
                timer.daemon = True
                timer.start()
            try:
                result = service.press_drawer(self.layout, drawer, inputs, cancel=cancel)
            finally:
                if timer is not None:
                    timer.cancel()
            status = str(result.get("status"))
            if key and status == "ok":
                triggers.remember_drawer_delivery(self.layout, drawer, key, result)
            return status

        async def run() -> None:
            try:
                status = await anyio.to_thread.run_sync(work, limiter=self.press_threads)
                log(f"{source}: ran drawer {drawer} ({status})")
            except ButtonsError as exc:
                log(f"{source}: drawer {drawer} did not run: {exc.code}: {exc.message}")
            except Exception as exc:
                log(f"{source}: drawer {drawer} failed unexpectedly: {exc!r}")
                log(traceback.format_exc().rstrip())
            finally:
                self.inflight.leave(cancel)
                self.deliveries.discard(key)

        task = asyncio.get_running_loop().create_task(run())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _press(self, request: Request, req: presses.PressRequest, cancel: threading.Event) -> Any:
        """Run the press in a worker thread; a client that goes away, or a cancelled task (the
        server's drain deadline), ends it through the kill chain, and the record is written."""
        finished = threading.Event()
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["value"] = presses.press(self.layout, req, self.policy)
            except BaseException as exc:
                box["error"] = exc
            finally:
                finished.set()

        async def watch_client() -> None:
            while True:
                message = await request.receive()
                if message["type"] == "http.disconnect":
                    cancel.set()
                    return

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(watch_client)
                await anyio.to_thread.run_sync(work, abandon_on_cancel=True, limiter=self.press_threads)
                tg.cancel_scope.cancel()
        except anyio.get_cancelled_exc_class():
            cancel.set()
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(finished.wait)
            raise
        error = box.get("error")
        if error is not None:
            raise error
        return box["value"]


async def _read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise ApiError("BAD_REQUEST", "Content-Length is not a number")
        if int(length) > limit:
            raise ApiError("BODY_TOO_LARGE", f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    try:
        with anyio.fail_after(BODY_TIMEOUT):
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit:
                    raise ApiError("BODY_TOO_LARGE", f"the request body is larger than {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise ApiError(
            "REQUEST_TIMEOUT", f"the request body did not arrive within {BODY_TIMEOUT:g} s"
        ) from None
    return b"".join(chunks)


def _json_object(body: bytes) -> dict[str, Any] | None:
    """A press body as a JSON object, or None when it is empty (every field takes its default)."""
    if not body.strip():
        return None
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("BAD_REQUEST", "the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ApiError("BAD_REQUEST", "the request body must be a JSON object")
    return payload


def _parse_press(body: bytes) -> tuple[dict[str, str], int, str]:
    """``{"args": {str: str}, "timeout": int, "idempotency_key": str}``; empty allowed; unknown
    fields ignored."""
    payload = _json_object(body)
    if payload is None:
        return {}, 0, ""
    args = payload.get("args")
    if args is None:
        args = {}
    if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
        raise ApiError("BAD_REQUEST", '"args" must be an object of string values')
    timeout = payload.get("timeout")
    if timeout is None:
        timeout = 0
    if isinstance(timeout, bool) or not isinstance(timeout, int):
        raise ApiError("BAD_REQUEST", '"timeout" must be an integer number of seconds')
    key = payload.get("idempotency_key")
    if key is None:
        key = ""
    if not isinstance(key, str) or not _storable(key):
        raise ApiError("BAD_REQUEST", '"idempotency_key" must be a string of valid UTF-8')
    return {str(k): v for k, v in args.items()}, max(0, min(timeout, service.TIMEOUT_CAP)), key


def _storable(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (JSON can carry a lone surrogate, ``"\\ud800"``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


DRAWER_MODES = ("sequential", "parallel")


def _parse_drawer_press(body: bytes) -> tuple[dict[str, Any], str, int, str]:
    """``{"inputs": {str: any}, "mode": "sequential"|"parallel", "concurrency": int,
    "on_failure": "stop"|"continue"}``; empty allowed; unknown fields ignored."""
    payload = _json_object(body)
    if payload is None:
        return {}, "sequential", 0, "stop"
    inputs = payload.get("inputs")
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, dict):
        raise ApiError("BAD_REQUEST", '"inputs" must be an object')
    from ..services.triggers import storable

    if not storable(inputs):
        raise ApiError("BAD_REQUEST", '"inputs" holds a string that is not valid UTF-8 (a lone surrogate)')
    mode = payload.get("mode")
    if mode is None:
        mode = "sequential"
    if mode not in DRAWER_MODES:
        raise ApiError("BAD_REQUEST", '"mode" must be "sequential" or "parallel"')
    concurrency = payload.get("concurrency")
    if concurrency is None:
        concurrency = 0
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 0 <= concurrency <= 1024:
        raise ApiError("BAD_REQUEST", '"concurrency" must be an integer from 0 (the CPU count) to 1024')
    on_failure = payload.get("on_failure")
    if on_failure is None:
        on_failure = "stop"
    if on_failure not in ("stop", "continue"):
        raise ApiError("BAD_REQUEST", '"on_failure" must be "stop" or "continue"')
    return {str(k): v for k, v in inputs.items()}, mode, concurrency, on_failure


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return failure("NOT_FOUND", f"no route {request.url.path}")
    if status == 405:
        allow = exc.headers.get("Allow", "") if isinstance(exc, HTTPException) and exc.headers else ""
        return failure(
            "METHOD_NOT_ALLOWED",
            f"{request.method} is not allowed on {request.url.path}",
            {"Allow": allow} if allow else None,
        )
    return failure("INTERNAL_ERROR", "an unexpected error occurred; see the server's log")


class Webhooks:
    """Webhook triggers: ``POST <path>`` of a button's webhook trigger presses it (CONTRACT 12.1),
    of a drawer's webhook trigger runs it with ``inputs.webhook`` (CONTRACT 12.2).

    Routes are read from the buttons and drawers on every request outside ``/api/``, so a trigger
    added or removed while the server runs takes effect at once (a path of a button wins over the
    same path of a drawer). One auth model for both (D9): a set ``token`` must match
    ``X-Buttons-Token`` or ``?token=``; ``auth`` is ``none``, ``token``, ``hmac``, ``basic``,
    ``header`` or ``jwt``; an unknown type refuses every delivery. The body (at most 1 MiB) is
    read; the answer is ``202`` at once and the press or run happens in the background, counted
    among the presses in flight (``503 BUSY`` when they are all taken) and drained on stop.
    """

    def __init__(self, app: ASGIApp, api: Api) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not self.api.settings.triggers
            or path.startswith("/api/")
            or path == MCP_PATH
            or path.startswith(MCP_PATH + "/")
        ):  # a trigger never takes over the API's or the MCP server's paths
            await self.app(scope, receive, send)
            return
        route = await anyio.to_thread.run_sync(_webhook_route, self.api.layout, path)
        if route is None:
            await self.app(scope, receive, send)
            return
        kind, target, trigger = route
        response = await self._handle(Request(scope, receive), kind, target, trigger)
        await _send_response(response, scope, receive, send)

    async def _handle(self, request: Request, kind: str, target: str, trigger: dict[str, Any]) -> Response:
        if request.method != "POST":
            return failure("METHOD_NOT_ALLOWED", "webhooks take POST", {"Allow": "POST"})
        token = trigger.get("token")
        if isinstance(token, str) and token:
            given = request.headers.get("x-buttons-token") or request.query_params.get("token") or ""
            if not hmac.compare_digest(given.encode(), token.encode()):
                return failure("UNAUTHORIZED", "missing or wrong webhook token (X-Buttons-Token or ?token=)")
        raw_auth = trigger.get("auth")
        auth: dict[str, Any] | None = raw_auth if isinstance(raw_auth, dict) else None
        auth_type = auth.get("type") if auth is not None else None
        if raw_auth is not None and (auth is None or auth_type not in _AUTH_TYPES):
            # A hand-edited trigger with an auth this server does not know: fail closed.
            log(f"webhook {request.url.path}: unknown auth type {auth_type!r}; refusing every delivery")
            return failure("INTERNAL_ERROR", "the webhook's auth is not configured correctly on the server")
        try:
            body = await _read_body(request)
        except ApiError as exc:
            return failure(exc.code, exc.message, {"Connection": "close", **exc.headers})
        except ClientDisconnect:
            return failure("BAD_REQUEST", "the client went away before sending the whole body")
        if auth is not None and auth_type == "hmac":
            refused = await self._check_hmac(request, body, str(auth.get("hmac_secret") or ""))
            if refused is not None:
                return refused
        elif auth is not None and auth_type in ("basic", "header", "jwt"):
            refused = await self._check_credentials(request, auth)
            if refused is not None:
                return refused
        from ..services import triggers

        secret_header = str(auth.get("header_name") or "") if auth is not None else ""
        headers = list(request.headers.items())
        query = list(request.query_params.multi_items())
        delivery = next((request.headers[h] for h in triggers.DELIVERY_HEADERS if request.headers.get(h)), "")
        key = triggers.delivery_key(request.url.path, delivery) if delivery else ""
        delivered = triggers.delivered if kind == "button" else triggers.drawer_delivered
        if key and (
            key in self.api.deliveries
            or await anyio.to_thread.run_sync(delivered, self.api.layout, target, key)
        ):
            return envelope(200, {"ok": True, "data": {kind: target, "duplicate": True}})
        cancel = threading.Event()
        if not self.api.inflight.enter(cancel):
            return failure("BUSY", "too many presses are running; retry later", {"Retry-After": "1"})
        if key:
            self.api.deliveries.add(key)
        if kind == "drawer":
            webhook = triggers.drawer_webhook_input(
                request.method, request.url.path, headers, query, body, secret_header=secret_header
            )
            self.api.fire_drawer(target, {"webhook": webhook}, cancel, key)
            return envelope(202, {"ok": True, "data": {"drawer": target}})
        raw_args = trigger.get("args")
        args = triggers.webhook_inputs(
            request.method, request.url.path, headers, query, body, secret_header=secret_header
        )
        if isinstance(raw_args, dict):  # the trigger's own args win over the request's
            args.update({str(k): str(v) for k, v in raw_args.items()})
        req = presses.PressRequest(target, args=args, cancel=cancel, idempotency_key=key)
        self.api.fire(
            req, cancel, f"webhook {request.url.path}", done=lambda: self.api.deliveries.discard(key)
        )
        return envelope(202, {"ok": True, "data": {"button": target}})

    async def _check_credentials(self, request: Request, auth: dict[str, Any]) -> Response | None:
        from ..services import triggers

        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            verdict = await anyio.to_thread.run_sync(triggers.credentials_ok, self.api.layout, auth, headers)
        except ButtonsError as exc:
            log(f"webhook {request.url.path}: {exc.message}")
            return failure("INTERNAL_ERROR", "the webhook's secret is not configured on the server")
        if verdict:
            return None
        extra = {"WWW-Authenticate": 'Basic realm="buttons webhook"'} if auth.get("type") == "basic" else None
        what = "missing" if verdict is None else "wrong"
        return failure("UNAUTHORIZED", f"{what} webhook credentials ({auth.get('type')} auth)", extra)

    async def _check_hmac(self, request: Request, body: bytes, field: str) -> Response | None:
        from ..services import triggers

        header = request.headers.get(triggers.SIGNATURE_HEADER)
        if not header:
            return failure(
                "UNAUTHORIZED", f"missing {triggers.SIGNATURE_HEADER} (sha256=<hex HMAC of the body>)"
            )
        try:
            secret = await anyio.to_thread.run_sync(triggers.resolve_secret, self.api.layout, field)
        except ButtonsError as exc:
            log(f"webhook {request.url.path}: {exc.message}")
            return failure("INTERNAL_ERROR", "the webhook's secret is not configured on the server")
        if not secret or not triggers.signature_ok(secret, body, header):
            return failure("UNAUTHORIZED", f"wrong {triggers.SIGNATURE_HEADER}")
        return None


_AUTH_TYPES = ("none", "token", "hmac", "basic", "header", "jwt")


def _webhook_route(layout: Any, path: str) -> tuple[str, str, dict[str, Any]] | None:
    """``("button"|"drawer", name, trigger)`` of the webhook trigger on ``path``, or None."""
    from ..services import triggers

    buttons = triggers.webhooks(layout)
    if path in buttons:
        return ("button", *buttons[path])
    drawers = triggers.drawer_webhooks(layout)
    if path in drawers:
        return ("drawer", *drawers[path])
    return None


def build(settings: Settings) -> tuple[ASGIApp, Api]:
    """The whole application and its API object (which holds the presses in flight).

    ``/mcp`` is the MCP server of ``buttons mcp`` over streamable HTTP, inside the same guard:
    bearer auth, rate limit, body limit, CORS and secure headers apply to it as to the REST API.
    Its session manager is ``api.mcp_manager`` (the runner keeps it running with the server).
    """
    api = Api(settings)
    routes: list[BaseRoute] = list(api.routes())
    if settings.mcp:
        from ..mcp.server import http_endpoint
        from ..services.mcp_tools import Tools

        endpoint, api.mcp_manager = http_endpoint(
            Tools(settings.layout, allow_http=settings.allow_http), loopback=settings.loopback
        )
        routes.append(Route(MCP_PATH, endpoint=endpoint))
    inner = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _http_error})
    app = SecureHeaders(Cors(Guard(Webhooks(inner, api), settings), settings.cors_origins))
    return app, api
