"""``buttons webhook listen``: the drawer webhook listener (CONTRACT 12.2).

Every test runs the real console script on 127.0.0.1 port 0, reads the bound address from its
startup line, and talks real HTTP to it. Upstream's answers are compared byte for byte.
"""

from __future__ import annotations

import base64
import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from conftest import Buttons
from serve_support import Server, capture_drawer, drawer_runs, stop_all, wait_drawer_runs, write_drawer

Start = Callable[..., Server]
JWT_SECRET = "listen-jwt-secret-" + "k" * 48  # pragma: allowlist secret
GET_MESSAGE = '{"ok":true,"message":"buttons webhook endpoint \u2014 POST to trigger"}\n'
BASIC_CHALLENGE = 'Basic realm="buttons webhook"'


@pytest.fixture
def listen(bt: Buttons) -> Iterator[Start]:
    started: list[Server] = []

    def start(*flags: str, env: dict[str, str] | None = None) -> Server:
        proc = bt.popen("webhook", "listen", "--port", "0", "--json", *flags, env=env)
        server = Server(proc)
        started.append(server)
        return server

    yield start
    stop_all(started)


def _refused(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"ok", "error", "detail"}, body
    assert body["ok"] is False and body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]


# --------------------------------------------------------------------------------- plain routes
def test_healthz_get_405_404_and_the_startup_banner(bt: Buttons, listen: Start, tmp_path: Path) -> None:
    capture_drawer(bt, tmp_path / "out.txt", "on-push", [{"kind": "webhook", "path": "hooks/push"}])
    server = listen()
    with server.client() as c:
        r = c.get("/healthz")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        body = r.json()
        assert set(body) == {"ok", "token"} and body["ok"] is True and len(body["token"]) >= 16
        assert r.text == json.dumps(body, separators=(",", ":")) + "\n"
        assert c.get("/healthz").json()["token"] == body["token"]  # one token per listener
        for path in ("/", "/hooks/push", "/anything?x=1"):
            r = c.get(path)
            assert r.status_code == 200 and r.text == GET_MESSAGE, (path, r.text)
        for method in ("PUT", "DELETE", "PATCH"):
            r = c.request(method, "/hooks/push")
            assert r.status_code == 405, (method, r.text)
            assert r.json() == {"ok": False, "error": "method_not_allowed"}
        r = c.post("/hooks/other", content=b"{}")
        assert r.status_code == 404
        assert r.text == '{"ok":false,"error":"no_drawer_registered_for_path"}\n'
        assert c.post("/hooks/push/", content=b"").status_code == 404  # exact match only
    assert server.stop() == 0
    banner = server.startup()["data"]
    assert banner["addr"] == server.addr
    assert banner["public_base"] == f"http://{server.addr}"
    assert banner["routes"] == [
        {"path": "/hooks/push", "drawer": "on-push", "auth_type": "none", "url": f"{server.url}/hooks/push"}
    ]
    assert "tunnels are not supported" in server.stderr  # no --no-tunnel: said, then listens locally
    assert drawer_runs(bt, "on-push") == []  # GETs and refusals run nothing


def test_no_tunnel_says_nothing_about_tunnels(bt: Buttons, listen: Start, tmp_path: Path) -> None:
    capture_drawer(bt, tmp_path / "out.txt", "hook", [{"kind": "webhook"}])
    server = listen("--no-tunnel")
    assert server.stop() == 0
    assert "tunnel" not in server.stderr
    assert [r["path"] for r in server.startup()["data"]["routes"]] == ["/hook"]  # default path /<name>


def test_no_drawer_webhook_is_an_error(bt: Buttons, tmp_path: Path) -> None:
    capture_drawer(bt, tmp_path / "out.txt", "plain", [])  # a drawer, but no webhook trigger
    r = bt("webhook", "listen", "--port", "0", "--no-tunnel", "--json", timeout=60)
    assert r.returncode != 0
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "NOT_FOUND" and "no drawer has a webhook trigger" in err["message"]
    assert "Traceback" not in r.stderr


