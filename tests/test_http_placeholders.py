"""A declared argument's placeholder without a value refuses the press (issue 10 item 6).

Upstream leaves ``{{n}}`` in the request when an optional ``n`` is not given, so
``{"n":{{n}}}`` goes out as invalid JSON. Here such a press is a VALIDATION_ERROR naming the
placeholder, and nothing is sent; text that only looks like a placeholder (no declared
argument of that name) stays literal, as upstream.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Buttons
from http_support import RecordingServer, write_resolver


@pytest.fixture(autouse=True)
def _env(bt: Buttons, tmp_path: Path) -> None:
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = write_resolver(tmp_path / "resolver.json", {})
    bt.env["BUTTONS_ALLOW_PRIVATE_NETWORKS"] = "1"


def test_omitted_optional_argument_in_the_body_refuses_the_press(
    bt: Buttons, server: RecordingServer
) -> None:
    bt.create(
        "count",
        "--url",
        f"http://127.0.0.1:{server.port}/c",
        "--method",
        "post",
        "--body",
        '{"n":{{n}}}',
        "--arg",
        "n:int:optional",
    )
    r = bt("press", "count", "--json")
    assert r.returncode == 1, r.stdout
    err = r.error
    assert err["code"] == "VALIDATION_ERROR", err
    assert "{{n}}" in err["message"] and "body" in err["message"], err
    assert "--arg n=" in err["message"]
    assert server.requests == []

    # The dry run shows the same refusal, and with the value the press goes through.
    dry = bt("press", "count", "--dry-run", "--json").data
    assert "{{n}}" in dry["refused"]
    assert bt("press", "count", "--arg", "n=3", "--json").returncode == 0
    assert server.requests[0]["body"] == '{"n":3}'


@pytest.mark.parametrize("url", ["/items/{{id}}", "/items?id={{id}}"])
def test_omitted_optional_argument_in_the_url_refuses_the_press(
    bt: Buttons, server: RecordingServer, url: str
) -> None:
    bt.create("item", "--url", f"http://127.0.0.1:{server.port}{url}", "--arg", "id:string:optional")
    err = bt("press", "item", "--json").error
    assert err["code"] == "VALIDATION_ERROR", err
    assert "{{id}}" in err["message"] and "URL" in err["message"], err
    assert server.requests == []


def test_undeclared_placeholders_stay_literal(bt: Buttons, server: RecordingServer) -> None:
    bt.create(
        "lit",
        "--url",
        f"http://127.0.0.1:{server.port}/t?x={{{{x}}}}#{{{{frag}}}}",
        "--header",
        "Content-Type: text/plain",
        "--body",
        "hello {{name}}",
        "--arg",
        "frag:string:optional",  # declared, but only in the fragment, which is never sent
    )
    r = bt("press", "lit", "--json")
    assert r.returncode == 0, r.stdout
    (req,) = server.requests
    assert req["query"] == {"x": ["{{x}}"]}
    assert req["body"] == "hello {{name}}"
