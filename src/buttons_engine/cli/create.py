"""``buttons create`` (flags: the ``create`` entry of ``commandtable.py``)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Args, Context


def handle(ns: Args, ctx: Context) -> int:
    from ..services.buttons import CreateRequest, create

    data = create(
        ctx.layout,
        CreateRequest(
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
        ),
        warn=_warn,
    )
    if ctx.out.json:
        ctx.out.success(data)
    else:
        verb = "replaced" if data.get("replaced") else "created"
        ctx.out.status(ctx.out.paint(f"✓ {verb} {data['name']}", "green") + f" ({data['runtime']})")
        if data.get("code_path"):
            print(data["code_path"])
        ctx.out.hint(f"buttons press {data['name']}")
    return 0


def _warn(text: str) -> None:
    """Create's non-fatal notes: stderr in every mode, so the JSON envelope on stdout is unchanged."""
    import sys

    print(f"warning: {text}", file=sys.stderr)
