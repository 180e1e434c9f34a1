"""Helpers for driving ``buttons mcp`` in tests: the SDK's own client, and a raw line-level peer.

``session(bt, ...)`` starts the real console script through ``mcp.client.stdio.stdio_client`` and
yields an initialized ``ClientSession``; ``RawPeer`` speaks JSON-RPC lines directly, for input the
SDK client would never send (malformed lines, unknown methods, a client that vanishes mid-press).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters, stdio_client

from conftest import BUTTONS, Buttons


def enable(bt: Buttons, name: str, enabled: bool = True) -> None:
    """Set ``mcp_enabled`` in a button's button.json, the way a person opts a button in."""
    path = bt.home / "buttons" / name / "button.json"
    spec = json.loads(path.read_text())
    spec["mcp_enabled"] = enabled
    path.write_text(json.dumps(spec, indent=2))


@asynccontextmanager
async def session(bt: Buttons, *flags: str, errlog: Path | None = None) -> AsyncIterator[ClientSession]:
    env = {"BUTTONS_HOME": str(bt.home)}
    params = StdioServerParameters(command=BUTTONS, args=["mcp", *flags], env=env, cwd=str(bt.cwd))
    log = open(errlog or os.devnull, "w")  # noqa: SIM115 - closed below, after the server has exited
    try:
        async with stdio_client(params, errlog=log) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            yield s
    finally:
        log.close()


def payload(result: Any) -> dict[str, Any]:
    """The JSON payload of a tool result (its one text content)."""
    assert len(result.content) == 1, result
    assert result.content[0].type == "text"
    value = json.loads(result.content[0].text)
    assert isinstance(value, dict)
    return value


class RawPeer:
    """``buttons mcp`` as a subprocess, spoken to one JSON-RPC line at a time."""

    def __init__(self, bt: Buttons, *flags: str) -> None:
        env = dict(bt.env)
        self.proc = subprocess.Popen(
            [BUTTONS, "mcp", *flags],
            env=env,
            cwd=str(bt.cwd),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.next_id = 0
        self._buf = b""

    def send_line(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_line(json.dumps(message).encode())

    def read(self, timeout: float = 30) -> dict[str, Any]:
        """The next line on stdout, which must be one JSON-RPC message."""
        assert self.proc.stdout is not None
        import select

        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError("no message from the server in time")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"server closed stdout; stderr: {self.stderr_text()}")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        msg = json.loads(line)
        assert msg.get("jsonrpc") == "2.0", msg
        return msg

    def rest_of_stdout(self) -> bytes:
        """What is left on stdout after the server exited (the unread buffer included)."""
        assert self.proc.stdout is not None
        data = self._buf
        while chunk := os.read(self.proc.stdout.fileno(), 65536):
            data += chunk
        self._buf = b""
        return data

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request and return its response (notifications in between are skipped)."""
        self.next_id += 1
        rid = self.next_id
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        while True:
            reply = self.read()
            if reply.get("id") == rid:
                return reply

    def initialize(self) -> dict[str, Any]:
        reply = self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            },
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return reply

    def call(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"name": tool}
        if arguments is not None:
            params["arguments"] = arguments
        return self.request("tools/call", params)

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def stderr_text(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.close_stdin()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def tool_payload(reply: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """``(isError, payload)`` of a raw ``tools/call`` response."""
    assert "result" in reply, reply
    result = reply["result"]
    return bool(result.get("isError")), json.loads(result["content"][0]["text"])
