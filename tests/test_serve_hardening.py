"""``buttons serve`` under abuse: body limits, rate limits, slow clients, BUSY and the graceful stop.

Each test starts the real console script on 127.0.0.1 and stops it. The timings asserted are gross
guards only (a slow client is cut off well within 30 s, where the limit is 5 s).
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Buttons
from serve_support import Server, Start, alive, read_response, wait_for


def _code(r: httpx.Response) -> str:
    body = r.json()
    assert body["ok"] is False, body
    return str(body["error"]["code"])


# ------------------------------------------------------------------------------------------- 413
def test_body_over_1_mib_with_content_length_is_413(bt: Buttons, serve: Start) -> None:
    bt.create("greet", "--code", "echo hi")
    server = serve()
    with server.raw() as s:
        # The length alone is refused: the server answers without waiting for the body.
        s.sendall(
            b"POST /api/buttons/greet/press HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2097152\r\n\r\n"
        )
        status, headers, body = read_response(s)
    assert status == 413
    assert b'"code":"BODY_TOO_LARGE"' in body
    assert headers["x-content-type-options"] == "nosniff"
    with server.client() as c:  # exactly 1 MiB is still accepted
        body = b'{"args": {}}'
        ok = c.post("/api/buttons/greet/press", content=body + b" " * (1024 * 1024 - len(body)))
        assert ok.status_code == 200
    assert len(bt("history", "greet", "--json").data) == 1


def test_chunked_body_over_1_mib_without_a_length_is_413(bt: Buttons, serve: Start) -> None:
    bt.create("greet", "--code", "echo hi")
    server = serve()
    with server.raw() as s:
        s.sendall(
            b"POST /api/buttons/greet/press HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        # Exactly 1 MiB, then one byte more: the server reads everything sent before it answers
        # (no unread data, so the connection ends with FIN, not a reset that could eat the answer).
        piece = b" " * 65536
        for _ in range(16):
            s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        s.sendall(b"1\r\n \r\n")
        status, _headers, body = read_response(s)
    assert status == 413
    assert b'"code":"BODY_TOO_LARGE"' in body
    assert bt("history", "greet", "--json").data == []


# ------------------------------------------------------------------------------------------- 429
def test_rate_limit_per_client_with_retry_after_health_exempt(bt: Buttons, serve: Start) -> None:
    server = serve("--rate-limit", "3/minute")
    with server.client() as c:
        assert [c.get("/api/buttons").status_code for _ in range(3)] == [200, 200, 200]
        r = c.get("/api/buttons")
        assert r.status_code == 429 and _code(r) == "RATE_LIMITED"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert r.headers["x-frame-options"] == "DENY"
        assert all(c.get("/api/health").status_code == 200 for _ in range(10))


def test_rate_limit_off(bt: Buttons, serve: Start) -> None:
    server = serve("--rate-limit", "off")
    with server.client() as c:
        assert all(c.get("/api/buttons").status_code == 200 for _ in range(30))


def test_failed_auth_attempts_are_limited_more_strictly(bt: Buttons, serve: Start) -> None:
    server = serve("--api-key", "right-key")
    with server.client("wrong-key") as c:
        codes = [c.get("/api/buttons").status_code for _ in range(10)]
        assert codes == [401] * 10
        r = c.get("/api/buttons")
        assert r.status_code == 429 and _code(r) == "RATE_LIMITED"
        assert int(r.headers["retry-after"]) >= 1
    with server.client("right-key") as c:
        # From the same address even the right key waits: guessing is over for this window.
        assert c.get("/api/buttons").status_code == 429
        assert c.get("/api/health").status_code == 200


# ------------------------------------------------------------------------------------------- slow clients
def test_slowloris_headers_are_cut_off_while_others_are_served(bt: Buttons, serve: Start) -> None:
    server = serve()
    slow = server.raw()
    slow.sendall(b"GET /api/health HTTP/1.1\r\n")
    closed_after = None
    started = time.monotonic()
    served_meanwhile = 0
    with server.client() as c:
        while time.monotonic() - started < 30:
            try:
                slow.sendall(b"X")  # one header byte at a time, never finishing
                slow.settimeout(0.3)
                if slow.recv(1024) == b"":
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                pass
            except OSError:
                closed_after = time.monotonic() - started
                break
            assert c.get("/api/health").status_code == 200  # the slow client holds nobody up
            served_meanwhile += 1
    slow.close()
    assert closed_after is not None, "the slow client was never cut off"
    assert closed_after < 25
    assert served_meanwhile >= 3
    # The server's log line is read by a thread: give it a moment to arrive (no fixed sleep).
    deadline = time.monotonic() + 10
    while "no complete request headers" not in server.stderr and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "no complete request headers" in server.stderr


@pytest.mark.slow
def test_slow_body_is_408(bt: Buttons, serve: Start) -> None:
    bt.create("greet", "--code", "echo hi")
    server = serve()
    with server.raw() as s:
        s.sendall(
            b"POST /api/buttons/greet/press HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"
        )
        status, headers, body = read_response(s)
    assert status == 408
    assert b'"code":"REQUEST_TIMEOUT"' in body
    assert headers.get("connection") == "close"
    assert bt("history", "greet", "--json").data == []


def test_oversized_headers_are_refused(bt: Buttons, serve: Start) -> None:
    server = serve()
    with server.raw() as s:
        # Over 16 KiB and still unfinished: refused as soon as the limit is passed (and all that
        # was sent has been read, so the answer is not lost to a reset).
        s.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20000)
        status, headers, body = read_response(s)
    assert status == 400
    assert b'"code":"BAD_REQUEST"' in body
    assert headers["x-frame-options"] == "DENY"
    with server.raw() as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        status, _headers, body = read_response(s)
    assert status == 400 and body.startswith(b'{"ok":false')
    with server.client() as c:
        assert c.get("/api/health").status_code == 200


# ------------------------------------------------------------------------------------------- BUSY
def _blocking_button(bt: Buttons, tmp_path: Path, name: str) -> tuple[Path, Path]:
    started, release = tmp_path / f"{name}.started", tmp_path / f"{name}.release"
    bt.create(
        name,
        "--code",
        f'echo $$ > "{started}.tmp"; mv "{started}.tmp" "{started}"; '
        f'while [ ! -e "{release}" ]; do sleep 0.05; done; echo done',
    )
    return started, release


def _press_in_thread(server: Server, name: str, out: dict[str, Any], **kw: Any) -> threading.Thread:
    def go() -> None:
        with server.client() as c:
            out["response"] = c.post(f"/api/buttons/{name}/press", **kw)

    thread = threading.Thread(target=go)
    thread.start()
    return thread


def test_busy_beyond_max_in_flight_with_retry_after(bt: Buttons, serve: Start, tmp_path: Path) -> None:
    started, release = _blocking_button(bt, tmp_path, "hold")
    bt.create("quick", "--code", "echo quick")
    server = serve("--max-in-flight", "1")
    out: dict[str, Any] = {}
    thread = _press_in_thread(server, "hold", out)
    try:
        wait_for(started)
        with server.client() as c:
            r = c.post("/api/buttons/quick/press")
            assert r.status_code == 503 and _code(r) == "BUSY"
            assert r.headers["retry-after"] == "1"
            assert c.get("/api/buttons").status_code == 200  # reads are not presses
    finally:
        release.touch()
        thread.join(60)
    assert out["response"].status_code == 200 and out["response"].json()["data"]["stdout"] == "done\n"
    with server.client() as c:
        assert c.post("/api/buttons/quick/press").json()["data"]["stdout"] == "quick\n"
    assert bt("history", "quick", "--json").data[0]["stdout"] == "quick\n"


# ------------------------------------------------------------------------------------------- graceful stop
def test_sigterm_lets_a_running_press_finish(bt: Buttons, serve: Start, tmp_path: Path) -> None:
    started, release = _blocking_button(bt, tmp_path, "hold")
    server = serve("--drain-timeout", "60s")
    out: dict[str, Any] = {}
    thread = _press_in_thread(server, "hold", out)
    wait_for(started)
    server.proc.send_signal(signal.SIGTERM)
    # Stopped accepting: a new connection is refused while the press drains.
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection((server.host, server.port), timeout=5).close()
        except OSError:
            break
        assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
        time.sleep(0.1)
    assert server.proc.poll() is None  # still draining
    release.touch()
    thread.join(60)
    assert out["response"].status_code == 200
    assert out["response"].json()["data"]["status"] == "ok"
    assert server.proc.wait(60) == 0
    runs = bt("history", "hold", "--json").data
    assert len(runs) == 1 and runs[0]["status"] == "ok"


def test_sigterm_cancels_presses_at_the_drain_deadline_and_records_them(
    bt: Buttons, serve: Start, tmp_path: Path
) -> None:
    started, _release = _blocking_button(bt, tmp_path, "hold")  # never released
    server = serve("--drain-timeout", "1s")
    out: dict[str, Any] = {}
    thread = _press_in_thread(server, "hold", out)
    wait_for(started)
    pid = int(started.read_text())
    assert alive(pid)
    server.proc.send_signal(signal.SIGTERM)
    thread.join(60)
    assert not thread.is_alive()
    assert server.proc.wait(60) == 0
    result = out["response"].json()["data"]
    assert out["response"].status_code == 200
    assert result["status"] != "ok" and result.get("error_type") == "CANCELLED"
    assert not alive(pid), "the press's process outlived the server"
    runs = bt("history", "hold", "--json").data
    assert len(runs) == 1 and runs[0]["run_id"] == result["run_id"]
    assert "cancelling 1 running press" in server.stderr


def test_a_client_that_goes_away_cancels_its_press(bt: Buttons, serve: Start, tmp_path: Path) -> None:
    started, _release = _blocking_button(bt, tmp_path, "hold")  # never released
    server = serve()
    with server.raw() as s:
        s.sendall(b"POST /api/buttons/hold/press HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
        wait_for(started)
        pid = int(started.read_text())
    # The connection is closed: the server ends the press through the kill chain and records it.
    deadline = time.monotonic() + 60
    while not (runs := bt("history", "hold", "--json").data):
        assert time.monotonic() < deadline, "the abandoned press was never recorded"
        time.sleep(0.2)
    assert runs[0]["error_type"] == "CANCELLED"
    assert not alive(pid)
    with server.client() as c:  # and the server carries on
        assert c.get("/api/health").status_code == 200
    assert server.stop() == 0


def test_a_port_in_use_is_a_clear_error(bt: Buttons, serve: Start) -> None:
    server = serve()
    r = bt("serve", "--port", str(server.port), "--json")
    assert r.returncode == 1
    assert "cannot listen on" in r.error["message"]


def test_a_press_cancelled_before_it_started_is_503_cancelled(
    bt: Buttons, serve: Start, tmp_path: Path
) -> None:
    """The second press waits for the queue slot the first holds; the drain deadline cancels both:
    the running one is a result with CANCELLED, the waiting one never started: 503 CANCELLED."""
    started, _release = _blocking_button(bt, tmp_path, "hold")  # never released
    path = bt.home / "buttons" / "hold" / "button.json"
    spec = json.loads(path.read_text())
    spec["queue"] = {"name": "one", "concurrency": 1}
    path.write_text(json.dumps(spec))
    bt.create("after", "--code", "echo after", "--queue", "one:1")
    server = serve("--drain-timeout", "2s")
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}
    t1 = _press_in_thread(server, "hold", first)
    wait_for(started)
    t2 = _press_in_thread(server, "after", second)
    time.sleep(0.5)  # the second press is waiting for the queue slot (no timing is asserted)
    server.proc.send_signal(signal.SIGTERM)
    t1.join(60)
    t2.join(60)
    assert server.proc.wait(60) == 0
    assert first["response"].status_code == 200
    assert first["response"].json()["data"]["error_type"] == "CANCELLED"
    r = second["response"]
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "CANCELLED"
    assert bt("history", "after", "--json").data == []  # it never ran


def test_the_timeout_is_capped_at_300_s(bt: Buttons, serve: Start) -> None:
    bt.create("long", "--code", "echo ok", "--timeout", "3600")
    bt.create("short", "--code", "echo ok", "--timeout", "7")
    server = serve()
    with server.client() as c:

        def allowed(name: str, body: dict[str, Any]) -> Any:
            r = c.post(f"/api/buttons/{name}/press", json=body)
            assert r.status_code == 200, r.text
            return r.json()["data"]["timeout_seconds"]

        assert allowed("long", {}) == 300  # the button's own hour is capped
        assert allowed("long", {"timeout": 10**9}) == 300  # and so is the request's
        assert allowed("long", {"timeout": 5}) == 5
        assert allowed("short", {}) == 7
        assert allowed("short", {"timeout": 0}) == 7


# ------------------------------------------------------------------------------------------- DNS rebinding
def test_without_a_key_only_loopback_host_names_are_served(bt: Buttons, serve: Start) -> None:
    bt.create("greet", "--code", "echo hi")
    server = serve()

    def status(host: str, path: str = "/api/buttons", method: str = "GET") -> tuple[int, bytes]:
        with server.raw() as s:
            s.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode())
            code, _headers, body = read_response(s)
        return code, body

    for host in ("127.0.0.1", f"127.0.0.1:{server.port}", "localhost", f"LOCALHOST:{server.port}",
                 "127.8.9.10:1", "[::1]", f"[::1]:{server.port}"):  # fmt: skip
        assert status(host)[0] == 200, host
    for host in ("evil.example", f"evil.example:{server.port}", "127.0.0.1.evil.example",
                 "localhost.", "[::1]x", "127.0.0.1:80x", "10.0.0.1"):  # fmt: skip
        code, body = status(host)
        assert code == 421, host
        assert b'"code":"HOST_NOT_ALLOWED"' in body
        assert status(host, "/api/buttons/greet/press", "POST")[0] == 421
        assert status(host, "/mcp", "POST")[0] == 421
    assert status("evil.example", "/api/health")[0] == 200  # health reveals nothing
    assert bt("history", "greet", "--json").data == []  # nothing was pressed


def test_with_a_key_any_host_name_is_served(bt: Buttons, serve: Start) -> None:
    server = serve("--api-key", "k")
    with server.raw() as s:
        s.sendall(b"GET /api/buttons HTTP/1.1\r\nHost: buttons.example\r\nAuthorization: Bearer k\r\n\r\n")
        code, _headers, _body = read_response(s)
    assert code == 200
