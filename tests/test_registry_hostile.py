"""A hostile registry (CONTRACT 15.4, seed threat model: `store install` is an attack surface).

Every archive and every answer is refused with a clear error, nothing is written outside the
package folder, and nothing is half-installed: the staging folder is gone and the lock is unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from buttons_engine.store.packages import build_tarball
from conftest import Buttons
from registry_support import READ_KEY, RegistryServer, button_files, regular, special, tar_gz


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    srv = RegistryServer(tmp_path_factory.mktemp("hostile") / "registry").start()
    yield srv
    srv.stop()


def refused(bt: Buttons, env: dict[str, str], name: str, *words: str) -> dict[str, Any]:
    r = bt("add", name, "--json", env=env)
    assert r.returncode == 1, (r.stdout, r.stderr)
    err = r.error
    assert err["code"] == "ADD_ERROR", err
    for w in words:
        assert w in err["message"], err
    leftovers = [p.name for p in (bt.home / "buttons").iterdir()] if (bt.home / "buttons").exists() else []
    assert leftovers == [], leftovers
    assert not (bt.home / "buttons.json").exists()
    assert not list(bt.home.glob(".download-*")), "the downloaded archive is removed"
    return err


def ustar(name: str, data: bytes) -> bytes:
    """One raw ustar entry (name up to 100 bytes), for names ``tarfile`` would tidy up."""
    h = bytearray(512)
    raw = name.encode()
    h[0 : len(raw)] = raw
    h[100:108] = b"0000644\0"
    h[108:124] = b"0000000\x000000000\0"
    h[124:136] = b"%011o\0" % len(data)
    h[136:148] = b"00000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = b"0"
    h[257:265] = b"ustar\x0000"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h) + data + b"\0" * (-len(data) % 512)


def raw_tgz(*entries: bytes) -> bytes:
    return gzip.compress(b"".join(entries) + b"\0" * 1024)


def with_button(name: str, *extra: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    files = button_files(name)
    return tar_gz([regular(f"{name}/{k}", v) for k, v in files.items()] + list(extra))


def raw_header(name: str, data: bytes, typeflag: bytes = b"0", *, size_field: bytes | None = None) -> bytes:
    """A raw entry with any type flag or size field, checksum recomputed."""
    h = bytearray(ustar(name, b"")[:512])
    h[156:157] = typeflag
    h[124:136] = size_field if size_field is not None else b"%011o\0" % len(data)
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h) + data + b"\0" * (-len(data) % 512)


def spec_entries(short: str) -> list[bytes]:
    return [ustar(f"{short}/{k}", v) for k, v in button_files(short).items()]


def bad_checksum(short: str) -> bytes:
    h = bytearray(ustar(f"{short}/x", b"x"))
    h[148:156] = b"0000001\0"
    return bytes(h)


CASES: list[tuple[str, bytes, tuple[str, ...]]] = [
    (
        "paxsize",
        raw_tgz(
            *spec_entries("paxsize"), raw_header("paxsize/p", b"12 size=99\n", b"x"), ustar("paxsize/f", b"x")
        ),
        ("overrides a size",),
    ),
    (
        "paxhuge",
        raw_tgz(
            *spec_entries("paxhuge"), raw_header("paxhuge/p", b"", b"x", size_field=b"%011o\0" % (1 << 20))
        ),
        ("oversized extended header",),
    ),
    (
        "binsize",
        raw_tgz(
            *spec_entries("binsize"),
            raw_header("binsize/f", b"", size_field=b"\x80" + b"\0" * 7 + b"\x7f\xff\xff\xff"),
        ),
        ("binary size field",),
    ),
    ("checksum", raw_tgz(*spec_entries("checksum"), bad_checksum("checksum")), ("checksum",)),
    ("twice", raw_tgz(*spec_entries("twice"), ustar("twice/main.sh", b"again")), ("twice",)),
    (
        "clash",
        raw_tgz(*spec_entries("clash"), ustar("clash/d", b"file"), ustar("clash/d/e", b"x")),
        ("collides",),
    ),
    ("oddtype", raw_tgz(*spec_entries("oddtype"), raw_header("oddtype/k", b"", b"K")), ("unsupported type",)),
    (
        "abs",
        raw_tgz(
            ustar("/tmp/evil-abs", b"x"), *(ustar(f"abs/{k}", v) for k, v in button_files("abs").items())
        ),
        ("absolute",),
    ),
    (
        "dotdot",
        raw_tgz(
            *(ustar(f"dotdot/{k}", v) for k, v in button_files("dotdot").items()),
            ustar("dotdot/../../evil", b"x"),
        ),
        ("'..'",),
    ),
    (
        "symlink",
        with_button("symlink", special("symlink/link", tarfile.SYMTYPE, "/etc/passwd")),
        ("symlink",),
    ),
    (
        "hardlink",
        with_button("hardlink", special("hardlink/link", tarfile.LNKTYPE, "hardlink/main.sh")),
        ("hard link",),
    ),
    ("chardev", with_button("chardev", special("chardev/null", tarfile.CHRTYPE)), ("character device",)),
    ("blockdev", with_button("blockdev", special("blockdev/sda", tarfile.BLKTYPE)), ("block device",)),
    ("fifo", with_button("fifo", special("fifo/pipe", tarfile.FIFOTYPE)), ("FIFO",)),
    ("corrupt", b"\x1f\x8b\x08\x00" + b"\xff" * 200, ("not valid gzip",)),
    ("truncated", build_tarball("truncated", button_files("truncated"))[:-40], ("truncated",)),
    ("notgzip", b"PK\x03\x04 this is a zip", ("not valid gzip",)),
    ("nospec", build_tarball("nospec", {"main.sh": b"echo"}), ("neither button.json nor drawer.json",)),
    (
        "badjson",
        build_tarball("badjson", {"button.json": b"{not json", "main.sh": b"x"}),
        ("not valid JSON",),
    ),
    (
        "badspec",
        build_tarball("badspec", {"button.json": json.dumps({"name": "badspec", "runtime": 5}).encode()}),
        ("invalid package",),
    ),
    (
        "toomany",
        build_tarball("toomany", {**button_files("toomany"), **{f"f{i}": b"" for i in range(4100)}}),
        ("more than 4096 files",),
    ),
]


@pytest.mark.parametrize(("short", "tarball", "words"), CASES, ids=[c[0] for c in CASES])
def test_hostile_archive_is_refused_and_nothing_is_written(
    bt: Buttons, registry: RegistryServer, short: str, tarball: bytes, words: tuple[str, ...]
) -> None:
    registry.plant(f"@evil/{short}", "1", tarball)
    refused(bt, registry.env(), f"@evil/{short}", *words)
    assert not Path("/tmp/evil-abs").exists()
    assert not (bt.home.parent / "evil").exists() and not (bt.home / "evil").exists()


def test_sha256_mismatch_is_refused(bt: Buttons, registry: RegistryServer) -> None:
    registry.plant("@evil/shamis", "1", build_tarball("shamis", button_files("shamis")), sha="0" * 64)
    refused(bt, registry.env(), "@evil/shamis", "X-Content-Sha256")


def test_index_entry_with_a_bad_name_is_refused(bt: Buttons, tmp_path: Path) -> None:
    srv = RegistryServer(tmp_path / "reg").start()
    try:
        srv.plant("evil-no-scope", "1", build_tarball("x", button_files("x")))
        err = refused(bt, srv.env(), "@evil/x", "not @desk/name")
        assert "evil-no-scope" in err["message"]
    finally:
        srv.stop()


def test_oversized_entry_is_refused_before_it_is_read(bt: Buttons, registry: RegistryServer) -> None:
    # One entry declaring 300 MiB, with no data at all: refused from the header alone.
    head = ustar("big/huge.bin", b"")
    head = bytearray(head)
    head[124:136] = b"%011o\0" % (300 * 1024 * 1024)
    head[148:156] = b" " * 8
    head[148:156] = b"%06o\0 " % sum(head)
    registry.plant(
        "@evil/big",
        "1",
        raw_tgz(*(ustar(f"big/{k}", v) for k, v in button_files("big").items()), bytes(head)),
    )
    refused(bt, registry.env(), "@evil/big", "256 MiB")


def test_a_failed_update_leaves_the_installed_package_untouched(
    bt: Buttons, registry: RegistryServer
) -> None:
    registry.plant("@evil/keep", "1", build_tarball("keep", button_files("keep", "echo good\n")))
    env = registry.env()
    r = bt("add", "@evil/keep", "--json", env=env)
    assert r.returncode == 0, r.stderr
    lock_before = (bt.home / "buttons-lock.json").read_bytes()
    registry.plant("@evil/keep", "2", with_button("keep", special("keep/x", tarfile.SYMTYPE, "/")))
    r = bt("update", "--json", env=env)
    assert r.returncode == 1 and r.error["code"] == "UPDATE_ERROR", r.stdout
    assert (bt.home / "buttons-lock.json").read_bytes() == lock_before
    assert sorted(p.name for p in (bt.home / "buttons").iterdir()) == ["keep"]
    assert bt("press", "keep", "--json").data["stdout"] == "good\n"


# ---------------------------------------------------------------------------------------------
# a misbehaving registry server: slow, 5xx, huge, redirecting, echoing the key


class _Handler(BaseHTTPRequestHandler):
    mode = ""
    other_port = 0

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        mode = self.server.mode  # type: ignore[attr-defined]
        if mode == "slow":
            time.sleep(5)
            self._json(200, [])
        elif mode == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                for _ in range(50):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
        elif mode == "dripheaders":
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for _ in range(60):  # 30 s of headers, a line every 0.5 s
                    self.wfile.write(b"X-Slow: a\r\n")
                    self.wfile.flush()
                    time.sleep(0.5)
                self.wfile.write(b"Content-Length: 2\r\n\r\n[]")
            except OSError:
                pass
        elif mode == "5xx":
            self._json(503, {"error": {"code": "DOWN", "message": "maintenance"}})
        elif mode == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                self.wfile.write(b"[" + b" " * (20 * 1024 * 1024) + b"]")
            except OSError:
                pass
        elif mode == "redirect":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.2:{self.server.server_address[1]}/v1/index")
            self.end_headers()
        elif mode == "notjson":
            self._raw(200, b"hello")
        elif mode == "notarray":
            self._json(200, {"packages": []})
        elif mode == "badversion":
            self._json(200, [{"name": "@team/x", "kind": "button", "version": "1.2"}])
        elif mode == "badkind":
            self._json(200, [{"name": "@team/x", "kind": "plugin", "version": "1"}])
        elif mode == "loop":
            self.send_response(302)
            self.send_header("Location", "/v1/index")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "samehost":
            if self.path == "/v1/moved":
                self._json(200, [])
            else:
                self.send_response(307)
                self.send_header("Location", "/v1/moved")
                self.send_header("Content-Length", "0")
                self.end_headers()
        elif mode == "bigdownload":
            if self.path == "/v1/index":
                self._json(200, [{"name": "@team/x", "kind": "button", "version": "1"}])
            else:
                self.send_response(200)
                self.send_header("Content-Length", str(100 * 1024 * 1024))
                self.end_headers()
        elif mode == "echo":
            auth = self.headers.get("Authorization", "")
            self._json(500, {"error": {"code": "OOPS", "message": f"bad token {auth}"}})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._json(409, {"error": {"code": "LOCKED", "message": "publishing is closed"}})

    def _raw(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        body = json.dumps(value).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass


@pytest.fixture
def bad_server() -> Iterator[ThreadingHTTPServer]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("slow", ("did not answer within 1 s",)),
        ("drip", ("within 1 s",)),
        ("dripheaders", ("within 1 s",)),
        ("5xx", ("answered 503", "maintenance")),
        ("huge", ("too large",)),
        ("redirect", ("redirected to another host", "127.0.0.2")),
        ("echo", ("answered 500", "[key]")),
        ("notjson", ("not JSON",)),
        ("notarray", ("not a JSON array",)),
        ("badversion", ("bad version",)),
        ("badkind", ("bad kind",)),
        ("loop", ("redirected more than 5 times",)),
        ("samehost", ("@team/x is not in the registry",)),
        ("bigdownload", ("too large",)),
    ],
)
def test_misbehaving_registry_is_refused(
    bt: Buttons, bad_server: ThreadingHTTPServer, mode: str, words: tuple[str, ...]
) -> None:
    bad_server.mode = mode  # type: ignore[attr-defined]
    env = {
        "BUTTONS_REGISTRY_URL": f"http://127.0.0.1:{bad_server.server_address[1]}",
        "BUTTONS_BAT_REGISTRY_KEY": READ_KEY,
        "BUTTONS_REGISTRY_TIMEOUT": "1",
    }
    started = time.monotonic()
    err = refused(bt, env, "@team/x", *words)
    # Gross guard: the 1 s deadline bounds the whole request; the dripping servers go on for 5-30 s.
    limit = 20 if mode == "dripheaders" else 60
    assert time.monotonic() - started < limit
    assert READ_KEY not in json.dumps(err)


def test_read_key_is_never_sent_over_plain_http_to_another_host(bt: Buttons) -> None:
    env = {"BUTTONS_REGISTRY_URL": "http://registry.example", "BUTTONS_BAT_REGISTRY_KEY": READ_KEY}
    err = refused(bt, env, "@team/x", "plain http", "registry.example")
    assert READ_KEY not in json.dumps(err)
    bt.create("x", "--code", "echo", "--runtime", "shell")
    r = bt("publish", "@team/x", "--json", env={**env, "BUTTONS_BAT_REGISTRY_WRITE_KEY": "w-key-123"})
    assert r.error["code"] == "PUBLISH_ERROR" and "plain http" in r.error["message"]


def test_gzip_bomb_is_refused_while_streaming_with_flat_memory(
    bt: Buttons, registry: RegistryServer, tmp_path: Path
) -> None:
    """1 GiB of zeros in 16 files of 64 MiB, ~1 MiB compressed: refused once 256 MiB are inflated."""
    from core_helpers import spawn_measurable

    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(b"".join(ustar(f"bomb/{k}", v) for k, v in button_files("bomb").items()))]
    size = 64 * 1024 * 1024
    zeros = b"\0" * (1024 * 1024)
    for i in range(16):
        head = bytearray(ustar(f"bomb/z{i:02d}.bin", b""))
        head[124:136] = b"%011o\0" % size
        head[148:156] = b" " * 8
        head[148:156] = b"%06o\0 " % sum(head)
        parts.append(comp.compress(bytes(head)))
        for _ in range(64):
            parts.append(comp.compress(zeros))
    parts.append(comp.compress(b"\0" * 1024))
    parts.append(comp.flush())
    bomb = b"".join(parts)
    assert len(bomb) < 2 * 1024 * 1024
    registry.plant("@evil/bomb", "1", bomb)
    env = {**bt.env, **registry.env()}
    m = spawn_measurable(
        [_buttons(), "add", "@evil/bomb", "--json"],
        env=env,
        cwd=bt.cwd,
        stdout=-1,
        stderr=-1,
    )
    code, peak_kib = m.wait()
    out = m.proc.stdout.read().decode() if m.proc.stdout else ""
    assert code == 1, out
    err = json.loads(out)["error"]
    assert err["code"] == "ADD_ERROR" and "256 MiB" in err["message"], err
    print(f"\npeak RSS refusing a 1 GiB gzip bomb ({len(bomb)} bytes compressed): {peak_kib / 1024:.1f} MiB")
    assert peak_kib < 150 * 1024, f"memory grew with the archive: {peak_kib} KiB"
    assert not (bt.home / "buttons" / "bomb").exists()
    assert not [p for p in (bt.home / "buttons").iterdir()]


def _buttons() -> str:
    from conftest import BUTTONS

    return BUTTONS


def test_publish_of_a_hostile_archive_is_refused_by_the_reference_registry(registry: RegistryServer) -> None:
    import urllib.error
    import urllib.request

    from registry_support import WRITE_KEY

    body = with_button("up", special("up/link", tarfile.SYMTYPE, "/etc/passwd"))
    req = urllib.request.Request(  # noqa: S310 - loopback test registry
        registry.url + "/v1/buttons/@evil/up/1",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {WRITE_KEY}",
            "Content-Type": "application/gzip",
            "X-Content-Sha256": hashlib.sha256(body).hexdigest(),
            "X-Button-Kind": "button",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=30)  # noqa: S310 - loopback test registry
    assert info.value.code == 400
    assert json.loads(info.value.read())["error"]["code"] == "BAD_ARCHIVE"
    assert not any(e["name"] == "@evil/up" for e in registry.index())


def test_invalid_drawer_package_is_refused(bt: Buttons, registry: RegistryServer) -> None:
    bad = json.dumps({"name": "flowy", "steps": {"not": "a list"}}).encode()
    registry.plant("@evil/flowy", "1", build_tarball("flowy", {"drawer.json": bad}), kind="drawer")
    refused(bt, registry.env(), "@evil/flowy", "invalid package")
    assert not (bt.home / "drawers" / "flowy").exists()


def test_index_kind_that_does_not_match_the_archive_is_refused(bt: Buttons, registry: RegistryServer) -> None:
    registry.plant("@evil/kindly", "1", build_tarball("kindly", button_files("kindly")), kind="drawer")
    refused(bt, registry.env(), "@evil/kindly", "the index says drawer")


def test_dependency_cycle_installs_each_package_once(bt: Buttons, registry: RegistryServer) -> None:
    registry.plant("@cyc/a", "1", build_tarball("a", button_files("a", requires={"@cyc/b": "latest"})))
    registry.plant("@cyc/b", "1", build_tarball("b", button_files("b", requires={"@cyc/a": "latest"})))
    r = bt("add", "@cyc/a", "--json", env=registry.env())
    assert r.returncode == 0, r.stderr
    assert r.data["installed"] == ["a", "b"]


def test_registry_urls_that_are_refused_or_unreachable(bt: Buttons, bad_server: ThreadingHTTPServer) -> None:
    port = bad_server.server_address[1]
    for url, words in (
        ("ftp://127.0.0.1/", "not an http(s) URL"),
        (f"http://user:pw@127.0.0.1:{port}", "user name or password"),  # pragma: allowlist secret
        ("http://127.0.0.1:9", "cannot reach registry"),
    ):
        refused(bt, {"BUTTONS_REGISTRY_URL": url, "BUTTONS_BAT_REGISTRY_KEY": READ_KEY}, "@team/x", words)


def test_publish_refused_by_the_registry_is_a_publish_error(
    bt: Buttons, bad_server: ThreadingHTTPServer
) -> None:
    bt.create("x", "--code", "echo", "--runtime", "shell")
    env = {
        "BUTTONS_REGISTRY_URL": f"http://127.0.0.1:{bad_server.server_address[1]}",
        "BUTTONS_BAT_REGISTRY_WRITE_KEY": "w-key-123",
    }
    r = bt("publish", "@team/x", "--json", env=env)
    assert r.returncode == 1 and r.error["code"] == "PUBLISH_ERROR", r.stdout
    assert "answered 409" in r.error["message"] and "publishing is closed" in r.error["message"]
