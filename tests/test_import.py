"""``buttons import code|skill|url|mcp`` (CONTRACT 16.8; issue 10, item 14) through the real console script.

``import url`` is fetched from a real HTTP server on 127.0.0.1; reaching it needs
BUTTONS_ALLOW_PRIVATE_NETWORKS=1, exactly like an HTTP button, and nothing here leaves the machine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import Buttons
from core_helpers import ok, run_tty

PRIVATE = {"BUTTONS_ALLOW_PRIVATE_NETWORKS": "1"}


def import_error(r: Any) -> dict[str, Any]:
    """An IMPORT_ERROR envelope, exit 1."""
    env = json.loads(r.stdout)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert env["ok"] is False and env["error"]["code"] == "IMPORT_ERROR", env
    return dict(env["error"])


def _names(bt: Buttons) -> list[str]:
    return [b["name"] for b in ok(bt("list", "--json"))]


# ----------------------------------------------------------------------------- code


@pytest.mark.parametrize(
    ("filename", "content", "runtime", "stdout"),
    [
        ("tool.py", 'print("py")\n', "python", "py\n"),
        ("tool.mjs", 'console.log("js")\n', "node", "js\n"),
        ("tool.bash", 'a=(1 2 3); echo "${#a[@]}"\n', "bash", "3\n"),
        ("tool.sh", "echo sh\n", "shell", "sh\n"),
        ("tool", '#!/usr/bin/env python3\nprint("py")\n', "python", "py\n"),
        ("tool", "#!/usr/bin/env node\nconsole.log('js')\n", "node", "js\n"),
        ("tool", "#!/bin/bash\na=(1 2); echo ${#a[@]}\n", "bash", "2\n"),
        ("tool", "echo plain\n", "shell", "plain\n"),
    ],
)
def test_import_code_infers_the_runtime(
    bt: Buttons, tmp_path: Path, *, filename: str, content: str, runtime: str, stdout: str
) -> None:
    src = tmp_path / filename
    src.write_text(content)
    data = ok(bt("import", "code", str(src), "--yes", "--json"))
    assert data == {"created": ["tool"]}
    spec = ok(bt("tool", "--json"))["button"]
    assert spec["runtime"] == runtime and spec["timeout_seconds"] == 300
    assert ok(bt("press", "tool", "--json"))["stdout"] == stdout


def test_import_code_name_flag_and_inline_code(bt: Buttons, tmp_path: Path) -> None:
    src = tmp_path / "long-file-name.py"
    src.write_text('print("x")\n')
    assert ok(bt("import", "code", str(src), "--name", "Short One", "-y", "--json")) == {
        "created": ["short-one"]
    }
    main = bt.home / "buttons" / "short-one" / "main.py"
    assert main.read_text() == 'print("x")\n'
    src.write_text("changed\n")
    assert main.read_text() == 'print("x")\n'  # a copy, not a link


def test_import_code_without_yes_is_refused_when_it_cannot_ask(bt: Buttons, tmp_path: Path) -> None:
    src = tmp_path / "t.sh"
    src.write_text("echo hi\n")
    err = import_error(bt("import", "code", str(src), "--json"))
    assert "--yes" in err["message"] and "t" in err["message"]
    assert "--yes" in err["hint"]
    # --no-input with human output refuses the same way, after printing the plan on stderr.
    r = bt("import", "code", str(src), "--no-input")
    import_error(r)
    assert _names(bt) == []


def test_import_on_a_terminal_shows_the_plan_and_asks(bt: Buttons, tmp_path: Path) -> None:
    src = tmp_path / "ask.py"
    src.write_text('print("asked")\n')
    no = run_tty(bt, "import", "code", str(src), answer="n\n")
    assert no.returncode == 1
    assert "+ ask (python, ask.py)" in no.stderr and "[y/N]" in no.stderr and "Cancelled." in no.stderr
    assert _names(bt) == []
    yes = run_tty(bt, "import", "code", str(src), answer="y\n")
    assert yes.returncode == 0, yes.stderr
    assert "created ask" in yes.stderr
    assert _names(bt) == ["ask"]


def test_import_code_limits(bt: Buttons, tmp_path: Path) -> None:
    exact = tmp_path / "exact.sh"
    exact.write_text("#" + "x" * (64 * 1024 - 2) + "\n")
    ok(bt("import", "code", str(exact), "-y", "--json"))
    big = tmp_path / "big.sh"
    big.write_text("#" + "x" * (64 * 1024) + "\n")
    assert (
        "larger than 65536 bytes" in import_error(bt("import", "code", str(big), "-y", "--json"))["message"]
    )
    assert (
        "no such file"
        in import_error(bt("import", "code", str(tmp_path / "nope.py"), "-y", "--json"))["message"]
    )
    assert (
        "not a regular file" in import_error(bt("import", "code", str(tmp_path), "-y", "--json"))["message"]
    )
    binary = tmp_path / "bin.sh"
    binary.write_bytes(b"\xff\xfe\x00")
    assert "not UTF-8" in import_error(bt("import", "code", str(binary), "-y", "--json"))["message"]
    assert _names(bt) == ["exact"]


def test_import_code_of_an_existing_name_is_an_import_error_and_keeps_it(bt: Buttons, tmp_path: Path) -> None:
    bt.create("dup", "--code", "echo old")
    src = tmp_path / "dup.sh"
    src.write_text("echo new\n")
    err = import_error(bt("import", "code", str(src), "-y", "--json"))
    assert "dup" in err["message"] and "already exists" in err["message"]
    assert ok(bt("press", "dup", "--json"))["stdout"] == "old\n"


def test_import_code_refuses_a_symlink(bt: Buttons, tmp_path: Path) -> None:
    target = tmp_path / "secret.txt"
    target.write_text("top secret\n")
    link = tmp_path / "innocent.sh"
    link.symlink_to(target)
    assert "not a regular file" in import_error(bt("import", "code", str(link), "-y", "--json"))["message"]


def test_import_summary_flag_shows_the_plan_and_creates_nothing(bt: Buttons, tmp_path: Path) -> None:
    src = tmp_path / "plan.py"
    src.write_text("print(1)\n")
    data = ok(bt("import", "code", str(src), "--summary", "--json"))
    assert data == {
        "dry_run": True,
        "action": "import",
        "kind": "code",
        "source": str(src),
        "buttons": [{"name": "plan", "kind": "python", "source": "plan.py"}],
    }
    assert _names(bt) == []


# ----------------------------------------------------------------------------- skill


def _skill(root: Path, name: str, md: str | None, scripts: dict[str, str] | None) -> Path:
    d = root / name
    d.mkdir()
    if md is not None:
        (d / "SKILL.md").write_text(md)
    if scripts is not None:
        (d / "scripts").mkdir()
        for fname, text in scripts.items():
            (d / "scripts" / fname).write_text(text)
    return d


def test_import_skill_makes_one_button_per_script(bt: Buttons, tmp_path: Path) -> None:
    d = _skill(
        tmp_path,
        "pdf",
        "\n\n## PDF tools: extract and merge\n\nMore text.\n",
        {"extract.py": 'print("extracted")\n', "merge.sh": "echo merged\n", ".hidden.sh": "echo no\n"},
    )
    (d / "scripts" / "sub").mkdir()
    (d / "scripts" / "link.sh").symlink_to(d / "scripts" / "merge.sh")
    data = ok(bt("import", "skill", str(d), "--yes", "--json"))
    assert data == {"created": ["pdf-extract", "pdf-merge"]}
    specs = {b["name"]: b for b in ok(bt("list", "--json"))}
    assert specs["pdf-extract"]["runtime"] == "python" and specs["pdf-merge"]["runtime"] == "shell"
    assert {s["description"] for s in specs.values()} == {"PDF tools: extract and merge"}
    assert ok(bt("press", "pdf-extract", "--json"))["stdout"] == "extracted\n"
    assert ok(bt("press", "pdf-merge", "--json"))["stdout"] == "merged\n"


def test_import_skill_name_replaces_the_folder_prefix(bt: Buttons, tmp_path: Path) -> None:
    d = _skill(tmp_path, "x", "# X\n", {"go.sh": "echo go\n"})
    assert ok(bt("import", "skill", str(d), "--name", "tools", "-y", "--json")) == {"created": ["tools-go"]}


def test_import_skill_without_scripts_makes_a_working_prompt_button(bt: Buttons, tmp_path: Path) -> None:
    """Upstream creates it with timeout 0 and fails; here it uses the default timeout and presses."""
    text = "---\nname: review\ndescription: Review a pull request\n---\n# Review\n\nRead the diff.\n"
    d = _skill(tmp_path, "review", None, None)
    (d / "skill.md").write_text(text)
    assert ok(bt("import", "skill", str(d), "-y", "--json")) == {"created": ["review"]}
    spec = ok(bt("review", "--json"))["button"]
    assert spec["runtime"] == "prompt" and spec["timeout_seconds"] == 300
    assert spec["description"] == "Review a pull request"
    pressed = ok(bt("press", "review", "--json"))
    assert pressed["status"] == "ok" and pressed["stdout"] == text


def test_import_skill_prompt_uses_the_default_timeout_setting(bt: Buttons, tmp_path: Path) -> None:
    ok(bt("config", "set", "default-timeout", "42", "--json"))
    d = _skill(tmp_path, "p", "# P\nDo it.\n", {})  # an empty scripts/ counts as none
    ok(bt("import", "skill", str(d), "-y", "--json"))
    assert ok(bt("p", "--json"))["button"]["timeout_seconds"] == 42


def test_import_skill_partial_failure_reports_errors_and_exits_1(bt: Buttons, tmp_path: Path) -> None:
    d = _skill(tmp_path, "mix", "# Mix\n", {"good.sh": "echo good\n", "huge.sh": "#" + "x" * 70_000 + "\n"})
    bt.create("mix-taken", "--code", "echo mine")
    (d / "scripts" / "taken.sh").write_text("echo theirs\n")
    (d / "scripts" / ("x" * 130 + ".sh")).write_text("echo long\n")  # mix-xxx… is longer than 128
    r = bt("import", "skill", str(d), "-y", "--json")
    assert r.returncode == 1
    env = json.loads(r.stdout)
    assert env["ok"] is True
    assert env["data"]["created"] == ["mix-good"]
    errors = env["data"]["errors"]
    assert set(errors) == {"mix-huge", "mix-taken", "mix-" + "x" * 130}
    assert "too long" in errors["mix-" + "x" * 130]
    assert "larger than" in errors["mix-huge"] and "already exists" in errors["mix-taken"]
    assert ok(bt("press", "mix-taken", "--json"))["stdout"] == "mine\n"


def test_import_skill_errors(bt: Buttons, tmp_path: Path) -> None:
    empty = _skill(tmp_path, "empty", None, None)
    assert (
        "neither scripts/ nor" in import_error(bt("import", "skill", str(empty), "-y", "--json"))["message"]
    )
    assert (
        "not a directory"
        in import_error(bt("import", "skill", str(tmp_path / "missing"), "-y", "--json"))["message"]
    )
    blank = _skill(tmp_path, "blank", "  \n", None)
    assert "is empty" in import_error(bt("import", "skill", str(blank), "-y", "--json"))["message"]
    assert _names(bt) == []


# ----------------------------------------------------------------------------- url


class _SpecServer(ThreadingHTTPServer):
    """Serves ``routes[path] = (status, body bytes, extra headers)`` and records each path asked for."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SpecHandler)
        self.routes: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.hits: list[tuple[str, str]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _SpecHandler(BaseHTTPRequestHandler):
    server: _SpecServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hits.append((self.path, self.headers.get("Accept", "")))
        status, body, headers = self.server.routes.get(self.path, (404, b"not here", {}))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.hits.append((self.path, body.decode()))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def spec_server() -> Iterator[_SpecServer]:
    srv = _SpecServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)


