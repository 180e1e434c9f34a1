"""Creating HTTP buttons (CONTRACT 5.1, 5.3) and their dry-run (issue 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Buttons
from core_helpers import run_tty
from http_support import RecordingServer, write_resolver


def _nothing_written(bt: Buttons) -> None:
    buttons_dir = bt.home / "buttons"
    assert not buttons_dir.exists() or list(buttons_dir.iterdir()) == []


def test_http_button_fields(bt: Buttons) -> None:
    data = bt.create(
        "issue",
        "--url",
        "https://API.Example.com:8443/repos/{{repo}}/issues?state={{state}}",
        "--method",
        "patch",
        "--header",
        "Authorization: Bearer abc:def",
        "--header",
        "Content-Type: application/json",
        "--body",
        '{"title":"{{title}}"}',
        "--arg",
        "repo:string:required",
        "-d",
        "Patch an issue",
    )
    on_disk = json.loads((bt.home / "buttons" / "issue" / "button.json").read_text())
    assert {k: v for k, v in data.items() if k != "button_dir"} == on_disk
    assert on_disk["runtime"] == "http"
    assert on_disk["method"] == "PATCH"
    assert on_disk["headers"] == {"Authorization": "Bearer abc:def", "Content-Type": "application/json"}
    assert on_disk["body"] == '{"title":"{{title}}"}'
    assert on_disk["allowed_host"] == "api.example.com:8443"
    assert on_disk["max_response_bytes"] == 10485760
    assert "allow_private_networks" not in on_disk
    assert list(on_disk)[:8] == [
        "schema_version",
        "name",
        "description",
        "version",
        "runtime",
        "url",
        "method",
        "headers",
    ]
    files = sorted(p.name for p in (bt.home / "buttons" / "issue").iterdir())
    assert files == ["AGENTS.md", "button.json", "pressed"]  # no main.* for an HTTP button
    assert "code_path" not in data


def test_defaults(bt: Buttons) -> None:
    data = bt.create("plain", "--url", "http://example.com")
    assert data["method"] == "GET"
    assert data["allowed_host"] == "example.com"
    assert "headers" not in data and "body" not in data


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("100", 100),
        ("512 kb", 512 * 1024),
        ("1m", 1024**2),
        ("10M", 10 * 1024**2),
        ("2G", 2 * 1024**3),
        ("7B", 7),
    ],
)
def test_max_response_size_syntax(bt: Buttons, size: str, expected: int) -> None:
    data = bt.create("sized", "--url", "https://example.com/", "--max-response-size", size)
    assert data["max_response_bytes"] == expected


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--url", "https://{{tenant}}.example.com/x"], "scheme or host"),
        (["--url", "https://api.example.com:{{port}}/x"], "scheme or host"),
        (["--url", "https://api.{{x}}.com"], "scheme or host"),
        (["--url", "https://example.com}}/x"], "scheme or host"),
        (["--url", "https://user:pass@example.com/"], "user:password"),
        (["--url", "ftp://example.com/"], "http:// or https://"),
        (["--url", "example.com/x"], "http:// or https://"),
        (["--url", "https:///path"], "no host"),
        (["--url", "https://example.com:99999/"], "port"),
        (["--url", "https://example.com/", "--code", "echo hi"], "at most one"),
        (["--url", "https://example.com/", "--runtime", "python"], "--runtime"),
        (["--url", "https://example.com/", "--header", "NoColon"], "Name: value"),
        (["--url", "https://example.com/", "--header", "Host: evil.example"], "set by buttons"),
        (["--url", "https://example.com/", "--method", "GET /x"], "method"),
        (["--url", "https://example.com/", "--max-response-size", "0"], "greater than 0"),
        (["--url", "https://example.com/", "--max-response-size", "-1"], "not a size"),
        (["--url", "https://example.com/", "--max-response-size", "ten"], "not a size"),
        (["--url", "https://example.com/", "--max-response-size", "5T"], "not a size"),
        (["--url", "https://example.com/", "--max-response-size", "2049M"], "2 GiB"),
        (["--max-response-size", "1M"], "add --url"),
        (["--allow-private-networks"], "add --url"),
        (["--code", "echo", "--method", "POST"], "add --url"),
    ],
)
def test_create_validation(bt: Buttons, extra: list[str], fragment: str) -> None:
    r = bt("create", "bad", *extra, "--json")
    assert r.returncode == 1
    assert r.error["code"] == "VALIDATION_ERROR", r.error
    assert fragment in r.error["message"], r.error["message"]
    _nothing_written(bt)


def test_placeholder_in_host_writes_nothing_even_with_other_flags(bt: Buttons) -> None:
    r = bt(
        "create",
        "tenant",
        "--url",
        "https://{{tenant}}.example.com/v1",
        "--arg",
        "tenant:string:required",
        "--json",
    )
    assert r.error["code"] == "VALIDATION_ERROR"
    _nothing_written(bt)
    assert bt("list", "--json").data == []


# ----------------------------------------------------------------------------- dry run


def test_dry_run_shows_the_exact_request_and_sends_nothing(
    bt: Buttons, server: RecordingServer, tmp_path: Path
) -> None:
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = write_resolver(tmp_path / "r.json", {"api.test": ["127.0.0.1"]})
    bt.env["BUTTONS_ALLOW_PRIVATE_NETWORKS"] = "1"
    bt.create(
        "post",
        "--url",
        f"http://api.test:{server.port}/users/{{{{id}}}}?q={{{{q}}}}#top",
        "--method",
        "post",
        "--header",
        "Content-Type: application/json",
        "--header",
        "X-Static: {{id}}",
        "--body",
        '{"name":"{{name}}"}',
        "--max-response-size",
        "1K",
    )
    r = bt(
        "press", "post", "--dry-run", "--arg", "id=../x", "--arg", "q=a&b", "--arg", 'name="<hi>"', "--json"
    )
    assert r.returncode == 0, r.stdout
    d = r.data
    assert d["url"] == f"http://api.test:{server.port}/users/..%2Fx?q=a%26b"
    assert d["method"] == "POST"
    assert d["body"] == '{"name":"\\"\\u003chi\\u003e\\""}'
    assert d["headers"] == {
        "Host": f"api.test:{server.port}",
        "Content-Type": "application/json",
        "X-Static": "{{id}}",
        "User-Agent": d["headers"]["User-Agent"],
        "Content-Length": str(len(d["body"].encode())),
    }
    assert d["max_response_bytes"] == 1024
    assert "refused" not in d

    # What the dry run showed is what a press sends.
    r = bt("press", "post", "--arg", "id=../x", "--arg", "q=a&b", "--arg", 'name="<hi>"', "--json")
    assert r.returncode == 0, r.stdout
    sent = server.requests[0]
    assert sent["raw_target"] == d["url"].split(f":{server.port}", 1)[1]
    assert sent["body"] == d["body"]
    assert dict(sent["headers"]) == d["headers"]
    assert len(server.requests) == 1  # the dry run sent nothing


def test_dry_run_records_nothing_and_names_a_refusal(bt: Buttons) -> None:
    bt.create("meta", "--url", "http://169.254.169.254/latest/{{path}}")
    r = bt("press", "meta", "--dry-run", "--arg", "path=meta-data", "--json")
    assert r.returncode == 0
    assert r.data["url"] == "http://169.254.169.254/latest/meta-data"
    assert r.data["refused"].startswith("169.254.169.254 resolves to a blocked private range")
    assert bt("history", "meta", "--json").data == []


def test_dry_run_human(bt: Buttons) -> None:
    """On a terminal the request is printed the way it would go out on the wire."""
    bt.create(
        "hook",
        "--url",
        "https://hooks.example.com/{{room}}",
        "--method",
        "POST",
        "--header",
        "Content-Type: text/plain",
        "--body",
        "hi {{room}}",
    )
    r = run_tty(bt, "press", "hook", "--dry-run", "--arg", "room=a b")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    start = lines.index("POST https://hooks.example.com/a%20b")
    assert lines[start + 1 : start + 4] == [
        "Host: hooks.example.com",
        "Content-Type: text/plain",
        lines[start + 3],
    ]
    assert lines[start + 3].startswith("User-Agent: buttons/")
    assert lines[start + 4] == "Content-Length: 6"
    assert lines[start + 5 :] == ["", "hi a b"]
