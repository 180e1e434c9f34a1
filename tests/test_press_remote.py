"""``buttons press NAME --remote URL`` (issue 17): a press sent to a real ``buttons serve``.

The server runs on 127.0.0.1 with its own data dir (the ``bt`` workspace); the presses come from
the real console script with *another* data dir (``far``, the agent on another machine), which
must never be created: a remote press reads and writes nothing locally.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conftest import BUTTONS, Buttons
from core_helpers import run_tty, strip_ansi
from http_support import RecordingServer
from serve_support import Start, wait_for

if TYPE_CHECKING:
    from fleet_support import Fleet

KEY = "remote-test-key-5d1f0c9a"


@pytest.fixture
def far(tmp_path: Path) -> Buttons:
    """The pressing side: the console script with a data dir of its own (another machine)."""
    work = tmp_path / "far-work"
    work.mkdir()
    return Buttons(tmp_path / "far-home", work)


def _no_traceback(r: Any) -> None:
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr


def test_a_remote_press_runs_on_the_server_with_its_args_and_prints_the_local_envelope(
    bt: Buttons, far: Buttons, serve: Start
) -> None:
    bt.create("greet", "--arg", "who:string:required", "--code", 'echo "hi $BUTTONS_ARG_WHO from $PWD"')
    server = serve()
    r = far("press", "greet", "--arg", "who=bob", "--remote", server.url, "--json")
    assert r.returncode == 0, r.stderr
    data = r.data
    assert data["status"] == "ok" and data["button"] == "greet"
    assert data["stdout"] == f"hi bob from {bt.cwd}\n"  # ran by the server, in its directory
    assert data["args"] == {"who": "bob"}
    assert data["timeout_seconds"] == 300  # serve's cap, as serve answers it
    (run,) = bt("history", "greet", "--json").data
    assert run["run_id"] == data["run_id"]  # recorded on the server ...
    assert not far.home.exists()  # ... and nothing at all on the pressing side
    local = bt("press", "greet", "--arg", "who=bob", "--json").data
    assert set(local) - {"prompt"} <= set(data)  # every field a local press prints


def test_a_failed_or_timed_out_press_prints_the_local_error_envelope_and_exits_1(
    bt: Buttons, far: Buttons, serve: Start
) -> None:
    bt.create("fail", "--code", "echo partial; echo 'it broke' >&2; exit 3")
    bt.create("slow", "--code", "sleep 30")
    server = serve()
    remote = far("press", "fail", "--remote", server.url, "--json")
    local = bt("press", "fail", "--json")
    assert remote.returncode == local.returncode == 1
    err, local_err = remote.error, local.error
    assert (
        (err["code"], err["message"])
        == (local_err["code"], local_err["message"])
        == ("SCRIPT_ERROR", "it broke")
    )
    assert err["result"]["exit_code"] == 3 and err["result"]["stdout"] == "partial\n"
    assert err["result"]["run_id"] in {run["run_id"] for run in bt("history", "fail", "--json").data}

    t = far("press", "slow", "--timeout", "1", "--remote", server.url, "--json")
    assert t.returncode == 1
    assert t.error["code"] == "TIMEOUT" and t.error["result"]["status"] == "timeout"
    assert t.error["result"]["timeout_seconds"] == 1  # --timeout reached the server
    assert not far.home.exists()


def test_an_idempotency_key_runs_once_and_a_repeat_gets_the_cached_result(
    bt: Buttons, far: Buttons, serve: Start
) -> None:
    bt.create("stamp", "--arg", "n:string:optional", "--code", 'echo "run $BUTTONS_ARG_N"')
    server = serve()
    for key in ("deploy-42", "ключ-7"):  # ASCII goes in the header, anything else in the body field
        first = far(
            "press", "stamp", "--arg", "n=1", "--idempotency-key", key, "--remote", server.url, "--json"
        )
        again = far(
            "press", "stamp", "--arg", "n=2", "--idempotency-key", key, "--remote", server.url, "--json"
        )
        assert first.returncode == again.returncode == 0, again.stderr
        assert "cached" not in first.data
        assert again.data["cached"] is True
        assert again.data["stdout"] == "run 1\n" and again.data["run_id"] == first.data["run_id"]
    assert len(bt("history", "stamp", "--json").data) == 2  # one run per key, none for the repeats
    # The same key pressed locally on the server's machine is the same key: stored by the remote press.
    assert bt("press", "stamp", "--idempotency-key", "ключ-7", "--json").data["cached"] is True


def test_the_request_on_the_wire_is_serves_press_endpoint(far: Buttons, server: RecordingServer) -> None:
    """What the client sends, seen by a plain HTTP server: the path, the JSON body, the bearer key
    and the standard Idempotency-Key header (the server answers no envelope, so it is refused)."""
    url = f"http://127.0.0.1:{server.port}/prefix/"
    r = far(
        "press", "my button", "--arg", "a=1", "--arg", "b=x=y", "--timeout", "7",
        "--idempotency-key", "k-1", "--remote", url, "--json",
        env={"BUTTONS_API_KEY": KEY},
    )  # fmt: skip
    assert r.returncode == 1 and r.error["code"] == "REMOTE_BAD_RESPONSE"
    (req,) = server.requests
    assert req["method"] == "POST" and req["raw_target"] == "/prefix/api/buttons/my%20button/press"
    headers = {k.lower(): v for k, v in req["headers"]}
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["idempotency-key"] == "k-1"
    assert headers["content-type"] == "application/json"
    assert json.loads(req["body"]) == {"args": {"a": "1", "b": "x=y"}, "timeout": 7}
    assert KEY not in r.stdout + r.stderr


def test_an_unknown_button_is_serves_not_found_and_no_local_name_is_suggested(
    bt: Buttons, far: Buttons, serve: Start
) -> None:
    bt.create("greet", "--code", "echo hi")
    server = serve()
    r = far("press", "gret", "--remote", server.url, "--json")
    assert r.returncode == 1
    assert r.error["code"] == "NOT_FOUND" and r.error["message"] == "button 'gret' not found"  # serve's words
    assert r.error["hint"] == f"GET {server.url}/api/buttons lists the server's buttons"
    assert not far.home.exists()  # the local "did you mean" would have read (and made) it
    h = far("press", "gret", "--remote", server.url)  # the same, for a person (stdout not a terminal: JSON)
    assert h.returncode == 1 and h.error["code"] == "NOT_FOUND"


def test_argument_errors_are_serves_with_a_hint_at_the_spec(bt: Buttons, far: Buttons, serve: Start) -> None:
    bt.create("greet", "--arg", "who:string:required", "--code", "echo hi")
    server = serve()
    r = far("press", "greet", "--remote", server.url, "--json")
    assert r.returncode == 1 and r.error["code"] == "MISSING_ARG"
    assert r.error["hint"] == f"GET {server.url}/api/buttons/greet shows the button's arguments"
    bad = far(
        "press", "greet", "--arg", "novalue", "--remote", server.url, "--json"
    )  # parsed here, like local
    assert bad.returncode == 1 and bad.error["code"] == "VALIDATION_ERROR"


def test_the_key_comes_from_the_environment_or_a_file_and_a_wrong_or_missing_one_is_unauthorized(
    bt: Buttons, far: Buttons, serve: Start, tmp_path: Path
) -> None:
    bt.create("greet", "--code", "echo hi")
    server = serve("--api-key", KEY)
    missing = far("press", "greet", "--remote", server.url, "--json")
    assert missing.returncode == 1 and missing.error["code"] == "UNAUTHORIZED"
    assert "$BUTTONS_API_KEY" in missing.error["hint"]
    wrong = far("press", "greet", "--remote", server.url, "--json", env={"BUTTONS_API_KEY": "not-" + KEY})
    assert wrong.returncode == 1 and wrong.error["code"] == "UNAUTHORIZED"
    assert wrong.error["hint"] == "the server refused the key from $BUTTONS_API_KEY"
    assert "not-" + KEY not in wrong.stdout + wrong.stderr
    ok = far("press", "greet", "--remote", server.url, "--json", env={"BUTTONS_API_KEY": KEY})
    assert ok.returncode == 0 and ok.data["stdout"] == "hi\n"
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    from_file = far(
        "press", "greet", "--remote", server.url, "--json", env={"BUTTONS_API_KEY_FILE": str(key_file)}
    )
    assert from_file.returncode == 0 and from_file.data["stdout"] == "hi\n"
    empty = tmp_path / "empty"
    empty.write_text("")
    unreadable = far(
        "press", "greet", "--remote", server.url, "--json", env={"BUTTONS_API_KEY_FILE": str(empty)}
    )
    assert unreadable.returncode == 1 and unreadable.error["code"] == "VALIDATION_ERROR"
    for r in (missing, wrong, ok, from_file, unreadable):
        assert KEY not in r.stdout + r.stderr
        _no_traceback(r)


def test_a_server_that_is_not_there_is_remote_unreachable(far: Buttons) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = far("press", "greet", "--remote", f"http://127.0.0.1:{port}", "--json")
    assert r.returncode == 1
    assert r.error["code"] == "REMOTE_UNREACHABLE"
    assert r.error["message"] == f"nothing is listening at 127.0.0.1:{port} (connection refused)"
    _no_traceback(r)
    human = far("press", "greet", "--remote", f"http://127.0.0.1:{port}", env={"NO_COLOR": "1"})
    assert human.returncode == 1 and human.error["code"] == "REMOTE_UNREACHABLE"  # a pipe: JSON
    assert not far.home.exists()


def test_https_to_a_plain_http_server_is_remote_unreachable(bt: Buttons, far: Buttons, serve: Start) -> None:
    server = serve()
    r = far("press", "greet", "--remote", f"https://{server.addr}", "--json")
    assert r.returncode == 1 and r.error["code"] == "REMOTE_UNREACHABLE"
    assert r.error["message"].startswith(f"TLS with {server.addr} failed")
    _no_traceback(r)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1:8080", "--remote must be an http:// or https:// URL, not 'ftp://127.0.0.1:8080'"),
        ("127.0.0.1:8080", "--remote must be an http:// or https:// URL, not '127.0.0.1:8080'"),
        ("http://", "--remote 'http://' names no host"),
        (
            "http://me:secret@127.0.0.1:8080",  # pragma: allowlist secret
            "--remote must not carry a user name or password",
        ),
        (
            "http://127.0.0.1:8080/?x=1",
            "--remote 'http://127.0.0.1:8080/?x=1' must not have a query or a fragment",
        ),
        (
            "http://127.0.0.1:99999",
            "--remote 'http://127.0.0.1:99999' is not a URL: Port out of range 0-65535",
        ),
    ],
)
def test_bad_urls_are_refused_before_any_connection(far: Buttons, url: str, message: str) -> None:
    r = far("press", "greet", "--remote", url, "--json")
    assert r.returncode == 1
    assert (r.error["code"], r.error["message"]) == ("VALIDATION_ERROR", message)
    assert "secret" not in r.stdout + r.stderr  # a password in the URL is never echoed


def test_the_key_never_goes_over_plain_http_to_another_machine(far: Buttons) -> None:
    """Refused before anything is sent. 0.0.0.0 is not a loopback address to the check, yet a
    regression would only reach this machine (port 1: REMOTE_UNREACHABLE), never another one."""
    r = far("press", "greet", "--remote", "http://0.0.0.0:1", "--json", env={"BUTTONS_API_KEY": KEY})
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR"
    assert r.error["message"] == (
        "refusing to send the API key over plain http to 0.0.0.0: "
        "use an https:// URL (plain http is allowed for loopback hosts only)"
    )
    assert KEY not in r.stdout + r.stderr


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--dry-run"], "--dry-run"),
        (["--summary"], "--summary"),
        (["-f"], "--follow"),
        (["--idempotency-ttl", "1h"], "--idempotency-ttl"),
    ],
)
def test_local_only_flags_are_refused(far: Buttons, flags: list[str], named: str) -> None:
    r = far("press", "greet", *flags, "--remote", "http://127.0.0.1:1", "--json")
    assert r.returncode == 1
    assert r.error["code"] == "VALIDATION_ERROR"  # refused before any connection (else REMOTE_UNREACHABLE)
    assert r.error["message"].startswith(f"{named} is not available with --remote")


def test_a_fractional_timeout_is_refused_and_24h_ttl_is_fine(far: Buttons) -> None:
    r = far("press", "greet", "--timeout", "1.5", "--remote", "http://127.0.0.1:1", "--json")
    assert r.error == {
        "code": "VALIDATION_ERROR",
        "message": "--timeout 1.5: serve takes whole seconds; pass an integer with --remote",
    }
    ok = far(
        "press",
        "greet",
        "--timeout",
        "2",
        "--idempotency-ttl",
        "24h",
        "--remote",
        "http://127.0.0.1:1",
        "--json",
    )
    assert ok.error["code"] == "REMOTE_UNREACHABLE"  # accepted: it tried to connect


def test_answers_that_are_not_serves_are_remote_bad_response(far: Buttons, server: RecordingServer) -> None:
    base = f"http://127.0.0.1:{server.port}"
    five = far("press", "greet", "--remote", f"{base}/status/502", "--json")  # a proxy's error page
    assert five.returncode == 1 and five.error["code"] == "REMOTE_BAD_RESPONSE"
    assert five.error["message"] == (
        f"{base}/status/502 answered HTTP 502 with a body that is not JSON (no Content-Type): "
        "is it a 'buttons serve', and is the URL its base address?"
    )
    echo = far("press", "greet", "--remote", base, "--json")  # JSON, but not an envelope
    assert echo.error["code"] == "REMOTE_BAD_RESPONSE" and "not a buttons envelope" in echo.error["message"]
    before = len(server.requests)
    moved = far("press", "greet", "--remote", f"{base}/hops/1", "--json", env={"BUTTONS_API_KEY": KEY})
    assert moved.error["code"] == "REMOTE_BAD_RESPONSE"
    assert "answered HTTP 302, a redirect to /hops/0" in moved.error["message"]
    assert len(server.requests) == before + 1  # not followed: the key went nowhere else
    for r in (five, echo, moved):
        _no_traceback(r)


def test_a_5xx_envelope_from_serve_passes_through(
    bt: Buttons, far: Buttons, serve: Start, tmp_path: Path
) -> None:
    """503 BUSY, serve's own envelope, is the answer: the code and message as serve says them."""
    started = tmp_path / "started"
    bt.create("hold", "--code", f"touch {started}; sleep 3")
    server = serve("--max-in-flight", "1")
    first = subprocess.Popen(
        [BUTTONS, "press", "hold", "--remote", server.url, "--json"],
        env=far.env, cwd=far.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(started)
        busy = far("press", "hold", "--remote", server.url, "--json")
        assert busy.returncode == 1
        assert busy.error == {"code": "BUSY", "message": "1 presses are already running; retry later"}
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    assert json.loads(out)["data"]["status"] == "ok"


class _Scripted(BaseHTTPRequestHandler):
    """Answers every POST with the server's ``answer`` (status, body); ``{auth}`` in the body is
    replaced by the Authorization header the client sent, JSON-quoted."""

    protocol_version = "HTTP/1.1"
    server: _ScriptedServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, text = self.server.answer
        if status == 0:  # hang up without a word
            self.close_connection = True
            return
        said = json.dumps(self.headers.get("Authorization", ""))[1:-1]
        body = text.replace("{auth}", said).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(self.server.claimed_length or len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.claimed_length:
            self.close_connection = True


class _ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True
    answer: tuple[int, str] = (200, "{}")  # status 0: close the connection without answering
    claimed_length: int = 0  # a Content-Length to claim instead of the body's

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def scripted() -> Iterator[_ScriptedServer]:
    """A plain HTTP server on 127.0.0.1 that says whatever the test sets in ``answer``."""
    srv = _ScriptedServer(("127.0.0.1", 0), _Scripted)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_a_key_echoed_back_by_the_server_is_never_printed(far: Buttons, scripted: _ScriptedServer) -> None:
    scripted.answer = (401, '{"ok": false, "error": {"code": "UNAUTHORIZED", "message": "you sent {auth}"}}')
    r = far("press", "greet", "--remote", scripted.url, "--json", env={"BUTTONS_API_KEY": KEY})
    assert r.returncode == 1
    assert r.error["code"] == "UNAUTHORIZED" and r.error["message"] == "you sent Bearer ***"
    scripted.answer = (200, _result(stdout="leaked {auth}"))
    ok = far("press", "greet", "--remote", scripted.url, "--json", env={"BUTTONS_API_KEY": KEY})
    assert ok.returncode == 0 and ok.data["stdout"] == "leaked Bearer ***"
    for run in (r, ok):
        assert KEY not in run.stdout + run.stderr


def _result(**fields: Any) -> str:
    data = {"status": "ok", "exit_code": 0, "stdout": "", "stderr": "", "duration_ms": 1, "button": "greet"}
    return json.dumps({"ok": True, "data": {**data, **fields}})


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((200, '{"ok": true, "data": ' + "[" * 100_000 + "]" * 100_000 + "}"), "nested too deeply"),
        ((200, _result(status="ok", data=json.loads("[" * 900 + "]" * 900))), "nested too deeply"),
        ((200, _result(stdout=5)), "without the status, button, exit_code, duration_ms"),
        ((200, _result(exit_code="0")), "without the status, button, exit_code, duration_ms"),
        ((500, _result()), "JSON that is not a buttons envelope"),
        ((400, '{"ok": false, "error": {"code": "not a code", "message": "x"}}'), "not a buttons envelope"),
        ((200, '{"ok": true, "data": ' + "[" * 3000 + "]" * 3000 + "}"), "nested too deeply"),
    ],
)
def test_a_hostile_or_broken_answer_is_remote_bad_response_never_a_traceback(
    far: Buttons, scripted: _ScriptedServer, answer: tuple[int, str], message: str
) -> None:
    scripted.answer = answer
    r = far("press", "greet", "--remote", scripted.url, "--json")
    assert r.returncode == 1
    assert r.error["code"] == "REMOTE_BAD_RESPONSE" and message in r.error["message"], r.error
    _no_traceback(r)


