"""Run ``buttons worker`` as the init of its own PID namespace, so that a worker killed with SIGKILL
takes every process of its presses with it: the kernel kills a namespace's processes when its
init dies, however they forked or daemonised (a supervisor that is dead cannot run its sweep).

The process that calls :func:`enter` unshares a PID and a mount namespace, forks, and stays
outside as a thin parent: it forwards SIGTERM/SIGINT/SIGHUP to the worker and exits with its
status. The worker (PID 1 inside, with a private ``/proc``) dies with its parent
(``PR_SET_PDEATHSIG``), so SIGKILL to either one ends the whole namespace.

Where namespaces are not allowed (an unprivileged container without CAP_SYS_ADMIN), the worker
runs without one and says so: a SIGKILL of the worker then leaves its presses' processes running
until the next worker on that data dir starts (docs/fleet.md, "limits").
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
PR_SET_PDEATHSIG = 1
MARK_ENV = "BUTTONS_WORKER_PIDNS"


def enter() -> str:
    """Fork into a new PID namespace; returns in the worker (the child). ``""`` when done, else why not."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWPID | CLONE_NEWNS) != 0:
        return os.strerror(ctypes.get_errno())
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        # (getppid() is 0 here: the parent lives outside this namespace. It waits for us, so it
        # cannot be gone before this line.)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        # Our own /proc: the supervisor reads process trees there, with this namespace's PIDs.
        if (
            libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0
            or libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0
        ):
            sys.stderr.write(
                f"[worker] cannot mount /proc in the PID namespace: {os.strerror(ctypes.get_errno())}\n"
            )
            os._exit(1)
        os.environ[MARK_ENV] = "1"
        return ""
    _parent(pid)
    raise AssertionError("unreachable")  # pragma: no cover


def _parent(pid: int) -> None:
    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
            continue
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)
