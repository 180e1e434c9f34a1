"""The OpenAPI document of ``buttons serve`` fuzzed with schemathesis against the real server (issue 12).

A real ``buttons serve`` on 127.0.0.1 serves a button and a drawer, both named ``greet`` (so the path
parameter example hits a real target of every route). Its own document (``GET /api/openapi.json``,
unwrapped from the envelope) drives schemathesis's CLI: examples, coverage, fuzzing and stateful
phases, a fixed seed and at most 30 cases per operation (about 500 requests, well under a minute).
Checks: no 5xx, status codes, content types, headers and bodies that conform to the document, and
schema-violating requests refused. Left out: the auth checks (``ignored_auth``,
``missing_required_header``), which trip the failed-auth limit by design (10 a minute per address,
test_serve_hardening.py covers auth), ``positive_data_acceptance`` (a valid request for a name that
does not exist is a 404, as it should be), and ``/mcp`` (JSON-RPC, not the envelope; test_serve_mcp.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Buttons
from serve_support import Server, write_drawer

KEY = "fuzz-key"  # pragma: allowlist secret
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
CHECKS_LEFT_OUT = "positive_data_acceptance,ignored_auth,missing_required_header"


@pytest.mark.slow
def test_the_openapi_document_holds_against_the_running_server(bt: Buttons, tmp_path: Path) -> None:
    bt.create("greet", "--code", 'echo "hi $BUTTONS_ARG_WHO"', "--arg", "who:string:optional")
    write_drawer(
        bt,
        "greet",
        [{"id": "g", "kind": "button", "button": "greet", "args": {"who": "${inputs.who}"}}],
        inputs=[{"name": "who", "type": "string"}],
    )
    server = Server.start(bt, "--api-key", KEY, "--rate-limit", "off")
    try:
        with server.client(KEY) as c:
            document = c.get("/api/openapi.json").json()["data"]
        for ops in document["paths"].values():
            for op in ops.values():
                for param in op.get("parameters", []):
                    if param["in"] == "path" and param["name"] == "name":
                        param["example"] = "greet"
        spec = tmp_path / "openapi.json"
        spec.write_text(json.dumps(document))
        run = subprocess.run(
            [
                SCHEMATHESIS,
                "run",
                str(spec),
                "--url",
                server.url,
                "--header",
                f"Authorization: Bearer {KEY}",
                "--checks",
                "all",
                "--exclude-checks",
                CHECKS_LEFT_OUT,
                "--exclude-path-regex",
                "^/mcp",
                "--max-examples",
                "30",
                "--seed",
                "20260101",
                "--workers",
                "1",
                "--request-timeout",
                "30",
                "--generation-database",
                "none",
                "--no-color",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        try:
            assert server.stop(timeout=60) == 0
        finally:
            server.kill()
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "Operations:       11 selected" in run.stdout  # every route of the API but /mcp was fuzzed
    assert "unexpected error" not in server.stderr, server.stderr[-4000:]
