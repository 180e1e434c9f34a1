"""The reference registry (`buttons registry serve DIR`) as a test fixture, and hostile-registry helpers.

`RegistryServer` runs the real console script on 127.0.0.1 with a free port. `plant` writes a
package straight into the registry's folder (index entry + tarball), bypassing the publish
checks: that is how a hostile or compromised registry serves what it likes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

from conftest import BUTTONS

WRITE_KEY = "wk-" + "7" * 24
READ_KEY = "rk-" + "5" * 24


class RegistryServer:
    def __init__(self, root: Path, *, read_key: str = READ_KEY) -> None:
        self.root = root
        self.read_key = read_key
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> RegistryServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_")}
        env["BUTTONS_HOME"] = str(self.root.parent / "registry-home")
        env["BUTTONS_REGISTRY_SERVE_WRITE_KEY"] = WRITE_KEY
        if self.read_key:
            env["BUTTONS_REGISTRY_SERVE_READ_KEY"] = self.read_key
        self.proc = subprocess.Popen(
            [BUTTONS, "registry", "serve", str(self.root), "--port", "0", "--json"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        text = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(
                    f"registry did not start: {self.proc.stderr.read() if self.proc.stderr else ''}"
                )
            text += line
            try:
                doc = json.loads(text)
            except ValueError:
                continue
            self.url = "http://" + doc["data"]["addr"]
            return self
        raise AssertionError("registry did not start in 30 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def env(self, *, write: bool = False) -> dict[str, str]:
        env = {"BUTTONS_REGISTRY_URL": self.url, "BUTTONS_BAT_REGISTRY_KEY": self.read_key or "none"}
        if write:
            env["BUTTONS_BAT_REGISTRY_WRITE_KEY"] = WRITE_KEY
        return env

    def index(self) -> list[dict[str, Any]]:
        path = self.root / "index.json"
        return json.loads(path.read_text()) if path.exists() else []

    def plant(
        self,
        name: str,
        version: str,
        tarball: bytes,
        *,
        kind: str = "button",
        sha: str | None = None,
        **extra: Any,
    ) -> None:
        """Serve ``tarball`` as ``name@version`` without any of publish's checks (a hostile registry)."""
        scope, short = name.split("/", 1) if "/" in name else ("@x", name)
        path = self.root / "packages" / scope / short / f"{version}.tar.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tarball)
        entries = self.index()
        entries.append(
            {
                "name": name,
                "kind": kind,
                "version": version,
                "tags": [],
                "sha256": "",
                "tarball_sha256": hashlib.sha256(tarball).hexdigest() if sha is None else sha,
                **extra,
            }
        )
        (self.root / "index.json").write_text(json.dumps(entries))


def button_files(name: str, code: str = "echo hi\n", **spec: Any) -> dict[str, bytes]:
    doc = {"schema_version": 1, "name": name, "runtime": "shell", "timeout_seconds": 30, "args": [], **spec}
    return {"button.json": json.dumps(doc).encode(), "main.sh": code.encode()}


def tar_gz(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A gzip'd tar of arbitrary members (links, devices, odd paths) made with ``tarfile``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tf:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                tf.addfile(info)
    return buf.getvalue()


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None
