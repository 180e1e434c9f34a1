"""The client side of the registry protocol (CONTRACT 15.4), with every response treated as hostile.

- One origin: redirects are followed only to the same scheme, host and port (at most 5); a
  redirect to another host is refused, as HTTP buttons refuse it, so the bearer key never
  travels anywhere the user did not name.
- A key is never sent in clear to another machine: a plain ``http://`` registry URL is accepted
  only for a loopback host (``127.0.0.0/8``, ``::1``, ``localhost``).
- Time: 30 s for the whole request (``BUTTONS_REGISTRY_TIMEOUT`` overrides it, in seconds): the
  connection goes through the HTTP buttons' pinned transport (``engine/http/transport.py``), whose
  deadline bounds every socket operation (connect, TLS, headers, body), so a server that drips
  its headers or its body is cut off at the deadline too. The registry host is whatever the user
  configured (a team registry on a private address is normal), so no SSRF blocklist applies.
- Size: JSON answers at most 16 MiB, downloads at most 64 MiB (streamed to a temporary file);
  5xx and other failures are reported with the registry's own error message, shortened.
- Keys never appear in an error: any text quoted from the registry has them blanked out.
- No proxies from the environment (``trust_env=False``): the registry is reached directly.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import tempfile
import time
from urllib.parse import quote, urlsplit

from ..errors import RegistryError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

TIMEOUT = 30.0
TIMEOUT_ENV = "BUTTONS_REGISTRY_TIMEOUT"
MAX_JSON = 16 * 1024 * 1024
MAX_DOWNLOAD = 64 * 1024 * 1024
MAX_REDIRECTS = 5


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, with_key: bool, code: str) -> str:
    """The registry URL without a trailing slash, or a refusal."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistryError(code, f"registry URL {url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise RegistryError(code, "registry URL must not carry a user name or password")
    if parts.scheme == "http" and with_key and not is_loopback_host(parts.hostname):
        raise RegistryError(
            code,
            f"refusing to send a registry key over plain http to {parts.hostname}: "
            "use an https:// registry URL (plain http is allowed for loopback hosts only)",
        )
    return url.strip().rstrip("/")


def package_path(name: str, version: str) -> str:
    scope, _, short = name.partition("/")
    return f"/v1/buttons/{quote(scope, safe='@')}/{quote(short, safe='')}/{quote(version, safe='')}"


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class Client:
    """One registry, one key, one command (a fresh connection per request)."""

    def __init__(self, url: str, key: str, *, code: str) -> None:
        self.code = code
        self.url = check_url(url, with_key=bool(key), code=code)
        self.key = key
        try:
            self.timeout = float(os.environ.get(TIMEOUT_ENV, "") or TIMEOUT)
        except ValueError:
            self.timeout = TIMEOUT
        if not 0 < self.timeout <= 3600:
            self.timeout = TIMEOUT
        import httpx

        self._httpx = httpx
        self._ssl: Any = None

    def close(self) -> None:
        """Nothing stays open between requests (each has its own connection)."""

    def _client_for(self, url: str, deadline: Any) -> Any:
        """An httpx client whose one connection goes to ``url``'s host and lives under ``deadline``:
        every socket operation (connect, TLS, headers, body) waits at most until it."""
        import socket

        import httpx

        from ..engine import ssrf
        from ..engine.http.transport import PinnedBackend, PinnedTransport

        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        literal = ssrf.parse_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise self.fail(f"cannot resolve registry host {host}: {exc}") from None
            addresses = []
            for info in infos:
                ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
                if ip not in addresses:
                    addresses.append(ip)
        if parts.scheme == "https" and self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        transport = PinnedTransport(
            PinnedBackend(host, port, addresses, deadline), self._ssl if parts.scheme == "https" else None
        )
        client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            headers={"Accept": "application/json", "User-Agent": "buttons-python"},
        )
        return client

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scrub(self, text: str) -> str:
        if self.key and self.key in text:
            text = text.replace(self.key, "[key]")
        return text

    def fail(self, message: str) -> RegistryError:
        return RegistryError(self.code, self.scrub(message))

    # -- requests ----------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        max_bytes: int,
        sink: IO[bytes] | None = None,
    ) -> Response:
        import httpcore
        import httpx

        from ..engine.http.transport import Deadline

        clock = Deadline(self.timeout)
        deadline = time.monotonic() + self.timeout
        url = self.url + path
        origin = urlsplit(self.url)
        hdrs = dict(headers or {})
        if self.key:
            hdrs["Authorization"] = f"Bearer {self.key}"
        for _hop in range(MAX_REDIRECTS + 1):
            with self._client_for(url, clock) as client:
                try:
                    request = client.build_request(method, url, content=body, headers=hdrs)
                    resp = client.send(request, stream=True)
                except (httpx.TimeoutException, httpcore.TimeoutException):
                    raise self.fail(f"registry {self.url} did not answer within {self.timeout:g} s") from None
                except (httpx.HTTPError, httpcore.NetworkError, httpcore.ProtocolError) as exc:
                    raise self.fail(f"cannot reach registry {self.url}: {exc}") from None
                try:
                    if resp.status_code in (301, 302, 303, 307, 308):
                        target = resp.headers.get("location", "")
                        nxt = urlsplit(str(resp.url.join(target)))
                        if (nxt.scheme, nxt.hostname, nxt.port) != (
                            origin.scheme,
                            origin.hostname,
                            origin.port,
                        ):
                            raise self.fail(
                                f"registry {self.url} redirected to another host "
                                f"({nxt.scheme}://{nxt.netloc}): refused, the key is only sent to the "
                                "registry you named"
                            )
                        url = nxt.geturl()
                        if resp.status_code == 303:
                            method, body = "GET", None
                        continue
                    return self._read(resp, deadline, max_bytes, sink)
                finally:
                    resp.close()
        raise self.fail(f"registry {self.url} redirected more than {MAX_REDIRECTS} times")

    def _read(self, resp: Any, deadline: float, max_bytes: int, sink: IO[bytes] | None) -> Response:
        import httpcore

        httpx = self._httpx
        ok = 200 <= resp.status_code < 300
        limit = max_bytes if ok else 64 * 1024
        declared = resp.headers.get("content-length")
        if ok and declared and declared.isdigit() and int(declared) > limit:
            raise self.fail(f"registry answer is too large ({declared} bytes; at most {limit})")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in resp.iter_raw(64 * 1024):
                size += len(chunk)
                if size > limit:
                    if not ok:
                        break
                    raise self.fail(f"registry answer is too large (over {limit} bytes)")
                if time.monotonic() > deadline:
                    raise self.fail(f"registry {self.url} did not finish answering within {self.timeout:g} s")
                if sink is not None and ok:
                    sink.write(chunk)
                else:
                    chunks.append(chunk)
        except (httpx.TimeoutException, httpcore.TimeoutException):
            raise self.fail(
                f"registry {self.url} did not finish answering within {self.timeout:g} s"
            ) from None
        except (httpx.HTTPError, httpcore.NetworkError, httpcore.ProtocolError) as exc:
            raise self.fail(f"registry {self.url} broke off its answer: {exc}") from None
        headers = {k.lower(): v for k, v in resp.headers.items()}
        return Response(resp.status_code, headers, b"".join(chunks))

    def error_text(self, resp: Response) -> tuple[str, str]:
        """(code, message) of a failed answer: the registry's ``{"error": {...}}`` or the status."""
        import json

        code, message = "", ""
        try:
            doc = json.loads(resp.body)
            err = doc.get("error") if isinstance(doc, dict) else None
            if isinstance(err, dict):
                code = str(err.get("code") or "")[:64]
                message = str(err.get("message") or "")[:300]
        except (ValueError, UnicodeDecodeError):
            pass
        message = "".join(c if c.isprintable() else " " for c in message)
        return code, self.scrub(message)

    def failed_answer(self, what: str, resp: Response) -> RegistryError:
        code, message = self.error_text(resp)
        detail = f": {code} {message}".rstrip() if code or message else ""
        return self.fail(f"registry {self.url} answered {resp.status} to {what}{detail}")

    def get_json(self, path: str) -> Any:
        import json

        resp = self._send("GET", path, max_bytes=MAX_JSON)
        if resp.status != 200:
            raise self.failed_answer(f"GET {path}", resp)
        try:
            return json.loads(resp.body)
        except (ValueError, UnicodeDecodeError):
            raise self.fail(f"registry answered GET {path} with something that is not JSON") from None

    def download(self, name: str, version: str, dest_dir: str) -> tuple[str, dict[str, str]]:
        """Stream a package to a temporary file in ``dest_dir``; verify ``X-Content-Sha256``."""
        path = package_path(name, version) + "/download"
        fd, tmp = tempfile.mkstemp(prefix=".download-", suffix=".tmp", dir=dest_dir)
        try:
            with os.fdopen(fd, "w+b") as sink:
                resp = self._send("GET", path, max_bytes=MAX_DOWNLOAD, sink=sink)
            if resp.status != 200:
                raise self.failed_answer(f"the download of {name}@{version}", resp)
            expected = resp.headers.get("x-content-sha256", "").strip().lower()
            if expected:
                h = hashlib.sha256()
                with open(tmp, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
                if h.hexdigest() != expected:
                    raise self.fail(
                        f"download of {name}@{version} does not match its X-Content-Sha256 "
                        f"(got {h.hexdigest()}, registry said {expected[:64]})"
                    )
        except BaseException:
            os.unlink(tmp)
            raise
        return tmp, resp.headers

    def publish(self, name: str, version: str, body: bytes, headers: dict[str, str]) -> Response:
        return self._send("POST", package_path(name, version), body=body, headers=headers, max_bytes=MAX_JSON)
