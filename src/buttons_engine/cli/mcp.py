"""``buttons mcp``: serve this data dir's MCP-enabled buttons to an MCP client over stdio (CONTRACT 14).

Flags and help are declared in ``commandtable.py``. The SDK is imported here, inside the handler: no
other command pays for it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Args, Context


def handle(ns: Args, ctx: Context) -> int:
    from ..mcp.server import serve_stdio
    from ..services.mcp_tools import Tools

    return serve_stdio(Tools(ctx.layout, allow_create=ns.allow_create, allow_http=ns.allow_http_buttons))
