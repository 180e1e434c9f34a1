"""``buttons webhook listen``: the drawer webhook listener (CONTRACT 12.2, docs/triggers.md).

Flags and help are declared in ``commandtable.py``. Starlette and uvicorn are imported inside the
handler: no other command pays for them. Tunnels (upstream's cloudflared front) are not built:
the listener serves on 127.0.0.1 only (docs/deviations.md).
"""

from __future__ import annotations

import sys

from .base import usage_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .base import Args, Context

HOST = "127.0.0.1"


def handle(ns: Args, ctx: Context) -> int:
    raise usage_error("buttons webhook", "choose a subcommand: listen")


def _routes(ns: Args, ctx: Context) -> dict[str, tuple[str, dict[str, Any]]]:
    """The drawer webhook routes now; none is an error (CONTRACT 12.2)."""
    from ..errors import NotFound, ValidationError
    from ..services import triggers

    if not 0 <= ns.port <= 65535:
        raise ValidationError(f"--port must be between 0 and 65535, not {ns.port}")
    routes = triggers.drawer_webhooks(ctx.layout)
    if not routes:
        raise NotFound(
            "no drawer has a webhook trigger: nothing to listen for",
            hint="add one: buttons drawer NAME trigger webhook [/PATH] [--auth ...]",
        )
    return routes


def plan_listen(ns: Args, ctx: Context) -> int:
    """``webhook listen --summary``: the routes that would be served; binds nothing."""
    from ..server.listen import route_list

    routes = route_list(_routes(ns, ctx))
    data = {"dry_run": True, "action": "webhook listen", "addr": f"{HOST}:{ns.port}", "routes": routes}
    if ctx.out.json:
        ctx.out.success(data)
    else:
        ctx.out.status(f"would listen on http://{data['addr']} for {len(routes)} drawer webhook(s)")
    return 0


def handle_listen(ns: Args, ctx: Context) -> int:
    import secrets

    routes = _routes(ns, ctx)
    from ..server import listen
    from ..server import run as server_run

    if not ns.no_tunnel:
        ctx.out.status(
            "[webhook] public tunnels are not supported by this implementation: listening locally only "
            "(pass --no-tunnel to silence this; front it with your own tunnel or proxy)"
        )
    token = secrets.token_hex(16)
    app, api = listen.build(ctx.layout, routes, token)
    sock = server_run.bind(HOST, ns.port)
    addr = server_run.bound_address(sock)
    base = f"http://{addr}"
    listed = [{**r, "url": base + r["path"]} for r in listen.route_list(routes)]

    def ready() -> None:
        if ctx.out.json:
            ctx.out.success({"addr": addr, "public_base": base, "tunnel": False, "routes": listed})
            sys.stdout.flush()
        else:
            for r in listed:
                ctx.out.status(f"  POST {r['url']} -> drawer {r['drawer']} (auth {r['auth_type']})")
        ctx.out.status(f"[webhook] listening on {base} ({len(listed)} drawer webhook route(s))")
        sys.stderr.flush()

    return server_run.serve(app, api, sock, drain_timeout=listen.DRAIN_TIMEOUT, on_ready=ready)
