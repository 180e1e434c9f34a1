"""Drawers as MCP tools (beyond CONTRACT 14, issue 13): ``drawers_list`` and ``drawers_press``, only for
drawers with ``"mcp_enabled": true`` in ``drawer.json``, driven by the SDK's own client over stdio
through the real console script, and over streamable HTTP at ``buttons serve``'s ``/mcp``.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from conftest import Buttons
from mcp_support import payload, session
from serve_support import Server, write_drawer

KEY = "mcp-drawers-key"  # pragma: allowlist secret


@pytest.fixture
def project(bt: Buttons) -> Buttons:
    bt.create("greet", "--code", 'echo "hi $BUTTONS_ARG_WHO x$BUTTONS_ARG_N"', "--arg", "who:string:required")
    bt.create("boom", "--code", "echo broke >&2; exit 3")
    step = {"id": "greet", "kind": "button", "button": "greet", "args": {"who": "${inputs.who}"}}
    write_drawer(
        bt,
        "hello",
        [step],
        inputs=[
            {"name": "who", "type": "string", "required": True, "description": "whom to greet"},
            {"name": "n", "type": "int"},
            {"name": "loud", "type": "bool"},
            {"name": "env", "type": "enum", "values": ["dev", "prod"]},
        ],
        mcp_enabled=True,
    )
    write_drawer(
        bt, "broken", [{"id": "b", "kind": "button", "button": "boom", "args": {}}], mcp_enabled=True
    )
    write_drawer(bt, "secret", [step], inputs=[{"name": "who", "type": "string"}])  # not enabled
    return bt


def test_drawer_tools_list_schemas_and_press_over_stdio(project: Buttons) -> None:
    async def main() -> None:
        async with session(project) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            assert {"drawers_list", "drawers_press"} <= set(tools)
            schema = tools["drawers_press"].input_schema
            assert schema["required"] == ["name"]
            assert schema["properties"]["name"]["enum"] == ["broken", "hello"]  # enabled ones only
            branch = next(b for b in schema["oneOf"] if b["properties"]["name"]["const"] == "hello")
            inputs = branch["properties"]["inputs"]
            assert inputs["required"] == ["who"]
            assert inputs["properties"]["n"]["type"] == "integer"
            assert inputs["properties"]["loud"]["type"] == "boolean"
            assert inputs["properties"]["env"]["enum"] == ["dev", "prod"]
            assert branch["required"] == ["name", "inputs"]

            listed = payload(await s.call_tool("drawers_list", {}))
            assert listed["count"] == 2 and [d["name"] for d in listed["drawers"]] == ["broken", "hello"]
            hello = listed["drawers"][1]
            assert hello["steps"] == ["greet"] and hello["input_schema"] == inputs

            ok = await s.call_tool("drawers_press", {"name": "hello", "inputs": {"who": "ann", "n": 2}})
            assert not ok.is_error
            result = payload(ok)
            assert result["status"] == "ok" and result["steps"][0]["stdout"] == "hi ann x\n"
            assert result["run_id"] and result["steps"][0]["run_id"]

            failed = await s.call_tool("drawers_press", {"name": "broken"})
            assert failed.is_error
            err = payload(failed)
            assert err["code"] == "SCRIPT_ERROR" and err["drawer"] == "broken" and err["run_id"]
            assert "step b: broke" in err["message"]

            for args, code in (
                ({"name": "secret", "inputs": {"who": "x"}}, "FORBIDDEN"),
                ({"name": "nope"}, "NOT_FOUND"),
                ({"name": "hello", "inputs": {}}, "MISSING_INPUT"),
                ({"name": "hello", "inputs": {"who": 3}}, "INVALID_PARAMS"),
                ({"name": "hello", "inputs": {"who": "a", "n": "2"}}, "INVALID_PARAMS"),
                ({"name": "hello", "inputs": {"who": "a", "loud": "yes"}}, "INVALID_PARAMS"),
                ({"name": "hello", "inputs": {"who": "a", "env": "staging"}}, "INVALID_PARAMS"),
                ({"name": "hello", "inputs": [1]}, "INVALID_PARAMS"),
                ({"name": "hello", "inputs": {"who": "a"}, "mode": "sideways"}, "INVALID_PARAMS"),
                ({"name": "hello", "inputs": {"who": "x" * 300_000}}, "INVALID_PARAMS"),
                ({"name": "hello", "extra": 1}, "INVALID_PARAMS"),
            ):
                r = await s.call_tool("drawers_press", args)
                assert r.is_error and payload(r)["code"] == code, (args, payload(r))
            # The server keeps serving after every refusal.
            again = payload(await s.call_tool("drawers_press", {"name": "hello", "inputs": {"who": "bo"}}))
            assert again["status"] == "ok"

    anyio.run(main)
    runs = project("drawer", "hello", "logs", "--json").data
    assert len(runs) == 2
    assert project("drawer", "secret", "logs", "--json").data == []


def test_no_enabled_drawer_offers_no_drawer_tool(bt: Buttons) -> None:
    bt.create("greet", "--code", "echo hi")
    write_drawer(bt, "quiet", [{"id": "g", "kind": "button", "button": "greet", "args": {}}])

    async def main() -> None:
        async with session(bt) as s:
            names = {t.name for t in (await s.list_tools()).tools}
            assert not {"drawers_list", "drawers_press"} & names
            assert payload(await s.call_tool("drawers_list", {})) == {"drawers": [], "count": 0}
            r = await s.call_tool("drawers_press", {"name": "quiet"})
            assert r.is_error and payload(r)["code"] == "FORBIDDEN"

    anyio.run(main)


def test_drawer_tools_over_streamable_http_on_serve(project: Buttons) -> None:
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    server = Server.start(project, "--api-key", KEY)

    async def main() -> Any:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as client,
            streamable_http_client(f"{server.url}/mcp", http_client=client) as (read, write, *_),
            ClientSession(read, write) as s,
        ):
            await s.initialize()
            names = {t.name for t in (await s.list_tools()).tools}
            pressed = payload(await s.call_tool("drawers_press", {"name": "hello", "inputs": {"who": "web"}}))
            hidden = await s.call_tool("drawers_press", {"name": "secret", "inputs": {"who": "web"}})
            return names, pressed, hidden

    try:
        names, pressed, hidden = anyio.run(main)
    finally:
        try:
            server.stop(timeout=30)
        finally:
            server.kill()
    assert {"drawers_list", "drawers_press"} <= names
    assert pressed["status"] == "ok" and pressed["steps"][0]["stdout"] == "hi web x\n"
    assert hidden.is_error and payload(hidden)["code"] == "FORBIDDEN"
