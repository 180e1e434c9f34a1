"""Helpers for fleet tests: a real Debian ``redis-server`` on a Unix socket, real ``buttons worker``
processes and a real ``buttons serve --redis``.

``redis-server`` is installed by the project's set-up (``scripts/bootstrap``, apt). The server
listens on a socket in a temporary directory (``--port 0``: no TCP, no network, no port clash),
persists nothing unless a test asks, and is stopped at the end of the session.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import Buttons
from serve_support import Server

FLEET_KEY = "test-fleet-key-0123456789abcdef"
STARTUP_TIMEOUT = 30.0


class RedisServer:
    def __init__(self, directory: Path, *extra: str) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail(
                "redis-server is not installed: run scripts/bootstrap (it installs Debian's redis-server)"
            )
        self.dir = directory
        self.sock = directory / "r.sock"
        self.url = f"unix://{self.sock}"
        self.extra = extra
        self.exe = exe
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        args = [
            self.exe,
            "--port", "0",
            "--unixsocket", str(self.sock),
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "no",
            "--logfile", str(self.dir / "redis.log"),
            *self.extra,
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                redis.Redis(unix_socket_path=str(self.sock)).ping()
                return
            except redis.RedisError:
                assert self.proc.poll() is None, (self.dir / "redis.log").read_text()
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.sock))


def fleet_env(url: str, **extra: str) -> dict[str, str]:
    return {"BUTTONS_FLEET_KEY": FLEET_KEY, "BUTTONS_REDIS_URL": url, **extra}


class Worker:
    """One real ``buttons worker`` process with its own data dir."""

    def __init__(
        self,
        bt: Buttons,
        url: str,
        data_dir: Path,
        *flags: str,
        env: dict[str, str] | None = None,
        prefix: tuple[str, ...] = (),
    ):
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = bt.popen(
            "worker", "--redis", url, "--json", "--data-dir", str(data_dir), *flags,
            env={**fleet_env(url), **(env or {})}, prefix=prefix,
        )  # fmt: skip
        self.stderr_lines: list[str] = []
        assert self.proc.stdout is not None
        line = ""
        for part in self.proc.stdout:  # the ready envelope (pretty-printed JSON, ends with "}")
            line += part
            if part == "}\n":
                break
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        if not line:
            self.proc.wait(10)
            self._reader.join(5)
            raise AssertionError(f"buttons worker did not start: {self.stderr}")
        self.info: dict[str, Any] = json.loads(line)["data"]

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def battery(self, bt: Buttons, key: str, value: str) -> None:
        r = bt("batteries", "set", key, value, env={"BUTTONS_HOME": str(self.data_dir)})
        assert r.returncode == 0, r.stderr

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


class Fleet:
    """Workers and a serve node on one Redis, all stopped at the end of the test."""

    def __init__(self, bt: Buttons, redis_server: RedisServer, tmp: Path) -> None:
        self.bt = bt
        self.redis = redis_server
        self.tmp = tmp
        self.workers: list[Worker] = []
        self.servers: list[Server] = []

    def worker(
        self, *flags: str, name: str = "", env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
    ) -> Worker:
        d = self.tmp / (name or f"worker{len(self.workers)}")
        w = Worker(self.bt, self.redis.url, d, *flags, env=env, prefix=prefix)
        self.workers.append(w)
        return w

    def serve(self, *flags: str, env: dict[str, str] | None = None) -> Server:
        s = Server.start(
            self.bt, "--redis", self.redis.url, *flags, env={**fleet_env(self.redis.url), **(env or {})}
        )
        self.servers.append(s)
        return s

    def close(self) -> None:
        for w in self.workers:
            w.kill()
        for s in self.servers:
            s.kill()


def press(
    server: Server, name: str, body: dict[str, Any] | None = None, timeout: float = 120
) -> dict[str, Any]:
    with server.client() as client:
        r = client.post(f"/api/buttons/{name}/press", json=body or {}, timeout=timeout)
    value: dict[str, Any] = r.json()
    value["_status"] = r.status_code
    return value


def records(bt: Buttons, name: str) -> list[dict[str, Any]]:
    pressed = bt.home / "buttons" / name / "pressed"
    if not pressed.is_dir():
        return []
    return [json.loads(p.read_text()) for p in sorted(pressed.glob("*.json"))]


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, dead and not yet reaped, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
