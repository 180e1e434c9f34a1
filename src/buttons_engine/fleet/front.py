"""The front node's side of the fleet: the fleet runner and the recorder (docs/fleet.md).

``serve --redis URL`` calls :func:`start`: from then on, the press service of that process runs
buttons placed on the fleet (``"placement": "fleet"``) with :class:`FleetRunner` instead of the
local code runner. Everything before the runner (spec, arguments, idempotency key, batteries and
masker, queue slot, run id) and after it (masking again, the run record, the idempotency entry)
stays the local pipeline's, on this node: so history stays where ``buttons history``, REST and
MCP read it, and a lane or an idempotency key held here covers the press wherever it runs.

The worker's result comes back through the stream ``bt:records:<workspace>``, read by the
:class:`Recorder` (a consumer group): a waiting press gets its result; a result nobody waits for
any more (this node restarted meanwhile) is written as the run record by the recorder itself,
so no finished press is lost. An entry is acknowledged only once its record exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time

import redis

from .. import timefmt
from ..engine import runners
from ..engine.outcome import Outcome
from ..engine.runtimes import runtime_for
from ..errors import Cancelled, WorkerLost, error_for_code
from ..ids import random_hex
from ..results import PressResult, RunRecord
from ..store import batteries as store_batteries
from ..store import runs as store_runs
from ..store.atomic import create_exclusive
from ..store.jsonio import dumps
from . import protocol
from .state import GROUP, FleetState, connect, redact, stream_key
from .transport import DEFAULT_QUEUE, enqueue, make_broker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..engine.outcome import Invocation
    from ..store.layout import Layout

REAP_EVERY = 1.0  # seconds between checks of a waited-for press's lease
CATCH_UP_IDLE_MS = 30_000  # a result nobody picked up for this long is recorded by the recorder
SWEEP_EVERY = 2.0
URL_ENV = "BUTTONS_REDIS_URL"


def workspace_id(layout: Layout) -> str:
    return hashlib.sha256(os.path.realpath(layout.root).encode()).hexdigest()[:16]


class _Waiter:
    __slots__ = ("event", "payload")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.payload: dict[str, Any] | None = None


class Front:
    """One serve process's connection to the fleet."""

    def __init__(self, layout: Layout, url: str, key: bytes, *, lease: float = 15.0) -> None:
        self.layout = layout
        self.url = url
        self.key = key
        self.lease_ms = int(lease * 1000)
        self.workspace = workspace_id(layout)
        self.stream = stream_key(self.workspace)
        self.consumer = f"{socket.gethostname()}-{os.getpid()}-{random_hex(3)}"
        self.client = connect(url)
        self.state = FleetState(self.client)
        self.broker = make_broker(self.client)
        self.broker.declare_queue(DEFAULT_QUEUE)
        self.waiters: dict[str, _Waiter] = {}
        # Results handed to a waiting press: acknowledged once its record file exists.
        self.handed: dict[bytes, str] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="fleet-recorder", daemon=True)
        self._create_group()

    def _create_group(self) -> None:
        try:
            self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.thread.start()
        runners.set_placement("fleet", FleetRunner(self))

    def stop(self) -> None:
        runners.set_placement("fleet", None)
        self.stopped.set()
        self.thread.join(timeout=5)

    def status(self) -> dict[str, Any]:
        """``GET /api/fleet``: workers, queue depths, dead letters, refused messages."""
        from ..errors import FleetUnavailable
        from .status import snapshot

        try:
            data = snapshot(self.client, self.url)
        except redis.RedisError as exc:
            raise FleetUnavailable(f"cannot read the fleet's state from Redis: {exc}") from None
        with self.lock:
            data["waiting"] = len(self.waiters)
        return data

    # ------------------------------------------------------------------ sending
    def submit(self, inv: Invocation) -> tuple[str, str]:
        """Enqueue ``inv``: its run id and the signed message; FLEET_UNAVAILABLE (nothing sent,
        nothing ran) if that is impossible."""
        spec = inv.spec
        rt = runtime_for(spec.runtime)
        if rt is None:
            raise error_for_code("RUNTIME_MISSING", f"unsupported runtime: {spec.runtime}")
        with open(os.path.join(inv.button_dir, rt.filename), "rb") as fh:
            script = fh.read()
        stem = os.path.basename(inv.progress_path or "").removesuffix(store_runs.PROGRESS_SUFFIX)
        body = protocol.build(
            press_id=inv.press_id,
            workspace=self.workspace,
            button=inv.button,
            stem=stem,
            spec=spec.to_json(),
            script_name=rt.filename,
            script=script,
            args=inv.args,
            timeout=inv.timeout,
            battery_names=list(inv.batteries),
            idempotency=inv.idempotency,
        )
        text = protocol.sign(body, self.key)
        try:
            self.state.enqueue(
                inv.press_id,
                int(inv.timeout * 1000),
                {"button": inv.button, "stem": stem, "ws": self.workspace},
            )
            enqueue(self.broker, DEFAULT_QUEUE, text)
        except redis.RedisError as exc:
            from ..errors import FleetUnavailable

            raise FleetUnavailable(f"cannot send the press to the fleet: {exc}") from None
        return stem, text

    def run(self, inv: Invocation) -> Outcome:
        waiter = _Waiter()
        with self.lock:
            self.waiters[inv.press_id] = waiter
        try:
            stem, text = self.submit(inv)
            payload = self._wait(inv, waiter, stem, text)
        finally:
            with self.lock:
                self.waiters.pop(inv.press_id, None)
        return _outcome(payload)

    def _wait(self, inv: Invocation, waiter: _Waiter, stem: str, text: str) -> dict[str, Any]:
        """Wait for the press's result; meanwhile reconcile it once a second: a lost attempt is
        recorded ``WORKER_LOST``, or, for an idempotency-keyed press whose deadline still allows
        it, run again (its message enqueued anew; the claim gives the new attempt a new fence)."""
        extra = {"button": inv.button, "stem": stem, "args": inv.args}
        payloads = {
            "lost": {**protocol.failure(_lost()), **extra},
            "unclaimed": {**protocol.failure(protocol.expired_error("")), **extra},
            "key": {**protocol.failure(protocol.expired_error("key")), **extra},
            "lane": {**protocol.failure(protocol.expired_error("lane")), **extra},
        }
        cancelled = {**protocol.failure(Cancelled("cancelled before it started")), **extra}
        keyed = inv.idempotency is not None
        cancel_sent = False
        give_up = time.monotonic() + inv.timeout + self.lease_ms / 1000 + 60
        next_reap = time.monotonic() + REAP_EVERY
        while not waiter.event.wait(0.05 if inv.cancel is not None else 0.5):
            now = time.monotonic()
            try:
                if inv.cancel is not None and inv.cancel.is_set() and not cancel_sent:
                    self.state.cancel(inv.press_id)
                    # A queued press ends now; a running one when its worker sees the key.
                    self.state.finish(self.workspace, inv.press_id, 0, cancelled)
                    cancel_sent = True
                if now >= next_reap:
                    next_reap = now + REAP_EVERY
                    verdict = self.state.reap(
                        self.workspace, inv.press_id, payloads, self.lease_ms, retry=keyed
                    )
                    if verdict == "retry":
                        _log(f"press {inv.press_id}: its worker was lost; running the keyed press again")
                        enqueue(self.broker, DEFAULT_QUEUE, text)
            except redis.RedisError:
                if now > give_up:
                    return protocol.failure(
                        WorkerLost("Redis stayed unreachable: the press's result is unknown")
                    )
        assert waiter.payload is not None  # noqa: S101 - set before the event
        return waiter.payload

    # ------------------------------------------------------------------ receiving
    def _loop(self) -> None:
        next_sweep = 0.0
        while not self.stopped.is_set():
            try:
                resp: Any = self.client.xreadgroup(
                    GROUP, self.consumer, {self.stream: ">"}, count=100, block=500
                )
                for _stream, entries in resp or []:
                    for entry_id, fields in entries:
                        self._dispatch(entry_id, fields)
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + SWEEP_EVERY
                    self._sweep()
            except redis.ResponseError as exc:
                if "NOGROUP" in str(exc):  # Redis came back without its data: start the group again
                    self._create_group()
                self.stopped.wait(1.0)
            except redis.RedisError:
                self.stopped.wait(1.0)
            except Exception as exc:
                _log(f"recorder: {type(exc).__name__}: {exc}")
                self.stopped.wait(1.0)

    def _dispatch(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        press_id = fields.get(b"press_id", b"").decode()
        try:
            payload = json.loads(fields.get(b"data", b"{}"))
        except ValueError:
            payload = {}
        with self.lock:
            waiter = self.waiters.get(press_id)
            if waiter is not None and waiter.payload is None:
                waiter.payload = payload
                # (a cached answer gets no record: acknowledged at the next sweep)
                self.handed[entry_id] = "" if payload.get("cached") else self._record_path(payload)
                waiter.event.set()
                return
        self._catch_up(entry_id, payload)

    def _sweep(self) -> None:
        """Acknowledge results whose record now exists; take over results nobody recorded."""
        with self.lock:
            handed = list(self.handed.items())
        for entry_id, path in handed:
            if not path or os.path.exists(path):
                self.client.xack(self.stream, GROUP, entry_id)
                with self.lock:
                    self.handed.pop(entry_id, None)
        # Entries delivered long ago and never acknowledged (this or another front node died).
        reply: Any = self.client.xautoclaim(
            self.stream, GROUP, self.consumer, min_idle_time=CATCH_UP_IDLE_MS, start_id="0-0", count=100
        )
        claimed: list[tuple[bytes, dict[bytes, bytes] | None]] = reply[1]
        for entry_id, fields in claimed:
            if fields is None:
                continue
            with self.lock:
                # Handed to a press long ago and still no record: that press failed to write it.
                self.handed.pop(entry_id, None)
            self._dispatch(entry_id, fields)

    def _record_path(self, payload: dict[str, Any]) -> str:
        button, stem = str(payload.get("button", "")), str(payload.get("stem", ""))
        if not button or not stem:
            return ""
        try:
            return os.path.join(self.layout.pressed_dir(button), stem + store_runs.RECORD_SUFFIX)
        except Exception:
            return ""

    def _catch_up(self, entry_id: bytes, payload: dict[str, Any]) -> None:
        """Record a result whose press is no longer waited for (this node restarted meanwhile)."""
        path = "" if payload.get("cached") else self._record_path(payload)  # a hit gets no record
        if path and not os.path.exists(path):
            try:
                batteries = store_batteries.load_merged(self.layout)
            except Exception:
                batteries = {}
            record = _catch_up_record(payload, batteries)
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            create_exclusive(path, dumps(record), durable=False)
        self.client.xack(self.stream, GROUP, entry_id)


class FleetRunner:
    """The runner of fleet-placed code buttons in a process that called :meth:`Front.start`."""

    def __init__(self, front: Front) -> None:
        self.front = front

    def run(self, inv: Invocation) -> Outcome:
        return self.front.run(inv)


def _lost() -> WorkerLost:
    return WorkerLost("the worker running the press stopped renewing its lease (crashed or cut off)")


def _outcome(payload: dict[str, Any]) -> Outcome:
    out = Outcome(
        status=str(payload.get("status", "error")),
        exit_code=int(payload.get("exit_code", -1)),
        stdout=str(payload.get("stdout", "")),
        stderr=str(payload.get("stderr", "")),
        stdout_dropped=int(payload.get("stdout_dropped") or 0),
        stderr_dropped=int(payload.get("stderr_dropped") or 0),
        limit_exceeded=payload.get("limit_exceeded"),
        http_status_code=payload.get("http_status_code"),
        extra=payload.get("extra") or {},
        cached=bool(payload.get("cached")) and payload.get("status") == "ok",
    )
    code = payload.get("error_code")
    if code:
        out.error = error_for_code(str(code), str(payload.get("error_message") or ""))
        if out.status == "ok":
            out.status = "error"
    return out


def _catch_up_record(payload: dict[str, Any], batteries: dict[str, str]) -> dict[str, Any]:
    out = _outcome(payload)
    args = {str(k): str(v) for k, v in (payload.get("args") or {}).items()}
    values = [v for v in batteries.values() if v]
    if values:
        from ..engine.masking import Masker

        masker = Masker(values)
        if masker.active:
            out.stdout, out.stderr = masker.text(out.stdout), masker.text(out.stderr)
            args = {masker.text(k): masker.text(v) for k, v in args.items()}
    finished = timefmt.now_us()
    duration_ms = int(payload.get("duration_ms") or 0)
    started = finished - duration_ms * 1000
    result = PressResult(
        button=str(payload.get("button", "")),
        status=out.status,
        exit_code=out.exit_code,
        stdout=out.stdout,
        stderr=out.stderr,
        duration_ms=duration_ms,
        started_at=timefmt.format_us(started, local=True),
        error_type=out.error_type,
        args=args,
        stdout_dropped=out.stdout_dropped,
        stderr_dropped=out.stderr_dropped,
        limit_exceeded=out.limit_exceeded,
        run_id=str(payload.get("stem", "")),
    )
    return RunRecord(
        result, started_at=timefmt.format_us(started), finished_at=timefmt.format_us(finished)
    ).to_json()


def _log(message: str) -> None:
    import sys

    sys.stderr.write(f"[serve] fleet {message}\n")
    sys.stderr.flush()


__all__ = ["FleetRunner", "Front", "redact", "start", "workspace_id"]


def start(layout: Layout, url: str, *, lease: float = 15.0) -> Front:
    """Connect ``serve`` to the fleet at ``url``; FLEET_UNAVAILABLE if the key or Redis is missing."""
    front = Front(layout, url, protocol.fleet_key(), lease=lease)
    front.start()
    return front
