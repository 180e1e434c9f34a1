"""Sign and verify release artifacts with Ed25519, in minisign's file formats.

    python scripts/release_signing.py keygen --secret ~/.config/buttons-release/release.key \
        --public keys/release.pub
    python scripts/release_signing.py sign --dir dist            # key from $BUTTONS_RELEASE_KEY(_FILE)
    python scripts/release_signing.py verify --dir dist --public keys/release.pub

``sign`` writes ``SHA256SUMS`` for every artifact in the directory (wheels, sdists, SBOMs) and a
detached signature ``NAME.minisig`` next to each artifact and next to ``SHA256SUMS``.

``verify`` fails (exit 1) unless ``SHA256SUMS`` carries a valid signature by the public key, every
artifact in the directory is listed there with a matching SHA-256, and every artifact's own
signature is valid and names that artifact. One changed byte anywhere fails it.

The formats are minisign's (public key, unencrypted secret key, prehashed ``ED`` signatures), so an
operator can check a release with the stock tool instead of this script::

    minisign -V -p keys/release.pub -m dist/buttons_engine-0.1.0-py3-none-any.whl

Signing uses the ``cryptography`` package (a dev dependency); verification needs nothing else.
The secret key never lives in the repository: ``keygen`` refuses to write it there, and ``sign``
reads it from ``$BUTTONS_RELEASE_KEY`` (the key file's content, as CI passes a secret) or from the
file named by ``$BUTTONS_RELEASE_KEY_FILE`` / ``--key-file``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import secrets
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT_SUFFIXES = (".whl", ".tar.gz", ".cdx.json")
SUMS = "SHA256SUMS"
SIG_SUFFIX = ".minisig"

_PK_ALG = b"Ed"  # public/secret key algorithm tag
_SIG_ALG_HASHED = b"ED"  # signature over BLAKE2b-512 of the file (minisign's default since 0.8)
_SIG_ALG_PURE = b"Ed"  # legacy: signature over the whole file


class SigningError(Exception):
    pass


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes
    key: Ed25519PublicKey

    @property
    def key_id_hex(self) -> str:
        return self.key_id[::-1].hex().upper()  # minisign shows the id as a little-endian integer


@dataclass(frozen=True)
class SecretKey:
    key_id: bytes
    key: Ed25519PrivateKey


def _b64line(text: str, what: str) -> bytes:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("untrusted comment:")]
    if not lines:
        raise SigningError(f"{what}: no key data")
    try:
        return base64.b64decode(lines[0].strip(), validate=True)
    except ValueError:
        raise SigningError(f"{what}: not base64") from None


def load_public(text: str) -> PublicKey:
    raw = _b64line(text, "public key")
    if len(raw) != 42 or raw[:2] != _PK_ALG:
        raise SigningError("public key: not a minisign Ed25519 public key")
    return PublicKey(raw[2:10], Ed25519PublicKey.from_public_bytes(raw[10:]))


def dump_public(pk: PublicKey) -> str:
    raw = _PK_ALG + pk.key_id + pk.key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return f"untrusted comment: minisign public key {pk.key_id_hex}\n{base64.b64encode(raw).decode()}\n"


def _checksum(key_id: bytes, sk64: bytes) -> bytes:
    return hashlib.blake2b(_PK_ALG + key_id + sk64, digest_size=32).digest()


def load_secret(text: str) -> SecretKey:
    """An unencrypted minisign secret key (``minisign -G -W`` or ``keygen`` below)."""
    raw = _b64line(text, "secret key")
    if len(raw) != 158 or raw[:2] != _PK_ALG or raw[4:6] != b"B2":
        raise SigningError("secret key: not a minisign Ed25519 secret key")
    if raw[2:4] != b"\0\0":
        raise SigningError(
            "secret key: password-protected keys are not supported; use an unencrypted key "
            "kept in a secret store (minisign -G -W)"
        )
    key_id, sk64, chk = raw[54:62], raw[62:126], raw[126:158]
    # minisign 0.11 leaves the checksum of an unencrypted key zeroed; the public-half check below
    # still catches a damaged key.
    if chk != bytes(32) and not secrets.compare_digest(_checksum(key_id, sk64), chk):
        raise SigningError("secret key: checksum mismatch (damaged key)")
    key = Ed25519PrivateKey.from_private_bytes(sk64[:32])
    if key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) != sk64[32:]:
        raise SigningError("secret key: public half does not match")
    return SecretKey(key_id, key)


def dump_secret(sk: SecretKey) -> str:
    seed = sk.key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    sk64 = seed + sk.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    raw = (
        _PK_ALG
        + b"\0\0"
        + b"B2"
        + bytes(32)
        + struct.pack("<QQ", 0, 0)
        + sk.key_id
        + sk64
        + _checksum(sk.key_id, sk64)
    )
    return f"untrusted comment: minisign secret key (unencrypted)\n{base64.b64encode(raw).decode()}\n"


def _file_digest(path: Path) -> bytes:
    h = hashlib.blake2b(digest_size=64)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.digest()


def sign_file(sk: SecretKey, path: Path) -> Path:
    trusted = f"file:{path.name}\thashed"
    sig = sk.key.sign(_file_digest(path))
    global_sig = sk.key.sign(sig + trusted.encode())
    out = path.with_name(path.name + SIG_SUFFIX)
    out.write_text(
        f"untrusted comment: signature from buttons-engine release key\n"
        f"{base64.b64encode(_SIG_ALG_HASHED + sk.key_id + sig).decode()}\n"
        f"trusted comment: {trusted}\n"
        f"{base64.b64encode(global_sig).decode()}\n"
    )
    return out


def verify_file(pk: PublicKey, path: Path, sig_path: Path | None = None) -> str:
    """Check ``path`` against its ``.minisig``; return the trusted comment. Raises SigningError."""
    sig_path = sig_path or path.with_name(path.name + SIG_SUFFIX)
    try:
        lines = sig_path.read_text().splitlines()
    except OSError as exc:
        raise SigningError(f"{path.name}: no signature ({exc.strerror})") from None
    if len(lines) < 4 or not lines[2].startswith("trusted comment: "):
        raise SigningError(f"{sig_path.name}: malformed signature file")
    try:
        blob = base64.b64decode(lines[1], validate=True)
        global_sig = base64.b64decode(lines[3], validate=True)
    except ValueError:
        raise SigningError(f"{sig_path.name}: malformed signature file") from None
    if len(blob) != 74 or len(global_sig) != 64:
        raise SigningError(f"{sig_path.name}: malformed signature file")
    alg, key_id, sig = blob[:2], blob[2:10], blob[10:]
    if key_id != pk.key_id:
        raise SigningError(
            f"{path.name}: signed by key {key_id[::-1].hex().upper()}, expected {pk.key_id_hex}"
        )
    if alg == _SIG_ALG_HASHED:
        message = _file_digest(path)
    elif alg == _SIG_ALG_PURE:
        message = path.read_bytes()
    else:
        raise SigningError(f"{sig_path.name}: unknown signature algorithm")
    trusted = lines[2][len("trusted comment: ") :]
    try:
        pk.key.verify(sig, message)
    except InvalidSignature:
        raise SigningError(f"{path.name}: BAD SIGNATURE (file changed or not signed by this key)") from None
    try:
        pk.key.verify(global_sig, sig + trusted.encode())
    except InvalidSignature:
        raise SigningError(f"{sig_path.name}: BAD SIGNATURE on the trusted comment") from None
    return trusted


def artifacts(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith(ARTIFACT_SUFFIXES))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sign_release(sk: SecretKey, directory: Path) -> list[Path]:
    arts = artifacts(directory)
    if not arts:
        raise SigningError(f"{directory}: nothing to sign (no {', '.join(ARTIFACT_SUFFIXES)} files)")
    sums = directory / SUMS
    sums.write_text("".join(f"{_sha256(p)}  {p.name}\n" for p in arts))
    return [sign_file(sk, p) for p in [*arts, sums]]


def verify_release(pk: PublicKey, directory: Path) -> list[str]:
    """Verify a release directory; return what was checked. Raises SigningError on the first problem."""
    sums = directory / SUMS
    if not sums.is_file():
        raise SigningError(f"{directory}: no {SUMS}")
    _check_trusted(verify_file(pk, sums), SUMS)
    listed: dict[str, str] = {}
    for n, line in enumerate(sums.read_text().splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or "/" in name or name in listed:
            raise SigningError(f"{SUMS}:{n}: malformed line")
        listed[name] = digest
    done = [f"{SUMS}: signature OK (key {pk.key_id_hex})"]
    present = {p.name for p in artifacts(directory)}
    for name in sorted(present - set(listed)):
        raise SigningError(f"{name}: not listed in {SUMS}")
    for name, digest in sorted(listed.items()):
        path = directory / name
        if not path.is_file():
            raise SigningError(f"{name}: listed in {SUMS} but missing")
        if _sha256(path) != digest:
            raise SigningError(f"{name}: SHA-256 does not match {SUMS} (file changed)")
        _check_trusted(verify_file(pk, path), name)
        done.append(f"{name}: sha256 OK, signature OK")
    if not any(n.endswith(".whl") for n in listed) or not any(n.endswith(".cdx.json") for n in listed):
        raise SigningError(f"{SUMS}: a release needs at least a wheel and an SBOM")
    return done


def _check_trusted(trusted: str, name: str) -> None:
    fields = dict(f.split(":", 1) for f in trusted.split("\t") if ":" in f)
    if fields.get("file") != name:
        raise SigningError(f"{name}: signature was made for {fields.get('file')!r}, not for this file")


def _secret_from_env(key_file: Path | None) -> SecretKey:
    if key_file is None and os.environ.get("BUTTONS_RELEASE_KEY"):
        return load_secret(os.environ["BUTTONS_RELEASE_KEY"])
    key_file = key_file or (
        Path(os.environ["BUTTONS_RELEASE_KEY_FILE"]) if os.environ.get("BUTTONS_RELEASE_KEY_FILE") else None
    )
    if key_file is None:
        raise SigningError(
            "no signing key: set BUTTONS_RELEASE_KEY (key content) or BUTTONS_RELEASE_KEY_FILE "
            "(path), or pass --key-file; see docs/release.md"
        )
    return load_secret(key_file.read_text())


def keygen(secret_path: Path, public_path: Path) -> PublicKey:
    secret_abs = secret_path.expanduser().resolve()
    if secret_abs.is_relative_to(ROOT):
        raise SigningError(
            f"refusing to write a secret key inside the repository ({secret_abs}); "
            "keep it outside, e.g. ~/.config/buttons-release/release.key"
        )
    if secret_abs.exists():
        raise SigningError(f"{secret_abs} exists; not overwriting a key")
    sk = SecretKey(secrets.token_bytes(8), Ed25519PrivateKey.generate())
    secret_abs.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(secret_abs, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(dump_secret(sk))
    pk = PublicKey(sk.key_id, sk.key.public_key())
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_text(dump_public(pk))
    return pk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    kg = sub.add_parser("keygen", help="make a new key pair (secret key outside the repository)")
    kg.add_argument("--secret", type=Path, required=True)
    kg.add_argument("--public", type=Path, required=True)
    sg = sub.add_parser("sign", help="write SHA256SUMS and a .minisig for every artifact in --dir")
    sg.add_argument("--dir", type=Path, default=ROOT / "dist")
    sg.add_argument("--key-file", type=Path)
    vf = sub.add_parser("verify", help="verify SHA256SUMS and every artifact in --dir")
    vf.add_argument("--dir", type=Path, default=ROOT / "dist")
    vf.add_argument("--public", type=Path, default=ROOT / "keys" / "release.pub")
    ns = parser.parse_args(argv)
    try:
        if ns.cmd == "keygen":
            pk = keygen(ns.secret, ns.public)
            print(
                f"release-signing: new key {pk.key_id_hex}; public key in {ns.public}, "
                f"secret key in {ns.secret} (mode 0600)",
                file=sys.stderr,
            )
        elif ns.cmd == "sign":
            for p in sign_release(_secret_from_env(ns.key_file), ns.dir):
                print(f"release-signing: signed {p.name}", file=sys.stderr)
        else:
            for line in verify_release(load_public(ns.public.read_text()), ns.dir):
                print(f"release-signing: {line}", file=sys.stderr)
            print("release-signing: release verified", file=sys.stderr)
    except (SigningError, OSError) as exc:
        print(f"release-signing: FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
