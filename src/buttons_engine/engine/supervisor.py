"""Process supervision for code buttons: one child's whole life, and every process it starts.

``run(ProcessRequest) -> ProcessOutcome``. A :class:`Supervision` walks one press through its
stages, one method each:

1. **spawn**: a new session (own process group), stdin closed, stdout/stderr to pipes, the
   press's marks (``BUTTONS_PRESS_ID`` in the environment, the tag pipe) and the descriptors of
   its held locks inherited (``engine/active_presses.py``, ``engine/spawn.py``);
2. **read** both pipes into bounded ``Capture`` objects until the child exits or the deadline;
3. **stop**, at the deadline or when the request's ``cancel`` event is set (``smash
   --on-failure stop``) or the engine got SIGINT/SIGTERM/SIGHUP (``engine/signals.py``):
   processes that left the child's group are frozen and killed at once, the group gets SIGTERM
   and ``grace`` seconds, then SIGKILL;
4. **sweep**, when the child has exited: whatever it left behind gets a short grace to finish
   writing, then SIGTERM, then freeze-and-kill (``engine/sweep.py``), so no process started by
   a press outlives it (DEVIATIONS D3), however it forks.

Who is whose: ``engine/proctree.py`` reads ``/proc``; ``engine/active_presses.py`` is the registry of
the presses this process runs and tells which adopted orphan belongs to which.

No ``subprocess``, ``threading``, ``dataclasses`` or ``enum`` here: ``buttons press`` must start
about as fast as Python itself (see ``engine/spawn.py``).
"""

from __future__ import annotations

import os
import select
import time

from .active_presses import PRESS_MARKER, REGISTRY, PressEntry
from .capture import Capture
from .signals import ROUTER, interrupt_on_signals, interrupted, restore_signals
from .spawn import Child, spawn

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from .active_presses import ActivePresses
if TYPE_CHECKING:
    import signal
else:  # the C module: ``signal`` builds IntEnums at import, pulling ``enum`` onto the press path
    import _signal as signal

__all__ = [
    "PRESS_MARKER",
    "ProcessOutcome",
    "ProcessRequest",
    "become_subreaper",
    "interrupt_on_signals",
    "interrupted",
    "restore_signals",
    "run",
]

DEFAULT_GRACE = 5.0
LEFTOVER_GRACE = 1.0
TICK = 0.1
UNSEEN_HOLDER_WAIT = 2.0  # after a sweep, how long a pipe held by something we cannot see may stay open
REAP_EVERY = 0.5  # seconds between reaps of adopted orphans that exited while the press runs


def become_subreaper() -> bool:
    """Make this process adopt orphaned descendants (Linux). Idempotent; False if unsupported."""
    return REGISTRY.ensure_subreaper()


class ProcessRequest:
    __slots__ = (
        "argv",
        "cancel",
        "cwd",
        "env",
        "grace",
        "hold_fds",
        "on_output",
        "preexec",
        "press_id",
        "stderr",
        "stdout",
        "timeout",
    )

    def __init__(
        self,
        *,
        argv: list[str],
        env: dict[str, str],
        press_id: str,
        timeout: float | None = None,
        grace: float = DEFAULT_GRACE,
        cwd: str | None = None,
        preexec: Callable[[], None] | None = None,
        stdout: Capture | None = None,
        stderr: Capture | None = None,
        on_output: Callable[[str, bytes], None] | None = None,
        cancel: threading.Event | None = None,
        hold_fds: tuple[int, ...] = (),
    ) -> None:
        self.argv = argv
        self.env = env
        self.press_id = press_id
        self.timeout = timeout
        self.grace = grace
        self.cwd = cwd
        self.preexec = preexec
        self.stdout = stdout if stdout is not None else Capture()
        self.stderr = stderr if stderr is not None else Capture()
        self.on_output = on_output
        # Set from another thread to end the press through the same kill chain as a timeout.
        self.cancel = cancel
        # Lock descriptors every process of the press inherits: the lock lives as long as they do.
        self.hold_fds = hold_fds


