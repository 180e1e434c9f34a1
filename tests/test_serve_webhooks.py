"""Webhook triggers on ``buttons serve`` (CONTRACT 12.1): one press per POST, token checked, drained."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from conftest import Buttons
from serve_support import Start, alive, wait_for


def _runs(bt: Buttons, name: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = bt("history", name, "--json").data
    return runs


def _wait_runs(bt: Buttons, name: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while len(runs := _runs(bt, name)) < count:
        assert time.monotonic() < deadline, f"{name} has {len(runs)} runs, expected {count}"
        time.sleep(0.1)
    return runs


def _hook(bt: Buttons, name: str, path: str, *extra: str) -> dict[str, Any]:
    r = bt("trigger", "add", name, "--webhook", "--webhook-path", path, *extra, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    trigger: dict[str, Any] = r.data["trigger"]
    return trigger


def test_a_post_fires_one_press_with_the_triggers_args(bt: Buttons, serve: Start) -> None:
    bt.create("greet", "--code", 'echo "hi $BUTTONS_ARG_WHO"', "--arg", "who:string:required")
    _hook(bt, "greet", "/hooks/greet", "--arg", "who=bob")
    server = serve()
    with server.client() as c:
        r = c.post("/hooks/greet", content=b'{"anything": "ignored"}')
        assert r.status_code == 202
        assert r.json() == {"ok": True, "data": {"button": "greet"}}
        assert r.headers["x-frame-options"] == "DENY"
        runs = _wait_runs(bt, "greet", 1)
        assert runs[0]["stdout"] == "hi bob\n" and runs[0]["status"] == "ok"
        wrong = c.get("/hooks/greet")
        assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
        assert c.post("/hooks/other").status_code == 404
    assert server.stop() == 0
    assert len(_runs(bt, "greet")) == 1  # exactly one press for one request
    info = server.startup()["data"]
    assert info["triggers_enabled"] is True and info["webhook_routes"] == 1


def test_the_token_is_required_by_header_or_query(bt: Buttons, serve: Start) -> None:
    bt.create("deploy", "--code", "echo deployed")
    _hook(bt, "deploy", "/deploy", "--token", "hook-token-1")
    # The server's API key does not apply to webhooks: the token is their auth.
    server = serve("--api-key", "api-key-1")
    with server.client() as c:
        for headers, params in (({}, {}), ({"X-Buttons-Token": "wrong"}, {}), ({}, {"token": "hook-token"})):
            r = c.post("/deploy", headers=headers, params=params)
            assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
        assert c.post("/deploy", headers={"X-Buttons-Token": "hook-token-1"}).status_code == 202
        assert c.post("/deploy", params={"token": "hook-token-1"}).status_code == 202
    assert server.stop() == 0
    runs = _runs(bt, "deploy")
    assert len(runs) == 2 and all(r["stdout"] == "deployed\n" for r in runs)


def test_triggers_are_re_read_without_a_restart(bt: Buttons, serve: Start) -> None:
    bt.create("greet", "--code", "echo hi")
    server = serve()
    with server.client() as c:
        assert c.post("/late").status_code == 404
        trigger = _hook(bt, "greet", "/late")
        assert c.post("/late").status_code == 202
        _wait_runs(bt, "greet", 1)
        assert bt("trigger", "rm", "greet", trigger["id"], "--json").returncode == 0
        assert c.post("/late").status_code == 404


def test_no_triggers_mounts_no_webhook(bt: Buttons, serve: Start) -> None:
    bt.create("greet", "--code", "echo hi")
    _hook(bt, "greet", "/hook")
    server = serve("--no-triggers")
    with server.client() as c:
        r = c.post("/hook")
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    assert server.stop() == 0
    assert server.startup()["data"]["triggers_enabled"] is False
    assert _runs(bt, "greet") == []


def _blocking(bt: Buttons, tmp_path: Path, name: str) -> tuple[Path, Path]:
    started, release = tmp_path / f"{name}.started", tmp_path / f"{name}.release"
    bt.create(
        name,
        "--code",
        f'echo $$ > "{started}.tmp"; mv "{started}.tmp" "{started}"; '
        f'while [ ! -e "{release}" ]; do sleep 0.05; done; echo done',
    )
    return started, release


def test_webhook_presses_count_in_flight(bt: Buttons, serve: Start, tmp_path: Path) -> None:
    started, release = _blocking(bt, tmp_path, "hold")
    _hook(bt, "hold", "/hold")
    server = serve("--max-in-flight", "1")
    with server.client() as c:
        assert c.post("/hold").status_code == 202
        wait_for(started)
        busy = c.post("/hold")
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        release.touch()
        _wait_runs(bt, "hold", 1)


def test_sigterm_drains_then_cancels_a_background_press(bt: Buttons, serve: Start, tmp_path: Path) -> None:
    started, _release = _blocking(bt, tmp_path, "hold")  # never released
    _hook(bt, "hold", "/hold")
    server = serve("--drain-timeout", "1s")
    with server.client() as c:
        assert c.post("/hold").status_code == 202
    wait_for(started)
    pid = int(started.read_text())
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(60) == 0
    runs = _runs(bt, "hold")
    assert len(runs) == 1 and runs[0]["error_type"] == "CANCELLED"
    assert not alive(pid), "the press's process outlived the server"


def _sign(secret: str, body: bytes) -> str:
    import hashlib
    import hmac

    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_hmac_signed_webhooks_with_env_and_battery_secrets(bt: Buttons, serve: Start) -> None:
    bt.create("ci", "--code", "echo built")
    assert bt("batteries", "set", "GH_SECRET", "battery-secret-9").returncode == 0
    _hook(bt, "ci", "/gh", "--auth", "hmac", "--hmac-secret", "$BAT{GH_SECRET}")
    _hook(bt, "ci", "/env", "--auth", "hmac", "--hmac-secret", "$ENV{HOOK_SECRET}")
    _hook(bt, "ci", "/unset", "--auth", "hmac", "--hmac-secret", "$ENV{NOT_SET_ANYWHERE}")
    stored = (bt.home / "buttons" / "ci" / "button.json").read_text()
    assert "battery-secret-9" not in stored and "env-secret-3" not in stored
    server = serve(env={"HOOK_SECRET": "env-secret-3"})
    body = b'{"ref": "refs/heads/main"}'
    with server.client() as c:
        ok = c.post("/gh", content=body, headers={"X-Hub-Signature-256": _sign("battery-secret-9", body)})
        assert ok.status_code == 202, ok.text
        ok = c.post("/env", content=body, headers={"X-Hub-Signature-256": _sign("env-secret-3", body)})
        assert ok.status_code == 202, ok.text
        for headers in (
            {},
            {"X-Hub-Signature-256": _sign("wrong-secret", body)},
            {"X-Hub-Signature-256": _sign("battery-secret-9", body + b" ")},  # another body
            {"X-Hub-Signature-256": "sha256="},
        ):
            r = c.post("/gh", content=body, headers=headers)
            assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED", headers
        unset = c.post("/unset", content=body, headers={"X-Hub-Signature-256": _sign("", body)})
        assert unset.status_code == 500 and "NOT_SET_ANYWHERE" not in unset.text
    assert server.stop() == 0
    assert len(_runs(bt, "ci")) == 2
    assert "battery-secret-9" not in server.stderr and "env-secret-3" not in server.stderr


def test_repeated_deliveries_press_once_even_across_a_restart(
    bt: Buttons, serve: Start, tmp_path: Path
) -> None:
    bt.create("ci", "--code", "echo built")
    _hook(bt, "ci", "/gh", "--auth", "hmac", "--hmac-secret", "s3")
    body = b"{}"
    sig = {"X-Hub-Signature-256": _sign("s3", body)}
    server = serve()
    with server.client() as c:
        first = c.post("/gh", content=body, headers={**sig, "X-GitHub-Delivery": "d-1"})
        assert first.status_code == 202
        _wait_runs(bt, "ci", 1)
        again = c.post("/gh", content=body, headers={**sig, "X-GitHub-Delivery": "d-1"})
        assert again.status_code == 200
        assert again.json() == {"ok": True, "data": {"button": "ci", "duplicate": True}}
        # A forged redelivery is refused before the dedupe is consulted.
        assert c.post("/gh", content=body, headers={"X-GitHub-Delivery": "d-1"}).status_code == 401
    assert server.stop() == 0
    server = serve()
    with server.client() as c:
        after = c.post("/gh", content=body, headers={**sig, "X-GitHub-Delivery": "d-1"})
        assert after.status_code == 200 and after.json()["data"]["duplicate"] is True
        other = c.post("/gh", content=body, headers={**sig, "X-Buttons-Delivery": "d-2"})
        assert other.status_code == 202
        _wait_runs(bt, "ci", 2)
    assert server.stop() == 0
    assert len(_runs(bt, "ci")) == 2


def test_a_duplicate_of_a_delivery_still_running_presses_nothing(
    bt: Buttons, serve: Start, tmp_path: Path
) -> None:
    started, release = _blocking(bt, tmp_path, "hold")
    _hook(bt, "hold", "/hold")
    server = serve()
    with server.client() as c:
        assert c.post("/hold", headers={"Idempotency-Key": "k-1"}).status_code == 202
        wait_for(started)
        dup = c.post("/hold", headers={"Idempotency-Key": "k-1"})
        assert dup.status_code == 200 and dup.json()["data"]["duplicate"] is True
        release.touch()
        _wait_runs(bt, "hold", 1)
    assert server.stop() == 0
    assert len(_runs(bt, "hold")) == 1


def test_the_request_reaches_the_button_without_credentials(bt: Buttons, serve: Start) -> None:
    import json

    bt.create(
        "echo",
        "--code",
        'printf "%s\\n" "$BUTTONS_ARG_WEBHOOK_BODY" "$BUTTONS_ARG_WEBHOOK_HEADERS" '
        '"$BUTTONS_ARG_WEBHOOK_QUERY" "$BUTTONS_ARG_WEBHOOK_METHOD" "$BUTTONS_ARG_WEBHOOK_PATH" '
        '"$BUTTONS_ARG_WEBHOOK_BODY_BYTES" "$BUTTONS_ARG_ENV"',
    )
    _hook(bt, "echo", "/in", "--token", "tok-5", "--arg", "env=prod")
    server = serve()
    body = b'{"action": "opened", "n": 7}'
    with server.client() as c:
        r = c.post(
            "/in",
            content=body,
            params={"token": "tok-5", "ref": "main"},
            headers={"X-Event": "push", "Authorization": "Bearer nope", "Cookie": "c=1"},
        )
        assert r.status_code == 202
        big = c.post("/in", content=b"x" * (70 * 1024), headers={"X-Buttons-Token": "tok-5"})
        assert big.status_code == 202
    assert server.stop() == 0
    runs = sorted(_runs(bt, "echo"), key=lambda run: run["started_at"])
    lines = runs[0]["stdout"].split("\n")
    assert json.loads(lines[0]) == {"action": "opened", "n": 7}
    headers = json.loads(lines[1])
    assert headers["x-event"] == "push"
    assert not {"authorization", "cookie", "x-buttons-token"} & set(headers)
    assert json.loads(lines[2]) == {"ref": "main"}  # the token is not passed on
    assert lines[3:7] == ["POST", "/in", str(len(body)), "prod"]
    big_lines = runs[1]["stdout"].split("\n")
    assert big_lines[0] == "" and big_lines[5] == str(70 * 1024)  # too large to pass: only its size


def test_basic_and_header_auth_right_wrong_and_missing(bt: Buttons, serve: Start) -> None:
    import json

    bt.create("hook", "--code", 'printf "%s" "$BUTTONS_ARG_WEBHOOK_HEADERS"')
    assert bt("batteries", "set", "HOOK_VALUE", "header-secret-4").returncode == 0
    _hook(bt, "hook", "/basic", "--auth", "basic", "--auth-user", "ci", "--auth-pass", "pass-1")
    _hook(
        bt,
        "hook",
        "/header",
        "--auth",
        "header",
        "--auth-header-name",
        "X-Hook-Key",
        "--auth-header-value",
        "$BAT{HOOK_VALUE}",
    )
    server = serve()
    with server.client() as c:
        assert c.post("/basic", auth=("ci", "pass-1")).status_code == 202
        missing = c.post("/basic")
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Basic")
        for user, password in (("ci", "wrong"), ("other", "pass-1"), ("ci", "")):
            assert c.post("/basic", auth=(user, password)).status_code == 401, (user, password)
        assert c.post("/basic", headers={"Authorization": "Basic !!notbase64"}).status_code == 401

        assert c.post("/header", headers={"X-Hook-Key": "header-secret-4"}).status_code == 202
        assert c.post("/header").status_code == 401
        assert c.post("/header", headers={"X-Hook-Key": "header-secret-5"}).status_code == 401
    assert server.stop() == 0
    runs = _runs(bt, "hook")
    assert len(runs) == 2
    for run in runs:  # the credentials never reach the button
        headers = json.loads(run["stdout"])
        assert "authorization" not in headers and "x-hook-key" not in headers


def test_jwt_auth_pins_the_algorithm_and_checks_exp_iss_aud(bt: Buttons, serve: Start) -> None:
    import jwt

    bt.create("hook", "--code", "echo ok")
    _hook(
        bt,
        "hook",
        "/jwt",
        *(
            "--auth",
            "jwt",
            "--jwt-secret",
            "$ENV{JWT_KEY}",
            "--jwt-issuer",
            "ci",
            "--jwt-audience",
            "buttons",
        ),
    )
    key = "jwt-key-that-is-long-enough-for-hs512-" + "k" * 30
    other = "another-key-long-enough-for-hs512-" + "o" * 34
    now = int(time.time())
    good = {"iss": "ci", "aud": "buttons", "exp": now + 300}

    def bearer(claims: dict[str, Any], signing_key: str = key, alg: str = "HS256") -> dict[str, str]:
        return {"Authorization": "Bearer " + jwt.encode(claims, signing_key, algorithm=alg)}

    server = serve(env={"JWT_KEY": key})
    with server.client() as c:
        assert c.post("/jwt", headers=bearer(good)).status_code == 202
        assert c.post("/jwt", headers=bearer({**good, "exp": now - 10})).status_code == 202  # 30 s leeway
        refused = [
            {},
            bearer(good, other),
            bearer(good, alg="HS512"),  # the algorithm is pinned to HS256
            bearer({**good, "exp": now - 120}),
            bearer({"iss": "ci", "aud": "buttons"}),  # no exp
            bearer({**good, "iss": "someone"}),
            bearer({**good, "aud": "other"}),
            {"Authorization": "Bearer " + jwt.encode(good, None, algorithm="none")},
            {"Authorization": "Bearer not.a.jwt"},
        ]
        for headers in refused:
            r = c.post("/jwt", headers=headers)
            assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED", headers
    assert server.stop() == 0
    assert len(_runs(bt, "hook")) == 2
