"""``buttons serve``: the REST API (CONTRACT 13), hardened (docs/serve.md).

Flags and help are declared in ``commandtable.py``. Starlette, uvicorn and ``limits`` are imported
here, inside the handler: no other command pays for them.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..fleet.front import Front
    from .base import Args, Context


class _Checked:
    """The flags of one ``serve`` line, checked (shared by the server and its ``--summary`` plan)."""

    def __init__(self, ns: Args, ctx: Context) -> None:
        from ..errors import ValidationError
        from ..services import serve as service

        if not 0 <= ns.port <= 65535:
            raise ValidationError(f"--port must be between 0 and 65535, not {ns.port}")
        if ns.max_in_flight < 1:
            raise ValidationError(f"--max-in-flight must be at least 1, not {ns.max_in_flight}")
        if ns.drain_timeout < 0:
            raise ValidationError("--drain-timeout must not be negative")
        self.rate = _rate(ns.rate_limit)
        self.origins = tuple(ns.cors_origin or ())
        for origin in self.origins:
            if origin == "*" or "://" not in origin or origin.endswith("/"):
                raise ValidationError(
                    f"--cors-origin {origin!r}: name one exact origin such as https://app.example "
                    "(scheme and host, no path, no '*')"
                )
        self.key, self.key_source = service.api_key(ctx.layout, ns.api_key)
        service.check_bind(ns.host, self.key)


def plan(ns: Args, ctx: Context) -> int:
    """``serve --summary``: check the flags and the key, say what would be served; bind nothing."""
    checked = _Checked(ns, ctx)
    data = {
        "dry_run": True,
        "action": "serve",
        "addr": f"{ns.host}:{ns.port}",
        "auth": bool(checked.key),
        "rate_limit": checked.rate or "off",
        "cors_origins": list(checked.origins),
        "max_in_flight": ns.max_in_flight,
        "allow_http_buttons": ns.allow_http_buttons,
    }
    if ctx.out.json:
        ctx.out.success(data)
    else:
        ctx.out.status(f"would serve on http://{data['addr']} (auth {'on' if data['auth'] else 'off'})")
    return 0


def handle(ns: Args, ctx: Context) -> int:
    checked = _Checked(ns, ctx)
    key, key_source, rate, origins = checked.key, checked.key_source, checked.rate, checked.origins

    from ..server import app as server_app
    from ..server import run as server_run
    from ..services import serve as service

    fleet = _start_fleet(ns, ctx)
    settings = server_app.Settings(
        ctx.layout,
        api_key=key,
        allow_http=ns.allow_http_buttons,
        max_in_flight=ns.max_in_flight,
        rate_limit=rate,
        cors_origins=origins,
        triggers=not ns.no_triggers,
        loopback=service.is_loopback(ns.host),
        fleet_status=fleet.status if fleet is not None else None,
    )
    try:
        app, api = server_app.build(settings)
        sock = server_run.bind(ns.host, ns.port)
    except BaseException:
        if fleet is not None:
            fleet.stop()
        raise
    addr = server_run.bound_address(sock)
    endpoints = [f"{method} {route.path}" for route in api.routes() for method in sorted(route.methods or ())]
    endpoints = [e for e in endpoints if not e.startswith("HEAD ")]
    if api.mcp_manager is not None:
        endpoints += ["POST /mcp", "GET /mcp", "DELETE /mcp"]  # MCP over streamable HTTP

    webhook_routes = 0
    if not ns.no_triggers:
        from ..services import triggers

        webhook_routes = len(set(triggers.webhooks(ctx.layout)) | set(triggers.drawer_webhooks(ctx.layout)))

    def ready() -> None:
        info = {
            "addr": addr,
            "auth": bool(key),
            "triggers_enabled": not ns.no_triggers,
            "webhook_routes": webhook_routes,
            "endpoints": endpoints,
        }
        if ctx.out.json:
            ctx.out.success(info)
            sys.stdout.flush()
        else:
            for line in endpoints:
                ctx.out.status(f"  {line}")
        auth = f"auth: bearer key from {key_source}" if key else "auth: none (loopback only)"
        ctx.out.status(f"[serve] listening on http://{addr} ({auth}; rate limit {rate or 'off'})")
        if not ns.no_triggers:
            ctx.out.status(
                f"[serve] webhook ({webhook_routes} now), cron and watch triggers run, re-read while serving"
            )
        sys.stderr.flush()

    try:
        return server_run.serve(app, api, sock, drain_timeout=ns.drain_timeout, on_ready=ready)
    finally:
        if fleet is not None:
            fleet.stop()


def _start_fleet(ns: Args, ctx: Context) -> Front | None:
    """With ``--redis`` (or $BUTTONS_REDIS_URL), presses of fleet-placed buttons go to the fleet."""
    import os

    url = ns.redis or os.environ.get("BUTTONS_REDIS_URL", "")
    if not url:
        return None
    from .fleet import _check_extra

    _check_extra()
    from ..fleet import front

    started = front.start(ctx.layout, url)
    ctx.out.status(f"[serve] fleet: buttons placed on the fleet run on workers via {front.redact(url)}")
    return started


def _rate(text: str) -> str | None:
    from ..errors import ValidationError

    if text.strip().lower() == "off":
        return None
    from limits import parse

    try:
        parse(text)
    except ValueError:
        raise ValidationError(
            f"--rate-limit {text!r} is not a rate: use e.g. 120/minute, 10/second, 1000/hour, or off"
        ) from None
    return text