class ProcessOutcome:
    __slots__ = (
        "cancelled",
        "duration_ms",
        "exit_code",
        "interrupted_by",
        "killed_escapees",
        "killed_leftovers",
        "signal",
        "spawn_error",
        "timed_out",
    )

    def __init__(
        self,
        *,
        exit_code: int,
        signal: int | None,
        timed_out: bool,
        duration_ms: int,
        spawn_error: str | None = None,
        cancelled: bool = False,
        killed_escapees: int = 0,
        killed_leftovers: int = 0,
        interrupted_by: int = 0,
    ) -> None:
        self.interrupted_by = interrupted_by
        self.exit_code = exit_code
        self.signal = signal
        self.timed_out = timed_out
        self.duration_ms = duration_ms
        self.spawn_error = spawn_error
        self.cancelled = cancelled
        self.killed_escapees = killed_escapees
        self.killed_leftovers = killed_leftovers


def run(req: ProcessRequest) -> ProcessOutcome:
    REGISTRY.ensure_subreaper()
    previous = interrupt_on_signals()
    try:
        return Supervision(req, REGISTRY).run()
    finally:
        restore_signals(previous)


class Supervision:
    """One press from spawn to reaped. ``run`` drives the stages; ``tick`` is one round of the loop.

    States: *running* (child alive), *stopping* (child alive, kill chain started), *draining*
    (child exited, something still holds its pipes), *done*.
    """

    def __init__(self, req: ProcessRequest, registry: ActivePresses) -> None:
        self.req = req
        self.registry = registry
        self.started = time.monotonic()
        timeout = req.timeout
        self.deadline = self.started + timeout if timeout and timeout > 0 else None
        self.entry = PressEntry(req.press_id, None)
        self.child: Child | None = None
        self.tag_fd = -1
        self.streams: dict[int, tuple[str, Capture]] = {}
        self.open_fds: set[int] = set()
        self.poller = select.poll()
        self.stopping = self.timed_out = self.cancelled = False
        self.escapees = 0
        self.term_deadline: float | None = None
        self.exited_at: float | None = None
        self.swept_at: float | None = None
        self.next_reap = self.started + REAP_EVERY

    # ------------------------------------------------------------------ driver

    def run(self) -> ProcessOutcome:
        error = self.spawn()
        if error is not None:
            return ProcessOutcome(
                exit_code=-1, signal=None, timed_out=False, duration_ms=self._ms(), spawn_error=error
            )
        try:
            while self.tick():
                pass
            leftovers = self.sweep()
            return self.outcome(leftovers)
        finally:
            self.close()

    def tick(self) -> bool:
        """Notice an exit, advance the kill chain, wait for output. False once the press is over."""
        child = self._child
        now = time.monotonic()
        if now >= self.next_reap:
            # Orphans that exit while the press runs are this process's zombies: a process that
            # forks and exits in a loop would otherwise fill the pid space before the press ends.
            self.registry.reap_adopted()
            self.next_reap = now + REAP_EVERY
        if child.returncode is None and child.poll() is not None:
            self.exited_at = now
            if child.exit_fd is not None:
                self.poller.unregister(child.exit_fd)
        if child.returncode is None:
            if not self.stopping:
                self._maybe_begin_stop(now)
            else:
                self.stop(now)
        elif not self.open_fds or not self._wait_for_pipe_holders(now):
            return False
        self.read(self._step(now))
        return True

    # ------------------------------------------------------------------ stages

    def spawn(self) -> str | None:
        """Start the child and register it; an error message if it could not start."""
        req = self.req
        env = dict(req.env)
        env[PRESS_MARKER] = req.press_id
        # The tag: every process of the press inherits the read end; the engine keeps the write
        # end open for the press's life, so the pipe's identity cannot be reused meanwhile.
        tag_r, self.tag_fd = os.pipe2(os.O_CLOEXEC)
        self.entry.tag = f"pipe:[{os.fstat(self.tag_fd).st_ino}]"
        fds = (tag_r, *req.hold_fds)
        try:
            self.child = self.registry.start(
                self.entry, lambda: spawn(req.argv, env, req.cwd, req.preexec, pass_fds=fds)
            )
        except BaseException as exc:
            os.close(self.tag_fd)
            self.tag_fd = -1
            if isinstance(exc, OSError):
                return f"{req.argv[0]}: {exc.strerror or exc}"
            raise
        finally:
            os.close(tag_r)
        child = self.child
        self.streams = {child.stdout_fd: ("stdout", req.stdout), child.stderr_fd: ("stderr", req.stderr)}
        for fd in self.streams:
            os.set_blocking(fd, False)
            self.poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        if child.exit_fd is not None:
            self.poller.register(child.exit_fd, select.POLLIN)
        self.open_fds = set(self.streams)
        return None

    def read(self, wait_s: float) -> None:
        """Wait up to ``wait_s`` for output (or the child's exit) and feed what came to the captures."""
        on_output = self.req.on_output
        for fd, _ev in self.poller.poll(max(0, int(wait_s * 1000))):
            if fd not in self.open_fds:
                continue
            name, cap = self.streams[fd]
            while True:
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    break
                except OSError:
                    chunk = b""
                if not chunk:
                    self.poller.unregister(fd)
                    self.open_fds.discard(fd)
                    break
                cap.feed(chunk)
                if on_output is not None:
                    on_output(name, chunk)
                if len(chunk) < (1 << 16):
                    break

    def stop(self, now: float) -> None:
        """One step of the kill chain while the child lives: escapees now, the group TERM then KILL."""
        entry = self.entry
        from . import sweep  # only presses that must be stopped load the freeze-and-kill machinery

        self.escapees += sweep.freeze_and_kill(self.registry, entry, spare_group=entry.pgid)
        if self.term_deadline is None:
            return
        if now >= self.term_deadline:
            sweep.signal_group(entry.pgid, signal.SIGKILL)
            self.term_deadline = None

    def sweep(self) -> int:
        """The child has exited: close the captures and end whatever the press left behind."""
        for fd in list(self.open_fds):
            self.poller.unregister(fd)
        self.open_fds.clear()
        self.req.stdout.close()
        self.req.stderr.close()
        if self.registry.nothing_left(self.entry):
            return 0
        from . import sweep

        return sweep.terminate(self.registry, self.entry, 0.0 if self.stopping else LEFTOVER_GRACE)

    def outcome(self, leftovers: int) -> ProcessOutcome:
        child = self._child
        rc = child.returncode if child.returncode is not None else child.wait()
        sig = -rc if rc < 0 else None
        exit_code = -1 if self.stopping else (rc if rc >= 0 else 128 + (sig or 0))
        return ProcessOutcome(
            exit_code=exit_code,
            signal=sig,
            timed_out=self.timed_out,
            cancelled=self.cancelled,
            duration_ms=self._ms(),
            killed_escapees=self.escapees,
            killed_leftovers=leftovers,
            interrupted_by=ROUTER.received if self.cancelled else 0,
        )

    def close(self) -> None:
        self._child.close()
        self.registry.finish(self.entry)
        if self.tag_fd >= 0:
            os.close(self.tag_fd)
            self.tag_fd = -1

    # ------------------------------------------------------------------ helpers

    @property
    def _child(self) -> Child:
        assert self.child is not None  # noqa: S101 - every caller runs after a successful spawn
        return self.child

    def _stop_requested(self) -> bool:
        cancel = self.req.cancel
        return (cancel is not None and cancel.is_set()) or bool(ROUTER.received)

    def _maybe_begin_stop(self, now: float) -> None:
        if self.deadline is not None and now >= self.deadline:
            self.timed_out = True
        elif self._stop_requested():
            self.cancelled = True
        else:
            return
        self.stopping = True
        from . import sweep

        self.escapees += sweep.freeze_and_kill(self.registry, self.entry, spare_group=self.entry.pgid)
        sweep.signal_group(self.entry.pgid, signal.SIGTERM)
        self.term_deadline = now + self.req.grace

    def _wait_for_pipe_holders(self, now: float) -> bool:
        """The child is gone but something it started still holds a pipe: give it a moment to finish
        writing (never past the deadline; a cancel ends it now), then sweep. False: stop waiting."""
        if not self.stopping and self._stop_requested():
            self.cancelled = self.stopping = True
        limit = (self.exited_at or now) + LEFTOVER_GRACE
        if self.deadline is not None and not self.stopping:
            limit = min(limit, self.deadline)
        if self.stopping:
            limit = min(limit, now)
        if now >= limit:
            if self.swept_at is None:
                from . import sweep

                sweep.terminate(self.registry, self.entry, 0.0)
                self.swept_at = now
            elif now >= self.swept_at + UNSEEN_HOLDER_WAIT:  # held by something we cannot see
                return False
        return True

    def _step(self, now: float) -> float:
        step = TICK
        if self.deadline is not None and not self.stopping:
            step = min(step, max(0.0, self.deadline - now))
        if self._child.returncode is not None and self.exited_at is not None:
            step = min(step, max(0.0, self.exited_at + LEFTOVER_GRACE - now) + 0.01)
        return step

    def _ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)
