"""HTTPS through the pinned transport: the socket goes to the checked address, while TLS SNI,
certificate verification and the Host header keep using the name (issue 3)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import Buttons
from http_support import RecordingServer, write_resolver

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl(1) is not available")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA and a server certificate for ``api.test`` signed by it."""
    d = tmp_path_factory.mktemp("pki")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=buttons test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
        cwd=d,
    )
    _openssl("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=api.test", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=DNS:api.test\nextendedKeyUsage=serverAuth\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        cwd=d,
    )
    return d


class TlsServer(RecordingServer):
    def __init__(self, pki: Path) -> None:
        super().__init__()
        self.sni: list[str | None] = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki / "srv.pem", pki / "srv.key")
        ctx.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)  # type: ignore[assignment,func-returns-value]
        self.socket = ctx.wrap_socket(self.socket, server_side=True)

    def get_request(self) -> tuple[socket.socket, object]:
        return self.socket.accept()


@pytest.fixture
def tls(pki: Path) -> Iterator[TlsServer]:
    srv = TlsServer(pki)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _env(bt: Buttons, tmp_path: Path, pki: Path) -> None:
    bt.env["BUTTONS_TEST_RESOLVER_FILE"] = write_resolver(
        tmp_path / "resolver.json", {"api.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    )
    bt.env["BUTTONS_ALLOW_PRIVATE_NETWORKS"] = "1"
    bt.env["SSL_CERT_FILE"] = str(pki / "ca.pem")


def test_sni_certificate_and_host_use_the_name(bt: Buttons, tls: TlsServer) -> None:
    bt.create("secure", "--url", f"https://api.test:{tls.port}/tls/{{{{x}}}}")
    r = bt("press", "secure", "--arg", "x=1", "--json")
    assert r.returncode == 0, r.stdout
    assert tls.sni == ["api.test"]
    [req] = tls.requests
    assert req["path"] == "/tls/1"
    assert dict(req["headers"])["Host"] == f"api.test:{tls.port}"


def test_certificate_for_another_name_is_rejected(bt: Buttons, tls: TlsServer) -> None:
    bt.create("wrong", "--url", f"https://other.test:{tls.port}/")
    r = bt("press", "wrong", "--json")
    assert r.error["code"] == "SCRIPT_ERROR"
    assert r.error["message"].startswith(
        f"request failed: TLS certificate of other.test:{tls.port} could not be verified"
    )
    assert tls.requests == []


def test_untrusted_certificate_is_rejected(bt: Buttons, tls: TlsServer) -> None:
    del bt.env["SSL_CERT_FILE"]
    bt.create("untrusted", "--url", f"https://api.test:{tls.port}/")
    r = bt("press", "untrusted", "--json")
    assert r.error["code"] == "SCRIPT_ERROR"
    assert "could not be verified" in r.error["message"]
    assert tls.requests == []


def test_redirect_from_https_to_http_is_refused(bt: Buttons, tls: TlsServer) -> None:
    to = f"http://api.test:{tls.port}/plain"
    bt.create("down", "--url", f"https://api.test:{tls.port}/redirect?to={quote(to, safe='')}")
    r = bt("press", "down", "--json")
    assert r.error["message"] == f"request failed: refusing redirect #1 to {to}: downgrade from https to http"
    assert [q["path"] for q in tls.requests] == ["/redirect"]
