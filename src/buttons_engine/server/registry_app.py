"""``buttons registry serve DIR``: the reference registry (CONTRACT 15.4) on Starlette and uvicorn.

Routes: ``GET /v1/meta``, ``GET /v1/index``, ``GET /v1/buttons/@desk/name/<version>/download``,
``POST /v1/buttons/@desk/name/<version>`` (write key). Errors are ``{"error": {"code", "message"}}``.
The storage and every check live in ``services/registry_host.py``; this module only speaks HTTP.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
from collections.abc import Iterator

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ..services import registry_host
from ..services.registry_host import Host, HostError

MAX_BODY = 64 * 1024 * 1024
BODY_TIMEOUT = 60.0


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def build(host: Host) -> Starlette:
    def auth(request: Request, *, write: bool) -> Response | None:
        if host.authorised(request.headers.get("authorization", ""), write=write):
            return None
        return _error(401, "UNAUTHORIZED", "a valid bearer key is required")

    async def meta(request: Request) -> Response:
        return JSONResponse({"service": registry_host.SERVICE})

    async def index(request: Request) -> Response:
        denied = auth(request, write=False)
        if denied:
            return denied
        entries = await run_in_threadpool(host.index)
        public = [{k: v for k, v in e.items() if k != "tarball_sha256"} for e in entries]
        return JSONResponse(public)

    async def download(request: Request) -> Response:
        denied = auth(request, write=False)
        if denied:
            return denied
        p = request.path_params
        try:
            path, headers = await run_in_threadpool(host.download, p["scope"], p["name"], p["version"])
        except HostError as exc:
            return _error(exc.status, exc.code, exc.message)
        return FileResponse(path, media_type="application/gzip", headers=headers)

    async def publish(request: Request) -> Response:
        denied = auth(request, write=True)
        if denied:
            return denied
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY:
            return _error(413, "BODY_TOO_LARGE", "a package is at most 64 MiB")
        chunks: list[bytes] = []
        total = 0
        try:
            with anyio.fail_after(BODY_TIMEOUT):
                async for chunk in request.stream():
                    total += len(chunk)
                    if total > MAX_BODY:
                        return _error(413, "BODY_TOO_LARGE", "a package is at most 64 MiB")
                    chunks.append(chunk)
        except TimeoutError:
            return _error(408, "REQUEST_TIMEOUT", "the body did not arrive in time")
        p = request.path_params
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            out = await run_in_threadpool(
                host.publish, p["scope"], p["name"], p["version"], b"".join(chunks), headers
            )
        except HostError as exc:
            return _error(exc.status, exc.code, exc.message)
        return JSONResponse(out, status_code=201)

    routes = [
        Route("/v1/meta", meta, methods=["GET"]),
        Route("/v1/index", index, methods=["GET"]),
        Route("/v1/buttons/{scope}/{name}/{version}/download", download, methods=["GET"]),
        Route("/v1/buttons/{scope}/{name}/{version}", publish, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def serve(host: Host, sock: socket.socket, on_ready: object) -> int:
    import uvicorn

    from .run import hardened_config

    config = hardened_config(build(host))

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # As uvicorn's, but the signal is not raised again afterwards: SIGTERM exits 0.
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGTERM, signal.SIGINT)}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and callable(on_ready):
                on_ready()

    Server(config).run(sockets=[sock])
    sys.stderr.flush()
    return 0
