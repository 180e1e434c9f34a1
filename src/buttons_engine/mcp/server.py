"""``buttons mcp``: the tools of ``services/mcp_tools.py`` served with the official MCP SDK.

:func:`build_server` makes the SDK ``Server`` object; :func:`serve_stdio` runs it over stdin/stdout.
``buttons serve`` will mount the same object at ``/mcp`` over streamable HTTP
(``build_server(tools).streamable_http_app(...)``), behind its own auth and rate limit.

Protocol errors (JSON-RPC): an unparsable line ``-32700`` and a line that is not a JSON-RPC message
``-32600`` (both with ``id: null``); unknown method ``-32601``; an unknown tool ``-32601``
``unknown tool: X``; malformed params ``-32602``. Everything a tool can get wrong is a tool result
with ``isError`` (CONTRACT 14). Diagnostics go to stderr as ``[mcp] ...``; stdout carries only protocol.

A press runs in a worker thread with a ``cancel`` event. When the client cancels the request
(``notifications/cancelled``) or goes away (stdin closes), the handler sets the event, the engine
ends the child through its kill chain, and the handler waits for the run record to be written
before the server exits.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

import anyio
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage
from mcp.types import INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR

from .. import __version__
from ..services import mcp_tools
from ..services.mcp_tools import ToolError, Tools, UnknownTool
from ..services.serve import interrupt_presses

INSTRUCTIONS = (
    "Buttons: typed, pressable actions of this project. Call buttons_list (or tools/list) to see them; "
    "each enabled button is also a tool of its own whose input schema is its arguments."
)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
PROGRESS_POLL = 0.2  # seconds between looks at a press's progress file


def log(message: str) -> None:
    try:
        sys.stderr.write(f"[mcp] {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def build_server(tools: Tools) -> Server[Any]:
    """The MCP server object for ``tools`` (stdio here; streamable HTTP once ``serve`` mounts it)."""

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        defs = await anyio.to_thread.run_sync(tools.definitions)
        return types.ListToolsResult(
            tools=[
                types.Tool(name=d["name"], description=d["description"], input_schema=d["inputSchema"])
                for d in defs
            ]
        )

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        name = params.name
        arguments = params.arguments
        follow = _wants_progress(ctx) and _is_press(name)
        try:
            payload = await _run_tool(ctx, tools, name, arguments, follow)
        except UnknownTool:
            raise MCPError(code=METHOD_NOT_FOUND, message=f"unknown tool: {name}") from None
        except ToolError as exc:
            return _result(exc.payload(), error=True)
        return _result(payload, error=False)

    return Server(
        "buttons",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _result(payload: dict[str, Any], *, error: bool) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=mcp_tools.render(payload, error=error))],
        is_error=error,
    )


def _wants_progress(ctx: Any) -> bool:
    params = getattr(ctx, "params", None) or {}
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and meta.get("progressToken") is not None


def _is_press(tool: str) -> bool:
    return tool == mcp_tools.PRESS_TOOL or (tool not in mcp_tools.FIXED_TOOLS and "_" not in tool)


async def _run_tool(
    ctx: Any, tools: Tools, name: str, arguments: dict[str, Any] | None, follow: bool
) -> dict[str, Any]:
    """Run the tool in a worker thread; stream progress meanwhile; cancel the press if we are cancelled."""
    cancel = threading.Event()
    finished = threading.Event()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = tools.call(name, arguments, cancel=cancel)
        except (ToolError, UnknownTool) as exc:
            box["error"] = exc
        except Exception as exc:  # the one place unexpected errors of a tool call are translated
            import traceback

            log(f"tool {name!r} failed unexpectedly: {exc!r}\n{traceback.format_exc()}")
            box["error"] = ToolError("INTERNAL", "an unexpected error occurred; see the server's stderr")
        finally:
            finished.set()

    follower = None
    if follow:
        press_name = (arguments or {}).get("name") if name == mcp_tools.PRESS_TOOL else name
        if isinstance(press_name, str):
            try:
                follower = mcp_tools.ProgressFollower(tools.layout, press_name)
            except Exception:
                follower = None
    done = anyio.Event()

    async def run_in_thread() -> None:
        try:
            await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            # The client cancelled the call or went away: end the press through the kill chain,
            # then wait (shielded) until its run record is written.
            cancel.set()
            log(f"tool {name!r} cancelled by the client; ending the press")
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(finished.wait)
            raise
        finally:
            done.set()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_in_thread)
            if follower is not None:
                last = 0.0
                while not done.is_set():
                    with anyio.move_on_after(PROGRESS_POLL):
                        await done.wait()
                    for line in follower.poll(final=done.is_set()):
                        last, total, message = mcp_tools.progress_update(line, last)
                        await ctx.session.report_progress(last, total, message)
    finally:
        if follower is not None:
            follower.close()
    error = box.get("error")
    if error is not None:
        raise error
    value: dict[str, Any] = box["value"]
    return value


async def _relay(
    source: Any, sink: Any, write: Any
) -> None:  # streams of the SDK's stdio transport and of the server
    """Pass messages on; answer lines that are not JSON-RPC instead of dropping them silently."""
    async with sink:
        async for item in source:
            if isinstance(item, Exception):
                code, message = _parse_failure(item)
                log(f"bad input line: {message}")
                error = types.JSONRPCError(
                    jsonrpc="2.0", id=None, error=types.ErrorData(code=code, message=message)
                )
                try:
                    await write.send(SessionMessage(error))
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    return
                continue
            await sink.send(item)


def _parse_failure(exc: Exception) -> tuple[int, str]:
    # The SDK's stdio transport hands over pydantic's ValidationError; "json_invalid" means not JSON at all.
    errors = getattr(exc, "errors", None)
    details = errors() if callable(errors) else []
    if any(isinstance(e, dict) and e.get("type") == "json_invalid" for e in details):
        return PARSE_ERROR, "Parse error: the line is not JSON"
    return INVALID_REQUEST, "Invalid Request: the line is not a JSON-RPC 2.0 message"


async def _serve_stdio(tools: Tools) -> int:
    server = build_server(tools)
    stopped_by = 0
    async with stdio_server() as (read_stream, write_stream):
        send, receive = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        async with anyio.create_task_group() as tg:

            async def stop_on_signals() -> None:
                # SIGTERM from a client shutting down, Ctrl-C, a closed terminal: cancel every call,
                # which ends each running press through the kill chain and records it.
                nonlocal stopped_by
                with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
                    async for signum in signals:
                        stopped_by = int(signum)
                        log(f"received signal {stopped_by}: ending running presses")
                        interrupt_presses()  # a drawer run takes no cancel event: interrupt it
                        tg.cancel_scope.cancel()
                        return

            tg.start_soon(_relay, read_stream, send, write_stream)
            tg.start_soon(stop_on_signals)
            await server.run(receive, write_stream, server.create_initialization_options())
            tg.cancel_scope.cancel()
        if stopped_by:
            # The presses are recorded. The transport's stdin reader sits in a blocking read that
            # only the client can end, so leave without waiting for it.
            log("stopped")
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os._exit(1)
    return 0


def http_endpoint(tools: Tools, *, loopback: bool) -> tuple[Any, Any]:
    """The same server over streamable HTTP, for ``buttons serve`` to mount at ``/mcp``.

    Returns ``(asgi_app, session_manager)``; the caller runs ``session_manager.run()`` for the
    server's lifetime. Auth, the rate limit, the body limit and the secure headers are ``serve``'s
    own (the mount sits inside its guard). On a loopback bind the SDK's DNS-rebinding protection
    also checks ``Host`` and ``Origin`` (a page cannot rebind a name to 127.0.0.1 to reach it).
    """
    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
    from mcp.server.transport_security import TransportSecuritySettings

    security = None
    if loopback:
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        )
    manager = StreamableHTTPSessionManager(app=build_server(tools), security_settings=security)
    return StreamableHTTPASGIApp(manager), manager


def serve_stdio(tools: Tools) -> int:
    """Serve until the client closes stdin (in-flight presses are then cancelled and recorded).

    Returns the exit status: 0 when the client closed the connection. On SIGTERM, SIGINT or
    SIGHUP the running presses are ended and recorded, and the process exits with status 1.
    """
    import logging

    # The SDK logs through `logging`; its messages are diagnostics and belong on stderr.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="[mcp] %(name)s: %(message)s")
    log(f"buttons {__version__} serving MCP on stdio (data dir {tools.layout.root})")
    status: int = anyio.run(_serve_stdio, tools)
    return status
