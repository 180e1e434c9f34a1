"""A real HTTP server for HTTP-button tests: it records every request it receives.

Routes (by path prefix):

* ``/status/<code>``          respond with that status and a short body
* ``/redirect?to=<url>``      302 (or ``&code=<n>``) to ``to``
* ``/hops/<n>``               a chain of n more same-host redirects, then 200
* ``/slow/<seconds>``         wait before sending anything
* ``/drip``                   send headers, then one byte every 0.2 s until the client leaves
* ``/stream/<bytes>``         stream that many ``x`` bytes with a Content-Length
* ``/stream-close/<bytes>``   the same, without a length (body ends when the connection closes)
* anything else               200 with a JSON echo of the request

Nothing here resolves names or leaves the address it is bound to.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CHUNK = 64 * 1024


class Recorded(dict[str, Any]):
    """One received request: method, path (raw, as sent), query (parsed), headers, body."""


class _Handler(BaseHTTPRequestHandler):
    server: RecordingServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _record(self) -> Recorded:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        rec = Recorded(
            method=self.command,
            path=split.path,
            raw_target=self.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=[(k, v) for k, v in self.headers.items()],
            body=body.decode("utf-8", "replace"),
        )
        with self.server.lock:
            self.server.requests.append(rec)
        return rec

    def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        rec = self._record()
        path = rec["path"]
        try:
            if path.startswith("/status/"):
                code = int(path.split("/")[2])
                self._send(code, f"status {code} body".encode())
            elif path.startswith("/redirect"):
                to = rec["query"]["to"][0]
                code = int(rec["query"].get("code", ["302"])[0])
                self._send(code, b"", {"Location": to})
            elif path.startswith("/hops/"):
                left = int(path.split("/")[2])
                if left > 0:
                    self._send(302, b"", {"Location": f"/hops/{left - 1}"})
                else:
                    self._send(200, b"arrived")
            elif path.startswith("/slow/"):
                time.sleep(float(path.split("/")[2]))
                self._send(200, b"slow body")
            elif path.startswith("/drip"):
                self.send_response(200)
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                for _ in range(1000):
                    self.wfile.write(b"d")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif path.startswith("/stream"):
                total = int(path.split("/")[2])
                self.send_response(200)
                if path.startswith("/stream-close/"):
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(total))
                self.end_headers()
                block = b"x" * CHUNK
                sent = 0
                while sent < total:
                    n = min(CHUNK, total - sent)
                    self.wfile.write(block[:n])
                    sent += n
                with self.server.lock:
                    self.server.streamed_completely = True
            else:
                self._send(200, json.dumps(dict(rec)).encode(), {"Content-Type": "application/json"})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.streamed_completely = False
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> RecordingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def paths(self) -> list[str]:
        with self.lock:
            return [r["raw_target"] for r in self.requests]


def write_resolver(path: Any, answers: dict[str, list[str]]) -> str:
    """Write a BUTTONS_TEST_RESOLVER_FILE: fake DNS answers that replace the system resolver."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(answers, fh)
    return str(path)
