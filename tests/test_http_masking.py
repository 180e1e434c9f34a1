"""Battery values are masked in an HTTP button's body before the size cap cuts it.

The cap used to cut the raw body and masking came later, so a value straddling the cap was left
as a prefix (``...hunter2se``) that the masker no longer recognised. The echo route of the test
server returns the request, path included, so the value lands at a known offset of the body.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import Buttons
from http_support import RecordingServer, write_resolver

VALUE = "hunter2secret"


@pytest.fixture(autouse=True)
def _env(bt: Buttons, tmp_path: Path) -> None:
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = write_resolver(tmp_path / "resolver.json", {})
    bt.env["BUTTONS_ALLOW_PRIVATE_NETWORKS"] = "1"


def _assert_no_leak(text: str) -> None:
    assert VALUE not in text
    for n in range(4, len(VALUE)):
        assert not text.endswith(VALUE[:n]), text


def _offset(server: RecordingServer) -> int:
    """Where the value starts in the echoed body of ``GET /<value>``."""
    body = json.dumps({"method": "GET", "path": "/" + VALUE, "raw_target": "/" + VALUE, "query": {}})
    return body.index(VALUE)


@pytest.mark.parametrize("into", [1, 4, 9, 12])
def test_value_straddling_the_cap_is_not_left_partly(bt: Buttons, server: RecordingServer, into: int) -> None:
    assert bt("batteries", "set", "TOKEN", VALUE).returncode == 0
    cap = _offset(server) + into  # the cap falls ``into`` bytes inside the value
    bt.create(
        "echo",
        "--url",
        f"http://127.0.0.1:{server.port}/{{{{v}}}}",
        "--arg",
        "v:string:required",
        "--max-response-size",
        str(cap),
    )
    r = bt("press", "echo", "--arg", f"v={VALUE}", "--json")
    assert r.returncode == 0, r.stdout
    assert server.requests[0]["path"] == "/" + VALUE  # the value really was in the body
    data = r.data
    assert data["truncated"] is True
    assert len(data["stdout"].encode()) <= cap
    _assert_no_leak(data["stdout"])
    assert VALUE not in r.stdout

    record = bt("history", "echo", "--json").data[0]
    _assert_no_leak(record["stdout"])
    assert VALUE not in json.dumps(record)


def test_value_within_the_cap_is_masked_whole(bt: Buttons, server: RecordingServer) -> None:
    assert bt("batteries", "set", "TOKEN", VALUE).returncode == 0
    bt.create("echo", "--url", f"http://127.0.0.1:{server.port}/{{{{v}}}}", "--arg", "v:string:required")
    r = bt("press", "echo", "--arg", f"v={VALUE}", "--json")
    assert r.returncode == 0, r.stdout
    echoed = json.loads(r.data["stdout"])
    assert echoed["path"] == "/***"
    assert "truncated" not in r.data
    assert VALUE not in r.stdout


def test_refused_redirect_message_is_masked(bt: Buttons, server: RecordingServer) -> None:
    """The engine's own error names the refused URL as httpx normalised it (the space escaped,
    ``!`` and ``@`` kept): that spelling is masked in the error, the result and the record."""
    secret = "hunter2!@x y"  # noqa: S105 - a test value  # pragma: allowlist secret
    assert bt("batteries", "set", "TOKEN", secret).returncode == 0
    target = "http://evil.test/" + secret
    bt.create("hop", "--url", f"http://127.0.0.1:{server.port}/redirect?to={quote(target, safe='')}")
    r = bt("press", "hop", "--json")
    assert r.returncode == 1, r.stdout
    err = r.error
    assert err["message"].startswith("request failed: refusing redirect #1 to http://evil.test/***: "), err
    assert [q["path"] for q in server.requests] == ["/redirect"]  # nothing was sent to the target
    for text in (
        r.stdout,
        r.stderr,
        json.dumps(bt("history", "hop", "--json").data),
        bt("logs", "hop").stdout,
    ):
        assert "hunter2" not in text and "x%20y" not in text, text
