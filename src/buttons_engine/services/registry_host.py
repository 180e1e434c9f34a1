"""The reference registry's storage: CONTRACT 15.4 over a folder (``buttons registry serve DIR``).

Layout of ``DIR``::

    index.json                               the index, in publish order (latest = last entry)
    packages/@desk/name/<version>.tar.gz     the tarballs as published

A publish is checked as hard as an install: the ``X-Content-Sha256`` must match, the archive
must pass the same hardened extraction (limits, no links or devices, a ``button.json`` or
``drawer.json`` of the declared kind), and a signature, when sent, must verify. The index is
rewritten atomically under a lock, so concurrent publishes of one version give one 201 and
one 409 ``VERSION_EXISTS``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import tempfile
import threading

from ..errors import ButtonsError, StorageError
from ..store import packages as store
from ..store.atomic import ensure_dir, write_atomic
from ..store.jsonio import dumps, load_file
from . import registry, signing

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SERVICE = "buttons-python reference registry"
WRITE_KEY_ENV = "BUTTONS_REGISTRY_SERVE_WRITE_KEY"
READ_KEY_ENV = "BUTTONS_REGISTRY_SERVE_READ_KEY"


class HostError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def read_key_file(path: str, what: str) -> str:
    from ..errors import ValidationError

    try:
        with open(path, encoding="utf-8") as fh:
            value = fh.read(4096).strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read the {what} from {path}: {exc}") from None
    if not value:
        raise ValidationError(f"{path} holds no {what}")
    return value


class Host:
    def __init__(self, root: str, *, write_key: str, read_key: str = "") -> None:
        self.root = os.path.abspath(root)
        self.write_key = write_key
        self.read_key = read_key
        self._lock = threading.Lock()
        ensure_dir(self.root)
        ensure_dir(os.path.join(self.root, "packages"), root=self.root)
        self.index_path = os.path.join(self.root, "index.json")

    def authorised(self, header: str, *, write: bool) -> bool:
        key = self.write_key if write else self.read_key
        if not key:
            return not write
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())

    def index(self) -> list[dict[str, Any]]:
        try:
            value = load_file(self.index_path)
        except FileNotFoundError:
            return []
        return value if isinstance(value, list) else []

    def _tarball(self, name: str, version: str) -> str:
        scope, _, short = name.partition("/")
        return os.path.join(self.root, "packages", scope, short, f"{version}.tar.gz")

    def check(self, scope: str, short: str, version: str) -> str:
        name = f"{scope}/{short}"
        if not registry.is_scoped(name):
            raise HostError(400, "BAD_NAME", "package name must look like @desk/name")
        if not version.isdigit() or len(version) > 18 or str(int(version)) != version:
            raise HostError(400, "BAD_VERSION", "version must be a whole number")
        return name

    def download(self, scope: str, short: str, version: str) -> tuple[str, dict[str, str]]:
        name = self.check(scope, short, version)
        entry = next((e for e in self.index() if e.get("name") == name and e.get("version") == version), None)
        path = self._tarball(name, version)
        if entry is None or not os.path.isfile(path):
            raise HostError(404, "NOT_FOUND", f"{name}@{version} is not published")
        headers = {"X-Content-Sha256": str(entry.get("tarball_sha256", ""))}
        if entry.get("signature"):
            headers["X-Content-Signature"] = str(entry["signature"])
            headers["X-Signing-Key"] = str(entry.get("signing_key", ""))
        return path, headers

    def publish(
        self, scope: str, short: str, version: str, body: bytes, headers: dict[str, str]
    ) -> dict[str, Any]:
        name = self.check(scope, short, version)
        sha = hashlib.sha256(body).hexdigest()
        declared = headers.get("x-content-sha256", "").strip().lower()
        if declared != sha:
            raise HostError(400, "SHA_MISMATCH", "X-Content-Sha256 does not match the body")
        kind = headers.get("x-button-kind", "")
        if kind not in ("button", "drawer"):
            raise HostError(400, "BAD_KIND", "X-Button-Kind must be button or drawer")
        with tempfile.TemporaryDirectory(prefix=".check-", dir=self.root) as tmp:
            try:
                files = store.extract(io.BytesIO(body), tmp)
            except store.ArchiveError as exc:
                raise HostError(400, "BAD_ARCHIVE", exc.message) from None
            spec_file = "button.json" if kind == "button" else "drawer.json"
            if spec_file not in files:
                raise HostError(400, "BAD_ARCHIVE", f"a {kind} package needs {spec_file}")
            content = store.tree_hash(tmp)
        signature = headers.get("x-content-signature", "")
        key = headers.get("x-signing-key", "")
        if (signature or key) and not signing.verify(key, signature, content):
            raise HostError(400, "SIGNATURE_INVALID", "the signature does not verify")
        entry: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "version": version,
            "tags": [],
            "sha256": content,
            "tarball_sha256": sha,
        }
        if signature:
            entry["signature"] = signature
            entry["signing_key"] = signing.check_public_key(key)
        with self._lock:
            entries = self.index()
            if any(e.get("name") == name and e.get("version") == version for e in entries):
                raise HostError(409, "VERSION_EXISTS", f"{name}@{version} is already published")
            path = self._tarball(name, version)
            try:
                ensure_dir(os.path.dirname(path), root=self.root)
                write_atomic(path, body)
                entries.append(entry)
                write_atomic(self.index_path, dumps(entries, newline=True))
            except (OSError, ButtonsError) as exc:
                raise StorageError(f"cannot store {name}@{version}: {exc}") from None
        return {"name": name, "version": version, "sha256": content}