def _serve(srv: _SpecServer, path: str, value: Any, status: int = 200) -> str:
    srv.routes[path] = (status, json.dumps(value).encode(), {"Content-Type": "application/json"})
    return srv.base + path


def test_import_url_makes_an_http_button_that_presses(bt: Buttons, spec_server: _SpecServer) -> None:
    target = spec_server.base + "/hook/{{id}}"
    url = _serve(
        spec_server,
        "/spec.json",
        {
            "name": "Hook Up",
            "description": "post a hook",
            "url": target,
            "method": "post",
            "headers": {"Content-Type": "application/json", "X-Team": "a"},
            "body": '{"id": {{id}}}',
            "args": [{"name": "id", "type": "int", "required": True}],
            "allow_private_networks": True,
            "allowed_host": "*",
            "timeout_seconds": 1,
            "env": {"EVIL": "1"},
        },
    )
    data = ok(bt("import", "url", url, "--yes", "--json", env=PRIVATE))
    assert data == {"created": ["hook-up"]}
    assert spec_server.hits[0] == ("/spec.json", "application/json")
    spec = ok(bt("hook-up", "--json"))["button"]
    assert spec["url"] == target and spec["method"] == "POST" and spec["runtime"] == "http"
    assert spec["headers"] == {"Content-Type": "application/json", "X-Team": "a"}
    assert spec["body"] == '{"id": {{id}}}' and spec["description"] == "post a hook"
    assert spec["args"] == [{"name": "id", "type": "int", "required": True}]
    # Only those fields are copied: no private-network pass, no unlocked host, create's defaults.
    assert "allow_private_networks" not in spec
    assert spec["allowed_host"] == f"127.0.0.1:{spec_server.server_address[1]}"
    assert spec["timeout_seconds"] == 300 and spec["env"] == {}
    pressed = ok(bt("press", "hook-up", "--arg", "id=7", "--json", env=PRIVATE))
    assert pressed["stdout"] == "ok"
    assert spec_server.hits[-1] == ("/hook/7", '{"id": 7}')


