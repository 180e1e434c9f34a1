"""Signed releases: scripts/release_signing.py (what `make release` and `make verify-release` run).

Small fixture artifacts stand in for a real build; a throwaway key in tmp_path stands in for the
release key. Every check goes through the real script in a subprocess, the way CI runs it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "release_signing.py"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_RELEASE_KEY")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=full_env, timeout=60
    )


def make_key(tmp: Path, name: str) -> tuple[Path, Path]:
    secret, public = tmp / "keys" / f"{name}.key", tmp / f"{name}.pub"
    r = run("keygen", "--secret", str(secret), "--public", str(public))
    assert r.returncode == 0, r.stderr
    return secret, public


@pytest.fixture
def release(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A signed fixture release: (dist dir, secret key, public key)."""
    dist = tmp_path / "dist"
    dist.mkdir()
    with zipfile.ZipFile(dist / "buttons_engine-0.0.0-py3-none-any.whl", "w") as z:
        z.writestr("buttons_engine/__init__.py", "__version__ = '0.0.0'\n" * 50)
    (dist / "buttons_engine-0.0.0.tar.gz").write_bytes(os.urandom(512))
    (dist / "buttons_engine-0.0.0.cdx.json").write_text('{"bomFormat": "CycloneDX", "components": []}\n')
    secret, public = make_key(tmp_path, "test")
    r = run("sign", "--dir", str(dist), env={"BUTTONS_RELEASE_KEY_FILE": str(secret)})
    assert r.returncode == 0, r.stderr
    return dist, secret, public


def verify(dist: Path, public: Path) -> subprocess.CompletedProcess[str]:
    return run("verify", "--dir", str(dist), "--public", str(public))


def test_signed_release_verifies(release: tuple[Path, Path, Path]) -> None:
    dist, _, public = release
    names = sorted(p.name for p in dist.iterdir())
    assert "SHA256SUMS" in names and "SHA256SUMS.minisig" in names
    for art in (
        "buttons_engine-0.0.0-py3-none-any.whl",
        "buttons_engine-0.0.0.tar.gz",
        "buttons_engine-0.0.0.cdx.json",
    ):
        assert f"{art}.minisig" in names
        assert hashlib.sha256((dist / art).read_bytes()).hexdigest() in (dist / "SHA256SUMS").read_text()
    r = verify(dist, public)
    assert r.returncode == 0, r.stderr
    assert "release verified" in r.stderr


def test_one_flipped_byte_in_the_wheel_fails(release: tuple[Path, Path, Path]) -> None:
    dist, _, public = release
    wheel = dist / "buttons_engine-0.0.0-py3-none-any.whl"
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0x01
    wheel.write_bytes(bytes(data))
    r = verify(dist, public)
    assert r.returncode == 1
    assert "buttons_engine-0.0.0-py3-none-any.whl: SHA-256 does not match SHA256SUMS" in r.stderr


def test_tampered_wheel_with_rewritten_sums_fails(release: tuple[Path, Path, Path]) -> None:
    """An attacker who swaps the wheel and rewrites SHA256SUMS still lacks the key."""
    dist, _, public = release
    wheel = dist / "buttons_engine-0.0.0-py3-none-any.whl"
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    sums = dist / "SHA256SUMS"
    lines = [
        f"{hashlib.sha256(wheel.read_bytes()).hexdigest()}  {wheel.name}" if wheel.name in line else line
        for line in sums.read_text().splitlines()
    ]
    sums.write_text("\n".join(lines) + "\n")
    r = verify(dist, public)
    assert r.returncode == 1
    assert "SHA256SUMS: BAD SIGNATURE" in r.stderr


def test_signature_moved_to_another_file_fails(release: tuple[Path, Path, Path]) -> None:
    dist, _, public = release
    sbom = dist / "buttons_engine-0.0.0.cdx.json"
    shutil.copy(dist / "buttons_engine-0.0.0.tar.gz.minisig", dist / "buttons_engine-0.0.0.cdx.json.minisig")
    assert sbom.exists()
    r = verify(dist, public)
    assert r.returncode == 1
    assert "BAD SIGNATURE" in r.stderr


def test_unlisted_artifact_fails(release: tuple[Path, Path, Path]) -> None:
    dist, _, public = release
    (dist / "extra-0.0.0-py3-none-any.whl").write_bytes(b"not in the sums")
    r = verify(dist, public)
    assert r.returncode == 1
    assert "extra-0.0.0-py3-none-any.whl: not listed in SHA256SUMS" in r.stderr


def test_other_key_is_refused(release: tuple[Path, Path, Path], tmp_path: Path) -> None:
    dist, _, _ = release
    _, other_public = make_key(tmp_path, "other")
    r = verify(dist, other_public)
    assert r.returncode == 1
    assert "SHA256SUMS: signed by key" in r.stderr


def test_sign_without_a_key_fails(tmp_path: Path) -> None:
    (tmp_path / "a-0-py3-none-any.whl").write_bytes(b"x")
    r = run("sign", "--dir", str(tmp_path))
    assert r.returncode == 1
    assert "no signing key" in r.stderr


def test_keygen_refuses_to_put_the_secret_key_in_the_repository(tmp_path: Path) -> None:
    r = run("keygen", "--secret", str(ROOT / "release-test.key"), "--public", str(tmp_path / "x.pub"))
    assert r.returncode == 1
    assert "refusing to write a secret key inside the repository" in r.stderr
    assert not (ROOT / "release-test.key").exists()


def test_secret_key_file_is_private(tmp_path: Path) -> None:
    secret, _ = make_key(tmp_path, "mode")
    assert secret.stat().st_mode & 0o777 == 0o600


def test_committed_public_key_is_a_minisign_key() -> None:
    text = (ROOT / "keys" / "release.pub").read_text()
    assert text.startswith("untrusted comment: minisign public key ")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import release_signing

        release_signing.load_public(text)
    finally:
        sys.path.remove(str(ROOT / "scripts"))


@pytest.mark.skipif(shutil.which("minisign") is None, reason="minisign (Debian package) not installed")
def test_stock_minisign_verifies_our_signatures(release: tuple[Path, Path, Path]) -> None:
    dist, _, public = release
    for name in ("SHA256SUMS", "buttons_engine-0.0.0-py3-none-any.whl"):
        r = subprocess.run(
            ["minisign", "-V", "-p", str(public), "-m", str(dist / name)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert r.returncode == 0, r.stderr
        assert f"file:{name}" in r.stdout
