"""Process supervision for code buttons: one child's whole life, and every process it starts.

Request -> run -> outcome, with an escalation per stage:

1. spawn in a new session (own process group), stdin closed, stdout/stderr to pipes;
2. read both pipes into bounded ``Capture`` objects until the child exits or the deadline;
3. at the deadline, or when the request's ``cancel`` event is set (``smash --on-failure stop``
   ending its siblings): processes that escaped the group (``setsid``, double fork) are killed
   at once, the group gets SIGTERM and ``grace`` seconds, then SIGKILL;
4. finally every descendant still alive (including orphans we adopted as a child subreaper)
   is killed and reaped, so no process started by a press outlives it (DEVIATIONS D3).

Descendants are found through ``/proc``: the press's subtree, plus orphans re-parented to
this process that carry the press's ``BUTTONS_PRESS_ID`` marker in their environment.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .capture import Capture

PR_SET_CHILD_SUBREAPER = 36
DEFAULT_GRACE = 5.0
LEFTOVER_GRACE = 1.0
PRESS_MARKER = "BUTTONS_PRESS_ID"

_subreaper_done = False
_lock = threading.Lock()
_active_children: set[int] = set()
_active_presses: set[str] = set()


def become_subreaper() -> bool:
    """Make this process adopt orphaned descendants (Linux). Idempotent; False if unsupported."""
    global _subreaper_done  # noqa: PLW0603 - one flag per process
    if _subreaper_done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        ok = bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
    _subreaper_done = ok
    return ok


@dataclass
class ProcessRequest:
    argv: list[str]
    env: dict[str, str]
    press_id: str
    timeout: float | None = None
    grace: float = DEFAULT_GRACE
    cwd: str | None = None
    preexec: Callable[[], None] | None = None
    stdout: Capture = field(default_factory=Capture)
    stderr: Capture = field(default_factory=Capture)
    on_output: Callable[[str, bytes], None] | None = None
    # Set from another thread to end the press through the same kill chain as a timeout.
    cancel: threading.Event | None = None


@dataclass
class ProcessOutcome:
    exit_code: int
    signal: int | None
    timed_out: bool
    duration_ms: int
    spawn_error: str | None = None
    cancelled: bool = False
    killed_escapees: int = 0
    killed_leftovers: int = 0


def run(req: ProcessRequest) -> ProcessOutcome:
    become_subreaper()
    env = dict(req.env)
    env[PRESS_MARKER] = req.press_id
    start = time.monotonic()
    deadline = start + req.timeout if req.timeout and req.timeout > 0 else None
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv is [interpreter, script path], never a shell string
            req.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=req.cwd,
            close_fds=True,
            start_new_session=True,
            preexec_fn=req.preexec,  # noqa: PLW1509 - only set when resource limits are requested
        )
    except OSError as exc:
        return ProcessOutcome(
            -1, None, False, _ms(start), spawn_error=f"{req.argv[0]}: {exc.strerror or exc}"
        )
    with _lock:
        _active_children.add(proc.pid)
        _active_presses.add(req.press_id)
    try:
        return _supervise(proc, req, start, deadline)
    finally:
        with _lock:
            _active_children.discard(proc.pid)
            _active_presses.discard(req.press_id)


def _supervise(
    proc: subprocess.Popen[bytes], req: ProcessRequest, start: float, deadline: float | None
) -> ProcessOutcome:
    assert proc.stdout is not None and proc.stderr is not None  # noqa: S101 - pipes requested above
    pgid = proc.pid
    streams = {proc.stdout.fileno(): ("stdout", req.stdout), proc.stderr.fileno(): ("stderr", req.stderr)}
    poller = select.poll()
    for fd in streams:
        os.set_blocking(fd, False)
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    open_fds = set(streams)
    timed_out = cancelled = stopping = False
    cancel = req.cancel
    escapees = 0
    term_deadline: float | None = None
    exited_at: float | None = None

    def drain(wait_s: float) -> None:
        events = poller.poll(max(0, int(wait_s * 1000)))
        for fd, _ev in events:
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
                if req.on_output is not None:
                    req.on_output(name, chunk)
                if len(chunk) < (1 << 16):
                    break

    while True:
        now = time.monotonic()
        if proc.returncode is None:
            proc.poll()
        if proc.returncode is not None and exited_at is None:
            exited_at = now
        if not open_fds and proc.returncode is not None:
            break
        if not stopping and proc.returncode is None:
            if deadline is not None and now >= deadline:
                timed_out = stopping = True
            elif cancel is not None and cancel.is_set():
                cancelled = stopping = True
            if stopping:
                escapees += _kill_escapees(req.press_id, proc.pid, pgid)
                _signal_group(pgid, signal.SIGTERM)
                term_deadline = now + req.grace
        if stopping and proc.returncode is None:
            escapees += _kill_escapees(req.press_id, proc.pid, pgid)
            if term_deadline is not None and now >= term_deadline:
                _signal_group(pgid, signal.SIGKILL)
                term_deadline = None
        if proc.returncode is not None and open_fds:
            # The child is gone but something it started still holds a pipe. Keep reading until
            # the deadline (or a short wait after a timeout), then end them; a cancel ends them now.
            if not stopping and cancel is not None and cancel.is_set():
                cancelled = stopping = True
                limit = now
            elif deadline is not None and not stopping:
                limit = deadline
            else:
                limit = (exited_at or now) + LEFTOVER_GRACE
            if now >= limit:
                _sweep(req.press_id, proc.pid, pgid, grace=0.0)
                if now >= limit + 2.0:  # pipes held by something we cannot see: stop waiting
                    break
        step = 0.1
        if deadline is not None and not stopping:
            step = min(step, max(0.0, deadline - now))
        if open_fds:
            drain(step)
        else:
            # Output is closed; wait for the exit itself rather than polling nothing.
            try:
                proc.wait(timeout=step)
            except subprocess.TimeoutExpired:
                pass

    for fd in list(open_fds):
        poller.unregister(fd)
    proc.stdout.close()
    proc.stderr.close()
    req.stdout.close()
    req.stderr.close()
    leftovers = _sweep(req.press_id, proc.pid, pgid, grace=0.0 if stopping else LEFTOVER_GRACE)
    rc = proc.returncode if proc.returncode is not None else proc.wait()
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
        marked = _has_marker(pid, press_id)
        if marked or (marked is None and alone):
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
        if pg != pgid and state != "Z":
            try:
                os.kill(pid, signal.SIGKILL)
                n += 1
            except (ProcessLookupError, PermissionError):
                pass
    _reap_adopted()
    return n


def _sweep(press_id: str, child_pid: int, pgid: int, grace: float) -> int:
    """End every remaining process of the press: SIGTERM, ``grace`` seconds, SIGKILL; then reap."""
    victims = [p for p in press_processes(press_id, child_pid) if p[0] != child_pid and p[2] != "Z"]
    killed = 0
    if victims and grace > 0:
        for pid, _pg, _st in victims:
            _kill_quiet(pid, signal.SIGTERM)
        end = time.monotonic() + grace
        while time.monotonic() < end:
            _reap_adopted()
            alive = [p for p in press_processes(press_id, child_pid) if p[0] != child_pid and p[2] != "Z"]
            if not alive:
                break
            time.sleep(0.05)
    for _ in range(50):
        alive = [p for p in press_processes(press_id, child_pid) if p[0] != child_pid and p[2] != "Z"]
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
