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
        ),
    )
    if ctx.out.json:
        ctx.out.success(data)
    else:
        ctx.out.status(ctx.out.paint(f"✓ created {data['name']}", "green") + f" ({data['runtime']})")
        if data.get("code_path"):
            print(data["code_path"])
        ctx.out.hint(f"buttons press {data['name']}")
    return 0
