"""Helpers for driving ``buttons serve`` in tests: a real server on 127.0.0.1, started and stopped here.

``Server.start(bt, *flags)`` runs the console script with ``--port 0 --json``, reads the bound
address from its startup line on stderr, and hands out ``httpx`` clients. ``raw(...)`` speaks bytes
on a plain socket, for requests ``httpx`` would never send (slow headers, lying lengths).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from conftest import Buttons

STARTUP_TIMEOUT = 30.0


class Server:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.stderr_lines: list[str] = []
        self.addr = ""
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        if not self._ready.wait(STARTUP_TIMEOUT):
            self.kill()
            raise AssertionError(f"buttons serve did not start: {self.stderr}")
        if not self.addr:
            self.proc.wait(10)
            raise AssertionError(f"buttons serve exited: {self.stderr}")
        self.host, port = self.addr.rsplit(":", 1)
        self.port = int(port)
        self.url = f"http://{self.addr}"

    @classmethod
    def start(cls, bt: Buttons, *flags: str, env: dict[str, str] | None = None) -> Server:
        return cls(bt.popen("serve", "--port", "0", "--json", *flags, env=env))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)
            m = re.search(r"listening on http://(\S+)", line)
            if m:
                self.addr = m.group(1)
                self._ready.set()
        self._ready.set()

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def startup(self) -> dict[str, Any]:
        """The startup envelope printed on stdout (read after the server has exited)."""
        assert self.proc.stdout is not None
        value: dict[str, Any] = json.loads(self.proc.stdout.read())
        return value

    def client(self, key: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kw)

    def raw(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=30)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response read off a raw socket (the server closes or sends Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def write_drawer(
    bt: Buttons,
    name: str,
    steps: list[dict[str, Any]],
    *,
    inputs: list[dict[str, Any]] | None = None,
    triggers: list[dict[str, Any]] | None = None,
    mcp_enabled: bool | None = None,
) -> Path:
    """Write ``drawers/<name>/drawer.json`` directly, in the contract's format (CONTRACT 11.1, 12.2),
    the way ``drawer create``/``add``/``trigger webhook`` leave it."""
    doc: dict[str, Any] = {
        "schema_version": 2,
        "name": name,
        "drawer_kind": "action",
        "version": "1",
        "steps": steps,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    if inputs is not None:
        doc["inputs"] = inputs
    if triggers is not None:
        doc["triggers"] = triggers
    if mcp_enabled is not None:
        doc["mcp_enabled"] = mcp_enabled
    folder = bt.home / "drawers" / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "drawer.json"
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return path


def drawer_runs(bt: Buttons, name: str) -> list[dict[str, Any]]:
    """The drawer's run records, newest first (`buttons drawer NAME logs --json`)."""
    r = bt("drawer", name, "logs", "--json")
    assert r.returncode == 0, r.stderr
    runs: list[dict[str, Any]] = r.data
    return runs


def wait_drawer_runs(bt: Buttons, name: str, count: int) -> list[dict[str, Any]]:
    """Wait (60 s at most) until the drawer has ``count`` finished runs; return them."""
    deadline = time.monotonic() + 60
    while True:
        runs = [r for r in drawer_runs(bt, name) if r.get("status") != "running"]
        if len(runs) >= count:
            return runs
        assert time.monotonic() < deadline, f"{name} ran {len(runs)} times, expected {count}"
        time.sleep(0.1)


# The `serve` fixture (tests/conftest.py): start(*flags, env=None) -> a running Server.
Start = Callable[..., Server]


def capture_drawer(bt: Buttons, out: Path, name: str, triggers: list[dict[str, Any]]) -> None:
    """A drawer whose one step appends ``inputs.webhook`` (compact JSON) to ``out``."""
    if not (bt.home / "buttons" / "capture").exists():
        bt.create(
            "capture",
            "--code",
            f'printf %s "$BUTTONS_ARG_PAYLOAD" >> {out}; echo >> {out}',
            "--arg",
            "payload:string:required",
        )
    write_drawer(
        bt,
        name,
        [{"id": "cap", "kind": "button", "button": "capture", "args": {"payload": "${inputs.webhook}"}}],
        triggers=triggers,
    )


def stop_all(servers: list[Server]) -> None:
    """Fixture teardown: stop every server gracefully, and kill any that would not stop."""
    for server in servers:
        try:
            server.stop(timeout=60)
        finally:
            server.kill()
