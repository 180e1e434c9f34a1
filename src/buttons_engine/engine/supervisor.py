"""Process supervision for code buttons: one child's whole life, and every process it starts.

Request -> run -> outcome, with an escalation per stage:

1. spawn in a new session (own process group), stdin closed, stdout/stderr to pipes;
2. read both pipes into bounded ``Capture`` objects until the child exits or the deadline;
3. at the deadline, or when the request's ``cancel`` event is set (``smash --on-failure stop``
   ending its siblings): processes that escaped the group (``setsid``, double fork) are killed
   at once, the group gets SIGTERM and ``grace`` seconds, then SIGKILL;
4. when the child has exited, whatever it left behind gets a short grace to finish writing,
   then SIGTERM and SIGKILL; every descendant still alive (including orphans adopted by this
   process as a child subreaper) is killed and reaped, so no process started by a press
   outlives it (DEVIATIONS D3).

Descendants are found through ``/proc``: the press's subtree, plus orphans re-parented to
this process that carry the press's ``BUTTONS_PRESS_ID`` marker in their environment.

No ``subprocess``, ``threading`` or ``dataclasses`` here: ``buttons press`` must start about as
fast as Python itself (see ``engine/spawn.py``).
"""

from __future__ import annotations

import _thread
import os
import select
import sys
import time

from .capture import Capture
from .spawn import Child, spawn

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
if TYPE_CHECKING:
    import signal
else:  # the C module: ``signal`` builds IntEnums at import, pulling ``enum`` onto the press path
    import _signal as signal

PR_SET_CHILD_SUBREAPER = 36
DEFAULT_GRACE = 5.0
LEFTOVER_GRACE = 1.0
PRESS_MARKER = "BUTTONS_PRESS_ID"

_state: dict[str, int] = {"subreaper": 0, "interrupt": 0}
INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_lock = _thread.allocate_lock()
_active_children: set[int] = set()
_active_presses: set[str] = set()


def become_subreaper() -> bool:
    """Make this process adopt orphaned descendants (Linux). Idempotent; False if unsupported."""
    if _state["subreaper"]:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        ok = _prctl(PR_SET_CHILD_SUBREAPER, 1) == 0
    except (OSError, AttributeError, ImportError, TypeError):
        return False
    _state["subreaper"] = int(ok)
    return ok


def _prctl(option: int, arg: int) -> int:
    """``prctl(option, arg, 0, 0, 0)`` through the C core of ctypes.

    ``import ctypes`` builds dozens of types at import (several milliseconds of every press); the
    one call needed here only takes a C ``int`` return type and libc's handle, which is exactly
    how ``ctypes.CDLL(None).prctl`` is put together.
    """
    import _ctypes

    class _CInt(_ctypes._SimpleCData):  # type: ignore[type-arg]  # ctypes.c_int (not subscriptable at run time)
        _type_ = "i"

    class _CFunc(_ctypes.CFuncPtr):  # ctypes.CDLL._FuncPtr
        _flags_ = _ctypes.FUNCFLAG_CDECL
        _restype_ = _CInt

    class _Libc:  # what CFuncPtr reads from a CDLL: its handle
        _handle = _ctypes.dlopen(None)  # type: ignore[arg-type]  # NULL: the running program

    result: int = _CFunc(("prctl", _Libc()))(option, arg, 0, 0, 0)  # type: ignore[arg-type]
    return result


def _on_interrupt(signum: int, _frame: object) -> None:
    _state["interrupt"] = signum


def interrupt_on_signals() -> list[tuple[int, object]]:
    """Route SIGINT, SIGTERM and SIGHUP to every running press (main thread only).

    A press runs in its own session, so the terminal's Ctrl-C never reaches the script: the
    engine has to end it. A handled signal ends every press of this process through the same
    kill chain as a timeout. Returns the previous handlers (for ``restore_signals``).
    """
    previous: list[tuple[int, object]] = []
    for sig in INTERRUPT_SIGNALS:
        try:
            previous.append((sig, signal.signal(sig, _on_interrupt)))
        except (ValueError, OSError):  # not the main thread, or not allowed here
            break
    return previous


def restore_signals(previous: list[tuple[int, object]]) -> None:
    for sig, handler in previous:
        try:
            signal.signal(sig, handler)  # type: ignore[arg-type]
        except (ValueError, OSError, TypeError):
            pass


def interrupted() -> int:
    """The signal that interrupted this process's presses, or 0."""
    return _state["interrupt"]


