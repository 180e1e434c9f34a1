"""``buttons serve`` mounts the MCP server at ``/mcp`` (streamable HTTP), inside serve's own guard.

Driven with the MCP SDK's own client (``streamable_http_client``) against a real server on
127.0.0.1: the same tools as ``buttons mcp``, the bearer key required, the secure headers on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from conftest import Buttons
from mcp_support import enable, payload
from serve_support import Server

KEY = "mcp-over-http-key"  # pragma: allowlist secret


@pytest.fixture
def server(bt: Buttons) -> Iterator[Server]:
    bt.create("greet", "--code", 'echo "hi $BUTTONS_ARG_WHO"', "--arg", "who:string:required")
    enable(bt, "greet")
    bt.create("hidden", "--code", "echo hidden")
    srv = Server.start(bt, "--api-key", KEY)
    try:
        yield srv
    finally:
        try:
            srv.stop(timeout=30)
        finally:
            srv.kill()


def _call(url: str, key: str, work: Any) -> Any:
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def main() -> Any:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as client,
            streamable_http_client(url, http_client=client) as (read, write, *_),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await work(session)

    return anyio.run(main)


def test_mcp_tools_over_streamable_http_with_the_servers_key(server: Server) -> None:
    async def work(session: Any) -> Any:
        tools = {t.name for t in (await session.list_tools()).tools}
        pressed = payload(await session.call_tool("buttons_press", {"name": "greet", "args": {"who": "web"}}))
        hidden = await session.call_tool("buttons_press", {"name": "hidden"})
        return tools, pressed, hidden

    tools, pressed, hidden = _call(f"{server.url}/mcp", KEY, work)
    assert tools == {"buttons_list", "buttons_press", "buttons_inspect", "greet"}
    assert pressed["stdout"] == "hi web\n" and pressed["run_id"]
    assert hidden.is_error and payload(hidden)["code"] == "FORBIDDEN"


def test_mcp_over_http_needs_the_key_and_gets_the_secure_headers(server: Server) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    accept = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    with httpx.Client(base_url=server.url, timeout=30) as c:
        r = c.post("/mcp", json=hello, headers=accept)
        assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
        r = c.post("/mcp", json=hello, headers={**accept, "Authorization": "Bearer wrong"})
        assert r.status_code == 401
        r = c.post("/mcp", json=hello, headers={**accept, "Authorization": f"Bearer {KEY}"})
        assert r.status_code < 500
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "server" not in r.headers