def test_bad_port_and_missing_subcommand_are_refused(bt: Buttons) -> None:
    r = bt("webhook", "listen", "--port", "70000", "--json", timeout=60)
    assert r.returncode != 0 and json.loads(r.stdout)["error"]["code"] == "VALIDATION_ERROR"
    r = bt("webhook", timeout=60)
    assert r.returncode != 0 and "listen" in r.stderr


# ---------------------------------------------------------------------------------- a delivery
def test_a_delivery_runs_the_drawer_once_with_inputs_webhook(
    bt: Buttons, listen: Start, tmp_path: Path
) -> None:
    out = tmp_path / "payloads.txt"
    capture_drawer(bt, out, "on-push", [{"kind": "webhook", "path": "/push"}])
    server = listen("--no-tunnel")
    with server.client() as c:
        r = c.post(
            "/push?ref=main&ref=second",
            json={"commits": [1, 2]},
            headers={"X-GitHub-Event": "push", "x-multi": "one"},
        )
        assert r.status_code == 202
        assert r.text == '{"ok":true,"drawer":"on-push"}\n'
        runs = wait_drawer_runs(bt, "on-push", 1)
        assert c.post("/push", content=b"not json {").status_code == 202
        wait_drawer_runs(bt, "on-push", 2)
        assert c.post("/push", content=b"").status_code == 202
        wait_drawer_runs(bt, "on-push", 3)
    assert server.stop() == 0
    first, second, third = (json.loads(line) for line in out.read_text().splitlines())
    assert first["body"] == {"commits": [1, 2]}
    assert first["method"] == "POST" and first["path"] == "/push"
    assert first["query"] == {"ref": "main"}  # first value each
    assert first["headers"]["X-Github-Event"] == "push"  # canonical names
    assert first["headers"]["X-Multi"] == "one"
    assert first["received_at"].endswith("Z")
    assert second["body"] == "not json {"  # not JSON: the raw text
    assert third["body"] is None  # empty: null
    runs = drawer_runs(bt, "on-push")
    assert len(runs) == 3 and all(run["status"] == "ok" for run in runs)
    recorded = [run for run in runs if run["inputs"]["webhook"]["body"] == {"commits": [1, 2]}]
    assert len(recorded) == 1 and recorded[0]["inputs"]["webhook"]["path"] == "/push"
    assert "ran drawer on-push (ok)" in server.stderr


def test_a_body_over_8_mib_is_refused_and_runs_nothing(bt: Buttons, listen: Start, tmp_path: Path) -> None:
    capture_drawer(bt, tmp_path / "out.txt", "big", [{"kind": "webhook"}])
    server = listen("--no-tunnel")
    with server.client() as c:
        r = c.post("/big", content=b"x" * (8 * 1024 * 1024 + 1))
        _refused(r, 413, "BODY_TOO_LARGE")
    assert server.stop() == 0
    assert drawer_runs(bt, "big") == []


# ----------------------------------------------------------------------------------------- auth
def _token(claims: dict[str, Any], algorithm: str = "HS256", secret: str = JWT_SECRET) -> str:
    return "Bearer " + jwt.encode(claims, secret, algorithm=algorithm)


