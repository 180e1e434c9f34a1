"""SSRF checks against a *public* address, without any traffic leaving the machine.

Inside a private network namespace (``unshare -rn``) the only interface is loopback, carrying
127.0.0.1 and 45.33.32.156 (the machine's own public address, which must be refused), and a
local route delivers 93.184.216.34 -- an address in no blocked range and on no interface,
standing in for a public server -- to the same loopback (see http_netns_helper.py).
So the default policy (no escape hatch) can be shown to let a public request through while a
redirect from it to a private address, or a name with one private record, is refused
(issue 3, Must show 1 and 3). Skipped where unprivileged network namespaces are unavailable.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from conftest import BUTTONS, Buttons
from http_support import write_resolver

HELPER = Path(__file__).with_name("http_netns_helper.py")
PUBLIC = "93.184.216.34"
OWN = "45.33.32.156"
PUBLIC_ROUTE = "93.184.216.0/24"
BASE = "http://public.test:8080"


def _netns_works() -> bool:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    probe = subprocess.run(
        [
            "unshare",
            "-rn",
            "sh",
            "-c",
            f"ip link set lo up && ip route add local {PUBLIC_ROUTE} dev lo && ip addr add {OWN}/32 dev lo",
        ],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _netns_works(), reason="unprivileged network namespaces unavailable")


def _run(bt: Buttons, presses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    job = {"buttons": BUTTONS, "env": bt.env, "presses": presses}
    proc = subprocess.run(
        ["unshare", "-rn", sys.executable, str(HELPER)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    for r in results:
        r["envelope"] = json.loads(r["stdout"])
    return results


def _press(name: str, **env: str) -> dict[str, Any]:
    return {"argv": ["press", name, "--json"], "env": env}


def _redirect(to: str) -> str:
    return f"{BASE}/redirect?to={quote(to, safe='')}"


def _set_any_host(bt: Buttons, name: str) -> None:
    path = bt.home / "buttons" / name / "button.json"
    spec = json.loads(path.read_text())
    spec["allowed_host"] = "*"
    path.write_text(json.dumps(spec, indent=2))


@pytest.fixture
def world(bt: Buttons, tmp_path: Path) -> Buttons:
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = write_resolver(
        tmp_path / "resolver.json",
        {
            "public.test": [PUBLIC],
            "other.test": [PUBLIC],
            "internal.test": ["127.0.0.1"],
            "mixed.test": [PUBLIC, "127.0.0.1"],
            "mixed6.test": [PUBLIC, "::ffff:10.0.0.1"],
            "own.test": [PUBLIC, OWN],
            "own6.test": [PUBLIC, f"::ffff:{OWN}"],
        },
    )
    return bt


def test_public_addresses_pass_and_private_records_are_refused(world: Buttons) -> None:
    bt = world
    bt.create("pub", "--url", f"{BASE}/hello")
    bt.create("publit", "--url", f"http://{PUBLIC}:8080/literal")
    bt.create("mixed", "--url", "http://mixed.test:8080/m")
    bt.create("mixed6", "--url", "http://mixed6.test:8080/m")
    bt.create("internal", "--url", "http://internal.test:8080/i")

    pub, publit, mixed, mixed6, internal, mixed_ok = _run(
        bt,
        [
            _press("pub"),
            _press("publit"),
            _press("mixed"),
            _press("mixed6"),
            _press("internal"),
            _press("mixed", BUTTONS_ALLOW_PRIVATE_NETWORKS="1"),
        ],
    )
    # No escape hatch needed for a public address; the Host header keeps the name.
    assert pub["envelope"]["ok"] is True, pub
    assert [(r["path"], dict(r["headers"])["Host"]) for r in pub["requests"]] == [
        ("/hello", "public.test:8080")
    ]
    assert publit["envelope"]["ok"] is True and len(publit["requests"]) == 1

    # One private record among public ones refuses the name, before any connection.
    for res, ip in ((mixed, "127.0.0.1"), (mixed6, "::ffff:a00:1"), (internal, "127.0.0.1")):
        err = res["envelope"]["error"]
        assert err["code"] == "SCRIPT_ERROR"
        assert f"resolves to private address {ip}" in err["message"], err
        assert res["requests"] == []

    # With the escape hatch the same request arrives (to the first record, the public one).
    assert mixed_ok["envelope"]["ok"] is True
    assert [r["path"] for r in mixed_ok["requests"]] == ["/m"]


def test_redirects_from_a_public_host(world: Buttons) -> None:
    bt = world
    bt.create("same", "--url", _redirect("/final"))
    bt.create("other", "--url", _redirect("http://other.test:8080/x"))
    for name, to in (
        ("to-loopback", "http://127.0.0.1:8080/secret"),
        ("to-mapped", "http://[::ffff:127.0.0.1]:8080/secret"),
        ("to-metadata", "http://169.254.169.254/latest/meta-data/"),
        ("to-internal-name", "http://internal.test:8080/secret"),
        ("to-decimal", "http://2130706433:8080/secret"),
    ):
        bt.create(name, "--url", _redirect(to))
        _set_any_host(bt, name)  # take the host lock out of the way: only the blocklist decides
    any_host = {"BUTTONS_ALLOW_ANY_HOST": "1"}

    same, other, loop, mapped, metadata, internal, decimal, loop_ok = _run(
        bt,
        [
            _press("same"),
            _press("other"),
            _press("to-loopback", **any_host),
            _press("to-mapped", **any_host),
            _press("to-metadata", **any_host),
            _press("to-internal-name", **any_host),
            _press("to-decimal", **any_host),
            _press("to-loopback", BUTTONS_ALLOW_PRIVATE_NETWORKS="1", **any_host),
        ],
    )
    # Same host: followed, without any escape hatch.
    assert same["envelope"]["ok"] is True, same
    assert [r["path"] for r in same["requests"]] == ["/redirect", "/final"]

    # Another (public) host: refused by the host lock, naming the hop.
    err = other["envelope"]["error"]
    assert err["code"] == "SCRIPT_ERROR"
    assert err["message"].startswith("request failed: refusing redirect #1 to http://other.test:8080/x: ")
    assert [r["path"] for r in other["requests"]] == ["/redirect"]

    # Private targets: refused by the blocklist even though any host is allowed.
    for res, hop in (
        (loop, "http://127.0.0.1:8080/secret"),
        (mapped, "http://[::ffff:127.0.0.1]:8080/secret"),
        (metadata, "http://169.254.169.254/latest/meta-data/"),
        (decimal, "http://2130706433:8080/secret"),
    ):
        err = res["envelope"]["error"]
        assert err["code"] == "SCRIPT_ERROR", res
        assert err["message"].startswith(f"request failed: refusing redirect #1 to {hop}: "), err
        assert "blocked private range" in err["message"]
        assert [r["path"] for r in res["requests"]] == ["/redirect"]
    err = internal["envelope"]["error"]
    assert err["message"].startswith(
        "request failed: refusing redirect #1 to http://internal.test:8080/secret: "
        "SSRF blocked: internal.test resolves to private address 127.0.0.1"
    ), err
    assert [r["path"] for r in internal["requests"]] == ["/redirect"]

    # The escape hatch lifts the blocklist for hops too.
    assert loop_ok["envelope"]["ok"] is True
    assert [r["path"] for r in loop_ok["requests"]] == ["/redirect", "/secret"]


def test_the_machines_own_addresses_are_refused_before_any_connection(world: Buttons) -> None:
    """Issue 9 item 7: a public address of this machine reaches its services like loopback."""
    bt = world
    bt.create("ownlit", "--url", f"http://{OWN}:8080/own")
    bt.create("ownmapped", "--url", f"http://[::ffff:{OWN}]:8080/own")
    bt.create("ownname", "--url", "http://own.test:8080/own")
    bt.create("ownname6", "--url", "http://own6.test:8080/own")
    bt.create("toown", "--url", _redirect(f"http://{OWN}:8080/own"))
    _set_any_host(bt, "toown")

    lit, mapped, name, name6, redirect, lit_ok = _run(
        bt,
        [
            _press("ownlit"),
            _press("ownmapped"),
            _press("ownname"),
            _press("ownname6"),
            _press("toown", BUTTONS_ALLOW_ANY_HOST="1"),
            _press("ownlit", BUTTONS_ALLOW_PRIVATE_NETWORKS="1"),
        ],
    )
    for res in (lit, mapped):
        err = res["envelope"]["error"]
        assert err["code"] == "VALIDATION_ERROR", res
        assert "this machine's own address" in err["message"], err
        assert res["requests"] == []
    for res, ip in ((name, OWN), (name6, "::ffff:2d21:209c")):
        err = res["envelope"]["error"]
        assert err["code"] == "SCRIPT_ERROR", res
        assert f"resolves to private address {ip}" in err["message"], err
        assert res["requests"] == []
    err = redirect["envelope"]["error"]
    assert err["message"].startswith(f"request failed: refusing redirect #1 to http://{OWN}:8080/own: "), err
    assert "this machine's own address" in err["message"]
    assert [r["path"] for r in redirect["requests"]] == ["/redirect"]

    # The server really listens there: with the escape hatch the same request arrives.
    assert lit_ok["envelope"]["ok"] is True, lit_ok
    assert [r["path"] for r in lit_ok["requests"]] == ["/own"]
