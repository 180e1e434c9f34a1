"""Running the app on uvicorn: binding, slow clients, no banner, and the graceful stop.

- The listening socket is bound here (``--port 0`` picks a free port, reported on startup).
- Slow clients: a connection must deliver a request's headers within ``HEADER_TIMEOUT`` of
  opening (or of its previous response), else it is closed; a body must arrive within
  ``app.BODY_TIMEOUT`` (408). Requests are handled on one event loop, so a slow client holds a
  connection, never a worker: everyone else is served meanwhile.
- SIGTERM/SIGINT: stop accepting, close idle connections, let running presses finish for up to
  ``drain_timeout`` seconds, then cancel them (their ``cancel`` event: the kill chain ends each as
  ``CANCELLED`` and its record is written), answer them, and exit 0. A second signal cancels at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import ButtonsError
from .app import LOG_PREFIX, SECURE_HEADERS, Api, log

HEADER_TIMEOUT = 5.0  # seconds to receive a request's line and headers (CONTRACT 13: 5 s)
KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open
MAX_HEADER_BYTES = 16 * 1024  # a request line and headers larger than this are refused (400)
KILL_GRACE = 15.0  # seconds after the drain deadline for cancelled presses to be recorded
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class SlowClientProtocol(H11Protocol):
    """uvicorn's h11 protocol with a header read timeout (a slowloris client is cut off)."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # A request h11 cannot parse (malformed, or headers over MAX_HEADER_BYTES) never reaches
        # the app: answer it with the envelope and the secure headers too, not uvicorn's plain text.
        body = (
            b'{"ok":false,"error":{"code":"BAD_REQUEST","message":"malformed HTTP request, '
            b'or request headers over 16 KiB"}}\n'
        )
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *SECURE_HEADERS,
        ]
        self.transport.write(
            self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request"))
        )
        self.transport.write(self.conn.send(h11.Data(data=body)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()

    def _arm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT, self._header_timeout)

    def _header_timeout(self) -> None:
        self._header_timer = None
        # Still waiting for (the rest of) a request's headers: h11 has not produced the Request.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
            log(f"closing the connection of {client}: no complete request headers in {HEADER_TIMEOUT:g} s")
            self.transport.close()


class DrainingServer(uvicorn.Server):
    """uvicorn's server with the graceful stop of ``buttons serve``."""

    def __init__(
        self, config: uvicorn.Config, api: Api, drain_timeout: float, on_ready: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self.api = api
        self.drain_timeout = drain_timeout
        self.on_ready = on_ready
        self.stopped_by = 0
        self.trigger_tasks: list[asyncio.Task[None]] = []

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # As uvicorn's, but the signal is not raised again afterwards: the server exits 0.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.api.inflight.draining = True
        if self.should_exit:
            count = self.api.inflight.cancel_all()
            log(f"received signal {sig} again: cancelling {count} running press(es)")
            return
        self.stopped_by = sig
        self.should_exit = True

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        manager = self.api.mcp_manager
        if manager is None:
            await super().serve(sockets=sockets)
            return
        async with manager.run():  # the /mcp sessions live as long as the server
            await super().serve(sockets=sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            if self.api.settings.triggers:
                from .schedule import Scheduler, Watcher

                loop = asyncio.get_running_loop()
                self.trigger_tasks = [
                    loop.create_task(Scheduler(self.api).run()),
                    loop.create_task(Watcher(self.api).run()),
                ]
            self.on_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for task in self.trigger_tasks:  # no new trigger fires once stopping
            task.cancel()
        await asyncio.gather(*self.trigger_tasks, return_exceptions=True)
        inflight = self.api.inflight
        inflight.draining = True
        if inflight.cancels:
            log(
                f"stopping: waiting up to {self.drain_timeout:g} s "
                f"for {len(inflight.cancels)} running press(es)"
            )
        else:
            log("stopping")

        def deadline() -> None:
            count = inflight.cancel_all()
            if count:
                log(f"drain deadline passed: cancelling {count} running press(es)")

        timer = asyncio.get_running_loop().call_later(self.drain_timeout, deadline)
        try:
            await super().shutdown(sockets=sockets)
            await self.api.wait_background()
        finally:
            timer.cancel()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: a free one)."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ButtonsError(f"cannot resolve {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise ButtonsError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(False)
    return sock


def bound_address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def hardened_config(app: Any, **extra: Any) -> uvicorn.Config:
    """The uvicorn settings every server here shares (serve, webhook listen, registry serve): no
    Server banner, no proxy headers trusted, no websockets or lifespan, bounded header size, slow
    clients cut off by :class:`SlowClientProtocol`."""
    return uvicorn.Config(
        app,
        loop="asyncio",
        http=SlowClientProtocol,
        ws="none",
        lifespan="off",
        interface="asgi3",
        log_config=None,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        **extra,
    )


def serve(
    app: object,
    api: Api,
    sock: socket.socket,
    *,
    drain_timeout: float,
    on_ready: Callable[[], None],
) -> int:
    """Serve on ``sock`` until SIGTERM/SIGINT; returns the exit status (0)."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format=f"{LOG_PREFIX[0]} %(name)s: %(message)s"
    )
    config = hardened_config(
        app,
        timeout_keep_alive=KEEP_ALIVE,
        timeout_graceful_shutdown=int(drain_timeout + KILL_GRACE),
    )
    server = DrainingServer(config, api, drain_timeout, on_ready)
    server.run(sockets=[sock])
    if server.stopped_by:
        log(f"stopped (signal {server.stopped_by})")
    return 0