def test_a_connection_lost_before_the_answer_is_remote_bad_response(
    far: Buttons, scripted: _ScriptedServer
) -> None:
    scripted.answer = (0, "")
    r = far("press", "greet", "--remote", scripted.url, "--json")
    assert r.returncode == 1 and r.error["code"] == "REMOTE_BAD_RESPONSE"
    assert r.error["message"].startswith(
        f"the connection to {scripted.url} was lost before a whole answer came"
    )
    assert r.error["hint"].endswith(f"GET {scripted.url}/api/buttons/greet/runs")
    _no_traceback(r)


def test_an_answer_over_256_mib_is_refused_by_its_length(far: Buttons, scripted: _ScriptedServer) -> None:
    scripted.answer = (200, _result())
    scripted.claimed_length = 300 * 1024 * 1024
    r = far("press", "greet", "--remote", scripted.url, "--json")
    assert r.returncode == 1 and r.error["code"] == "REMOTE_BAD_RESPONSE"
    assert (
        r.error["message"]
        == f"{scripted.url} answered with {300 * 1024 * 1024} bytes, more than {256 * 1024 * 1024}"
    )


def test_text_no_output_can_carry_is_replaced_not_a_crash(far: Buttons, scripted: _ScriptedServer) -> None:
    scripted.answer = (200, _result(stdout="half \ud800 a pair"))
    r = far("press", "greet", "--remote", scripted.url, "--json")
    assert r.returncode == 0 and r.data["stdout"] == "half ? a pair"
    _no_traceback(r)


