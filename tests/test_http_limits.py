"""Bounded responses, deadlines and failure reporting of HTTP buttons (issue 3, Must show 4 and 5)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BUTTONS, Buttons
from core_helpers import run_tty, spawn_measurable
from http_support import RecordingServer, write_resolver

MIB = 1024 * 1024
PRIVATE_OK = {"BUTTONS_ALLOW_PRIVATE_NETWORKS": "1"}


@pytest.fixture(autouse=True)
def _no_dns(bt: Buttons, tmp_path: Path) -> Path:
    path = tmp_path / "resolver.json"
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = write_resolver(path, {})
    bt.env.update(PRIVATE_OK)
    return path


def _press_measured(bt: Buttons, tmp_path: Path, *args: str) -> tuple[int, dict, int]:
    """Run ``buttons press`` and return (exit status, envelope, peak RSS of that process in KiB)."""
    out_path = tmp_path / "press.out"
    with open(out_path, "wb") as out:
        run = spawn_measurable(
            [BUTTONS, "press", *args, "--json"],
            env=bt.env,
            cwd=bt.cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        code, peak_kib = run.wait()
    return code, json.loads(out_path.read_bytes()), peak_kib


@pytest.mark.slow
def test_200_mb_response_is_cut_at_1_mib_with_flat_memory(
    bt: Buttons, server: RecordingServer, tmp_path: Path
) -> None:
    total = 200 * MIB
    spec = bt.create(
        "big", "--url", f"http://127.0.0.1:{server.port}/stream/{total}", "--max-response-size", "1M"
    )
    assert spec["max_response_bytes"] == MIB

    code, env, peak_kib = _press_measured(bt, tmp_path, "big")
    assert code == 0, env
    data = env["data"]
    assert data["status"] == "ok" and data["http_status_code"] == 200
    assert len(data["stdout"]) == MIB
    assert set(data["stdout"]) == {"x"}
    assert data["truncated"] is True
    assert data["stdout_dropped_bytes"] == total - MIB
    assert data["response_bytes_limit"] == MIB
    assert data["response_content_length"] == total
    print(f"peak RSS of the press: {peak_kib} KiB")
    assert peak_kib < 100 * 1024, f"peak RSS {peak_kib} KiB"
    # The engine stopped reading instead of draining the rest.
    assert not server.streamed_completely

    record = bt("history", "big", "--json").data[0]
    assert record["truncated"] is True
    assert record["stdout_dropped_bytes"] == total - MIB


def test_unsized_response_is_cut_and_marked(bt: Buttons, server: RecordingServer) -> None:
    bt.create(
        "unsized",
        "--url",
        f"http://127.0.0.1:{server.port}/stream-close/{5 * MIB}",
        "--max-response-size",
        "64K",
    )
    data = bt("press", "unsized", "--json").data
    assert len(data["stdout"]) == 64 * 1024
    assert data["truncated"] is True
    assert data["stdout_dropped_bytes"] >= 1  # at least what was seen past the cap; the rest is unknown
    assert "response_content_length" not in data


def test_response_under_the_cap_is_whole_and_unmarked(bt: Buttons, server: RecordingServer) -> None:
    bt.create("small", "--url", f"http://127.0.0.1:{server.port}/stream/{MIB}", "--max-response-size", "1M")
    data = bt("press", "small", "--json").data
    assert len(data["stdout"]) == MIB
    assert "truncated" not in data


def test_slow_response_times_out(bt: Buttons, server: RecordingServer) -> None:
    bt.create("slow", "--url", f"http://127.0.0.1:{server.port}/slow/10", "--timeout", "1")
    started = time.monotonic()
    r = bt("press", "slow", "--json")
    elapsed = time.monotonic() - started
    assert r.returncode == 1
    assert r.error["code"] == "TIMEOUT"
    assert r.error["message"] == "request timed out"
    assert r.error["result"]["status"] == "timeout"
    assert r.error["result"]["exit_code"] == -1
    assert elapsed < 8, elapsed


def test_deadline_covers_the_body_not_just_the_headers(bt: Buttons, server: RecordingServer) -> None:
    """Headers arrive at once, then a byte every 0.2 s: the press still ends at its timeout."""
    bt.create("drip", "--url", f"http://127.0.0.1:{server.port}/drip")
    started = time.monotonic()
    r = bt("press", "drip", "--timeout", "1.5", "--json")
    elapsed = time.monotonic() - started
    assert r.error["code"] == "TIMEOUT"
    assert r.error["result"]["http_status_code"] == 200
    assert r.error["result"]["stdout"].startswith("d")  # what arrived before the deadline is kept
    assert elapsed < 8, elapsed


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_refused_connection_is_explained(bt: Buttons) -> None:
    port = _closed_port()
    bt.create("down", "--url", f"http://127.0.0.1:{port}/")
    r = bt("press", "down", "--json")
    assert r.returncode == 1
    assert r.error["code"] == "SCRIPT_ERROR"
    assert r.error["message"] == f"request failed: connection refused by 127.0.0.1:{port}"
    assert r.error["result"]["exit_code"] == -1
    assert "http_status_code" not in r.error["result"]


def test_refused_connection_to_a_name_names_host_and_address(bt: Buttons, _no_dns: Path) -> None:
    port = _closed_port()
    write_resolver(_no_dns, {"down.test": ["127.0.0.1"]})
    bt.create("down", "--url", f"http://down.test:{port}/")
    r = bt("press", "down", "--json")
    assert r.error["message"] == f"request failed: connection refused by down.test:{port} (127.0.0.1)"


@pytest.mark.parametrize(("code", "reason"), [(404, "Not Found"), (500, "Internal Server Error")])
def test_http_error_status_is_a_script_error(
    bt: Buttons, server: RecordingServer, code: int, reason: str
) -> None:
    bt.create("http-status", "--url", f"http://127.0.0.1:{server.port}/status/{code}")
    r = bt("press", "http-status", "--json")
    assert r.returncode == 1
    assert r.error["code"] == "SCRIPT_ERROR"
    assert r.error["message"] == f"HTTP {code} {code} {reason}"  # the code twice: upstream's format
    result = r.error["result"]
    assert result["http_status_code"] == code
    assert result["exit_code"] == code
    assert result["stdout"] == f"status {code} body"
    record = bt("history", "http-status", "--json").data[0]
    assert (record["status"], record["http_status_code"], record["error_type"]) == (
        "error",
        code,
        "SCRIPT_ERROR",
    )


def test_success_result_shape(bt: Buttons, server: RecordingServer) -> None:
    bt.create("ok", "--url", f"http://127.0.0.1:{server.port}/status/201")
    r = bt("press", "ok", "--json")
    data = r.data
    assert (data["status"], data["exit_code"], data["http_status_code"]) == ("ok", 201, 201)
    assert data["stdout"] == "status 201 body"
    assert "progress_path" not in data  # no progress file for HTTP buttons
    pressed = bt.home / "buttons" / "ok" / "pressed"
    assert not [p for p in pressed.iterdir() if p.name.endswith(".progress.jsonl")]


def test_human_output(bt: Buttons, server: RecordingServer) -> None:
    bt.create("ok", "--url", f"http://127.0.0.1:{server.port}/status/200")
    r = run_tty(bt, "press", "ok")
    assert r.returncode == 0, r.stderr
    assert "completed" in r.stderr and "(HTTP 200)" in r.stderr
    assert "status 200 body" in r.stdout


def _raw_server(reply: bytes) -> tuple[socket.socket, int]:
    """A TCP listener that answers the first connection with ``reply`` and closes it."""
    import threading

    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)

    def serve() -> None:
        conn, _ = lsock.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return lsock, lsock.getsockname()[1]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"", "closed the connection without a complete response"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
            "closed the connection without a complete response",
        ),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "sent a response that is not valid HTTP"),
    ],
)
def test_broken_servers_are_explained(bt: Buttons, reply: bytes, expected: str) -> None:
    lsock, port = _raw_server(reply)
    try:
        bt.create("broken", "--url", f"http://127.0.0.1:{port}/")
        r = bt("press", "broken", "--json")
    finally:
        lsock.close()
    assert r.error["code"] == "SCRIPT_ERROR"
    assert r.error["message"].startswith(f"request failed: 127.0.0.1:{port} {expected}"), r.error["message"]


def test_smash_stop_cancels_a_request_in_flight(bt: Buttons, server: RecordingServer) -> None:
    """smash --on-failure stop ends an HTTP press that is waiting on a silent server."""
    bt.create("fail", "--code", "sleep 0.3; exit 1")
    bt.create("silent", "--url", f"http://127.0.0.1:{server.port}/slow/30")
    started = time.monotonic()
    r = bt("smash", "fail", "silent", "--on-failure", "stop", "--json")
    elapsed = time.monotonic() - started
    results = {x["button"]: x["result"] for x in r.envelope["data"]["results"]}
    assert results["silent"]["error_type"] == "CANCELLED"
    assert results["silent"]["exit_code"] == -1
    assert elapsed < 10, elapsed
