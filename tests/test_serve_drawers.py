"""Drawers on ``buttons serve``: the REST endpoints and drawer webhook triggers (CONTRACT 12.2, 13).

Every test runs the real console script on 127.0.0.1 and talks real HTTP to it. Drawers are written
as ``drawer.json`` in the contract's format (serve_support.write_drawer), the way ``drawer create``,
``drawer NAME add`` and ``drawer NAME trigger webhook`` leave them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import httpx

from conftest import Buttons
from serve_support import Start, capture_drawer, drawer_runs, wait_drawer_runs, write_drawer

KEY = "drawer-api-key"  # pragma: allowlist secret


def _error(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["ok"] is False and body["error"]["code"] == code, body
    assert "Traceback" not in r.text
    return str(body["error"]["message"])


def _greeter(bt: Buttons) -> None:
    bt.create("greet", "--code", 'echo "hi $BUTTONS_ARG_WHO"', "--arg", "who:string:required")
    write_drawer(
        bt,
        "hello",
        [{"id": "greet", "kind": "button", "button": "greet", "args": {"who": "${inputs.who}"}}],
        inputs=[{"name": "who", "type": "string", "required": True}],
        triggers=[
            {
                "kind": "webhook",
                "path": "/hello",
                "auth": {"type": "header", "header_name": "X-Hook", "header_value": "hook-value-77"},
            }
        ],
    )


# ------------------------------------------------------------------------------------------- REST
def test_drawer_endpoints_list_get_press_and_runs(bt: Buttons, serve: Start) -> None:
    _greeter(bt)
    bt.create("boom", "--code", "echo broke >&2; exit 3")
    write_drawer(bt, "broken", [{"id": "b", "kind": "button", "button": "boom", "args": {}}])
    server = serve("--api-key", KEY)
    with server.client(KEY) as c:
        listed = c.get("/api/drawers")
        assert listed.status_code == 200
        assert [d["name"] for d in listed.json()["data"]["drawers"]] == ["broken", "hello"]
        one = c.get("/api/drawers/hello").json()["data"]
        assert one["name"] == "hello" and one["steps"][0]["button"] == "greet"
        # The webhook's credential never leaves the server.
        assert one["triggers"][0]["auth"]["header_value"] == "[redacted]"
        assert "hook-value-77" not in listed.text

        # Unknown body fields are ignored.
        r = c.post("/api/drawers/hello/press", json={"inputs": {"who": "ann"}, "extra": [1, 2]})
        assert r.status_code == 200, r.text
        result = r.json()["data"]
        assert result["status"] == "ok" and result["drawer"] == "hello"
        assert result["steps"][0]["stdout"] == "hi ann\n"
        assert result["inputs"] == {"who": "ann"}

        par = c.post("/api/drawers/hello/press", json={"inputs": {"who": "bo"}, "mode": "parallel"})
        assert par.json()["data"]["status"] == "ok"

        failed = c.post("/api/drawers/broken/press")  # an empty body is allowed
        assert failed.status_code == 200
        data = failed.json()["data"]
        assert data["status"] == "failed" and data["failed_step"] == "b"

        runs = c.get("/api/drawers/hello/runs").json()["data"]["runs"]
        assert [r["run_id"] for r in runs] == [par.json()["data"]["run_id"], result["run_id"]]
        # The button step is a press with its own run record, readable by its run id.
        step_run = c.get(f"/api/runs/{result['steps'][0]['run_id']}").json()["data"]
        assert step_run["stdout"] == "hi ann\n"

        # Without the key: 401, like every other route of the API.
        with server.client() as anon:
            _error(anon.get("/api/drawers"), 401, "UNAUTHORIZED")
            _error(anon.post("/api/drawers/hello/press", json={"inputs": {"who": "x"}}), 401, "UNAUTHORIZED")
    assert server.stop() == 0
    assert "hook-value-77" not in server.stderr


def test_drawer_errors(bt: Buttons, serve: Start) -> None:
    _greeter(bt)
    flow = bt.home / "drawers" / "flowy"
    flow.mkdir(parents=True)
    (flow / "drawer.json").write_text(
        json.dumps(
            {
                "schema_version": 2,
                "name": "flowy",
                "drawer_kind": "flow",
                "version": "1",
                "flow": {"initial_stage": "", "manager": {"agent": ""}, "stages": []},
            }
        )
    )
    server = serve()
    with server.client() as c:
        for r in (
            c.get("/api/drawers/nope"),
            c.get("/api/drawers/nope/runs"),
            c.post("/api/drawers/nope/press"),
        ):
            _error(r, 404, "DRAWER_NOT_FOUND")
        assert "who" in _error(c.post("/api/drawers/hello/press", json={}), 400, "MISSING_INPUT")
        _error(c.post("/api/drawers/flowy/press"), 409, "FLOW_RUNTIME_REQUIRED")
        for body in (
            b"{not json",
            b"[1]",
            b'{"inputs": [1]}',
            b'{"inputs": {}, "mode": "sideways"}',
            b'{"inputs": {}, "concurrency": -1}',
            b'{"inputs": {}, "concurrency": true}',
            b'{"inputs": {}, "on_failure": "explode"}',
            b'{"inputs": {"who": "\\ud800"}}',  # a lone surrogate: no run record could hold it
            b'{"inputs": {"who": "a", "x": [{"\\udc00": 1}]}}',
        ):
            _error(c.post("/api/drawers/hello/press", content=body), 400, "BAD_REQUEST")
        _error(c.post("/api/drawers/hello/press", content=b" " * (1024 * 1024 + 1)), 413, "BODY_TOO_LARGE")
        _error(c.get("/api/drawers/hello/press"), 405, "METHOD_NOT_ALLOWED")
    assert server.stop() == 0
    assert drawer_runs(bt, "hello") == []  # nothing ran


# ------------------------------------------------------------------------------------------- webhooks


def test_a_drawer_webhook_runs_the_drawer_once_with_inputs_webhook(
    bt: Buttons, serve: Start, tmp_path: Path
) -> None:
    out = tmp_path / "payloads.txt"
    capture_drawer(bt, out, "on-push", [{"kind": "webhook", "path": "hooks/push"}])  # "/" is prefixed
    capture_drawer(bt, out, "default-path", [{"kind": "webhook"}])  # no path: /<name>
    server = serve("--api-key", KEY)  # the API key does not apply to webhooks: they have their own auth
    startup_routes = None
    with server.client() as c:
        r = c.post(
            "/hooks/push?ref=main&token=t0k&ref=second",
            json={"commits": [1, 2]},
            headers={"X-GitHub-Event": "push", "Authorization": "Bearer nope", "Cookie": "c=1"},
        )
        assert r.status_code == 202, r.text
        assert r.json() == {"ok": True, "data": {"drawer": "on-push"}}
        wait_drawer_runs(bt, "on-push", 1)
        assert c.post("/default-path", content=b"plain text").status_code == 202
        wait_drawer_runs(bt, "default-path", 1)
        # JSON with a lone surrogate escape reaches the drawer as the text it came as.
        assert c.post("/default-path", content=b'{"a": "\\ud800"}').status_code == 202
        wait_drawer_runs(bt, "default-path", 2)
        _error(c.get("/hooks/push"), 405, "METHOD_NOT_ALLOWED")
    assert server.stop() == 0
    startup_routes = server.startup()["data"]["webhook_routes"]
    assert startup_routes == 2
    first, second, third = (json.loads(line) for line in out.read_text().splitlines())
    assert third["body"] == '{"a": "\\ud800"}'
    assert "unexpected" not in server.stderr
    assert first["body"] == {"commits": [1, 2]}
    assert first["method"] == "POST" and first["path"] == "/hooks/push"
    assert first["query"] == {"ref": "main"}  # first value each; the token never reaches the drawer
    assert first["headers"]["X-Github-Event"] == "push"  # canonical header names
    assert not {"Authorization", "Cookie"} & set(first["headers"])
    assert first["received_at"].endswith("Z")
    assert second["body"] == "plain text" and second["path"] == "/default-path"
    assert len(drawer_runs(bt, "on-push")) == 1


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_drawer_webhook_auth_right_wrong_missing_and_unknown(
    bt: Buttons, serve: Start, tmp_path: Path
) -> None:
    import base64

    import jwt

    out = tmp_path / "payloads.txt"
    jwt_secret = "jwt-secret-" + "k" * 64  # pragma: allowlist secret
    hooks = {
        "by-header": {"type": "header", "header_name": "X-Hook", "header_value": "$ENV{HOOK_VALUE}"},
        "by-basic": {"type": "basic", "username": "u", "password": "pw-1"},  # pragma: allowlist secret
        "by-jwt": {"type": "jwt", "jwt_secret": jwt_secret, "jwt_algorithm": "HS256", "jwt_audience": "a"},
        "by-hmac": {"type": "hmac", "hmac_secret": "hmac-secret-1"},  # pragma: allowlist secret
        "by-magic": {"type": "magic"},  # hand-edited: an auth this server does not know
    }
    for name, auth in hooks.items():
        capture_drawer(bt, out, name, [{"kind": "webhook", "path": f"/{name}", "auth": auth}])
    server = serve(env={"HOOK_VALUE": "env-hook-value"})
    token = jwt.encode({"exp": int(time.time()) + 60, "aud": "a"}, jwt_secret, algorithm="HS256")
    wrong_alg = jwt.encode({"exp": int(time.time()) + 60, "aud": "a"}, jwt_secret, algorithm="HS512")
    basic = "Basic " + base64.b64encode(b"u:pw-1").decode()
    body = b'{"x": 1}'
    cases: list[tuple[str, dict[str, str], int]] = [
        ("by-header", {"X-Hook": "env-hook-value"}, 202),
        ("by-header", {"X-Hook": "wrong"}, 401),
        ("by-header", {}, 401),
        ("by-basic", {"Authorization": basic}, 202),
        ("by-basic", {"Authorization": "Basic " + base64.b64encode(b"u:nope").decode()}, 401),
        ("by-basic", {}, 401),
        ("by-jwt", {"Authorization": f"Bearer {token}"}, 202),
        ("by-jwt", {"Authorization": f"Bearer {wrong_alg}"}, 401),
        ("by-jwt", {}, 401),
        ("by-hmac", {"X-Hub-Signature-256": _sign("hmac-secret-1", body)}, 202),
        ("by-hmac", {"X-Hub-Signature-256": _sign("other", body)}, 401),
        ("by-hmac", {}, 401),
        ("by-magic", {}, 500),
    ]
    with server.client() as c:
        for name, headers, status in cases:
            r = c.post(f"/{name}", content=body, headers=headers)
            assert r.status_code == status, (name, headers, r.text)
            if status == 401:
                assert r.json()["error"]["code"] == "UNAUTHORIZED"
            if name == "by-basic" and status == 401:
                assert r.headers["www-authenticate"] == 'Basic realm="buttons webhook"'
        for name in ("by-header", "by-basic", "by-jwt", "by-hmac"):
            wait_drawer_runs(bt, name, 1)
    assert server.stop() == 0
    for name in hooks:
        assert len(drawer_runs(bt, name)) == (0 if name == "by-magic" else 1), name
    assert "unknown auth type 'magic'" in server.stderr
    # The credential headers never reach the drawer.
    for line in out.read_text().splitlines():
        headers = json.loads(line)["headers"]
        assert not {"Authorization", "X-Hook", "X-Hub-Signature-256"} & set(headers), headers


def test_drawer_deliveries_are_deduplicated_across_a_restart(
    bt: Buttons, serve: Start, tmp_path: Path
) -> None:
    out = tmp_path / "payloads.txt"
    hmac_auth = {"type": "hmac", "hmac_secret": "s3"}  # pragma: allowlist secret
    capture_drawer(bt, out, "ci", [{"kind": "webhook", "path": "/gh", "auth": hmac_auth}])
    body = b"{}"
    headers = {"X-Hub-Signature-256": _sign("s3", body), "X-GitHub-Delivery": "delivery-1"}
    server = serve()
    with server.client() as c:
        assert c.post("/gh", content=body, headers=headers).status_code == 202
        wait_drawer_runs(bt, "ci", 1)
        again = c.post("/gh", content=body, headers=headers)
        assert again.status_code == 200, again.text
        assert again.json() == {"ok": True, "data": {"drawer": "ci", "duplicate": True}}
        # A forged redelivery is refused before the dedupe answers.
        forged = c.post("/gh", content=body, headers={**headers, "X-Hub-Signature-256": _sign("x", body)})
        assert forged.status_code == 401
    assert server.stop() == 0
    server = serve()
    with server.client() as c:
        assert c.post("/gh", content=body, headers=headers).json()["data"]["duplicate"] is True
        other = {**headers, "X-GitHub-Delivery": "delivery-2"}
        assert c.post("/gh", content=body, headers=other).status_code == 202
        wait_drawer_runs(bt, "ci", 2)
    assert server.stop() == 0
    assert len(drawer_runs(bt, "ci")) == 2


def test_no_triggers_serves_no_drawer_webhook(bt: Buttons, serve: Start, tmp_path: Path) -> None:
    capture_drawer(bt, tmp_path / "p.txt", "ci", [{"kind": "webhook", "path": "/gh"}])
    server = serve("--no-triggers")
    with server.client() as c:
        _error(c.post("/gh"), 404, "NOT_FOUND")
    assert server.stop() == 0
    assert drawer_runs(bt, "ci") == []


def test_a_drawer_webhook_cannot_take_over_the_api_or_mcp_paths(
    bt: Buttons, serve: Start, tmp_path: Path
) -> None:
    out = tmp_path / "p.txt"
    capture_drawer(bt, out, "grab-mcp", [{"kind": "webhook", "path": "/mcp"}])
    capture_drawer(bt, out, "grab-api", [{"kind": "webhook", "path": "/api/buttons"}])
    server = serve()
    with server.client() as c:
        r = c.post("/mcp", content=b"{}")
        assert r.status_code != 202 and "grab-mcp" not in r.text
        assert c.get("/api/buttons").json()["data"] == {
            "buttons": [{**c.get("/api/buttons/capture").json()["data"]}]
        }
        _error(c.post("/api/buttons"), 405, "METHOD_NOT_ALLOWED")
    assert server.stop() == 0
    assert not out.exists()