def test_auth_right_missing_wrong_and_unknown_type(bt: Buttons, listen: Start, tmp_path: Path) -> None:
    out = tmp_path / "payloads.txt"
    hooks = {
        "by-header": {"type": "header", "header_name": "X-Hook", "header_value": "$ENV{HOOK_VALUE}"},
        "by-basic": {"type": "basic", "username": "u", "password": "pw-1"},  # pragma: allowlist secret
        "by-jwt": {"type": "jwt", "jwt_secret": JWT_SECRET, "jwt_algorithm": "HS256"},
        "unset-env": {"type": "header", "header_name": "X-Hook", "header_value": "$ENV{NOT_SET_HERE}"},
        "by-hmac": {"type": "hmac", "hmac_secret": "s"},  # serve's extension: not a listener auth type
        "by-magic": {"type": "magic"},
    }
    for name, auth in hooks.items():
        capture_drawer(bt, out, name, [{"kind": "webhook", "path": f"/{name}", "auth": auth}])
    server = listen("--no-tunnel", env={"HOOK_VALUE": "env-hook-value"})
    basic = "Basic " + base64.b64encode(b"u:pw-1").decode()
    good_jwt = _token({"exp": int(time.time()) + 60})
    cases: list[tuple[str, dict[str, str], int, str]] = [
        ("by-header", {"X-Hook": "env-hook-value"}, 202, ""),
        ("by-header", {"X-Hook": "env-hook-valuE"}, 401, "AUTH_INVALID"),
        ("by-header", {"X-Hook": "env-hook-value-longer"}, 401, "AUTH_INVALID"),
        ("by-header", {}, 401, "AUTH_MISSING"),
        ("by-basic", {"Authorization": basic}, 202, ""),
        ("by-basic", {"Authorization": "Basic " + base64.b64encode(b"u:nope").decode()}, 401, "AUTH_INVALID"),
        ("by-basic", {"Authorization": "Basic " + base64.b64encode(b"x:pw-1").decode()}, 401, "AUTH_INVALID"),
        ("by-basic", {}, 401, "AUTH_MISSING"),
        ("by-jwt", {"Authorization": good_jwt}, 202, ""),
        (
            "by-jwt",
            {"Authorization": _token({"exp": int(time.time()) + 60}, secret="x" * 40)},
            401,
            "AUTH_INVALID",
        ),
        ("by-jwt", {"Authorization": "Bearer not.a-jwt"}, 401, "AUTH_INVALID"),
        ("by-jwt", {}, 401, "AUTH_MISSING"),
        ("unset-env", {"X-Hook": ""}, 401, "AUTH_INVALID"),
        ("by-hmac", {}, 500, "AUTH_UNKNOWN_TYPE"),
        ("by-magic", {"Authorization": basic}, 500, "AUTH_UNKNOWN_TYPE"),
    ]
    with server.client() as c:
        for name, headers, status, code in cases:
            r = c.post(f"/{name}", content=b'{"x": 1}', headers=headers)
            if status == 202:
                assert r.status_code == 202, (name, r.text)
                assert r.json() == {"ok": True, "drawer": name}
                continue
            _refused(r, status, code)
            if name == "by-basic":
                assert r.headers["www-authenticate"] == BASIC_CHALLENGE
            else:
                assert "www-authenticate" not in r.headers, name
        for name in ("by-header", "by-basic", "by-jwt"):
            wait_drawer_runs(bt, name, 1)
    assert server.stop() == 0
    for name in hooks:
        assert len(drawer_runs(bt, name)) == (
            1 if name.startswith("by-") and name not in ("by-hmac", "by-magic") else 0
        )
    assert "unknown auth type 'magic'" in server.stderr
    assert "NOT_SET_HERE" in server.stderr  # the operator learns which variable is missing
    for line in out.read_text().splitlines():  # credentials never reach the drawer
        assert not {"Authorization", "X-Hook"} & set(json.loads(line)["headers"])


