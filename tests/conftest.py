"""Shared fixtures: an isolated data dir and a runner for the real ``buttons`` console script.

Every test that exercises behaviour goes through the installed console script in a real
subprocess, the way a user or an agent would call it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from http_support import RecordingServer

pytest_plugins = ["buttons_engine.testing"]

BUTTONS = str(Path(sys.executable).with_name("buttons"))


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def envelope(self) -> dict[str, Any]:
        """The single JSON envelope on stdout (fails the test if there is not exactly one)."""
        try:
            value = json.loads(self.stdout)
        except ValueError as exc:  # pragma: no cover - assertion helper
            raise AssertionError(
                f"stdout is not one JSON document: {self.stdout!r}\nstderr: {self.stderr}"
            ) from exc
        assert isinstance(value, dict) and "ok" in value, value
        return value

    @property
    def data(self) -> Any:
        env = self.envelope
        assert env["ok"] is True, env
        return env.get("data")

    @property
    def error(self) -> dict[str, Any]:
        env = self.envelope
        assert env["ok"] is False, env
        return env["error"]


class Buttons:
    """Runs the real console script against one ``BUTTONS_HOME``."""

    def __init__(self, home: Path, cwd: Path) -> None:
        self.home = home
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BUTTONS_")}
        self.env["BUTTONS_HOME"] = str(home)
        self.env.pop("NO_COLOR", None)

    def __call__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        input: str | None = None,
        cwd: Path | None = None,
    ) -> Run:
        full_env = dict(self.env)
        if env:
            full_env.update(env)
        proc = subprocess.run(
            [BUTTONS, *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            input=input,
            cwd=str(cwd or self.cwd),
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        return Run(list(args), proc.returncode, proc.stdout, proc.stderr)

    def popen(
        self, *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (), **kw: Any
    ) -> subprocess.Popen[str]:
        """``prefix``: a command that runs the console script (e.g. ``unshare --pid --fork``)."""
        full_env = dict(self.env)
        if env:
            full_env.update(env)
        return subprocess.Popen(
            [*prefix, BUTTONS, *args],
            env=full_env,
            cwd=str(self.cwd),
            text=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **kw,
        )

    def create(self, name: str, *extra: str) -> dict[str, Any]:
        r = self("create", name, *extra, "--json")
        assert r.returncode == 0, (r.stdout, r.stderr)
        return r.data


class InProcessButtons(Buttons):
    """``Buttons`` whose calls run the CLI in this process (``buttons_engine.testing.invoke``).

    Same interface, so a module of logic tests switches with one fixture (``bt_inproc``); calls
    that need a real process (``popen``) still start the console script.
    """

    def __call__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 120,
        input: str | None = None,
        cwd: Path | None = None,
    ) -> Run:
        from buttons_engine.testing import invoke

        full_env = dict(self.env)
        if env:
            full_env.update(env)
        saved_env, saved_cwd = dict(os.environ), os.getcwd()
        os.environ.clear()
        os.environ.update(full_env)
        os.chdir(cwd or self.cwd)
        try:
            r = invoke(list(args), stdin=input or "")
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
        return Run(list(args), r.returncode, r.stdout, r.stderr)


@pytest.fixture
def bt_inproc(buttons_home: Path, tmp_path: Path) -> InProcessButtons:
    work = tmp_path / "work"
    work.mkdir()
    return InProcessButtons(buttons_home, work)


@pytest.fixture
def buttons_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    return home


@pytest.fixture
def bt(buttons_home: Path, tmp_path: Path) -> Buttons:
    work = tmp_path / "work"
    work.mkdir()
    return Buttons(buttons_home, work)


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    """A recording HTTP server on 127.0.0.1 (tests/http_support.py), stopped after the test."""
    from http_support import RecordingServer

    srv = RecordingServer().start()
    yield srv
    srv.stop()


# Fleet fixtures (a real redis-server on a Unix socket; tests/fleet_support.py). Registered here so
# every test module can ask for them; the module imports redis only when a fleet test runs.
@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from fleet_support import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fleet(bt: Buttons, redis_server: Any, tmp_path: Path) -> Iterator[Any]:
    """Workers and serve nodes on the session's redis-server (emptied first), all stopped after."""
    from fleet_support import Fleet

    redis_server.client().flushall()
    f = Fleet(bt, redis_server, tmp_path / "fleet")
    try:
        yield f
    finally:
        f.close()


@pytest.fixture
def serve(bt: Buttons) -> Iterator[Callable[..., Any]]:
    """Start `buttons serve` with `start(*flags, env=None)`; every server started is stopped afterwards."""
    from serve_support import Server, stop_all

    started: list[Server] = []

    def start(*flags: str, env: dict[str, str] | None = None) -> Server:
        server = Server.start(bt, *flags, env=env)
        started.append(server)
        return server

    yield start
    stop_all(started)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Any]:
    """The reference registry (`buttons registry serve`) on 127.0.0.1 over a fresh folder."""
    from registry_support import RegistryServer

    srv = RegistryServer(tmp_path / "registry").start()
    yield srv
    srv.stop()


@pytest.fixture
def publisher(tmp_path: Path) -> Buttons:
    """A second workspace, the one that publishes to the registry."""
    work = tmp_path / "pub-work"
    work.mkdir()
    return Buttons(tmp_path / "pub-home", work)
