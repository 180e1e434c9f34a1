"""SSRF defence of HTTP buttons (issue 3, Must show 1), through the real console script.

A recording server listens on 127.0.0.1, which is blocked by default: a refused press must leave
it untouched, and the escape hatch (BUTTONS_ALLOW_PRIVATE_NETWORKS=1 or the button's
--allow-private-networks) must let the very same request arrive. DNS answers come from the
BUTTONS_TEST_RESOLVER_FILE hook, never from the network.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Buttons
from http_support import RecordingServer, write_resolver

PRIVATE_OK = {"BUTTONS_ALLOW_PRIVATE_NETWORKS": "1"}


@pytest.fixture
def resolver(bt: Buttons, tmp_path: Path) -> Path:
    """Every test here answers DNS from a file; names not in it do not resolve at all."""
    path = tmp_path / "resolver.json"
    write_resolver(path, {})
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = str(path)
    return path


# Every literal spelling of loopback a resolver accepts, plus localhost: each reaches 127.0.0.1.
LOOPBACK_FORMS = [
    "127.0.0.1",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0177.0.0.1",  # octal
    "127.1",  # short
    "0x7f.1",  # short hex
    "017700000001",  # one octal number
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "localhost",
    "LocalHost",
    "api.localhost",
]

# Blocked addresses nothing listens on here: refused before any connection is attempted.
OTHER_BLOCKED = [
    "[::1]",
    "[::127.0.0.1]",  # IPv4-compatible IPv6
    "[64:ff9b::7f00:1]",  # NAT64
    "[64:ff9b::808:808]",  # NAT64 is blocked whatever it embeds
    "[2002:7f00:1::]",  # 6to4 around loopback
    "[::ffff:a00:1]",  # mapped 10.0.0.1
    "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
    "0",
    "10.1.2.3",
    "012.1.2.3",  # octal 10.1.2.3
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "0xa9fea9fe",  # the same, in hex
    "100.64.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "[fe80::1]",
    "[fd00::1]",
    "[ff02::1]",
    # Special-purpose ranges (issue 9 item 7), also IPv4-mapped.
    "192.0.0.8",  # IETF protocol assignments
    "198.18.0.1",  # benchmarking
    "198.19.255.254",
    "192.0.2.1",  # TEST-NET-1
    "198.51.100.7",  # TEST-NET-2
    "203.0.113.9",  # TEST-NET-3
    "0xcb007109",  # 203.0.113.9 in hex
    "[::ffff:192.0.2.1]",
    "[::ffff:c612:1]",  # mapped 198.18.0.1
    "[::ffff:203.0.113.9]",
]


def _assert_refused_literal(r, server: RecordingServer) -> None:
    assert r.returncode == 1, (r.stdout, r.stderr)
    err = r.error
    assert err["code"] == "VALIDATION_ERROR", err
    assert err["message"].startswith("refusing request: "), err
    assert "blocked private range" in err["message"]
    assert "BUTTONS_ALLOW_PRIVATE_NETWORKS=1" in err["message"]
    assert err["result"]["exit_code"] == -1
    assert err["result"]["status"] == "error"
    assert server.requests == []


@pytest.mark.parametrize("host", LOOPBACK_FORMS)
def test_loopback_literal_forms_refused_then_allowed_by_escape_hatch(
    bt: Buttons, server: RecordingServer, resolver: Path, host: str
) -> None:
    bt.create("target", "--url", f"http://{host}:{server.port}/hit?form={{{{f}}}}")

    r = bt("press", "target", "--arg", "f=x", "--json")
    _assert_refused_literal(r, server)

    # "1" exactly is the escape hatch; anything else is not.
    r = bt("press", "target", "--arg", "f=x", "--json", env={"BUTTONS_ALLOW_PRIVATE_NETWORKS": "true"})
    _assert_refused_literal(r, server)

    r = bt("press", "target", "--arg", "f=x", "--json", env=PRIVATE_OK)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.data["http_status_code"] == 200
    assert [req["path"] for req in server.requests] == ["/hit"]
    # The Host header keeps the spelling of the URL (a dotted quad with leading zeros, which HTTP
    # libraries reject, is sent as the address it denotes); the connection went to the checked address.
    spelled = {"0177.0.0.1": "127.0.0.1"}.get(host, host)
    host_header = dict(server.requests[0]["headers"])["Host"]
    assert host_header.lower() == f"{spelled}:{server.port}".lower()


@pytest.mark.parametrize("host", OTHER_BLOCKED)
def test_other_blocked_literals_refused_before_any_connection(
    bt: Buttons, server: RecordingServer, resolver: Path, host: str
) -> None:
    bt.create("target", "--url", f"http://{host}:{server.port}/hit")
    r = bt("press", "target", "--json")
    _assert_refused_literal(r, server)


def test_refusal_is_recorded_in_history(bt: Buttons, server: RecordingServer, resolver: Path) -> None:
    bt.create("target", "--url", f"http://169.254.169.254:{server.port}/latest/meta-data/")
    bt("press", "target", "--json")
    runs = bt("history", "target", "--json").data
    assert [(x["status"], x["exit_code"], x["error_type"]) for x in runs] == [
        ("error", -1, "VALIDATION_ERROR")
    ]
    assert runs[0]["stderr"].startswith(
        "refusing request: 169.254.169.254 resolves to a blocked private range"
    )


def test_per_button_flag_is_an_escape_hatch(bt: Buttons, server: RecordingServer, resolver: Path) -> None:
    spec = bt.create("inside", "--url", f"http://127.0.0.1:{server.port}/in", "--allow-private-networks")
    assert spec["allow_private_networks"] is True
    r = bt("press", "inside", "--json")
    assert r.returncode == 0, r.stdout
    assert server.paths() == ["/in"]


@pytest.mark.parametrize(
    "answers",
    [
        ["93.184.216.34", "127.0.0.1"],  # public first, private second
        ["127.0.0.1", "93.184.216.34"],
        ["93.184.216.34", "198.18.0.7"],  # special-purpose ranges count as private
        ["93.184.216.34", "203.0.113.9"],
        ["93.184.216.34", "::ffff:192.0.2.1"],
        ["2001:db8::7", "::ffff:127.0.0.1"],  # the private one hides as IPv4-mapped IPv6
        ["10.0.0.5"],
    ],
)
def test_name_with_any_private_record_is_refused(
    bt: Buttons, server: RecordingServer, resolver: Path, answers: list[str]
) -> None:
    write_resolver(resolver, {"mixed.test": answers})
    bt.create("mixed", "--url", f"http://mixed.test:{server.port}/m")
    r = bt("press", "mixed", "--json")
    assert r.returncode == 1
    err = r.error
    assert err["code"] == "SCRIPT_ERROR", err
    assert err["message"].startswith("request failed: SSRF blocked: mixed.test resolves to private address ")
    assert "--allow-private-networks" in err["message"]
    assert err["result"]["exit_code"] == -1
    assert server.requests == []


def test_name_with_private_record_arrives_with_escape_hatch(
    bt: Buttons, server: RecordingServer, resolver: Path
) -> None:
    # Loopback first, so the request is answered here and nothing is ever sent to 93.184.216.34.
    write_resolver(resolver, {"mixed.test": ["127.0.0.1", "93.184.216.34"]})
    bt.create("mixed", "--url", f"http://mixed.test:{server.port}/m")
    r = bt("press", "mixed", "--json", env=PRIVATE_OK)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert server.paths() == ["/m"]
    assert dict(server.requests[0]["headers"])["Host"] == f"mixed.test:{server.port}"


def test_unresolvable_name_is_a_script_error(bt: Buttons, resolver: Path) -> None:
    bt.create("nowhere", "--url", "http://no-such-host.test/")
    r = bt("press", "nowhere", "--json")
    assert r.error["code"] == "SCRIPT_ERROR"
    assert r.error["message"].startswith("request failed: cannot resolve host no-such-host.test")


def _edit_spec(bt: Buttons, name: str, **changes: object) -> None:
    path = bt.home / "buttons" / name / "button.json"
    spec = json.loads(path.read_text())
    spec.update(changes)
    path.write_text(json.dumps(spec, indent=2))


def test_any_host_lock_needs_its_own_env_var(bt: Buttons, server: RecordingServer, resolver: Path) -> None:
    bt.create("anyhost", "--url", f"http://127.0.0.1:{server.port}/any")
    _edit_spec(bt, "anyhost", allowed_host="*")

    r = bt("press", "anyhost", "--json", env=PRIVATE_OK)
    assert r.error["code"] == "VALIDATION_ERROR"
    assert "BUTTONS_ALLOW_ANY_HOST=1" in r.error["message"]
    assert server.requests == []

    r = bt("press", "anyhost", "--json", env={**PRIVATE_OK, "BUTTONS_ALLOW_ANY_HOST": "1"})
    assert r.returncode == 0, r.stdout
    assert server.paths() == ["/any"]


def test_any_host_does_not_lift_the_blocklist(bt: Buttons, server: RecordingServer, resolver: Path) -> None:
    bt.create("anyhost", "--url", f"http://127.0.0.1:{server.port}/any")
    _edit_spec(bt, "anyhost", allowed_host="*")
    r = bt("press", "anyhost", "--json", env={"BUTTONS_ALLOW_ANY_HOST": "1"})
    _assert_refused_literal(r, server)


def test_edited_url_outside_the_locked_host_is_refused(
    bt: Buttons, server: RecordingServer, resolver: Path
) -> None:
    bt.create("locked", "--url", f"http://127.0.0.1:{server.port}/x")
    _edit_spec(bt, "locked", url=f"http://localhost:{server.port}/x")
    r = bt("press", "locked", "--json", env=PRIVATE_OK)
    assert r.error["code"] == "VALIDATION_ERROR"
    assert r.error["message"] == (
        f"refusing request: host localhost:{server.port} "
        f"is not the button's locked host 127.0.0.1:{server.port}"
    )
    assert server.requests == []
