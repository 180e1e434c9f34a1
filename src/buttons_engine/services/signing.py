"""Package signatures (DEVIATIONS D10): Ed25519 over a package's content hash.

Text forms (what travels in headers, index entries, the lock and ``keys trust``):

- public key: ``ed25519:<base64 of the 32 raw bytes>``
- signature: base64 of the 64 raw bytes, over the ASCII bytes of the lowercase hex content hash
- private key: a PKCS#8 PEM file (``buttons keys generate``), named by ``BUTTONS_SIGNING_KEY_FILE``,
  or the ``SIGNING_KEY`` battery holding ``ed25519-private:<base64 of the 32-byte seed>``

``cryptography`` is imported only here, and only by commands that sign or verify.
"""

from __future__ import annotations

import base64
import binascii
import os

from ..errors import NotFound, RegistryError, ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..store.layout import Layout

KEY_PREFIX = "ed25519:"
PRIVATE_PREFIX = "ed25519-private:"
KEY_FILE_ENV = "BUTTONS_SIGNING_KEY_FILE"
KEY_BATTERY = "SIGNING_KEY"
TRUST_FILE = "trusted-keys.json"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, size: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"{what} is not valid base64") from None
    if len(raw) != size:
        raise ValidationError(f"{what} must be {size} bytes, not {len(raw)}")
    return raw


def check_public_key(text: str) -> str:
    """The canonical form of a public key text, or ``VALIDATION_ERROR``."""
    text = text.strip()
    if not text.startswith(KEY_PREFIX):
        raise ValidationError(f"a signing key looks like {KEY_PREFIX}<base64>, not {text[:40]!r}")
    return KEY_PREFIX + _b64(_unb64(text[len(KEY_PREFIX) :], 32, "the signing key"))


def generate() -> tuple[bytes, str]:
    """A new key pair: (PKCS#8 PEM of the private key, public key text)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, _public_text(key)


def generate_file(layout: Layout, path: str) -> dict[str, str]:
    """``keys generate``: a new key pair, the private key written to ``path`` (default
    ``signing-key.pem`` in the global dir) with mode 0600; an existing file is never overwritten."""
    path = os.path.abspath(os.path.expanduser(path or os.path.join(layout.global_dir, "signing-key.pem")))
    pem, public = generate()
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise ValidationError(f"{path} exists: not overwriting a signing key") from None
    except OSError as exc:
        raise ValidationError(f"cannot write {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(pem)
    return {"path": path, "public_key": public, "env": f"{KEY_FILE_ENV}={path}"}


def _public_text(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + _b64(raw)


def _load_private(data: bytes, where: str) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    text = data.strip()
    if text.startswith(PRIVATE_PREFIX.encode()):
        seed = _unb64(text[len(PRIVATE_PREFIX) :].decode(), 32, f"the signing key in {where}")
        return Ed25519PrivateKey.from_private_bytes(seed)
    try:
        key = serialization.load_pem_private_key(text, password=None)
    except (ValueError, TypeError):
        raise ValidationError(f"{where} holds no Ed25519 private key (PEM or {PRIVATE_PREFIX}...)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationError(f"{where} holds a private key that is not Ed25519")
    return key


class Signer:
    def __init__(self, key: Any) -> None:
        self._key = key
        self.public = _public_text(key)

    def sign(self, content_hash: str) -> str:
        return _b64(self._key.sign(content_hash.encode()))


def signer(layout: Layout) -> Signer | None:
    """The publisher's key (``$BUTTONS_SIGNING_KEY_FILE``, else the ``SIGNING_KEY`` battery), or None."""
    path = os.environ.get(KEY_FILE_ENV, "")
    if path:
        try:
            with open(path, "rb") as fh:
                data = fh.read(64 * 1024)
        except OSError as exc:
            raise ValidationError(f"cannot read ${KEY_FILE_ENV} ({path}): {exc.strerror or exc}") from None
        return Signer(_load_private(data, f"${KEY_FILE_ENV} ({path})"))
    from . import batteries

    try:
        value = str(batteries.get_battery(layout, KEY_BATTERY)["value"])
    except NotFound:
        return None
    return Signer(_load_private(value.encode(), f"the {KEY_BATTERY} battery"))