def test_import_url_name_flag(bt: Buttons, spec_server: _SpecServer) -> None:
    url = _serve(spec_server, "/s", {"url": spec_server.base + "/x"})
    assert "--name" in import_error(bt("import", "url", url, "-y", "--json", env=PRIVATE))["hint"]
    assert ok(bt("import", "url", url, "--name", "named", "-y", "--json", env=PRIVATE)) == {
        "created": ["named"]
    }


@pytest.mark.parametrize(
    ("route", "needle"),
    [
        pytest.param((404, b"{}"), "HTTP 404", id="status-404"),
        pytest.param((201, b"{}"), "HTTP 201", id="status-201"),
        pytest.param((200, b"not json"), "not JSON", id="not-json"),
        pytest.param((200, b"[1, 2]"), "not a JSON object", id="not-an-object"),
        pytest.param((200, b'{"name": "x", "runtime": "shell"}'), "has no 'url'", id="no-url"),
        pytest.param((200, b'{"name": "x", "url": "ftp://h/"}'), "http://", id="bad-url"),
        pytest.param((200, b'{"name": "x", "url": "http://h/", "args": "id"}'), "'args'", id="bad-args"),
        pytest.param(
            (200, b'{"url": "http://h/", "name": "x", "headers": {"A": 1}}'), "headers", id="bad-headers"
        ),
        pytest.param(
            (200, b'{"name": "x", "url": "http://h/", "args": [{"name": "a:b"}]}'), "args[0]", id="arg-colon"
        ),
        pytest.param((200, b"{" + b" " * (64 * 1024) + b"}"), "larger than 65536", id="too-large"),
    ],
)
def test_import_url_refusals(
    bt: Buttons, spec_server: _SpecServer, route: tuple[int, bytes], needle: str
) -> None:
    spec_server.routes["/r"] = (route[0], route[1], {})
    err = import_error(bt("import", "url", spec_server.base + "/r", "-y", "--json", env=PRIVATE))
    assert needle in err["message"], err
    assert _names(bt) == []