def test_jwt_algorithm_exp_issuer_and_audience(bt: Buttons, listen: Start, tmp_path: Path) -> None:
    out = tmp_path / "payloads.txt"
    auth = {
        "type": "jwt",
        "jwt_secret": "$ENV{JWT_SECRET}",
        "jwt_algorithm": "HS384",
        "jwt_issuer": "ci",
        "jwt_audience": "deploy",
    }
    capture_drawer(bt, out, "j", [{"kind": "webhook", "path": "/j", "auth": auth}])
    server = listen("--no-tunnel", env={"JWT_SECRET": JWT_SECRET})
    now = int(time.time())
    ok = {"iss": "ci", "aud": "deploy", "exp": now + 60}
    cases: list[tuple[str, dict[str, Any], str, int]] = [
        ("right", ok, "HS384", 202),
        ("audience in an array", {**ok, "aud": ["other", "deploy"]}, "HS384", 202),
        ("no exp: checked only when present", {"iss": "ci", "aud": "deploy"}, "HS384", 202),
        ("expired within the 30 s leeway", {**ok, "exp": now - 10}, "HS384", 202),
        ("expired beyond the leeway", {**ok, "exp": now - 120}, "HS384", 401),
        ("another algorithm", ok, "HS256", 401),
        ("wrong issuer", {**ok, "iss": "someone"}, "HS384", 401),
        ("no issuer", {"aud": "deploy", "exp": now + 60}, "HS384", 401),
        ("wrong audience", {**ok, "aud": "other"}, "HS384", 401),
        ("audience array without it", {**ok, "aud": ["a", "b"]}, "HS384", 401),
    ]
    accepted = 0
    with server.client() as c:
        for label, claims, algorithm, status in cases:
            r = c.post("/j", content=b"{}", headers={"Authorization": _token(claims, algorithm)})
            if status == 202:
                accepted += 1
                assert r.status_code == 202, (label, r.text)
            else:
                _refused(r, 401, "AUTH_INVALID")
        none_alg = jwt.encode(ok, key=None, algorithm="none")  # type: ignore[arg-type]
        _refused(c.post("/j", headers={"Authorization": f"Bearer {none_alg}"}), 401, "AUTH_INVALID")
        _refused(c.post("/j", headers={"Authorization": "Basic abc"}), 401, "AUTH_MISSING")
        wait_drawer_runs(bt, "j", accepted)
    assert server.stop() == 0
    assert len(drawer_runs(bt, "j")) == accepted


# ------------------------------------------------------------------------------------- shutdown
def test_sigterm_waits_for_a_running_drawer_and_exits_0(bt: Buttons, listen: Start, tmp_path: Path) -> None:
    started = tmp_path / "started"
    bt.create("slow", "--code", f"touch {started}; sleep 2; echo done")
    write_drawer(
        bt,
        "slow-hook",
        [{"id": "s", "kind": "button", "button": "slow", "args": {}}],
        triggers=[{"kind": "webhook"}],
    )
    server = listen("--no-tunnel")
    with server.client() as c:
        assert c.post("/slow-hook").status_code == 202
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, "the drawer never started"
        time.sleep(0.05)
    assert server.stop(signal.SIGTERM) == 0
    runs = drawer_runs(bt, "slow-hook")
    assert [run["status"] for run in runs] == ["ok"]  # drained, not cancelled
    assert "waiting up to 30 s" in server.stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz", timeout=5)


def test_sigint_stops_an_idle_listener_with_0(bt: Buttons, listen: Start, tmp_path: Path) -> None:
    capture_drawer(bt, tmp_path / "out.txt", "idle", [{"kind": "webhook"}])
    server = listen("--no-tunnel")
    assert server.stop(signal.SIGINT) == 0
    assert "Traceback" not in server.stderr
    assert "stopped (signal 2)" in server.stderr


def test_the_cancel_event_of_a_run_ends_it_cancelled(bt: Buttons, tmp_path: Path) -> None:
    """What the 1 h cap and the drain deadline set (``Api.fire_drawer``): the running step ends
    through the kill chain and the run is recorded ``cancelled``."""
    import threading

    from buttons_engine.services import serve as service
    from buttons_engine.store.layout import Layout

    started = tmp_path / "started"
    bt.create("sleepy", "--code", f"touch {started}; sleep 60")
    write_drawer(bt, "capped", [{"id": "s", "kind": "button", "button": "sleepy", "args": {}}])
    cancel = threading.Event()

    def cap() -> None:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        cancel.set()

    threading.Thread(target=cap, daemon=True).start()
    began = time.monotonic()
    result = service.press_drawer(Layout(str(bt.home), str(bt.home)), "capped", {}, cancel=cancel)
    assert result["status"] == "cancelled", result
    assert time.monotonic() - began < 50  # gross guard: not the step's 60 s sleep
    assert [run["status"] for run in drawer_runs(bt, "capped")] == ["cancelled"]
