"""``buttons mcp`` under input an SDK client would never send: every line still gets an answer, and the
server keeps serving. Also: a client that vanishes mid-press (the press is ended and recorded)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from conftest import Buttons
from core_helpers import alive
from mcp_support import RawPeer, enable, tool_payload


def test_bad_lines_methods_tools_and_arguments_never_crash_the_server(bt: Buttons) -> None:
    bt.create(
        "greet",
        "--code",
        'echo "hi $BUTTONS_ARG_WHO"',
        "--arg",
        "who:string:required",
        "--arg",
        "n:int:optional",
    )
    enable(bt, "greet")
    peer = RawPeer(bt)
    try:
        # Before and after the handshake, a line that is not JSON is a parse error without an id.
        peer.send_line(b"this is not json {")
        reply = peer.read()
        assert reply["id"] is None and reply["error"]["code"] == -32700
        init = peer.initialize()
        assert init["result"]["serverInfo"]["name"] == "buttons"
        assert "tools" in init["result"]["capabilities"]

        peer.send_line(b'{"jsonrpc": "2.0", "id": 7, "method": 12}')
        reply = peer.read()
        assert reply["id"] is None and reply["error"]["code"] == -32600
        peer.send_line(b"\xff\xfe garbage")
        assert peer.read()["error"]["code"] == -32700
        peer.send_line(b'{"foo": 1}')
        assert peer.read()["error"]["code"] == -32600

        reply = peer.request("no/such/method", {})
        assert reply["error"]["code"] == -32601
        reply = peer.call("no_such_tool", {})
        assert reply["error"]["code"] == -32601
        assert reply["error"]["message"] == "unknown tool: no_such_tool"
        reply = peer.call("nosuchbutton", {})
        assert reply["error"]["code"] == -32601
        for weird in ("../etc", "a/b", "x" * 300, "update"):
            assert peer.call(weird, {})["error"]["code"] == -32601, weird
        reply = peer.request("tools/call", {"arguments": {}})  # no tool name
        assert reply["error"]["code"] == -32602
        reply = peer.request("tools/call", {"name": "buttons_press", "arguments": "not an object"})
        assert reply["error"]["code"] == -32602

        # Wrong argument types and shapes are tool errors (the model can correct itself).
        cases = [
            ("buttons_press", {}),
            ("buttons_press", {"name": 5}),
            ("buttons_press", {"name": "greet", "args": {"who": 5}}),
            ("buttons_press", {"name": "greet", "args": ["who=x"]}),
            ("buttons_press", {"name": "greet", "args": {"who": "x"}, "timeout": "soon"}),
            ("buttons_press", {"name": "greet", "args": {"who": "x"}, "timeout": True}),
            ("buttons_press", {"name": "greet", "colour": "red"}),
            ("greet", {"who": 1}),
            ("greet", {"who": "x", "n": "3"}),
            ("greet", {"who": "x", "n": 1.5}),
            ("greet", {"who": "x", "extra": "y"}),
            ("buttons_inspect", {"name": ["greet"]}),
        ]
        for tool, arguments in cases:
            is_error, body = tool_payload(peer.call(tool, arguments))
            assert is_error, (tool, arguments)
            assert body["error"] is True and body["code"] == "INVALID_PARAMS", (tool, arguments, body)

        # A huge argument is refused before anything runs.
        huge = "x" * (2 * 1024 * 1024)
        is_error, body = tool_payload(peer.call("buttons_press", {"name": "greet", "args": {"who": huge}}))
        assert is_error and body["code"] == "INVALID_PARAMS" and "larger than" in body["message"]
        is_error, body = tool_payload(peer.call("greet", {"who": huge}))
        assert is_error and body["code"] == "INVALID_PARAMS"
        assert not list((bt.home / "buttons" / "greet" / "pressed").glob("*.json"))

        # A button deleted while the server runs.
        is_error, body = tool_payload(peer.call("greet", {"who": "a"}))
        assert not is_error and body["stdout"] == "hi a\n"
        assert bt("delete", "greet", "--json").returncode == 0
        is_error, body = tool_payload(peer.call("buttons_press", {"name": "greet", "args": {"who": "a"}}))
        assert is_error and body["code"] == "NOT_FOUND"
        assert peer.call("greet", {"who": "a"})["error"]["code"] == -32601
        is_error, body = tool_payload(peer.call("buttons_list", {}))
        assert not is_error and body == {"buttons": [], "count": 0}

        # A hand-broken button.json is neither listed nor a crash.
        bt.create("broken", "--code", "true")
        path = bt.home / "buttons" / "broken" / "button.json"
        spec = json.loads(path.read_text())
        spec.update(mcp_enabled=True, args="not a list")
        path.write_text(json.dumps(spec))
        names = [t["name"] for t in peer.request("tools/list")["result"]["tools"]]
        assert names == ["buttons_list", "buttons_press", "buttons_inspect"]
        is_error, body = tool_payload(peer.call("buttons_press", {"name": "broken"}))
        assert is_error and body["code"] == "VALIDATION_ERROR" and "'args'" in body["message"]

        # Still serving.
        assert peer.request("ping")["result"] == {}
    finally:
        peer.stop()
    assert peer.proc.returncode == 0


def test_stdout_carries_only_protocol_messages(bt: Buttons) -> None:
    """A chatty button and bad input: every byte on stdout is a JSON-RPC message."""
    bt.create("chatty", "--code", "echo to-stdout; echo to-stderr >&2")
    enable(bt, "chatty")
    peer = RawPeer(bt)
    init = {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    }
    peer.send_line(b"{broken")
    peer.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
    peer.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    peer.send(
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "chatty", "arguments": {}}}
    )
    peer.send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "nope_nope"}})
    replies: dict[object, dict[str, object]] = {}
    while len(replies) < 4:
        msg = peer.read()
        replies[msg.get("id")] = msg
    peer.close_stdin()
    assert peer.proc.wait(timeout=30) == 0
    assert peer.rest_of_stdout() == b""
    assert set(replies) == {None, 1, 2, 3}
    is_error, body = tool_payload(replies[2])
    assert not is_error and body["stdout"] == "to-stdout\n" and body["stderr"] == "to-stderr\n"
    assert peer.proc.stderr is not None
    err = peer.proc.stderr.read().decode()
    assert "[mcp]" in err and "to-stdout" not in err
    peer.stop()


def test_client_disconnect_mid_press_ends_the_press_and_records_it(bt: Buttons, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    bt.create("hang", "--code", f"sh -c 'echo $$ > \"{pidfile}\"; exec sleep 300' & wait")
    enable(bt, "hang")
    peer = RawPeer(bt)
    try:
        peer.initialize()
        peer.send(
            {"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": {"name": "hang", "arguments": {}}}
        )
        deadline = time.monotonic() + 30
        while not (pidfile.exists() and pidfile.read_text().strip()):
            assert time.monotonic() < deadline, peer.stderr_text()
            time.sleep(0.05)
        child = int(pidfile.read_text())
        assert alive(child)
        started = time.monotonic()
        peer.close_stdin()  # the client goes away
        assert peer.proc.wait(timeout=60) == 0
        assert time.monotonic() - started < 30  # not the 120 s timeout
        assert not alive(child)
        [record] = (bt.home / "buttons" / "hang" / "pressed").glob("*.json")
        data = json.loads(record.read_text())
        assert data["status"] != "ok"
        assert data["error_type"] == "CANCELLED"
        assert "cancelled" in data["stderr"]
        assert peer.proc.stderr is not None
        assert "cancelled by the client" in peer.proc.stderr.read().decode()
    finally:
        if pidfile.exists() and pidfile.read_text().strip():
            pid = int(pidfile.read_text())
            if alive(pid):
                os.kill(pid, 9)
        peer.stop()


def test_cancel_notification_ends_the_press_and_the_server_keeps_serving(bt: Buttons, tmp_path: Path) -> None:
    started = tmp_path / "started"
    bt.create("hang", "--code", f'touch "{started}"; exec sleep 300')
    enable(bt, "hang")
    peer = RawPeer(bt)
    try:
        peer.initialize()
        peer.send(
            {"jsonrpc": "2.0", "id": 50, "method": "tools/call", "params": {"name": "hang", "arguments": {}}}
        )
        deadline = time.monotonic() + 30
        while not started.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        peer.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 50}})
        deadline = time.monotonic() + 30
        records: list[Path] = []
        while not records:
            assert time.monotonic() < deadline
            time.sleep(0.1)
            records = list((bt.home / "buttons" / "hang" / "pressed").glob("*.json"))
        assert json.loads(records[0].read_text())["error_type"] == "CANCELLED"
        # The button is free again and the server answers.
        assert peer.request("ping")["result"] == {}
        started.unlink()
        bt.create("quick", "--code", "echo quick")
        enable(bt, "quick")
        is_error, body = tool_payload(peer.call("quick", {}))
        assert not is_error and body["stdout"] == "quick\n"
    finally:
        peer.stop()


def test_sigterm_to_the_server_ends_running_presses_and_records_them(bt: Buttons, tmp_path: Path) -> None:
    """Clients stop their servers with SIGTERM: a press in its own session must not outlive the server."""
    import signal

    pidfile = tmp_path / "pid"
    bt.create("hang", "--code", f'echo $$ > "{pidfile}"; exec sleep 300')
    enable(bt, "hang")
    peer = RawPeer(bt)
    try:
        peer.initialize()
        peer.send(
            {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "hang", "arguments": {}}}
        )
        deadline = time.monotonic() + 30
        while not (pidfile.exists() and pidfile.read_text().strip()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child = int(pidfile.read_text())
        peer.proc.send_signal(signal.SIGTERM)
        assert peer.proc.wait(timeout=60) == 1
        assert not alive(child)
        [record] = (bt.home / "buttons" / "hang" / "pressed").glob("*.json")
        assert json.loads(record.read_text())["error_type"] == "CANCELLED"
    finally:
        if pidfile.exists() and pidfile.read_text().strip() and alive(int(pidfile.read_text())):
            os.kill(int(pidfile.read_text()), 9)
        peer.stop()