def test_the_http_wait_ends_at_the_presss_timeout_plus_a_margin(
    far: Buttons, server: RecordingServer
) -> None:
    """A server that drips its answer one byte every 0.2 s (each read alone would never time out)
    is cut off at --timeout (1 s) + 30 s: REMOTE_TIMEOUT. Takes about 31 s, waiting idle."""
    began = time.monotonic()
    r = far("press", "greet", "--timeout", "1", "--remote", f"http://127.0.0.1:{server.port}/drip", "--json")
    elapsed = time.monotonic() - began
    assert r.returncode == 1
    assert r.error["code"] == "REMOTE_TIMEOUT"
    assert r.error["message"].startswith(f"no answer from http://127.0.0.1:{server.port}/drip within 31 s")
    assert 30 <= elapsed < 120, elapsed  # gross guard: the deadline holds, and is not cut early
    _no_traceback(r)


def test_buttons_remote_url_is_the_default_and_an_empty_flag_presses_here(
    bt: Buttons, far: Buttons, serve: Start
) -> None:
    bt.create("where", "--code", "echo server")
    server = serve()
    r = far("press", "where", "--json", env={"BUTTONS_REMOTE_URL": server.url})
    assert r.returncode == 0 and r.data["stdout"] == "server\n"
    assert len(bt("history", "where", "--json").data) == 1
    far.create("where", "--code", "echo here")
    here = far("press", "where", "--remote", "", "--json", env={"BUTTONS_REMOTE_URL": server.url})
    assert here.returncode == 0 and here.data["stdout"] == "here\n"
    assert len(bt("history", "where", "--json").data) == 1  # the server ran nothing more


