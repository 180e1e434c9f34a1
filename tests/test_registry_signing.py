"""Signed packages (DEVIATIONS D10): publish signs, install verifies, trust per scope, pin, key change."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from buttons_engine.store.packages import build_tarball, bytes_hash
from conftest import Buttons
from registry_support import RegistryServer, button_files


def ok(r: Any) -> Any:
    assert r.returncode == 0, (r.stdout, r.stderr)
    return r.data


def fail(r: Any, code: str) -> dict[str, Any]:
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.error["code"] == code, r.error
    return r.error


def keypair(pub: Buttons, tmp_path: Path, name: str) -> tuple[str, str]:
    path = tmp_path / f"{name}.pem"
    data = ok(pub("keys", "generate", "--out", str(path), "--json"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return str(path), data["public_key"]


def publish(pub: Buttons, reg: RegistryServer, name: str, key_file: str | None) -> dict[str, Any]:
    env = reg.env(write=True)
    if key_file:
        env["BUTTONS_SIGNING_KEY_FILE"] = key_file
    return ok(pub("publish", name, "--json", env=env))


def bump(pub: Buttons, short: str, code: str) -> None:
    (pub.home / "buttons" / short / "main.sh").write_text(code)


def lock(bt: Buttons) -> dict[str, Any]:
    return json.loads((bt.home / "buttons-lock.json").read_text())["dependencies"]


def test_first_signer_is_pinned_and_a_key_change_is_refused(
    bt: Buttons, publisher: Buttons, registry: RegistryServer, tmp_path: Path
) -> None:
    file_a, key_a = keypair(publisher, tmp_path, "a")
    file_b, key_b = keypair(publisher, tmp_path, "b")
    publisher.create("tool", "--code", "echo 1", "--runtime", "shell")
    p = publish(publisher, registry, "@team/tool", file_a)
    assert p["signed"] is True and p["signing_key"] == key_a
    entry = registry.index()[-1]
    assert entry["signing_key"] == key_a and entry["signature"]
    env = registry.env()
    added = ok(bt("add", "@team/tool", "--json", env=env))
    assert added["packages"] == [{"name": "@team/tool", "version": "1", "signed": True, "signing_key": key_a}]
    assert lock(bt)["@team/tool"]["signing_key"] == key_a and lock(bt)["@team/tool"]["signed"] is True

    bump(publisher, "tool", "echo 2")
    publish(publisher, registry, "@team/tool", file_a)
    ok(bt("update", "--json", env=env))  # same key: accepted
    assert lock(bt)["@team/tool"]["version"] == "2"

    bump(publisher, "tool", "echo 3")
    publish(publisher, registry, "@team/tool", file_b)
    err = fail(bt("update", "--json", env=env), "SIGNATURE_KEY_CHANGED")
    assert key_a in err["message"] and key_b in err["message"]
    assert f"buttons keys trust @team {key_b}" in err["hint"]
    assert lock(bt)["@team/tool"]["version"] == "2"
    assert ok(bt("press", "tool", "--json"))["stdout"] == "2\n"

    ok(bt("keys", "trust", "@team", key_b, "--json"))
    ok(bt("update", "--json", env=env))
    assert lock(bt)["@team/tool"]["version"] == "3"

    bump(publisher, "tool", "echo 4")
    publish(publisher, registry, "@team/tool", None)  # unsigned after being signed
    fail(bt("update", "--json", env=env), "SIGNATURE_REQUIRED")


def test_pinned_package_that_turns_unsigned_is_refused(
    bt: Buttons, publisher: Buttons, registry: RegistryServer, tmp_path: Path
) -> None:
    file_a, _key = keypair(publisher, tmp_path, "a")
    publisher.create("turn", "--code", "echo 1", "--runtime", "shell")
    publish(publisher, registry, "@team/turn", file_a)
    env = registry.env()
    ok(bt("add", "@team/turn", "--json", env=env))
    bump(publisher, "turn", "echo 2")
    publish(publisher, registry, "@team/turn", None)
    err = fail(bt("update", "--json", env=env), "SIGNATURE_REQUIRED")
    assert "not signed" in err["message"]


def test_trusted_keys_are_required_for_their_scope(
    bt: Buttons, publisher: Buttons, registry: RegistryServer, tmp_path: Path
) -> None:
    file_a, key_a = keypair(publisher, tmp_path, "a")
    file_b, key_b = keypair(publisher, tmp_path, "b")
    for short in ("good", "other", "bare"):
        publisher.create(short, "--code", f"echo {short}", "--runtime", "shell")
    publish(publisher, registry, "@team/good", file_a)
    publish(publisher, registry, "@team/other", file_b)
    publish(publisher, registry, "@team/bare", None)
    publish(publisher, registry, "@free/bare", None)
    trusted = ok(bt("keys", "trust", "@team", key_a, "--json"))
    assert trusted["trusted"] == [key_a]
    assert ok(bt("keys", "list", "--json"))["scopes"] == {"@team": [key_a]}
    env = registry.env()
    assert ok(bt("add", "@team/good", "--json", env=env))["packages"][0]["signed"] is True
    err = fail(bt("add", "@team/other", "--json", env=env), "SIGNATURE_UNTRUSTED")
    assert key_b in err["message"]
    fail(bt("add", "@team/bare", "--json", env=env), "SIGNATURE_REQUIRED")
    assert not (bt.home / "buttons" / "other").exists() and not (bt.home / "buttons" / "bare").exists()
    assert ok(bt("add", "@free/bare", "--json", env=env))["packages"][0]["signed"] is False


def test_unsigned_installs_flagged_unless_signatures_are_required(
    bt: Buttons, publisher: Buttons, registry: RegistryServer
) -> None:
    publisher.create("plain", "--code", "echo p", "--runtime", "shell")
    publish(publisher, registry, "@team/plain", None)
    env = registry.env()
    added = ok(bt("add", "@team/plain", "--json", env=env))
    assert added["packages"] == [{"name": "@team/plain", "version": "1", "signed": False}]
    assert lock(bt)["@team/plain"]["signed"] is False and "signing_key" not in lock(bt)["@team/plain"]
    other = Buttons(bt.home.parent / "strict", bt.cwd)
    ok(other("config", "set", "require-signatures", "true", "--json"))
    err = fail(other("add", "@team/plain", "--json", env=env), "SIGNATURE_REQUIRED")
    assert "require-signatures" in err["message"]


def test_invalid_signature_is_refused(
    bt: Buttons, registry: RegistryServer, publisher: Buttons, tmp_path: Path
) -> None:
    file_a, key_a = keypair(publisher, tmp_path, "a")
    publisher.create("sig", "--code", "echo real", "--runtime", "shell")
    publish(publisher, registry, "@team/sig", file_a)
    good = registry.index()[-1]
    # A compromised registry swaps the content and keeps the old signature and key.
    files = button_files("sig", "echo evil\n")
    registry.plant(
        "@team/sig", "2", build_tarball("sig", files), signature=good["signature"], signing_key=key_a
    )
    err = fail(bt("add", "@team/sig", "--json", env=registry.env()), "SIGNATURE_INVALID")
    assert "does not verify" in err["message"]
    assert not (bt.home / "buttons" / "sig").exists()
    assert bytes_hash(files) != good["sha256"]


def test_signing_key_battery_and_key_validation(
    bt: Buttons, publisher: Buttons, registry: RegistryServer, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = (
        "ed25519:" + base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    )
    ok(
        publisher(
            "batteries", "set", "SIGNING_KEY", "ed25519-private:" + base64.b64encode(seed).decode(), "--json"
        )
    )
    publisher.create("bat", "--code", "echo b", "--runtime", "shell")
    assert publish(publisher, registry, "@team/bat", None)["signing_key"] == public

    fail(bt("keys", "trust", "@team", "ed25519:short", "--json"), "VALIDATION_ERROR")
    fail(bt("keys", "trust", "team", public, "--json"), "VALIDATION_ERROR")
    fail(bt("keys", "trust", "@team", "rsa:AAAA", "--json"), "VALIDATION_ERROR")
    path = tmp_path / "k.pem"
    ok(bt("keys", "generate", "--out", str(path), "--json"))
    before = path.read_bytes()
    fail(bt("keys", "generate", "--out", str(path), "--json"), "VALIDATION_ERROR")
    assert path.read_bytes() == before, "an existing signing key is never overwritten"
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    r = publisher(
        "publish",
        "@team/bat",
        "--json",
        env={**registry.env(write=True), "BUTTONS_SIGNING_KEY_FILE": str(bad)},
    )
    fail(r, "VALIDATION_ERROR")


def test_reference_registry_refuses_a_bad_signature_on_publish(
    publisher: Buttons, registry: RegistryServer, tmp_path: Path
) -> None:
    import hashlib
    import urllib.error
    import urllib.request

    from registry_support import WRITE_KEY

    _file, key = keypair(publisher, tmp_path, "a")
    body = build_tarball("forged", button_files("forged"))
    req = urllib.request.Request(  # noqa: S310 - loopback test registry
        registry.url + "/v1/buttons/@team/forged/1",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {WRITE_KEY}",
            "X-Content-Sha256": hashlib.sha256(body).hexdigest(),
            "X-Button-Kind": "button",
            "X-Content-Signature": base64.b64encode(b"\0" * 64).decode(),
            "X-Signing-Key": key,
        },
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=30)  # noqa: S310
    assert info.value.code == 400
    assert json.loads(info.value.read())["error"]["code"] == "SIGNATURE_INVALID"
