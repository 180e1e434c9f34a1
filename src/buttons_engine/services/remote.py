"""``buttons press NAME --remote URL``: one press sent to a running ``buttons serve`` (issue 17).

The press goes through serve's REST API (``POST /api/buttons/{name}/press``, docs/serve.md), so a
machine that presses remotely needs neither Redis nor the ``fleet`` extra: the standard library's
``http.client`` is the whole client, imported only here. What comes back is turned into the
``PressResponse`` a local press returns, so the CLI prints it and picks its exit code the same way::

    from buttons_engine.services import remote

    response = remote.press("http://127.0.0.1:8080", "greet", args={"who": "bob"})
    print(response.data()["stdout"])

- **The answer.** Serve answers a press that ran with ``200 {"ok": true, "data": <result>}`` whatever
  its status; a result that is not ``ok`` becomes the error a local press has (its code is the
  result's ``error_type``, its message the result's stderr, the result attached), a cached
  idempotent answer stays a cached answer. A refusal (``NOT_FOUND``, ``UNAUTHORIZED``, ``BUSY``, …)
  is serve's error envelope, passed on as it is.
- **The key.** ``$BUTTONS_API_KEY``, else the file ``$BUTTONS_API_KEY_FILE`` names: the variables
  ``serve`` reads. It travels as ``Authorization: Bearer``, never in clear to another machine
  (plain ``http://`` only to a loopback host, as the registry client), never after a redirect
  (redirects are not followed), and is blanked out of anything the server answers.
- **Time.** The press's timeout (serve caps it at 300 s; none given: 300 s) plus 30 s for the kill
  chain, the record and a fleet worker's lease; a watchdog closes the connection at that deadline
  however slowly the server drips its answer. Closing the connection makes serve cancel the press.
- **No proxy** from the environment; TLS with the system's CA store (``SSL_CERT_FILE`` works).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from urllib.parse import quote, urlsplit

from ..errors import (
    ButtonsError,
    RemoteBadResponse,
    RemoteTimeout,
    RemoteUnreachable,
    ValidationError,
    error_for_code,
)
from ..results import PressResponse, failure_message

TYPE_CHECKING = False
if TYPE_CHECKING:
    import http.client
    from typing import Any

TIMEOUT_CAP = 300  # seconds: serve's cap on a press (services/serve.py TIMEOUT_CAP)
MARGIN = 30.0  # seconds past the press's timeout: kill chain (5 s), record, a fleet lease (15 s)
CONNECT_TIMEOUT = 15.0  # seconds to open the connection (and finish TLS)
MAX_ANSWER = 256 * 1024 * 1024  # bytes: a press result holds at most a few MiB of output
IDEMPOTENCY_HEADER = "Idempotency-Key"


class Target:
    """A checked server URL: where to connect and the path prefix of its API."""

    __slots__ = ("host", "port", "prefix", "scheme", "url")

    def __init__(self, url: str, *, with_key: bool) -> None:
        text = url.strip()
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:
            raise ValidationError(f"--remote {url!r} is not a URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise ValidationError(
                f"--remote must be an http:// or https:// URL, not {url!r}",
                hint="the address 'buttons serve' prints, e.g. http://127.0.0.1:8080",
            )
        if not parts.hostname:
            raise ValidationError(f"--remote {url!r} names no host")
        if parts.username is not None or parts.password is not None:
            raise ValidationError(
                "--remote must not carry a user name or password",
                hint="put the server's API key in $BUTTONS_API_KEY or a file named by $BUTTONS_API_KEY_FILE",
            )
        if parts.query or parts.fragment:
            raise ValidationError(f"--remote {url!r} must not have a query or a fragment")
        if scheme == "http" and with_key:
            from .serve import is_loopback

            if not is_loopback(parts.hostname):
                raise ValidationError(
                    f"refusing to send the API key over plain http to {parts.hostname}: "
                    "use an https:// URL (plain http is allowed for loopback hosts only)",
                    hint="put 'buttons serve' behind a TLS reverse proxy, or tunnel to it "
                    "(ssh -L 8080:127.0.0.1:8080 HOST) and use http://127.0.0.1:8080",
                )
        self.scheme = scheme
        self.host = parts.hostname
        self.port = port or (443 if scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        netloc = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{scheme}://{netloc}:{self.port}{self.prefix}"

    def press_path(self, name: str) -> str:
        return f"{self.prefix}/api/buttons/{quote(name, safe='')}/press"


class RemoteResponse(PressResponse):
    """A ``PressResponse`` built from serve's answer: ``data()`` is the result as the server sent it."""

    __slots__ = ("answer",)

    def __init__(
        self,
        answer: dict[str, Any],
        *,
        error: ButtonsError | None = None,
        cached: bool = False,
        timeout: float = 0.0,
    ) -> None:
        super().__init__(error=error, cached=answer if cached else None, timeout=timeout)
        self.answer = answer

    def data(self) -> dict[str, Any]:
        return self.answer


