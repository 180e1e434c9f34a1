"""``buttons worker``: runs presses from the fleet's queue (docs/fleet.md).

Dramatiq (on Redis) is the transport: delivery, acknowledgement, redelivery of a crashed worker's
messages, the dead-letter queue. Everything about a press is ours: each message is checked
(signature, script hash), claimed in Redis (an attempt with a lease and a fencing token), and run
through the same press service as a local press, in a throw-away workspace under the worker's
data dir holding only that button: the same runner, supervisor, kill chain, output caps, rlimits
and masking, with the worker's own batteries. The masked result goes back to the front node's
record stream in the same Redis script that marks the press done, fenced: a worker that lost its
lease (paused, partitioned) cannot overwrite what the fleet decided meanwhile.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import sys
import threading
import time

import dramatiq
import redis
from dramatiq.middleware import CurrentMessage

from .. import __version__
from ..engine import queues as _queues
from ..errors import ButtonsError, Cancelled, MissingBattery, WorkerLost
from ..ids import random_hex
from ..services import presses
from ..spec import ButtonSpec
from ..store import batteries as store_batteries
from ..store.layout import Layout
from . import protocol
from .protocol import failure as _failure
from .state import FleetState, connect, redact, worker_key
from .transport import ACTOR, enqueue, make_broker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# How long Dramatiq's worker threads wait for work before they look whether to stop. Not a
# latency: messages arrive through blocking waits (transport._WakingConsumer), not polls.
WORKER_TIMEOUT_MS = 1000
RETRY_MS = (100, 500)  # a press that must wait (lane full, key or attempt busy) is retried after this
SELF_FENCE = 2 / 3  # of a lease without a successful renewal: the worker ends the press itself
RENEW_RETRY = 0.2  # seconds between renewals while Redis does not answer

POLICY = presses.policy("fleet worker", record=False)


class _Running:
    """One press this worker runs: its lease (and lane slot, key lock) renewed, its cancel key watched.

    ``renewed_at`` is when (this worker's monotonic clock) the last successful renewal was sent:
    the lease in Redis runs at least a lease from then. A worker cut off from Redis for
    :data:`SELF_FENCE` of a lease ends the press itself, before the fleet may give it to another
    worker (a keyed press is run again): see :meth:`FleetWorker._self_fence`."""

    __slots__ = ("cancel", "fence", "idem", "lane", "lost", "press_id", "renewed_at")

    def __init__(self, press_id: str, fence: int, lane: str, idem: str, renewed_at: float) -> None:
        self.press_id = press_id
        self.fence = fence
        self.lane = lane
        self.idem = idem
        self.cancel = threading.Event()
        self.lost = False
        self.renewed_at = renewed_at

    @property
    def holder(self) -> str:
        return _holder(self.press_id, self.fence)


class FleetWorker:
    def __init__(
        self,
        *,
        url: str,
        concurrency: int,
        queues: list[str],
        lease: float,
        data_dir: str,
        drain_timeout: float,
        key: bytes,
    ) -> None:
        self.url = url
        self.concurrency = concurrency
        self.queues = queues
        self.lease_ms = int(lease * 1000)
        self.data_dir = os.path.abspath(data_dir)
        self.drain_timeout = drain_timeout
        self.key = key
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{random_hex(3)}"
        self.client = connect(url)
        self.state = FleetState(self.client)
        self.broker = make_broker(self.client)
        self.running: dict[str, _Running] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.done = 0
        self.scratch = ""
        self.scratch_lock = -1
        for queue in queues:
            self.broker.declare_queue(queue)
        decorate = dramatiq.actor(actor_name=ACTOR, queue_name=queues[0], broker=self.broker, max_retries=0)
        decorate(self._actor)

    # ------------------------------------------------------------------ lifecycle
    def run(self, on_ready: Any = None) -> int:
        self._claim_scratch()
        worker = dramatiq.Worker(
            self.broker,
            queues=set(self.queues),
            worker_threads=self.concurrency,
            worker_timeout=WORKER_TIMEOUT_MS,
        )
        # One message per press thread, none waiting behind them: a crash strands only the presses
        # that were running (Dramatiq's default, 2 x threads, strands more; fleet.md §1). With 1,
        # the consumer would fetch the next message only once the last one is acknowledged.
        worker.queue_prefetch = self.concurrency
        worker.delay_prefetch = 1  # (the fleet sends no delayed messages; one more guard)
        signals = (signal.SIGTERM, signal.SIGINT)

        def on_signal(_signum: int, _frame: object) -> None:
            if self.stopping.is_set():  # a second signal: end running presses now
                self._cancel_all()
            self.stopping.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in signals}
        heartbeat = threading.Thread(target=self._heartbeat, name="fleet-heartbeat", daemon=True)
        heartbeat.start()
        worker.start()
        if on_ready is not None:
            on_ready(self)
        try:
            while not self.stopping.wait(0.25):
                self._self_fence()
            _log(f"stopping: no new presses; up to {self.drain_timeout:g} s for {len(self.running)} running")
            for consumer in list(worker.consumers.values()):
                consumer.stop()  # fetch nothing more
            deadline = time.monotonic() + self.drain_timeout
            while self.running and time.monotonic() < deadline:
                time.sleep(0.1)
                self._self_fence()
            if self.running:
                _log(f"drain deadline passed: cancelling {len(self.running)} running press(es)")
                self._cancel_all()
            worker.stop(timeout=30_000)  # prefetched messages go back to the queue
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            try:
                self.client.delete(worker_key(self.worker_id))
            except redis.RedisError:
                pass
            shutil.rmtree(self.scratch, ignore_errors=True)
            try:
                os.unlink(self.scratch + ".lock")
            except OSError:
                pass
        _log(f"stopped after {self.done} press(es)")
        return 0

    def _claim_scratch(self) -> None:
        """This worker's scratch dir, ``presses/<worker id>``, locked while the worker lives; the
        dirs of workers that died are removed (several workers may share one data dir)."""
        import fcntl

        base = os.path.join(self.data_dir, "presses")
        os.makedirs(base, mode=0o700, exist_ok=True)
        for name in os.listdir(base):
            if not name.endswith(".lock"):
                continue
            path = os.path.join(base, name)
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live worker's
            finally:
                os.close(fd)  # (closing drops a lock we got: the dir is stale either way)
            shutil.rmtree(path.removesuffix(".lock"), ignore_errors=True)
            os.unlink(path)
        self.scratch = os.path.join(base, self.worker_id)
        self.scratch_lock = os.open(self.scratch + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.scratch_lock, fcntl.LOCK_EX)
        os.makedirs(self.scratch, mode=0o700, exist_ok=True)

    def describe_url(self) -> str:
        return redact(self.url)

    def _self_fence(self) -> None:
        """End the presses whose lease this worker could not renew for SELF_FENCE of a lease: the
        fleet is about to consider them lost (and to run a keyed one again elsewhere)."""
        limit = time.monotonic() - self.lease_ms / 1000 * SELF_FENCE
        with self.lock:
            stale = [e for e in self.running.values() if e.renewed_at < limit and not e.cancel.is_set()]
        for entry in stale:
            _log(f"press {entry.press_id}: lease not renewed for {SELF_FENCE:.0%} of a lease; ending it")
            entry.lost = True
            entry.cancel.set()

    def _cancel_all(self) -> None:
        with self.lock:
            for entry in self.running.values():
                entry.cancel.set()

    def _heartbeat(self) -> None:
        period = max(0.05, self.lease_ms / 3000)
        while True:
            try:
                self._beat()
                time.sleep(period)
            except redis.RedisError as exc:
                _log(f"Redis unreachable ({exc}); retrying the lease renewals")
                time.sleep(min(period, RENEW_RETRY))

    def _beat(self) -> None:
        with self.lock:
            entries = list(self.running.values())
        for entry in entries:
            sent = time.monotonic()
            # The attempt's lease first: a lane slot or key lock is renewed only while it is ours.
            if not self.state.renew(entry.press_id, entry.fence, self.lease_ms):
                entry.lost = True  # the fleet gave the press up: stop it; its result would be fenced out
                entry.cancel.set()
                continue
            entry.renewed_at = sent
            if entry.lane:
                self.state.lane_renew(entry.lane, entry.press_id, self.lease_ms)
            if entry.idem:
                self.state.idem_renew(entry.idem, entry.holder, self.lease_ms)
            if self.state.cancelled(entry.press_id):
                entry.cancel.set()
        info: dict[Any, Any] = {
            "host": socket.gethostname(),
            "pid": str(os.getpid()),
            "version": __version__,
            "queues": ",".join(self.queues),
            "concurrency": str(self.concurrency),
            "running": str(len(entries)),
            "done": str(self.done),
            "draining": "1" if self.stopping.is_set() else "0",
        }
        key = worker_key(self.worker_id)
        pipe = self.client.pipeline()
        pipe.hset(key, mapping=info)
        pipe.pexpire(key, 2 * self.lease_ms)
        pipe.execute()

    # ------------------------------------------------------------------ one message
    def _actor(self, text: str) -> None:
        try:
            body = protocol.verify(text, self.key)
        except protocol.BadMessage as exc:
            self._reject(str(exc), "")
            return
        press_id = str(body.get("press_id", ""))
        keyed = isinstance(body.get("idempotency"), dict)
        claimed_at = time.monotonic()
        verdict, fence, remaining_ms, attempt, wait = self.state.claim(
            press_id, self.worker_id, self.lease_ms, retry=keyed
        )
        workspace = str(body["workspace"])
        if verdict == "unknown":  # never enqueued here, or so old its state expired: a replay
            self._reject("replayed or unknown press", press_id)
        elif verdict == "done":  # a redelivery of a press that already has its result
            self.state.event("duplicate", press_id=press_id, worker=self.worker_id)
        elif verdict == "busy":  # another worker holds a live lease on it: never two runs at once
            self._requeue(text)
        elif verdict == "cancelled":
            self.state.finish(workspace, press_id, 0, _unrun(body, Cancelled("cancelled before it started")))
        elif verdict == "lost":  # (a keyed press is claimed again instead, while its deadline allows)
            self.state.finish(workspace, press_id, 0, _unrun(body, _lost()))
        elif verdict == "expired":
            self.state.finish(workspace, press_id, 0, _unrun(body, protocol.expired_error(wait, _lane(body))))
        else:
            self._take(body, text, fence, remaining_ms, attempt, claimed_at=claimed_at)

    def _take(
        self,
        body: dict[str, Any],
        text: str,
        fence: int,
        remaining_ms: int,
        attempt: int,
        *,
        claimed_at: float,
    ) -> None:
        """A claimed press: its idempotency key and lane slot fleet-wide, then the run."""
        press_id, workspace = str(body["press_id"]), str(body["workspace"])
        idem = body.get("idempotency") if isinstance(body.get("idempotency"), dict) else None
        key_hash = str(idem["key_hash"]) if idem else ""
        holder = _holder(press_id, fence)
        if key_hash:
            verdict, cached = self.state.idem_acquire(key_hash, holder, self.lease_ms)
            if verdict == "cached":  # an ok result of this key exists: answer it, run nothing
                answer = {**json.loads(cached), "cached": True, "worker": self.worker_id}
                for field in ("button", "stem", "args"):
                    answer[field] = body.get(field)
                self.state.finish(workspace, press_id, fence, answer)
                return
            if verdict == "busy":  # another attempt of this key runs now: never two at once
                self._later(press_id, fence, text, "key")
                return
        lane = _lane(body)
        if lane is not None and not self.state.lane_acquire(lane[0], press_id, lane[1], self.lease_ms):
            # The lane is full fleet-wide: back to the queue, a little later, until the deadline.
            if key_hash:
                self.state.idem_done(key_hash, holder, None, 0)
            self._later(press_id, fence, text, "lane")
            return
        payload: dict[str, Any] | None = None
        try:
            payload = self._run(
                body, fence, remaining_ms, attempt, lane=lane[0] if lane else "", idem=key_hash,
                claimed_at=claimed_at,
            )  # fmt: skip
        finally:
            if lane is not None:
                self.state.lane_release(lane[0], press_id)
            if key_hash:
                keep = payload if payload is not None and payload.get("status") == "ok" else None
                self.state.idem_done(key_hash, holder, keep, int(idem.get("ttl_ms", 0)) if idem else 0)

    def _later(self, press_id: str, fence: int, text: str, wait: str) -> None:
        self.state.unclaim(press_id, fence, wait)
        self._requeue(text)

    def _requeue(self, text: str) -> None:
        """Put a press that must wait back on its queue after a jittered pause.

        The pause is taken here rather than with a Dramatiq delay: a delayed message sits in some
        worker's delay-queue cache, and a worker killed meanwhile strands it until the broker's
        heartbeat timeout (15 s) puts it back."""
        time.sleep(random.randint(*RETRY_MS) / 1000)  # noqa: S311  # nosec B311 - jitter, not a secret
        enqueue(self.broker, self._queue(), text)

    def _queue(self) -> str:
        current = CurrentMessage.get_current_message()
        return current.queue_name if current is not None else self.queues[0]

    def _reject(self, reason: str, press_id: str) -> None:
        """Never run; dead-lettered (Dramatiq's dead-letter queue) and reported in ``bt:events``."""
        _log(f"refused a message: {reason}" + (f" (press {press_id})" if press_id else ""))
        current = CurrentMessage.get_current_message()
        if current is not None:
            current.fail()  # type: ignore[attr-defined]
        self.state.event("rejected", reason=reason, press_id=press_id, worker=self.worker_id)

    def _run(
        self,
        body: dict[str, Any],
        fence: int,
        remaining_ms: int,
        attempt: int,
        *,
        lane: str,
        idem: str,
        claimed_at: float,
    ) -> dict[str, Any] | None:
        """Run the press and send its result; the result if the fleet took it (else None)."""
        press_id = str(body["press_id"])
        entry = _Running(press_id, fence, lane, idem, claimed_at)
        with self.lock:
            self.running[press_id] = entry
        started = time.monotonic()
        try:
            payload = self._press(body, entry, remaining_ms / 1000, attempt)
        finally:
            with self.lock:
                self.running.pop(press_id, None)
        payload.setdefault("args", dict(body.get("args") or {}))
        payload["button"] = body["button"]
        payload["stem"] = body["stem"]
        payload["worker"] = self.worker_id
        payload["attempt"] = attempt
        payload["worker_ms"] = int((time.monotonic() - started) * 1000)
        delivered = self._deliver(str(body["workspace"]), press_id, fence, payload)
        self.done += 1
        # The throw-away workspace goes after the result is out: removing its few directories
        # costs milliseconds on some file systems, which the caller need not wait for.
        shutil.rmtree(self._root(entry), ignore_errors=True)
        return payload if delivered else None

    def _root(self, entry: _Running) -> str:
        """The throw-away workspace of one attempt of a press."""
        return os.path.join(self.scratch, f"{entry.press_id}-{entry.fence}")

    def _deliver(self, workspace: str, press_id: str, fence: int, payload: dict[str, Any]) -> bool:
        for delay in (0.0, 0.5, 1, 2, 4, 8, 15):
            time.sleep(delay)
            try:
                if not self.state.finish(workspace, press_id, fence, payload):
                    _log(f"press {press_id}: result refused (the fleet gave the attempt up meanwhile)")
                    return False
                return True
            except redis.RedisError as exc:
                _log(f"press {press_id}: cannot send the result yet ({exc}); retrying")
        _log(f"press {press_id}: result lost: Redis stayed unreachable; the front node records WORKER_LOST")
        return False

    def _press(self, body: dict[str, Any], entry: _Running, timeout: float, attempt: int) -> dict[str, Any]:
        global_layout = Layout(root=self.data_dir, global_dir=self.data_dir)
        try:
            have = store_batteries.load_merged(global_layout)
        except ButtonsError as exc:
            return _failure(exc)
        missing = [name for name in body.get("batteries", []) if name not in have]
        if missing:
            return _failure(
                MissingBattery(f"this worker has no battery named {', '.join(missing)}"),
            )
        root = self._root(entry)
        layout = Layout(root=root, global_dir=self.data_dir)
        try:
            layout.ensure()
            name = str(body["button"])
            folder = layout.button_dir(name)
            os.mkdir(folder, 0o700)
            script_name = str(body["script_name"])
            if os.path.basename(script_name) != script_name or script_name in ("", ".", ".."):
                return _failure(ButtonsError(f"bad script name {script_name!r}"))
            spec = dict(body["spec"])
            for local_only in ("queue", "placement", "triggers"):
                spec.pop(local_only, None)  # lanes are held by the front node; no triggers here
            env = dict(spec.get("env") or {})
            env["BUTTONS_FLEET_PRESS_ID"] = entry.press_id
            env["BUTTONS_ATTEMPT"] = str(attempt)
            spec["env"] = env
            with open(os.path.join(folder, "button.json"), "w", encoding="utf-8") as fh:
                json.dump(spec, fh)
            fd = os.open(os.path.join(folder, script_name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
            with os.fdopen(fd, "wb") as fh:
                fh.write(protocol.script_bytes(body))
            request = presses.PressRequest(
                name, args=dict(body.get("args") or {}), timeout=max(0.001, timeout), cancel=entry.cancel
            )
            try:
                response = presses.press(layout, request, POLICY)
            except ButtonsError as exc:
                return _failure(exc)
            result = response.result
            if result is None:  # pragma: no cover - a press with record=False always has a result
                return _failure(ButtonsError("the press returned no result"))
            error = response.error
            if entry.lost and error is not None and error.code == "CANCELLED":
                error = _lost()
            return {
                "status": result.status,
                "exit_code": result.exit_code,
                "stdout": result.stdout,
                "stderr": result.stderr,
                "error_code": error.code if error is not None else None,
                "error_message": error.message if error is not None else None,
                "stdout_dropped": result.stdout_dropped,
                "stderr_dropped": result.stderr_dropped,
                "limit_exceeded": result.limit_exceeded,
                "http_status_code": result.http_status_code,
                "extra": result.extra,
                "duration_ms": result.duration_ms,
                "args": result.args,
            }
        except OSError as exc:
            return _failure(ButtonsError(f"the worker cannot prepare the press: {exc.strerror or exc}"))


def _lost() -> WorkerLost:
    return WorkerLost("the worker running the press stopped renewing its lease (crashed or cut off)")


def _holder(press_id: str, fence: int) -> str:
    """Who holds an idempotency key: one attempt of one press."""
    return f"{press_id}:{fence}"


def _lane(body: dict[str, Any]) -> tuple[str, int, str] | None:
    """The press's fleet-wide lane (its button's ``queue``, keyed by the argument values), if any."""
    raw = body.get("spec")
    if not isinstance(raw, dict) or not raw.get("queue"):
        return None
    try:
        spec = ButtonSpec.from_json(raw, where="the press message", folder_name=str(body.get("button", "")))
    except ButtonsError:
        return None
    return _queues.resolve(spec.queue, {str(k): str(v) for k, v in (body.get("args") or {}).items()})


def _unrun(body: dict[str, Any], error: ButtonsError) -> dict[str, Any]:
    """The result of a press this worker did not run, with what the front node needs to record it."""
    return {
        **_failure(error),
        "button": body.get("button"),
        "stem": body.get("stem"),
        "args": dict(body.get("args") or {}),
    }


def _log(message: str) -> None:
    sys.stderr.write(f"[worker] {message}\n")
    sys.stderr.flush()
