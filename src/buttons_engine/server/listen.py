"""The ASGI application of ``buttons webhook listen``: drawer webhooks only (CONTRACT 12.2).

Upstream answers these with its own small bodies, not the ``serve`` envelope, and the black-box
suite checks them byte for byte::

    GET /healthz          200 {"ok":true,"token":"<readiness token>"}
    any other GET         200 {"ok":true,"message":"buttons webhook endpoint — POST to trigger"}
    not GET nor POST      405 {"ok":false,"error":"method_not_allowed"}
    POST unknown path     404 {"ok":false,"error":"no_drawer_registered_for_path"}
    auth refused          401 {"ok":false,"error":"AUTH_MISSING"|"AUTH_INVALID","detail":...}
    unknown auth type     500 {"ok":false,"error":"AUTH_UNKNOWN_TYPE","detail":...}
    accepted              202 {"ok":true,"drawer":NAME}

What is shared with ``serve`` (one implementation): the credential checks
(``triggers.credentials_ok``), ``inputs.webhook`` (``triggers.drawer_webhook_input``), the body
reader, the background run with its in-flight count and drain (``Api.fire_drawer``, ``run.py``),
and the secure headers. Routes are fixed at startup; each run loads the drawer afresh.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import ButtonsError
from .app import LOG_PREFIX, Api, ApiError, SecureHeaders, Settings, _read_body, log

MAX_BODY = 8 * 1024 * 1024  # bytes read of a delivery (CONTRACT 12.2)
RUN_CAP = 3600.0  # seconds a drawer run may take before it is cancelled (CONTRACT 12.2)
DRAIN_TIMEOUT = 30.0  # seconds running drawers get on SIGINT/SIGTERM before they are cancelled
MAX_RUNS = 16  # drawer runs at once; more deliveries are answered 503 busy
AUTH_TYPES = ("basic", "header", "jwt")
GET_MESSAGE = "buttons webhook endpoint — POST to trigger"
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="buttons webhook"'}

Routes = dict[str, tuple[str, dict[str, Any]]]  # path -> (drawer, trigger)


def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"
    return Response(text.encode(), status_code=status, media_type="application/json", headers=headers)


def refusal(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return answer(status, {"ok": False, "error": code, "detail": detail}, headers)


def route_list(routes: Routes) -> list[dict[str, str]]:
    """``[{path, drawer, auth_type}]`` of the routes, by path (the startup banner)."""
    out = []
    for path in sorted(routes):
        drawer, trigger = routes[path]
        auth = trigger.get("auth")
        kind = auth.get("type") if isinstance(auth, dict) else None
        out.append({"path": path, "drawer": drawer, "auth_type": str(kind or "none")})
    return out


class Listener:
    """The request handler: a fixed route table, upstream's answers."""

    def __init__(self, api: Api, routes: Routes, token: str) -> None:
        self.api = api
        self.routes = routes
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        if request.method == "GET":
            if path == "/healthz":
                return answer(200, {"ok": True, "token": self.token})
            return answer(200, {"ok": True, "message": GET_MESSAGE})
        if request.method != "POST":
            return answer(405, {"ok": False, "error": "method_not_allowed"}, {"Allow": "GET, POST"})
        route = self.routes.get(path)
        if route is None:
            return answer(404, {"ok": False, "error": "no_drawer_registered_for_path"})
        drawer, trigger = route
        raw = trigger.get("auth")
        auth: dict[str, Any] | None = None
        if raw is not None:
            kind = raw.get("type") if isinstance(raw, dict) else None
            if not isinstance(raw, dict) or (kind not in AUTH_TYPES and kind != "none"):
                log(f"webhook {path}: unknown auth type {kind!r}; refusing every delivery")
                return refusal(500, "AUTH_UNKNOWN_TYPE", f"unknown auth type {kind!r}")
            auth = raw if kind != "none" else None
        if auth is not None:
            refused = await self.check(request, auth)
            if refused is not None:
                return refused
        try:
            body = await _read_body(request, MAX_BODY)
        except ApiError as exc:
            status = {"BODY_TOO_LARGE": 413, "REQUEST_TIMEOUT": 408}.get(exc.code, 400)
            return refusal(status, exc.code, exc.message, {"Connection": "close"})
        except ClientDisconnect:
            return refusal(400, "BAD_REQUEST", "the client went away before sending the whole body")
        from ..services import triggers

        secret_header = str(auth.get("header_name") or "") if auth is not None else ""
        webhook = triggers.drawer_webhook_input(
            request.method,
            path,
            list(request.headers.items()),
            list(request.query_params.multi_items()),
            body,
            secret_header=secret_header,
        )
        cancel = threading.Event()
        if not self.api.inflight.enter(cancel):
            return refusal(503, "BUSY", "too many drawer runs in progress; retry later", {"Retry-After": "1"})
        self.api.fire_drawer(drawer, {"webhook": webhook}, cancel, "", cap=RUN_CAP)
        return answer(202, {"ok": True, "drawer": drawer})

    async def check(self, request: Request, auth: dict[str, Any]) -> Response | None:
        """None when the request's credentials pass ``auth``, else the 401 to answer."""
        from ..services import triggers

        kind = str(auth.get("type"))
        headers = {k.lower(): v for k, v in request.headers.items()}
        challenge = BASIC_CHALLENGE if kind == "basic" else None
        try:
            verdict = await anyio.to_thread.run_sync(
                lambda: triggers.credentials_ok(self.api.layout, auth, headers, require_exp=False)
            )
        except ButtonsError as exc:  # a $ENV{VAR} secret whose variable is unset: nothing matches
            log(f"webhook {request.url.path}: {exc.message}")
            return refusal(401, "AUTH_INVALID", f"invalid {kind} credentials", challenge)
        if verdict is None:
            return refusal(401, "AUTH_MISSING", f"missing {kind} credentials", challenge)
        if not verdict:
            return refusal(401, "AUTH_INVALID", f"invalid {kind} credentials", challenge)
        return None


def build(layout: Any, routes: Routes, token: str) -> tuple[ASGIApp, Api]:
    """The listener and the ``Api`` that runs its drawers (in flight, drained on stop)."""
    LOG_PREFIX[0] = "[webhook]"
    settings = Settings(layout, max_in_flight=MAX_RUNS, rate_limit=None, triggers=False, mcp=False)
    api = Api(settings)
    return SecureHeaders(Listener(api, routes, token)), api
