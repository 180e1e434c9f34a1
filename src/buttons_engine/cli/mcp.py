"""``buttons mcp``: serve this data dir's MCP-enabled buttons to an MCP client over stdio (CONTRACT 14).

The SDK is imported here, inside the handler: no other command pays for it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

EPILOG = """stdout carries only MCP protocol messages; diagnostics go to stderr.
Only buttons with "mcp_enabled": true in their button.json are listed and pressable.
Limits per button: 10 calls a minute, one press at a time, timeout at most 120 s.

Add it to a client, e.g. Claude Code:
  claude mcp add buttons -- buttons mcp
See docs/mcp.md for Claude Desktop, Cursor and others."""


def build(p: argparse.ArgumentParser) -> Any:
    p.epilog = EPILOG
    p.add_argument(
        "--allow-create",
        action="store_true",
        help="offer the buttons_create tool (new buttons start with mcp_enabled false)",
    )
    p.add_argument(
        "--allow-http-buttons",
        action="store_true",
        help="let MCP clients press HTTP buttons (refused with HTTP_BUTTON_BLOCKED otherwise)",
    )

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..mcp.server import serve_stdio
        from ..services.mcp_tools import Tools

        return serve_stdio(Tools(ctx.layout, allow_create=ns.allow_create, allow_http=ns.allow_http_buttons))

    return handle