def verify(public: str, signature: str, content_hash: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        raw = _unb64(check_public_key(public)[len(KEY_PREFIX) :], 32, "key")
        sig = _unb64(signature, 64, "signature")
        Ed25519PublicKey.from_public_bytes(raw).verify(sig, content_hash.encode())
    except (ValidationError, InvalidSignature, ValueError):
        return False
    return True


# ---------------------------------------------------------------------------------------------
# trusted keys per scope (global dir, trusted-keys.json, 0600)


def _trust_path(layout: Layout) -> str:
    return os.path.join(layout.global_dir, TRUST_FILE)


def trusted(layout: Layout) -> dict[str, list[str]]:
    from ..store.jsonio import load_file

    try:
        doc = load_file(_trust_path(layout))
    except FileNotFoundError:
        return {}
    scopes = doc.get("scopes") if isinstance(doc, dict) else None
    if not isinstance(scopes, dict):
        return {}
    return {str(k): [str(x) for x in v] for k, v in scopes.items() if isinstance(v, list)}


def check_scope(scope: str) -> str:
    from . import registry

    if not scope.startswith("@") or not registry.valid_part(scope[1:]):
        raise ValidationError(f"a scope looks like @desk (a-z, 0-9, -), not {scope!r}")
    return scope


def trust(layout: Layout, scope: str, key: str) -> dict[str, Any]:
    from ..store import jsonio

    check_scope(scope)
    key = check_public_key(key)
    path = _trust_path(layout)

    def read(p: str) -> dict[str, Any]:
        try:
            doc = jsonio.load_file(p)
        except FileNotFoundError:
            doc = {}
        if not isinstance(doc, dict) or not isinstance(doc.get("scopes"), dict):
            doc = {"schema_version": 1, "scopes": {}}
        return doc

    added = [False]

    def change(doc: dict[str, Any]) -> bool:
        keys = doc["scopes"].setdefault(scope, [])
        if key in keys:
            return False
        keys.append(key)
        added[0] = True
        return True

    jsonio.locked_update(path, read, change, lambda d: jsonio.dumps(d, newline=True))
    return {"scope": scope, "key": key, "added": added[0], "trusted": trusted(layout).get(scope, [])}


# ---------------------------------------------------------------------------------------------
# the install-time decision


def check_package(
    *,
    name: str,
    content_hash: str,
    signature: str,
    signing_key: str,
    pinned: str,
    trusted_keys: list[str],
    require: bool,
) -> tuple[bool, str]:
    """(signed, key to pin) for a downloaded package, or the signature error (DEVIATIONS D10)."""
    scope = name.split("/", 1)[0]
    if signature or signing_key:
        if not (signature and signing_key) or not verify(signing_key, signature, content_hash):
            raise RegistryError(
                "SIGNATURE_INVALID",
                f"{name}: the signature does not verify against the package's content "
                f"(signing key {signing_key[:60] or 'missing'})",
                hint="the package was altered after it was signed, or the registry serves a wrong signature",
            )
        key = check_public_key(signing_key)
        if trusted_keys:
            if key not in trusted_keys:
                raise RegistryError(
                    "SIGNATURE_UNTRUSTED",
                    f"{name} is signed by {key}, which is not among the keys trusted for {scope}",
                    hint=f"if you trust it: buttons keys trust {scope} {key}",
                )
            return True, key
        if pinned and key != pinned:
            raise RegistryError(
                "SIGNATURE_KEY_CHANGED",
                f"{name} was signed by {pinned} when first installed; this version is signed by {key}",
                hint=f"if the publisher really changed keys: buttons keys trust {scope} {key}",
            )
        return True, key
    if trusted_keys:
        raise RegistryError(
            "SIGNATURE_REQUIRED",
            f"{name} is not signed, and keys are trusted for {scope}",
            hint="ask the publisher to sign it (buttons keys generate, then publish)",
        )
    if pinned:
        raise RegistryError(
            "SIGNATURE_REQUIRED",
            f"{name} was signed by {pinned} when first installed; this version is not signed",
            hint=f"if this is expected: buttons remove {name}, then add it again",
        )
    if require:
        raise RegistryError(
            "SIGNATURE_REQUIRED",
            f"{name} is not signed, and the setting require-signatures is on",
            hint="buttons config set require-signatures false accepts unsigned packages",
        )
    return False, ""
