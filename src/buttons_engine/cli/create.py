"""``buttons create`` (flags: the ``create`` entry of ``commandtable.py``)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..services.buttons import CreateRequest
    from .base import Args, Context


def plan(ns: Args, ctx: Context) -> int:
    """``create … --summary``: every check of create, and the spec it would write; nothing written."""
    from ..services.buttons import create
    from .plan import render

    return render(ctx, create(ctx.layout, _request(ns), plan=True, warn=_warn))


def handle(ns: Args, ctx: Context) -> int:
    from ..services.buttons import create

    data = create(ctx.layout, _request(ns), warn=_warn)
    if ctx.out.json:
        ctx.out.success(data)
    else:
        verb = "replaced" if data.get("replaced") else "created"
        origin = f' (from "{ns.name}")' if ns.name != data["name"] else ""  # the name was slugified
        ctx.out.status(ctx.out.paint(f"✓ {verb} {data['name']}", "green") + f"{origin} ({data['runtime']})")
        if data.get("code_path"):
            print(data["code_path"])
        ctx.out.hint(f"buttons press {data['name']}")
    return 0


def _warn(text: str) -> None:
    """Create's non-fatal notes: stderr in every mode, so the JSON envelope on stdout is unchanged."""
    print(f"warning: {text}", file=sys.stderr)


def _request(ns: Args) -> CreateRequest:
    from ..services.buttons import CreateRequest

    return CreateRequest(
        name=ns.name,
        code=ns.code,
        file=ns.file,
        runtime=ns.runtime,
        prompt=ns.prompt,
        description=ns.description,
        timeout=ns.timeout,
        args=ns.arg,
        url=ns.url,
        method=ns.method,
        headers=ns.header,
        body=ns.body,
        max_response_size=ns.max_response_size,
        allow_private_networks=ns.allow_private_networks,
        force=ns.force,
        queue=ns.queue,
        mcp=ns.mcp,
        limits=ns.limit,
        ignore=ns.ignore,
        placement=ns.placement,
    )
