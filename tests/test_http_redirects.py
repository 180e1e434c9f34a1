"""Redirects of HTTP buttons (issue 3, Must show 3; DEVIATIONS D4), on a loopback server.

Every hop passes the host lock and the blocklist. The loopback server needs the private-network
escape hatch, which does not lift the host lock: a redirect to another host is refused even
then. Redirects to a *private address* from a public one are shown in test_http_netns.py,
where a non-private address can exist without any traffic leaving the machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import Buttons
from http_support import RecordingServer, write_resolver

PRIVATE_OK = {"BUTTONS_ALLOW_PRIVATE_NETWORKS": "1"}


@pytest.fixture(autouse=True)
def _env(bt: Buttons, tmp_path: Path) -> None:
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = write_resolver(
        tmp_path / "resolver.json", {"api.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    )
    bt.env.update(PRIVATE_OK)


def _redirect(base: str, to: str, code: int = 302) -> str:
    return f"{base}/redirect?to={quote(to, safe='')}&code={code}"


def test_same_host_redirect_is_followed(bt: Buttons, server: RecordingServer) -> None:
    base = f"http://api.test:{server.port}"
    bt.create("hop", "--url", _redirect(base, "/status/200"))
    r = bt("press", "hop", "--json")
    assert r.returncode == 0, r.stdout
    assert r.data["stdout"] == "status 200 body"
    assert [req["path"] for req in server.requests] == ["/redirect", "/status/200"]
    assert all(dict(req["headers"])["Host"] == f"api.test:{server.port}" for req in server.requests)


def test_absolute_same_host_redirect_is_followed(bt: Buttons, server: RecordingServer) -> None:
    base = f"http://api.test:{server.port}"
    bt.create("hop", "--url", _redirect(base, f"{base}/final#frag", 301))
    r = bt("press", "hop", "--json")
    assert r.returncode == 0, r.stdout
    assert server.paths()[-1] == "/final"


@pytest.mark.parametrize("target_host", ["other.test", "127.0.0.1", "localhost", "API.test.evil"])
def test_redirect_to_another_host_is_refused(bt: Buttons, server: RecordingServer, target_host: str) -> None:
    base = f"http://api.test:{server.port}"
    target = f"http://{target_host}:{server.port}/stolen"
    bt.create("hop", "--url", _redirect(base, target))
    r = bt("press", "hop", "--json")
    assert r.returncode == 1
    err = r.error
    assert err["code"] == "SCRIPT_ERROR"
    shown = f"http://{target_host.lower()}:{server.port}/stolen"
    assert err["message"] == (
        f"request failed: refusing redirect #1 to {shown}: host {target_host.lower()}:{server.port} "
        f"is not the button's locked host api.test:{server.port}"
    )
    assert server.paths() == [_redirect("", target)]  # only the first hop ever arrived


def test_redirect_to_another_port_is_refused(bt: Buttons, server: RecordingServer) -> None:
    base = f"http://api.test:{server.port}"
    bt.create("hop", "--url", _redirect(base, "http://api.test:1/x"))
    r = bt("press", "hop", "--json")
    assert "refusing redirect #1 to http://api.test:1/x" in r.error["message"]
    assert len(server.requests) == 1


def test_at_most_ten_redirects(bt: Buttons, server: RecordingServer) -> None:
    bt.create("ten", "--url", f"http://api.test:{server.port}/hops/10")
    r = bt("press", "ten", "--json")
    assert r.returncode == 0, r.stdout
    assert r.data["stdout"] == "arrived"

    bt.create("eleven", "--url", f"http://api.test:{server.port}/hops/11")
    r = bt("press", "eleven", "--json")
    assert r.error["code"] == "SCRIPT_ERROR"
    assert r.error["message"] == "request failed: stopped after 10 redirects"
    assert len(server.requests) == 11 + 11  # the first button's 11, then 1 + 10 hops of the second


@pytest.mark.parametrize(
    ("code", "method", "body"), [(303, "GET", ""), (302, "GET", ""), (307, "POST", '{"a":"1"}')]
)
def test_redirect_method_rules(
    bt: Buttons, server: RecordingServer, code: int, method: str, body: str
) -> None:
    base = f"http://api.test:{server.port}"
    bt.create("post", "--url", _redirect(base, "/echo", code), "--method", "POST", "--body", '{"a":"{{a}}"}')
    r = bt("press", "post", "--arg", "a=1", "--json")
    assert r.returncode == 0, r.stdout
    echoed = json.loads(r.data["stdout"])
    assert (echoed["method"], echoed["path"], echoed["body"]) == (method, "/echo", body)
