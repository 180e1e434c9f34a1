"""``buttons serve``: every endpoint, status code and envelope, auth, CORS, secure headers, OpenAPI.

Every test runs the real console script on 127.0.0.1 (``--port 0``), talks to it with httpx and
stops it (serve_support.py). The hardening under load (413, 429, slow clients, BUSY, the graceful
stop) is in test_serve_hardening.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Buttons
from serve_support import Start

SECURE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def _error(r: object, status: int, code: str) -> dict[str, object]:
    import httpx

    assert isinstance(r, httpx.Response)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["ok"] is False and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in r.text
    return dict(body["error"])


def test_health_envelope_secure_headers_and_no_server_banner(bt: Buttons, serve: Start) -> None:
    server = serve()
    with server.client() as c:
        r = c.get("/api/health")
        assert r.status_code == 200
        assert r.content == b'{"ok":true,"data":{"status":"ok","service":"buttons"}}\n'
        assert r.headers["content-type"] == "application/json"
        for name, value in SECURE.items():
            assert r.headers[name] == value
        assert "server" not in r.headers
        # Errors carry them too.
        r = c.get("/no/such/route")
        _error(r, 404, "NOT_FOUND")
        for name, value in SECURE.items():
            assert r.headers[name] == value
        assert "server" not in r.headers
    assert server.stop() == 0
    info = server.startup()["data"]
    assert info["addr"] == server.addr
    assert info["auth"] is False
    assert "POST /api/buttons/{name}/press" in info["endpoints"]
    assert "GET /api/openapi.json" in info["endpoints"]


def test_list_spec_press_runs_and_one_run(bt: Buttons, serve: Start) -> None:
    bt.create("greet", "--code", 'echo "hi $BUTTONS_ARG_WHO"', "--arg", "who:string:required")
    server = serve()
    with server.client() as c:
        listed = c.get("/api/buttons").json()["data"]["buttons"]
        assert [b["name"] for b in listed] == ["greet"]
        spec = c.get("/api/buttons/greet").json()["data"]
        assert spec["name"] == "greet" and spec["args"][0]["name"] == "who"

        r = c.post("/api/buttons/greet/press", json={"args": {"who": "bob"}, "unknown_field": [1]})
        assert r.status_code == 200
        result = r.json()["data"]
        assert result["status"] == "ok" and result["stdout"] == "hi bob\n" and result["button"] == "greet"
        run_id = result["run_id"]

        runs = c.get("/api/buttons/greet/runs").json()["data"]["runs"]
        assert len(runs) == 1 and runs[0]["run_id"] == run_id
        one = c.get(f"/api/runs/{run_id}")
        assert one.status_code == 200
        assert one.json()["data"]["run_id"] == run_id and one.json()["data"]["stdout"] == "hi bob\n"


def test_a_failed_press_is_200_with_its_status(bt: Buttons, serve: Start) -> None:
    bt.create("boom", "--code", "echo bad >&2; exit 3")
    bt.create("slow", "--code", "sleep 20")
    server = serve()
    with server.client() as c:
        r = c.post("/api/buttons/boom/press")  # an empty body is allowed
        assert r.status_code == 200
        result = r.json()["data"]
        assert result["status"] == "error" and result["exit_code"] == 3 and result["stderr"] == "bad\n"
        r = c.post("/api/buttons/slow/press", json={"timeout": 1})
        assert r.status_code == 200 and r.json()["data"]["status"] == "timeout"


def test_not_found_and_bad_requests(bt: Buttons, serve: Start) -> None:
    bt.create("greet", "--code", "echo hi", "--arg", "who:string:required", "--arg", "n:int:optional")
    server = serve()
    with server.client() as c:
        _error(c.get("/api/buttons/nope"), 404, "NOT_FOUND")
        _error(c.get("/api/buttons/nope/runs"), 404, "NOT_FOUND")
        _error(c.post("/api/buttons/nope/press"), 404, "NOT_FOUND")
        _error(c.get("/api/runs/2026-01-01T00-00-00.000000Z-abcd"), 404, "NOT_FOUND")
        _error(c.get("/api/runs/bad%24id"), 400, "VALIDATION_ERROR")
        _error(c.post("/api/buttons/greet/press", content=b"{not json"), 400, "BAD_REQUEST")
        _error(c.post("/api/buttons/greet/press", json=[1, 2]), 400, "BAD_REQUEST")
        _error(c.post("/api/buttons/greet/press", json={"args": {"who": 1}}), 400, "BAD_REQUEST")
        _error(c.post("/api/buttons/greet/press", json={"timeout": "5"}), 400, "BAD_REQUEST")
        _error(c.post("/api/buttons/greet/press", json={}), 400, "MISSING_ARG")
        _error(
            c.post("/api/buttons/greet/press", json={"args": {"who": "a", "n": "x"}}), 400, "VALIDATION_ERROR"
        )
        # Found by the schemathesis run (test_serve_fuzz.py): these were 500s.
        for body in (b'{"args": {"who": "a\\u0000b"}}', b'{"args": {"who": "a", "x\\u0000": "1"}}'):
            assert (
                "NUL"
                in _error(c.post("/api/buttons/greet/press", content=body), 400, "VALIDATION_ERROR")[
                    "message"
                ]
            )
        r = c.post("/api/buttons/greet/press", json={"args": {"who": "a", "x=y": "1"}})
        assert "'='" in _error(r, 400, "VALIDATION_ERROR")["message"]
        body = b'{"args": {"who": "a"}, "idempotency_key": "\\ud800"}'  # a lone surrogate
        _error(c.post("/api/buttons/greet/press", content=body), 400, "BAD_REQUEST")
        r = c.get("/api/buttons/greet/press")
        _error(r, 405, "METHOD_NOT_ALLOWED")
        assert "POST" in r.headers["allow"]
        _error(c.delete("/api/buttons/greet"), 405, "METHOD_NOT_ALLOWED")
    # Nothing was pressed by any of these.
    assert bt("history", "greet", "--json").data == []


def test_idempotency_key_header_and_body_field(bt: Buttons, serve: Start) -> None:
    bt.create("stamp", "--code", "date +%s%N")
    server = serve()
    with server.client() as c:
        first = c.post("/api/buttons/stamp/press", headers={"Idempotency-Key": "k1"}).json()["data"]
        again = c.post("/api/buttons/stamp/press", headers={"Idempotency-Key": "k1"}).json()["data"]
        assert again["stdout"] == first["stdout"] and again["run_id"] == first["run_id"]
        body = c.post("/api/buttons/stamp/press", json={"idempotency_key": "k2"}).json()["data"]
        body_again = c.post("/api/buttons/stamp/press", json={"idempotency_key": "k2"}).json()["data"]
        assert body_again["run_id"] == body["run_id"] != first["run_id"]
    assert len(bt("history", "stamp", "--json").data) == 2


def test_http_buttons_need_allow_http_buttons(bt: Buttons, serve: Start) -> None:
    bt.create("api", "--url", "http://127.0.0.1:9/x")
    server = serve()
    with server.client() as c:
        _error(c.post("/api/buttons/api/press"), 403, "HTTP_BUTTON_BLOCKED")
    server.stop()
    allowed = serve("--allow-http-buttons")
    with allowed.client() as c:
        r = c.post("/api/buttons/api/press")
        # It ran (and failed: nothing listens there, and loopback is refused by the SSRF guard).
        assert r.status_code == 200 and r.json()["data"]["status"] == "error"


def test_bearer_auth_right_wrong_missing(bt: Buttons, serve: Start) -> None:
    bt.create("greet", "--code", "echo hi")
    server = serve("--api-key", "s3cret-key")
    with server.client() as c:
        assert c.get("/api/health").status_code == 200  # health needs no key
        assert c.get("/api/openapi.json").status_code == 200  # nor the description
        r = c.get("/api/buttons")
        _error(r, 401, "UNAUTHORIZED")
        assert r.headers["www-authenticate"].startswith("Bearer")
        _error(c.post("/api/buttons/greet/press"), 401, "UNAUTHORIZED")
        _error(c.get("/api/buttons", headers={"Authorization": "Bearer wrong"}), 401, "UNAUTHORIZED")
        _error(
            c.get("/api/buttons", headers={"Authorization": "Basic czNjcmV0LWtleQ=="}), 401, "UNAUTHORIZED"
        )
        _error(c.get("/api/nope"), 401, "UNAUTHORIZED")  # unknown routes reveal nothing without the key
    with server.client("s3cret-key") as c:
        assert c.get("/api/buttons").status_code == 200
        assert c.post("/api/buttons/greet/press").json()["data"]["stdout"] == "hi\n"
    assert server.stop() == 0
    assert server.startup()["data"]["auth"] is True
    assert "s3cret-key" not in server.stderr


def test_key_from_battery_then_environment(bt: Buttons, serve: Start) -> None:
    server = serve(env={"BUTTONS_API_KEY": "from-env"})
    with server.client("from-env") as c:
        assert c.get("/api/buttons").status_code == 200
    with server.client("other") as c:
        _error(c.get("/api/buttons"), 401, "UNAUTHORIZED")
    server.stop()
    assert bt("batteries", "set", "API_KEY", "from-battery").returncode == 0
    server = serve(env={"BUTTONS_API_KEY": "from-env"})
    with server.client("from-battery") as c:
        assert c.get("/api/buttons").status_code == 200
    with server.client("from-env") as c:
        _error(c.get("/api/buttons"), 401, "UNAUTHORIZED")
    server.stop()
    server = serve("--api-key", "from-flag")
    with server.client("from-flag") as c:
        assert c.get("/api/buttons").status_code == 200
    with server.client("from-battery") as c:
        _error(c.get("/api/buttons"), 401, "UNAUTHORIZED")


def test_key_from_a_file_for_containers(bt: Buttons, serve: Start, tmp_path: Path) -> None:
    """``$BUTTONS_API_KEY_FILE`` (a container secret) when no flag, battery or variable gives one."""
    key_file = tmp_path / "api-key"
    key_file.write_text("from-file\n")
    server = serve(env={"BUTTONS_API_KEY_FILE": str(key_file)})
    with server.client("from-file") as c:
        assert c.get("/api/buttons").status_code == 200
    with server.client("other") as c:
        _error(c.get("/api/buttons"), 401, "UNAUTHORIZED")
    server.stop()
    r = bt("serve", "--port", "0", "--json", env={"BUTTONS_API_KEY_FILE": str(tmp_path / "missing")})
    assert (
        r.returncode == 1
        and r.error["code"] == "VALIDATION_ERROR"
        and "BUTTONS_API_KEY_FILE" in r.error["message"]
    )
    key_file.write_text("  \n")
    r = bt("serve", "--port", "0", "--json", env={"BUTTONS_API_KEY_FILE": str(key_file)})
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR"


def test_non_loopback_host_without_a_key_is_refused(bt: Buttons) -> None:
    r = bt("serve", "--host", "0.0.0.0", "--port", "0", "--json")  # noqa: S104 - refused before binding
    assert r.returncode == 1
    assert r.error["code"] == "VALIDATION_ERROR" and "API key" in r.error["message"]
    r = bt("serve", "--host", "192.0.2.1", "--port", "0", "--json")
    assert r.error["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--rate-limit", "lots"), "--rate-limit"),
        (("--max-in-flight", "0"), "--max-in-flight"),
        (("--cors-origin", "*"), "--cors-origin"),
        (("--port", "70000"), "--port"),
    ],
)
def test_bad_flags_are_validation_errors(bt: Buttons, flags: tuple[str, ...], words: str) -> None:
    r = bt("serve", "--port", "0", "--json", *flags)
    assert r.returncode == 1
    assert r.error["code"] == "VALIDATION_ERROR" and words in r.error["message"]


def test_cors_denied_by_default(bt: Buttons, serve: Start) -> None:
    server = serve()
    with server.client() as c:
        r = c.get("/api/buttons", headers={"Origin": "https://evil.example"})
        assert r.status_code == 200
        assert "access-control-allow-origin" not in r.headers
        pre = c.options(
            "/api/buttons",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        _error(pre, 403, "FORBIDDEN")
        assert "access-control-allow-origin" not in pre.headers
        assert pre.headers["x-frame-options"] == "DENY"


def test_cors_allowed_for_the_named_origins_only(bt: Buttons, serve: Start) -> None:
    server = serve("--cors-origin", "https://app.example", "--cors-origin", "http://localhost:3000")
    with server.client() as c:
        for origin in ("https://app.example", "http://localhost:3000"):
            r = c.get("/api/buttons", headers={"Origin": origin})
            assert r.headers["access-control-allow-origin"] == origin
        for origin in ("https://app.example.evil", "http://app.example", "null"):
            r = c.get("/api/buttons", headers={"Origin": origin})
            assert "access-control-allow-origin" not in r.headers
        pre = c.options(
            "/api/buttons/x/press",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == "https://app.example"
        assert "POST" in pre.headers["access-control-allow-methods"]
        assert "Authorization" in pre.headers["access-control-allow-headers"]
        denied = c.options(
            "/api/buttons",
            headers={"Origin": "https://other.example", "Access-Control-Request-Method": "GET"},
        )
        _error(denied, 403, "FORBIDDEN")


def test_battery_values_never_reach_a_client(bt: Buttons, serve: Start) -> None:
    assert bt("batteries", "set", "TOKEN", "very-secret-value-42").returncode == 0
    bt.create("leak", "--code", 'echo "$BUTTONS_BAT_TOKEN"; echo "$BUTTONS_BAT_TOKEN" >&2; exit 1')
    server = serve()
    with server.client() as c:
        r = c.post("/api/buttons/leak/press")
        assert r.status_code == 200
        assert "very-secret-value-42" not in r.text
        assert r.json()["data"]["stdout"] == "***\n"
        run_id = r.json()["data"]["run_id"]
        for path in ("/api/buttons/leak/runs", f"/api/runs/{run_id}", "/api/buttons/leak"):
            assert "very-secret-value-42" not in c.get(path).text


def test_openapi_describes_every_route_with_auth_and_errors(bt: Buttons, serve: Start) -> None:
    server = serve("--api-key", "k")
    with server.client() as c:
        doc = c.get("/api/openapi.json").json()["data"]
    assert server.stop() == 0
    endpoints = server.startup()["data"]["endpoints"]
    assert doc["openapi"] == "3.1.0"
    described = {f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops}
    assert described == set(endpoints)
    assert doc["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, ops in doc["paths"].items():
        for op in ops.values():
            public = path in ("/api/health", "/api/openapi.json")
            assert (op.get("security") == []) == public, path
            if not public:
                assert {"401", "429"} <= set(op["responses"]), path
            for status, response in op["responses"].items():
                if status != "200":
                    assert response["$ref"] == "#/components/responses/Error"
    press = doc["paths"]["/api/buttons/{name}/press"]["post"]["responses"]
    assert {"400", "403", "404", "413", "503"} <= set(press)
    # The document is plain JSON data (no Python objects leaked into it).
    json.dumps(doc)


def test_openapi_matches_the_routes_in_process(buttons_data_dir: object) -> None:
    from buttons_engine.server import app as server_app
    from buttons_engine.server import openapi

    api = server_app.Api(server_app.Settings(None))
    routes = {(r.path, m) for r in api.routes() for m in (r.methods or ()) if m != "HEAD"}
    doc = openapi.document(auth=False)
    described = {(path, m.upper()) for path, ops in doc["paths"].items() for m in ops}
    assert routes == described
    assert set(openapi.ERROR_CODES) == set(server_app.STATUS)


def test_the_server_surface_imports_neither_engine_nor_store() -> None:
    """Surfaces call services (docs/architecture.md, "Plugging things in")."""
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parent.parent / "src" / "buttons_engine"
    for path in [*(src / "server").glob("*.py"), src / "cli" / "serve.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                assert not any(part in ("engine", "store") for part in module.split(".")), (path, module)


def test_summary_checks_the_flags_and_binds_nothing(bt: Buttons) -> None:
    r = bt(
        "serve",
        "--summary",
        "--json",
        "--port",
        "1",
        "--api-key",
        "plan-secret-key",
        "--rate-limit",
        "5/second",
    )
    assert r.returncode == 0
    data = r.data
    assert data["dry_run"] is True and data["action"] == "serve" and data["addr"] == "127.0.0.1:1"
    assert data["auth"] is True and data["rate_limit"] == "5/second"
    assert "plan-secret-key" not in r.stdout
    r = bt("serve", "--summary", "--json", "--host", "203.0.113.5")
    assert r.returncode == 1 and r.error["code"] == "VALIDATION_ERROR"
