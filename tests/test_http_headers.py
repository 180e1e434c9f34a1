"""Header names and values that cannot go on the wire are refused with a message naming the header.

At create: ``VALIDATION_ERROR`` and nothing written. At press (a hand-edited ``button.json``):
``VALIDATION_ERROR`` ``refusing request: header 'X-Name' ...`` before any connection, instead of
an "invalid URL ... 'ascii' codec can't encode" message about a URL that is fine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Buttons
from http_support import RecordingServer, write_resolver


@pytest.fixture(autouse=True)
def _env(bt: Buttons, tmp_path: Path) -> None:
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = write_resolver(tmp_path / "resolver.json", {})
    bt.env["BUTTONS_ALLOW_PRIVATE_NETWORKS"] = "1"


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("X-Name: Zoë", "X-Name"),
        ("X-Emoji: ok \U0001f600", "X-Emoji"),
        ("Authorization: Bearer tök", "Authorization"),
        ("X-Ctl: a\x01b", "X-Ctl"),
        ("X-Del: a\x7fb", "X-Del"),
        ("X-Break: a\nb", "X-Break"),
        ("Bad Name: v", "Bad Name"),
        ("Naïve: v", "Naïve"),
    ],
)
def test_create_refuses_a_header_that_cannot_be_sent(bt: Buttons, header: str, name: str) -> None:
    r = bt("create", "bad", "--url", "https://example.com/", "--header", header, "--json")
    assert r.returncode == 1
    err = r.error
    assert err["code"] == "VALIDATION_ERROR", err
    assert name in err["message"], err["message"]
    assert "URL" not in err["message"]
    assert not (bt.home / "buttons" / "bad").exists()


def test_create_keeps_printable_ascii_values(bt: Buttons) -> None:
    value = 'Bearer a-b_c.d~e+f/g=h:i;j,k "q" (x) [y] {z} !#$%&\'*<>?@\\^`|\tend'
    spec = bt.create("ok", "--url", "https://example.com/", "--header", f"X-All: {value}")
    assert spec["headers"] == {"X-All": value.strip()}


def _edit_headers(bt: Buttons, name: str, headers: dict[str, object]) -> None:
    path = bt.home / "buttons" / name / "button.json"
    spec = json.loads(path.read_text())
    spec["headers"] = headers
    path.write_text(json.dumps(spec, indent=2))


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Name": "Zoë"}, "refusing request: header 'X-Name' "),
        ({"X-Ok": "fine", "X-Break": "a\r\nX-Injected: 1"}, "refusing request: header 'X-Break' "),
        ({"Bad Name": "v"}, "refusing request: header 'Bad Name' "),
    ],
)
def test_press_refuses_a_hand_edited_header(
    bt: Buttons, server: RecordingServer, headers: dict[str, object], message: str
) -> None:
    bt.create("hook", "--url", f"http://127.0.0.1:{server.port}/x")
    _edit_headers(bt, "hook", headers)
    r = bt("press", "hook", "--json")
    assert r.returncode == 1
    err = r.error
    assert err["code"] == "VALIDATION_ERROR", err
    assert err["message"].startswith(message), err["message"]
    assert "invalid URL" not in err["message"] and "codec" not in err["message"]
    assert server.requests == []

    dry = bt("press", "hook", "--dry-run", "--json")
    assert dry.returncode == 0
    assert dry.data["refused"].startswith(message.removeprefix("refusing request: "))