def press(
    url: str,
    name: str,
    *,
    args: dict[str, str] | None = None,
    timeout: int = 0,
    idempotency_key: str = "",
) -> RemoteResponse:
    """Press ``name`` on the ``buttons serve`` at ``url``; raises a ``ButtonsError`` when no press
    result comes back (the server's refusal, or one of the ``REMOTE_*`` errors)."""
    from .serve import env_api_key

    key, source = env_api_key()
    target = Target(url, with_key=bool(key))
    body: dict[str, Any] = {"args": dict(args or {})}
    if timeout > 0:
        body["timeout"] = timeout
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": "buttons-python",
    }
    if key:
        if not _header_safe(key):
            raise ValidationError(f"the API key from {source} cannot be sent as an HTTP header")
        headers["Authorization"] = f"Bearer {key}"
    if idempotency_key:
        if _header_safe(idempotency_key):
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        else:  # not ASCII: serve reads headers as Latin-1, so the body field carries it exactly
            body["idempotency_key"] = idempotency_key
    payload = json.dumps(body).encode("ascii")  # \u escapes: a lone surrogate reaches serve's own check
    budget = min(timeout if timeout > 0 else TIMEOUT_CAP, TIMEOUT_CAP) + MARGIN
    status, location, content_type, raw = _exchange(target, name, headers, payload, budget)
    try:
        doc = _clean(_envelope(target, status, location, content_type, raw), key)
    except RecursionError:
        raise RemoteBadResponse(f"{target.url} answered JSON nested too deeply to be serve's") from None
    if doc["ok"] is False:
        err = doc["error"]
        exc = error_for_code(err["code"], err["message"])
        exc.hint = (
            err["hint"] if isinstance(err.get("hint"), str) else _hint(target, name, err["code"], source)
        )
        raise exc
    return _response(target, doc["data"])


def _hint(target: Target, name: str, code: str, source: str) -> str | None:
    """What to do next about a refusal serve answered without a hint (it never adds one)."""
    if code == "UNAUTHORIZED":
        if source:
            return f"the server refused the key from {source}"
        return "the server needs its API key: set $BUTTONS_API_KEY (or $BUTTONS_API_KEY_FILE to a file of it)"
    if code == "NOT_FOUND":
        return f"GET {target.url}/api/buttons lists the server's buttons"
    if code in ("MISSING_ARG", "VALIDATION_ERROR"):
        return f"GET {target.url}/api/buttons/{quote(name, safe='')} shows the button's arguments"
    return None


def _header_safe(value: str) -> bool:
    """Printable ASCII only: no CR/LF to split a header, nothing Latin-1 would change."""
    return all(" " <= ch <= "~" for ch in value)


