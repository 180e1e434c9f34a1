"""Battery references in HTTP buttons (issue 10 item 5), through the real console script.

``{{batteries.NAME}}`` is replaced in header values, the URL path and query and the body, with
the escaping of the place it lands in. The request carries the real value; everything Buttons
shows (the spec, the dry run, the result, the record, error messages) shows ``***``. A battery
that is not set refuses the press with MISSING_BATTERY before anything is sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from conftest import Buttons
from http_support import RecordingServer, write_resolver

SECRET = "s3cr3tT0kenValue42"  # noqa: S105  # pragma: allowlist secret - a test fixture, masked everywhere
ODD = 'p@ss word/&=?"<x>'  # a value each place must escape differently


@pytest.fixture(autouse=True)
def _env(bt: Buttons, tmp_path: Path) -> None:
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = write_resolver(tmp_path / "resolver.json", {})
    bt.env["BUTTONS_ALLOW_PRIVATE_NETWORKS"] = "1"


def _api(bt: Buttons, server: RecordingServer, name: str = "api", ctype: str = "application/json") -> None:
    bt.create(
        name,
        "--url",
        f"http://127.0.0.1:{server.port}/v1/{{{{batteries.TOKEN}}}}/items?key={{{{batteries.TOKEN}}}}&q={{{{q}}}}",
        "--method",
        "post",
        "--header",
        "Authorization: Bearer {{batteries.TOKEN}}",
        "--header",
        f"Content-Type: {ctype}",
        "--body",
        '{"token":"{{batteries.TOKEN}}","q":"{{q}}"}',
        "--arg",
        "q:string:optional",
    )


def test_the_request_carries_each_value_escaped_for_its_place(bt: Buttons, server: RecordingServer) -> None:
    assert bt("batteries", "set", "TOKEN", ODD).returncode == 0
    _api(bt, server)
    r = bt("press", "api", "--arg", "q=1", "--json")
    assert r.returncode == 0, (r.stdout, r.stderr)
    (req,) = server.requests
    assert req["raw_target"] == (f"/v1/{quote(ODD, safe='$&+:=@')}/items?key={quote_plus(ODD, safe='')}&q=1")
    assert req["query"]["key"] == [ODD]
    assert dict(req["headers"])["Authorization"] == f"Bearer {ODD}"  # header values take it raw
    assert json.loads(req["body"]) == {"token": ODD, "q": "1"}  # JSON-escaped in a JSON body


def test_a_form_body_gets_form_escaping(bt: Buttons, server: RecordingServer) -> None:
    assert bt("batteries", "set", "TOKEN", ODD).returncode == 0
    bt.create(
        "form",
        "--url",
        f"http://127.0.0.1:{server.port}/f",
        "--header",
        "Content-Type: application/x-www-form-urlencoded",
        "--body",
        "a=1&t={{batteries.TOKEN}}",
    )
    assert bt("press", "form", "--json").returncode == 0
    assert server.requests[0]["body"] == f"a=1&t={quote_plus(ODD, safe='')}"


def test_everything_buttons_shows_masks_the_value(bt: Buttons, server: RecordingServer) -> None:
    assert bt("batteries", "set", "TOKEN", SECRET).returncode == 0
    _api(bt, server)

    # The spec shows the reference, never the value.
    detail = bt("api", "--json")
    assert detail.returncode == 0, detail.stdout
    assert SECRET not in detail.stdout
    assert "{{batteries.TOKEN}}" in detail.stdout

    # The dry run renders the request with *** and sends nothing.
    dry = bt("press", "api", "--dry-run", "--arg", "q=1", "--json")
    assert dry.returncode == 0, dry.stdout
    assert SECRET not in dry.stdout
    view = dry.data
    assert view["url"] == f"http://127.0.0.1:{server.port}/v1/***/items?key=***&q=1"
    assert view["headers"]["Authorization"] == "Bearer ***"
    assert view["body"] == '{"token":"***","q":"1"}'
    assert "refused" not in view
    assert server.requests == []

    # The press sends the value; the result (the server echoes the request) and the record mask it.
    r = bt("press", "api", "--arg", "q=1", "--json")
    assert r.returncode == 0, r.stdout
    assert dict(server.requests[0]["headers"])["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in r.stdout
    assert "Bearer ***" in r.data["stdout"]
    history = bt("history", "api", "--json")
    assert SECRET not in history.stdout
    assert len(history.data) == 1


def test_a_missing_battery_refuses_the_press_before_anything_is_sent(
    bt: Buttons, server: RecordingServer
) -> None:
    _api(bt, server)
    r = bt("press", "api", "--arg", "q=1", "--json")
    assert r.returncode == 1, r.stdout
    err = r.error
    assert err["code"] == "MISSING_BATTERY", err
    assert "TOKEN" in err["message"]
    assert "battery TOKEN is not set" in err["message"]
    assert "buttons batteries set TOKEN VALUE" in err["message"]
    assert err["result"]["exit_code"] == -1
    assert server.requests == []

    # Only the battery the request references matters: another one set does not help.
    assert bt("batteries", "set", "OTHER", SECRET).returncode == 0
    assert bt("press", "api", "--arg", "q=1", "--json").error["code"] == "MISSING_BATTERY"
    assert server.requests == []
    assert bt("batteries", "set", "TOKEN", SECRET).returncode == 0
    assert bt("press", "api", "--arg", "q=1", "--json").returncode == 0
    assert len(server.requests) == 1


def test_a_battery_that_cannot_be_a_header_value_is_refused_unseen(
    bt: Buttons, server: RecordingServer
) -> None:
    value = "line1\r\nX-Injected: yes"
    assert bt("batteries", "set", "TOKEN", value).returncode == 0
    bt.create("h", "--url", f"http://127.0.0.1:{server.port}/h", "--header", "X-Key: {{batteries.TOKEN}}")
    r = bt("press", "h", "--json")
    err = r.error
    assert err["code"] == "VALIDATION_ERROR", err
    assert "battery TOKEN" in err["message"] and "'X-Key'" in err["message"]
    assert "line1" not in r.stdout and "Injected" not in r.stdout
    assert server.requests == []


def test_the_host_can_never_come_from_a_battery(bt: Buttons) -> None:
    r = bt("create", "evil", "--url", "http://{{batteries.HOST}}/x", "--json")
    assert r.error["code"] == "VALIDATION_ERROR"
    assert "not allowed in the scheme or host" in r.error["message"]


def test_argument_placeholders_stay_out_of_header_values(bt: Buttons, server: RecordingServer) -> None:
    bt.create(
        "h",
        "--url",
        f"http://127.0.0.1:{server.port}/h",
        "--header",
        "X-Who: {{who}}",
        "--arg",
        "who:string:required",
    )
    assert bt("press", "h", "--arg", "who=admin", "--json").returncode == 0
    assert dict(server.requests[0]["headers"])["X-Who"] == "{{who}}"


def test_an_argument_cannot_smuggle_a_battery_reference(bt: Buttons, server: RecordingServer) -> None:
    """Substitution is one pass: an argument whose value looks like a reference stays text."""
    assert bt("batteries", "set", "TOKEN", SECRET).returncode == 0
    bt.create("echo", "--url", f"http://127.0.0.1:{server.port}/e?v={{{{v}}}}", "--arg", "v:string:required")
    assert bt("press", "echo", "--arg", "v={{batteries.TOKEN}}", "--json").returncode == 0
    assert server.requests[0]["query"] == {"v": ["{{batteries.TOKEN}}"]}


def test_error_messages_do_not_carry_the_value_in_any_spelling(bt: Buttons, server: RecordingServer) -> None:
    """A refused redirect names its URL: a value the server put there (escaped as httpx
    normalises it) is shown as *** too, not only its raw spelling."""
    value = "p@ss word!xyz"
    assert bt("batteries", "set", "TOKEN", value).returncode == 0
    bt.create(
        "bounce",
        "--url",
        f"http://127.0.0.1:{server.port}/redirect?to=http%3A%2F%2Fevil.test%2F{{{{batteries.TOKEN}}}}",
    )
    r = bt("press", "bounce", "--json")
    err = r.error
    assert err["code"] == "SCRIPT_ERROR", err
    assert err["message"].startswith("request failed: refusing redirect #1 to http://evil.test/***: "), err
    assert "p@ss" not in r.stdout and "word" not in r.stdout
    assert "p@ss" not in bt("history", "bounce", "--json").stdout