class ProcessRequest:
    __slots__ = (
        "argv",
        "cancel",
        "cwd",
        "env",
        "grace",
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
    become_subreaper()
    env = dict(req.env)
    env[PRESS_MARKER] = req.press_id
    start = time.monotonic()
    deadline = start + req.timeout if req.timeout and req.timeout > 0 else None
    previous = interrupt_on_signals()
    try:
        return _run(req, env, start, deadline)
    finally:
        restore_signals(previous)


def _run(req: ProcessRequest, env: dict[str, str], start: float, deadline: float | None) -> ProcessOutcome:
    # Spawn and register under the lock, so a concurrent sweep never reaps a child it does not know.
    with _lock:
        try:
            child = spawn(req.argv, env, req.cwd, req.preexec)
        except OSError as exc:
            return ProcessOutcome(
                exit_code=-1,
                signal=None,
                timed_out=False,
                duration_ms=_ms(start),
                spawn_error=f"{req.argv[0]}: {exc.strerror or exc}",
            )
        _active_children.add(child.pid)
        _active_presses.add(req.press_id)
    try:
        return _supervise(child, req, start, deadline)
    finally:
        child.close()
        with _lock:
            _active_children.discard(child.pid)
            _active_presses.discard(req.press_id)


def _supervise(child: Child, req: ProcessRequest, start: float, deadline: float | None) -> ProcessOutcome:
    pgid = child.pid
    streams = {child.stdout_fd: ("stdout", req.stdout), child.stderr_fd: ("stderr", req.stderr)}
    poller = select.poll()
    for fd in streams:
        os.set_blocking(fd, False)
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    if child.exit_fd is not None:
        poller.register(child.exit_fd, select.POLLIN)
    open_fds = set(streams)
    timed_out = cancelled = stopping = False
    cancel = req.cancel
    escapees = 0
    term_deadline: float | None = None
    exited_at: float | None = None
    swept_at: float | None = None
    on_output = req.on_output

    def drain(wait_s: float) -> None:
        for fd, _ev in poller.poll(max(0, int(wait_s * 1000))):
            if fd not in open_fds:
                continue
            name, cap = streams[fd]
            while True:
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    break
                except OSError:
                    chunk = b""
                if not chunk:
                    poller.unregister(fd)
                    open_fds.discard(fd)
                    break
                cap.feed(chunk)
                if on_output is not None:
                    on_output(name, chunk)
                if len(chunk) < (1 << 16):
                    break

    while True:
        now = time.monotonic()
        if child.returncode is None and child.poll() is not None:
            exited_at = now
            if child.exit_fd is not None:
                poller.unregister(child.exit_fd)
        if not open_fds and child.returncode is not None:
            break
        if not stopping and child.returncode is None:
            if deadline is not None and now >= deadline:
                timed_out = stopping = True
            elif (cancel is not None and cancel.is_set()) or _state["interrupt"]:
                cancelled = stopping = True
            if stopping:
                escapees += _kill_escapees(req.press_id, child.pid, pgid)
                _signal_group(pgid, signal.SIGTERM)
                term_deadline = now + req.grace
        if stopping and child.returncode is None:
            escapees += _kill_escapees(req.press_id, child.pid, pgid)
            if term_deadline is not None and now >= term_deadline:
                _signal_group(pgid, signal.SIGKILL)
                term_deadline = None
        if child.returncode is not None and open_fds:
            # The child is gone but something it started still holds a pipe: give it a moment to
            # finish writing (never past the deadline), then end it; a cancel ends it now.
            if not stopping and ((cancel is not None and cancel.is_set()) or _state["interrupt"]):
                cancelled = stopping = True
            limit = (exited_at or now) + LEFTOVER_GRACE
            if deadline is not None and not stopping:
                limit = min(limit, deadline)
            if stopping:
                limit = min(limit, now)
            if now >= limit:
                if swept_at is None:
                    _sweep(req.press_id, child.pid, pgid, grace=0.0)
                    swept_at = now
                elif now >= swept_at + 2.0:  # pipes held by something we cannot see: stop waiting
                    break
        step = 0.1
        if deadline is not None and not stopping:
            step = min(step, max(0.0, deadline - now))
        if child.returncode is not None and exited_at is not None:
            step = min(step, max(0.0, exited_at + LEFTOVER_GRACE - now) + 0.01)
        drain(step)

    for fd in list(open_fds):
        poller.unregister(fd)
    req.stdout.close()
    req.stderr.close()
    leftovers = _sweep(req.press_id, child.pid, pgid, grace=0.0 if stopping else LEFTOVER_GRACE)
    rc = child.returncode if child.returncode is not None else child.wait()
    sig = -rc if rc < 0 else None
    exit_code = -1 if stopping else (rc if rc >= 0 else 128 + (sig or 0))
    return ProcessOutcome(
        exit_code=exit_code,
        signal=sig,
        timed_out=timed_out,
        cancelled=cancelled,
        duration_ms=_ms(start),
        killed_escapees=escapees,
        killed_leftovers=leftovers,
        interrupted_by=_state["interrupt"] if cancelled else 0,
    )


def _ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------- /proc scanning


def _proc_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (ppid, pgid, state) for every visible process."""
    table: dict[int, tuple[int, int, str]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        rparen = data.rfind(b")")
        fields = data[rparen + 2 :].split()
        if len(fields) < 3:
            continue
        table[int(name)] = (int(fields[1]), int(fields[2]), fields[0].decode())
    return table


def _has_marker(pid: int, press_id: str) -> bool | None:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            env = fh.read()
    except OSError:
        return None
    if not env:
        return None
    return f"{PRESS_MARKER}={press_id}".encode() in env.split(b"\0")


def _my_children() -> set[int] | None:
    """Direct children of this process (all threads), or None when the kernel cannot say."""
    out: set[int] = set()
    try:
        tids = os.listdir("/proc/self/task")
        for tid in tids:
            with open(f"/proc/self/task/{tid}/children", "rb") as fh:
                out.update(int(p) for p in fh.read().split())
    except (OSError, ValueError):
        return None
    return out


def _nothing_left(child_pid: int, pgid: int) -> bool:
    """Cheap check after a normal exit: no unknown child adopted and the group is empty."""
    children = _my_children()
    if children is None:
        return False
    with _lock:
        known = set(_active_children)
    if children - known - {child_pid}:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def press_processes(press_id: str, child_pid: int) -> list[tuple[int, int, str]]:
    """Every live process that belongs to the press: (pid, pgid, state)."""
    table = _proc_table()
    me = os.getpid()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _pg, _st) in table.items():
        children.setdefault(ppid, []).append(pid)
    with _lock:
        others = _active_children - {child_pid}
        alone = len(_active_presses) <= 1
    roots: list[int] = []
    if child_pid in table:
        roots.append(child_pid)
    for pid in children.get(me, []):
        if pid == child_pid or pid in others:
            continue
        # An orphan adopted while this is the only press of the process is the press's, whatever
        # its environment says (it may have replaced it); with several presses, the marker decides
        # and unmarked orphans are swept when the last press ends.
        if alone or _has_marker(pid, press_id):
            roots.append(pid)
    found: list[tuple[int, int, str]] = []
    seen: set[int] = set()
    stack = roots
    while stack:
        pid = stack.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        _ppid, pgid, state = table[pid]
        found.append((pid, pgid, state))
        stack.extend(children.get(pid, []))
    return found


def _kill_escapees(press_id: str, child_pid: int, pgid: int) -> int:
    """SIGKILL every process of the press that left the child's process group."""
    n = 0
    for pid, pg, state in press_processes(press_id, child_pid):
        if pg != pgid and state != "Z" and _kill_quiet(pid, signal.SIGKILL):
            n += 1
    _reap_adopted()
    return n


def _alive_leftovers(press_id: str, child_pid: int) -> list[tuple[int, int, str]]:
    return [p for p in press_processes(press_id, child_pid) if p[0] != child_pid and p[2] != "Z"]


def _sweep(press_id: str, child_pid: int, pgid: int, grace: float) -> int:
    """End every remaining process of the press: SIGTERM, ``grace`` seconds, SIGKILL; then reap."""
    if _nothing_left(child_pid, pgid):
        return 0
    victims = _alive_leftovers(press_id, child_pid)
    killed = 0
    if victims and grace > 0:
        for pid, _pg, _st in victims:
            _kill_quiet(pid, signal.SIGTERM)
        end = time.monotonic() + grace
        while time.monotonic() < end:
            _reap_adopted()
            if not _alive_leftovers(press_id, child_pid):
                break
            time.sleep(0.05)
    for _ in range(50):
        alive = _alive_leftovers(press_id, child_pid)
        if not alive:
            break
        for pid, _pg, _st in alive:
            if _kill_quiet(pid, signal.SIGKILL):
                killed += 1
        _reap_adopted()
        time.sleep(0.02)
    _signal_group(pgid, signal.SIGKILL)
    _reap_adopted()
    return killed or len(victims)


def _kill_quiet(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _reap_adopted() -> None:
    """Reap zombie children of this process that are not a press's main child."""
    me = os.getpid()
    with _lock:
        protected = set(_active_children)
        for pid, (ppid, _pg, state) in _proc_table().items():
            if ppid == me and state == "Z" and pid not in protected:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
