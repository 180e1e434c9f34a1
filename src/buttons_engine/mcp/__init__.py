"""The MCP surface (CONTRACT 14) on the official MCP Python SDK.

Imported only by ``buttons mcp`` (and, later, ``buttons serve`` mounting ``/mcp``): the SDK, pydantic
and anyio stay off every other command's path. The tools themselves live in
``services/mcp_tools.py``; this package only speaks the protocol.
"""
