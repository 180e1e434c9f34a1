"""Credentials do not follow a redirect to another origin (scheme, host or port).

With ``allowed_host: "*"`` (and ``BUTTONS_ALLOW_ANY_HOST=1``) a redirect may leave the button's
host. ``Authorization``, ``Proxy-Authorization`` and ``Cookie`` from the button are then dropped,
as curl and httpx do; the button's other headers still travel. A same-origin hop keeps them all.
Two loopback servers stand for the two hosts (fake DNS answers, private-network escape hatch).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import Buttons
from http_support import RecordingServer, write_resolver

ENV = {"BUTTONS_ALLOW_PRIVATE_NETWORKS": "1", "BUTTONS_ALLOW_ANY_HOST": "1"}
CREDENTIALS = ("authorization", "proxy-authorization", "cookie")
HEADERS = (
    "--header",
    "Authorization: Bearer s3cr3t-token",
    "--header",
    "Proxy-Authorization: Basic cHJveHk6cHc=",
    "--header",
    "Cookie: session=abc123",
    "--header",
    "X-Client: buttons-test",
)


@pytest.fixture(autouse=True)
def _env(bt: Buttons, tmp_path: Path) -> None:
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = write_resolver(
        tmp_path / "resolver.json", {"api.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    )
    bt.env.update(ENV)


@pytest.fixture
def other() -> Iterator[RecordingServer]:
    srv = RecordingServer().start()
    yield srv
    srv.stop()


def _any_host_button(bt: Buttons, name: str, url: str) -> None:
    bt.create(name, "--url", url, *HEADERS)
    path = bt.home / "buttons" / name / "button.json"
    spec = json.loads(path.read_text())
    spec["allowed_host"] = "*"
    path.write_text(json.dumps(spec, indent=2))


def _redirect(base: str, to: str) -> str:
    return f"{base}/redirect?to={quote(to, safe='')}"


def _names(srv: RecordingServer, i: int) -> set[str]:
    return {k.lower() for k, _ in srv.requests[i]["headers"]}


@pytest.mark.parametrize("target", ["http://other.test:{other}/final", "http://api.test:{other}/final"])
def test_cross_origin_redirect_drops_credentials(
    bt: Buttons, server: RecordingServer, other: RecordingServer, target: str
) -> None:
    """Another host, or the same host on another port: no credentials arrive there."""
    to = target.format(other=other.port)
    _any_host_button(bt, "hop", _redirect(f"http://api.test:{server.port}", to))
    r = bt("press", "hop", "--json")
    assert r.returncode == 0, r.stdout
    assert other.paths() == ["/final"]
    first, second = _names(server, 0), _names(other, 0)
    assert set(CREDENTIALS) <= first  # the first hop got them
    assert not set(CREDENTIALS) & second, other.requests[0]["headers"]
    assert dict(other.requests[0]["headers"])["X-Client"] == "buttons-test"
    assert "s3cr3t-token" not in json.dumps(other.requests[0])
    assert "abc123" not in json.dumps(other.requests[0])


def test_credentials_stay_dropped_after_leaving_the_origin(
    bt: Buttons, server: RecordingServer, other: RecordingServer
) -> None:
    """api -> other -> api: once a hop left the origin, the way back does not restore them."""
    back = f"http://api.test:{server.port}/back"
    via_other = _redirect(f"http://other.test:{other.port}", back)
    _any_host_button(bt, "hop", _redirect(f"http://api.test:{server.port}", via_other))
    r = bt("press", "hop", "--json")
    assert r.returncode == 0, r.stdout
    assert server.paths()[-1] == "/back"
    assert not set(CREDENTIALS) & _names(other, 0)
    assert not set(CREDENTIALS) & _names(server, 1)


@pytest.mark.parametrize("any_host", [True, False])
def test_same_origin_redirect_keeps_credentials(bt: Buttons, server: RecordingServer, any_host: bool) -> None:
    base = f"http://api.test:{server.port}"
    url = _redirect(base, f"{base}/final")
    if any_host:
        _any_host_button(bt, "hop", url)
    else:
        bt.create("hop", "--url", url, *HEADERS)
    r = bt("press", "hop", "--json")
    assert r.returncode == 0, r.stdout
    assert server.paths()[-1] == "/final"
    sent = dict(server.requests[1]["headers"])
    assert sent["Authorization"] == "Bearer s3cr3t-token"
    assert sent["Proxy-Authorization"] == "Basic cHJveHk6cHc="
    assert sent["Cookie"] == "session=abc123"
    assert sent["X-Client"] == "buttons-test"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://api.test/x", "http://API.test:80/y", True),
        ("https://api.test/x", "https://api.test:443/y", True),
        ("http://api.test/x", "https://api.test/x", False),  # scheme
        ("http://api.test/x", "http://other.test/x", False),  # host
        ("http://api.test:8080/x", "http://api.test:8081/x", False),  # port
    ],
)
def test_origin_rule(a: str, b: str, same: bool) -> None:
    """The rule behind the hops above, including the scheme change no loopback test can show."""
    import httpx

    from buttons_engine.engine.http.plan import same_origin

    assert same_origin(httpx.URL(a), httpx.URL(b)) is same