def _exchange(
    target: Target, name: str, headers: dict[str, str], payload: bytes, budget: float
) -> tuple[int, str, str, bytes]:
    """POST ``payload`` to the press of ``name``; the status, ``Location``, ``Content-Type`` and
    body (at most MAX_ANSWER).

    A watchdog shuts the socket down at the deadline, so a server that answers one byte at a
    time cannot stretch the wait past it."""
    import http.client

    where = target.url
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        import ssl

        conn = http.client.HTTPSConnection(
            target.host, target.port, timeout=CONNECT_TIMEOUT, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=CONNECT_TIMEOUT)
    try:
        _connect(conn, target)
        deadline = time.monotonic() + budget
        expired = threading.Event()
        sock = conn.sock

        def cut() -> None:
            expired.set()
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        watchdog = threading.Timer(budget, cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            sock.settimeout(budget)
            conn.request("POST", target.press_path(name), body=payload, headers=headers)
            resp = conn.getresponse()
            length = resp.getheader("Content-Length")
            if length is not None and length.strip().isdigit() and int(length) > MAX_ANSWER:
                raise RemoteBadResponse(f"{where} answered with {int(length)} bytes, more than {MAX_ANSWER}")
            chunks: list[bytes] = []
            total = 0
            while True:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                chunk = resp.read(65536)
                if not chunk:
                    break
                total += len(chunk)
                if total > MAX_ANSWER:
                    raise RemoteBadResponse(f"{where} answered with more than {MAX_ANSWER} bytes")
                chunks.append(chunk)
            if expired.is_set():
                raise TimeoutError
            return (
                resp.status,
                resp.getheader("Location", ""),
                resp.getheader("Content-Type", ""),
                b"".join(chunks),
            )
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            runs = f"GET {target.url}/api/buttons/{quote(name, safe='')}/runs"
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise RemoteTimeout(
                    f"no answer from {where} within {budget:g} s (the press's timeout plus {MARGIN:g} s); "
                    "the connection is closed, which makes the server cancel the press if it still runs",
                    hint=f"the server's history has its run record: {runs}",
                ) from None
            raise RemoteBadResponse(
                f"the connection to {where} was lost before a whole answer came ({_reason(exc)}); "
                "the press may have run",
                hint=f"the server's history has its run record, if it ran: {runs}",
            ) from None
        finally:
            watchdog.cancel()
    finally:
        conn.close()


def _connect(conn: http.client.HTTPConnection, target: Target) -> None:
    """Open the connection (and TLS); every failure is ``REMOTE_UNREACHABLE`` with its reason."""
    import ssl

    where = f"{target.host}:{target.port}"
    try:
        conn.connect()
    except ConnectionRefusedError:
        raise RemoteUnreachable(
            f"nothing is listening at {where} (connection refused)",
            hint="is 'buttons serve' running there, on that port?",
        ) from None
    except socket.gaierror as exc:
        raise RemoteUnreachable(f"cannot resolve {target.host}: {exc.strerror or exc}") from None
    except TimeoutError:
        raise RemoteUnreachable(f"no connection to {where} within {CONNECT_TIMEOUT:g} s") from None
    except ssl.SSLCertVerificationError as exc:
        raise RemoteUnreachable(
            f"the TLS certificate of {target.host} was refused: {exc.verify_message or exc.reason}",
            hint="a private CA can be trusted with $SSL_CERT_FILE",
        ) from None
    except ssl.SSLError as exc:
        raise RemoteUnreachable(
            f"TLS with {where} failed ({exc.reason or exc}): is it an https server?"
        ) from None
    except OSError as exc:
        raise RemoteUnreachable(f"cannot connect to {where}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _envelope(target: Target, status: int, location: str, content_type: str, raw: bytes) -> dict[str, Any]:
    """Serve's envelope, checked: ``{"ok": true, "data": {...}}`` with 200, or ``{"ok": false,
    "error": {"code", "message"}}``; anything else (a proxy's page, a redirect) is refused."""
    where = target.url
    if 300 <= status < 400:
        shown = "".join(ch for ch in location[:200] if ch.isprintable())
        raise RemoteBadResponse(
            f"{where} answered HTTP {status}, a redirect{f' to {shown}' if shown else ''}; "
            "press --remote does not follow redirects (the key goes only where you said)",
            hint="pass the final URL with --remote",
        )
    try:
        doc = json.loads(raw)
    except RecursionError:
        raise RemoteBadResponse(f"{where} answered JSON nested too deeply to be serve's") from None
    except ValueError:
        kind = "".join(ch for ch in content_type[:100] if ch.isprintable()) or "no Content-Type"
        raise RemoteBadResponse(
            f"{where} answered HTTP {status} with a body that is not JSON ({kind}): "
            "is it a 'buttons serve', and is the URL its base address?"
        ) from None
    if isinstance(doc, dict) and doc.get("ok") is False:
        err = doc.get("error")
        if (
            isinstance(err, dict)
            and isinstance(err.get("code"), str)
            and _is_code(err["code"])
            and isinstance(err.get("message"), str)
        ):
            return doc
    elif (
        isinstance(doc, dict)
        and doc.get("ok") is True
        and status == 200
        and isinstance(doc.get("data"), dict)
    ):
        return doc
    raise RemoteBadResponse(
        f"{where} answered HTTP {status} with JSON that is not a buttons envelope: is it a 'buttons serve'?"
    )


def _is_code(code: str) -> bool:
    return (
        0 < len(code) <= 64
        and code[0].isalpha()
        and all(c.isupper() or c.isdigit() or c == "_" for c in code)
    )


def _response(target: Target, data: dict[str, Any]) -> RemoteResponse:
    """The press's answer as a ``PressResponse``: cached, ok, or failed with the error a local
    press of the same outcome has (code ``error_type``, message from stderr, the result attached)."""
    shape = (
        isinstance(data.get("status"), str)
        and isinstance(data.get("button"), str)
        and _is_int(data.get("exit_code"))
        and _is_int(data.get("duration_ms"))
        and all(isinstance(data.get(k, ""), str) for k in ("stdout", "stderr", "error_type", "started_at"))
    )
    if not shape:
        raise RemoteBadResponse(
            f"{target.url} answered a press result without the status, button, exit_code, duration_ms "
            "and text fields of serve's"
        )
    if data.get("cached") is True:
        return RemoteResponse(data, cached=True)
    allowed = data.get("timeout_seconds")
    timeout = float(allowed) if isinstance(allowed, (int, float)) and not isinstance(allowed, bool) else 0.0
    if data["status"] == "ok":
        return RemoteResponse(data, timeout=timeout)
    code = data.get("error_type")
    error = error_for_code(
        code if isinstance(code, str) and _is_code(code) else "SCRIPT_ERROR",
        failure_message(str(data.get("stderr") or ""), data["exit_code"]),
    )
    error.result = data
    return RemoteResponse(data, error=error, timeout=timeout)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _clean(value: Any, key: str) -> Any:
    """``value`` fit to print: every occurrence of the key replaced by ``***`` (a server that echoes
    it, a proxy, a hostile host, never gets it printed) and every lone surrogate (``"\\ud800"``,
    which no UTF-8 output can carry) by ``?``."""
    if isinstance(value, str):
        if key and key in value:
            value = value.replace(key, "***")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {_clean(k, key): _clean(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, key) for v in value]
    return value