def test_a_person_sees_the_local_press_output(bt: Buttons, far: Buttons, serve: Start) -> None:
    bt.create("greet", "--code", "echo hi there")
    bt.create("fail", "--code", "echo 'went wrong' >&2; exit 2")
    server = serve()
    t = run_tty(far, "press", "greet", "--remote", server.url)
    assert t.returncode == 0, t.stderr
    assert t.stdout == "hi there\n"
    err = strip_ansi(t.stderr)
    assert "✓ greet completed in" in err and "(exit 0)" in err
    assert f"Next: GET {server.url}/api/buttons/greet/runs (the server's history)" in err
    f = run_tty(far, "press", "fail", "--remote", server.url)
    assert f.returncode == 1
    assert "✗ fail failed (exit 2)" in strip_ansi(f.stderr) and "stderr: went wrong" in strip_ansi(f.stderr)
    c1 = run_tty(far, "press", "greet", "--idempotency-key", "k", "--remote", server.url)
    c2 = run_tty(far, "press", "greet", "--idempotency-key", "k", "--remote", server.url)
    assert c1.returncode == c2.returncode == 0
    assert "✓ greet (cached: idempotency key k)" in strip_ansi(c2.stderr) and c2.stdout == "hi there\n"
    assert not far.home.exists()


@pytest.mark.fleet
def test_a_fleet_button_pressed_remotely_runs_on_a_worker_and_is_recorded_on_the_front_node(
    bt: Buttons, far: Buttons, fleet: Fleet
) -> None:
    """The pressing machine has no Redis, no fleet key: serve --redis sends the press to a worker."""
    from fleet_support import records

    bt.create("where", "--placement", "fleet", "--arg", "who:string:required",
              "--code", 'echo "hi $BUTTONS_ARG_WHO from $BUTTONS_HOME_MARK"')  # fmt: skip
    fleet.worker(env={"BUTTONS_HOME_MARK": "the-worker"})
    front = fleet.serve()
    r = far("press", "where", "--arg", "who=bob", "--remote", front.url, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.data["stdout"] == "hi bob from the-worker\n"
    (rec,) = records(bt, "where")
    assert rec["run_id"] == r.data["run_id"] and rec["status"] == "ok"
    assert not far.home.exists()
