"""The press message: self-contained and signed (HMAC-SHA256 with ``BUTTONS_FLEET_KEY``).

A message carries everything a worker needs to run the press and nothing secret: the button's
resolved spec, its script and the script's sha256, the argument values, the timeout, the names
(never the values) of the batteries the front node has, and where the record goes (workspace id,
button, run id). Workers hold their own batteries. Anyone who can write to Redis can enqueue a
message, so a worker runs only messages whose signature checks out with the fleet key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from ..errors import FleetUnavailable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..errors import ButtonsError

VERSION = 1
MAX_MESSAGE_BYTES = 256 * 1024
KEY_ENV = "BUTTONS_FLEET_KEY"
MIN_KEY_BYTES = 16


class BadMessage(Exception):
    """A message that must not run: bad or missing signature, edited script, unknown version."""


def fleet_key(env: dict[str, str] | None = None) -> bytes:
    """The fleet key from ``BUTTONS_FLEET_KEY``; FLEET_UNAVAILABLE if it is missing or short."""
    value = (os.environ if env is None else env).get(KEY_ENV, "")
    if len(value.encode()) < MIN_KEY_BYTES:
        raise FleetUnavailable(
            f"{KEY_ENV} must be set to a shared secret of at least {MIN_KEY_BYTES} bytes "
            "on the serve node and on every worker",
            hint="e.g. export BUTTONS_FLEET_KEY=$(openssl rand -hex 32)",
        )
    return value.encode()


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign(body: dict[str, Any], key: bytes) -> str:
    """The message as sent: the body and its signature, as one JSON text."""
    sig = hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()
    text = json.dumps({"body": body, "sig": sig}, separators=(",", ":"))
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        raise FleetUnavailable(
            f"the press message is {len(text.encode())} bytes, more than the fleet's "
            f"{MAX_MESSAGE_BYTES} (the script and arguments travel in it)",
            hint="keep fleet buttons' scripts and arguments small, or use placement 'local'",
        )
    return text


def verify(text: str, key: bytes) -> dict[str, Any]:
    """The body of a message whose signature and script hash check out; BadMessage otherwise."""
    try:
        outer = json.loads(text)
    except ValueError:
        raise BadMessage("not JSON") from None
    if not isinstance(outer, dict) or not isinstance(outer.get("body"), dict):
        raise BadMessage("no body")
    sig = outer.get("sig")
    body: dict[str, Any] = outer["body"]
    if not isinstance(sig, str):
        raise BadMessage("no signature")
    want = hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, want):
        raise BadMessage("bad signature")
    if body.get("v") != VERSION:
        raise BadMessage(f"unknown message version {body.get('v')!r}")
    script = script_bytes(body)
    if hashlib.sha256(script).hexdigest() != body.get("script_sha256"):
        raise BadMessage("the script does not match its sha256")
    return body


def script_bytes(body: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(str(body.get("script", "")), validate=True)
    except ValueError:
        raise BadMessage("the script is not base64") from None


def build(
    *,
    press_id: str,
    workspace: str,
    button: str,
    stem: str,
    spec: dict[str, Any],
    script_name: str,
    script: bytes,
    args: dict[str, str],
    timeout: float,
    battery_names: list[str],
    idempotency: tuple[str, float] | None = None,
) -> dict[str, Any]:
    idem = None
    if idempotency is not None:
        key_hash = hashlib.sha256(button.encode() + b"\0" + idempotency[0].encode()).hexdigest()
        idem = {"key_hash": key_hash, "ttl_ms": int(idempotency[1] * 1000)}
    return {
        "v": VERSION,
        "press_id": press_id,
        "workspace": workspace,
        "button": button,
        "stem": stem,
        "spec": spec,
        "script_name": script_name,
        "script": base64.b64encode(script).decode(),
        "script_sha256": hashlib.sha256(script).hexdigest(),
        "args": args,
        "timeout": timeout,
        "batteries": sorted(battery_names),
        "idempotency": idem,
    }


def failure(error: ButtonsError) -> dict[str, Any]:
    """The result payload of a press that produced no process exit status."""
    return {
        "status": "timeout" if error.code == "TIMEOUT" else "error",
        "exit_code": -1,
        "stdout": "",
        "stderr": error.message,
        "error_code": error.code,
        "error_message": error.message,
    }


def expired_error(wait: str, lane: tuple[str, int, str] | None = None) -> ButtonsError:
    """Why a press that never ran by its deadline did not, as a local press would say it: it waited
    for its idempotency key (``TIMEOUT``) or its lane (``QUEUE_TIMEOUT``), or no worker took it."""
    from ..errors import PressTimeout, QueueTimeout, WorkerLost

    if wait == "key":
        return PressTimeout("timed out waiting for another press with the same idempotency key")
    if wait == "lane":
        return QueueTimeout(
            "queue acquire timeout" + (f" (fleet lane {lane[2]})" if lane else " (fleet lane)")
        )
    return WorkerLost("no worker took the press before its deadline")