def test_import_url_of_exactly_64_kib_is_accepted(bt: Buttons, spec_server: _SpecServer) -> None:
    body = json.dumps({"name": "big", "url": "https://api.example.com/", "description": ""}).encode()
    body = body[:-1] + b" " * (64 * 1024 - len(body)) + b"}"
    assert len(body) == 64 * 1024
    spec_server.routes["/exact"] = (200, body, {})
    assert ok(bt("import", "url", spec_server.base + "/exact", "-y", "--json", env=PRIVATE)) == {
        "created": ["big"]
    }


def test_import_url_is_ssrf_checked_like_an_http_button(bt: Buttons, spec_server: _SpecServer) -> None:
    """Without the escape hatch, loopback is refused and the server never sees a request."""
    url = _serve(spec_server, "/spec.json", {"name": "x", "url": "https://api.example.com/"})
    err = import_error(bt("import", "url", url, "-y", "--json"))
    assert "blocked private range (loopback" in err["message"] and "127.0.0.1" in err["message"]
    assert spec_server.hits == []
    for blocked in ("http://169.254.169.254/latest/meta-data", "http://0x7f000001/", "http://[::1]/"):
        assert "blocked" in import_error(bt("import", "url", blocked, "-y", "--json"))["message"]
    assert _names(bt) == []


