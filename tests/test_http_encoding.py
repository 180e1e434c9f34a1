"""Context-aware templating of HTTP buttons (issue 3, Must show 2), through the real console script.

Each injection attempt must reach the recording server as one literal value in the place the
template put it: a path segment, a query value, a JSON string, a form field.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Buttons
from http_support import RecordingServer, write_resolver

PRIVATE_OK = {"BUTTONS_ALLOW_PRIVATE_NETWORKS": "1"}


@pytest.fixture(autouse=True)
def _no_dns(bt: Buttons, tmp_path: Path) -> None:
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = write_resolver(tmp_path / "resolver.json", {})
    bt.env.update(PRIVATE_OK)


def _one(server: RecordingServer) -> dict:
    assert len(server.requests) == 1, server.requests
    return server.requests[0]


def test_query_injection_stays_one_value(bt: Buttons, server: RecordingServer) -> None:
    bt.create("search", "--url", f"http://127.0.0.1:{server.port}/search?q={{{{q}}}}&lang=en")
    r = bt("press", "search", "--arg", "q=real&admin=true", "--json")
    assert r.returncode == 0, r.stdout
    req = _one(server)
    assert req["query"] == {"q": ["real&admin=true"], "lang": ["en"]}
    assert req["raw_target"] == "/search?q=real%26admin%3Dtrue&lang=en"


def test_query_spaces_and_unicode(bt: Buttons, server: RecordingServer) -> None:
    bt.create("search", "--url", f"http://127.0.0.1:{server.port}/s?q={{{{q}}}}")
    bt("press", "search", "--arg", "q=a b+c/ü#frag", "--json")
    req = _one(server)
    assert req["raw_target"] == "/s?q=a+b%2Bc%2F%C3%BC%23frag"
    assert req["query"] == {"q": ["a b+c/ü#frag"]}


@pytest.mark.parametrize(
    ("value", "raw"),
    [
        ("../../etc/passwd", "/files/..%2F..%2Fetc%2Fpasswd/meta"),
        ("..", "/files/%2E%2E/meta"),
        (".", "/files/%2E/meta"),
        ("a?b#c d", "/files/a%3Fb%23c%20d/meta"),
        ("k=v&x@y:z+$", "/files/k=v&x@y:z+$/meta"),
    ],
)
def test_path_value_stays_one_segment(bt: Buttons, server: RecordingServer, value: str, raw: str) -> None:
    bt.create("files", "--url", f"http://127.0.0.1:{server.port}/files/{{{{name}}}}/meta")
    r = bt("press", "files", "--arg", f"name={value}", "--json")
    assert r.returncode == 0, r.stdout
    req = _one(server)
    assert req["raw_target"] == raw
    assert req["path"].count("/") == 3  # /files/<one segment>/meta


def test_json_breakout_without_content_type(bt: Buttons, server: RecordingServer) -> None:
    bt.create(
        "user",
        "--url",
        f"http://127.0.0.1:{server.port}/users",
        "--method",
        "post",
        "--body",
        '{"name":"{{name}}","role":"user"}',
    )
    r = bt("press", "user", "--arg", 'name=","role":"admin', "--json")
    assert r.returncode == 0, r.stdout
    req = _one(server)
    assert req["method"] == "POST"
    assert json.loads(req["body"]) == {"name": '","role":"admin', "role": "user"}
    # No Content-Type is invented for the caller.
    assert "Content-Type" not in dict(req["headers"])


@pytest.mark.parametrize("ctype", ["application/json", "Application/JSON; charset=utf-8", "text/json"])
def test_json_escaping_for_json_content_types(bt: Buttons, server: RecordingServer, ctype: str) -> None:
    bt.create(
        "user",
        "--url",
        f"http://127.0.0.1:{server.port}/users",
        "--method",
        "POST",
        "--header",
        f"Content-Type: {ctype}",
        "--body",
        '{"name":"{{name}}"}',
    )
    nasty = 'a"\\\n\t<script>&\u2028'
    bt("press", "user", "--arg", f"name={nasty}", "--json")
    req = _one(server)
    assert json.loads(req["body"]) == {"name": nasty}
    assert "<" not in req["body"] and "&" not in req["body"]


def test_form_injection_stays_one_field(bt: Buttons, server: RecordingServer) -> None:
    bt.create(
        "form",
        "--url",
        f"http://127.0.0.1:{server.port}/form",
        "--method",
        "POST",
        "--header",
        "Content-Type: application/x-www-form-urlencoded",
        "--body",
        "a={{a}}&b=good",
    )
    r = bt("press", "form", "--arg", "a=x&b=evil", "--json")
    assert r.returncode == 0, r.stdout
    req = _one(server)
    assert req["body"] == "a=x%26b%3Devil&b=good"
    from urllib.parse import parse_qs

    assert parse_qs(req["body"]) == {"a": ["x&b=evil"], "b": ["good"]}


def test_other_content_types_are_raw(bt: Buttons, server: RecordingServer) -> None:
    bt.create(
        "raw",
        "--url",
        f"http://127.0.0.1:{server.port}/raw",
        "--method",
        "PUT",
        "--header",
        "Content-Type: text/plain",
        "--body",
        "hello {{who}} / {{missing}}",
    )
    bt("press", "raw", "--arg", 'who=<a&"b">', "--json")
    assert _one(server)["body"] == 'hello <a&"b"> / {{missing}}'


def test_values_are_substituted_once(bt: Buttons, server: RecordingServer) -> None:
    """A value that looks like a placeholder is never expanded again."""
    bt.create(
        "once",
        "--url",
        f"http://127.0.0.1:{server.port}/once",
        "--method",
        "POST",
        "--header",
        "Content-Type: text/plain",
        "--body",
        "a={{a}} b={{b}}",
    )
    bt("press", "once", "--arg", "a={{b}}", "--arg", "b=B", "--json")
    assert _one(server)["body"] == "a={{b}} b=B"


def test_headers_are_never_templated_and_placeholders_without_args_stay(
    bt: Buttons, server: RecordingServer
) -> None:
    bt.create(
        "hdr",
        "--url",
        f"http://127.0.0.1:{server.port}/h/{{{{x}}}}?y={{{{y}}}}#frag-{{{{x}}}}",
        "--header",
        "X-Who: {{x}}",
        "--header",
        "Authorization: Bearer static-token",
    )
    r = bt("press", "hdr", "--arg", "y=1", "--json")
    assert r.returncode == 0, r.stdout
    req = _one(server)
    headers = dict(req["headers"])
    assert headers["X-Who"] == "{{x}}"
    assert headers["Authorization"] == "Bearer static-token"
    assert req["raw_target"] == "/h/%7B%7Bx%7D%7D?y=1"  # literal placeholder, fragment never sent
    assert headers["Host"] == f"127.0.0.1:{server.port}"
    assert headers["User-Agent"].startswith("buttons/")