def test_import_url_redirect_to_another_host_is_refused(bt: Buttons, spec_server: _SpecServer) -> None:
    """The fetch is host-locked like an HTTP button: a redirect to another port is not followed."""
    other = _SpecServer()
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        _serve(other, "/spec.json", {"name": "x", "url": "https://api.example.com/"})
        spec_server.routes["/go"] = (302, b"", {"Location": other.base + "/spec.json"})
        err = import_error(bt("import", "url", spec_server.base + "/go", "-y", "--json", env=PRIVATE))
        assert "refusing redirect" in err["message"]
        assert other.hits == []
        # A same-host redirect is followed.
        _serve(spec_server, "/real.json", {"name": "same", "url": "https://api.example.com/"})
        spec_server.routes["/moved"] = (301, b"", {"Location": "/real.json"})
        assert ok(bt("import", "url", spec_server.base + "/moved", "-y", "--json", env=PRIVATE)) == {
            "created": ["same"]
        }
    finally:
        other.shutdown()
        other.server_close()
        thread.join(timeout=10)


def test_import_url_bad_urls(bt: Buttons) -> None:
    for url in (
        "ftp://example.com/x",
        "http://user:pw@example.com/",  # pragma: allowlist secret
        "http://{{host}}/x",
        "http://h/{{x}}",
    ):
        assert import_error(bt("import", "url", url, "-y", "--json"))["message"]


# ----------------------------------------------------------------------------- mcp, usage


def test_import_mcp_is_always_an_import_error(bt: Buttons) -> None:
    assert "not implemented" in import_error(bt("import", "mcp", "--json"))["message"]
    assert "not implemented" in import_error(bt("import", "mcp", "some-server", "-y", "--json"))["message"]


def test_import_usage_errors(bt: Buttons) -> None:
    r = bt("import", "code", "--json")
    assert r.returncode == 1 and "required: FILE" in r.stderr and r.stdout == ""
    r = bt("import", "--json")
    assert r.returncode == 1 and "say what to import" in r.stderr and r.stdout == ""
    r = bt("import", "zip", "x", "--json")
    assert r.returncode == 1 and "invalid choice" in r.stderr
