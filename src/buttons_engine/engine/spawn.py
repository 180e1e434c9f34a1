"""Start a child in a new session with its output on pipes, without importing ``subprocess``.

``subprocess`` pulls ``threading``, ``selectors`` and friends onto the press path; a code
button only needs ``posix_spawn`` with three file actions. When resource limits must be
applied between fork and exec (``setrlimit`` in the child), ``subprocess.Popen`` with a
``preexec_fn`` is used instead, imported only then.

``pass_fds`` are descriptors the child inherits under the same numbers (the press's tag pipe,
its queue slot and idempotency lock: ``engine/active_presses.py``, docs/presses.md). They stay
close-on-exec in the engine, so a child started by another thread never inherits them; the
child gets them through a ``POSIX_SPAWN_DUP2`` of each descriptor onto itself, which clears
``FD_CLOEXEC`` in the child since glibc 2.29 (older C libraries take the ``Popen`` path,
whose ``pass_fds`` does the same).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
if TYPE_CHECKING:
    import signal
else:  # the C module: ``signal`` builds IntEnums at import, pulling ``enum`` onto the press path
    import _signal as signal

# Python ignores SIGPIPE and may change other dispositions; the child gets the defaults back.
_RESET_SIGNALS = tuple(
    s for s in (getattr(signal, n, None) for n in ("SIGPIPE", "SIGXFSZ", "SIGXCPU")) if s is not None
)


class Child:
    """A started child: its pid, the read ends of its stdout and stderr, and its exit status.

    ``returncode`` follows ``subprocess``: the exit code, or ``-N`` when killed by signal N.
    """

    def __init__(self, pid: int, stdout_fd: int, stderr_fd: int, popen: object | None = None) -> None:
        self.pid = pid
        self.stdout_fd = stdout_fd
        self.stderr_fd = stderr_fd
        self.returncode: int | None = None
        self._popen = popen
        self.exit_fd: int | None = None  # becomes readable when the child exits (pidfd)
        try:
            self.exit_fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.exit_fd = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return self.returncode
            if pid == self.pid:
                self._set(status)
        return self.returncode

    def wait(self) -> int:
        while self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                self.returncode = self.returncode if self.returncode is not None else -1
                break
            except InterruptedError:
                continue
            if pid == self.pid:
                self._set(status)
        return self.returncode

    def _set(self, status: int) -> None:
        if os.WIFSIGNALED(status):
            self.returncode = -os.WTERMSIG(status)
        else:
            self.returncode = os.waitstatus_to_exitcode(status)

    def close(self) -> None:
        for fd in (self.stdout_fd, self.stderr_fd, self.exit_fd):
            if fd is not None and fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.stdout_fd = self.stderr_fd = -1
        self.exit_fd = None


def _self_dup2_clears_cloexec() -> bool:
    """glibc >= 2.29: ``posix_spawn_file_actions_adddup2(fd, fd)`` makes ``fd`` inheritable."""
    try:
        name, _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").partition(" ")
        major, minor = (int(x) for x in version.split(".")[:2])
    except (ValueError, OSError, AttributeError):
        return False
    return name == "glibc" and (major, minor) >= (2, 29)


SELF_DUP2_CLEARS_CLOEXEC = _self_dup2_clears_cloexec()


def spawn(
    argv: list[str],
    env: dict[str, str],
    cwd: str | None = None,
    preexec: Callable[[], None] | None = None,
    pass_fds: tuple[int, ...] = (),
) -> Child:
    """Start ``argv`` in a new session: stdin ``/dev/null``, stdout and stderr on pipes. Raises OSError.

    Every descriptor of ``pass_fds`` is inherited by the child under its own number; one below 3
    (the engine started with a standard stream closed) is duplicated above 2 first.
    """
    moved: list[int] = []
    if any(fd < 3 for fd in pass_fds):
        import fcntl

        fds = []
        for fd in pass_fds:
            if fd < 3:
                moved.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3))
            fds.append(moved[-1] if fd < 3 else fd)
        pass_fds = tuple(fds)
    try:
        if preexec is not None or cwd is not None or (pass_fds and not SELF_DUP2_CLEARS_CLOEXEC):
            return _spawn_popen(argv, env, cwd, preexec, pass_fds)
        return _posix_spawn(argv, env, pass_fds)
    finally:
        for fd in moved:
            os.close(fd)


def _posix_spawn(argv: list[str], env: dict[str, str], pass_fds: tuple[int, ...]) -> Child:
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    actions: list[tuple[int, ...] | tuple[int, int, str, int, int]] = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, out_w, 1),
        (os.POSIX_SPAWN_DUP2, err_w, 2),
    ]
    actions.extend((os.POSIX_SPAWN_DUP2, fd, fd) for fd in pass_fds)
    try:
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True, setsigdef=_RESET_SIGNALS)
    except BaseException:
        for fd in (out_r, err_r):
            os.close(fd)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    return Child(pid, out_r, err_r)


def _spawn_popen(
    argv: list[str],
    env: dict[str, str],
    cwd: str | None,
    preexec: Callable[[], None] | None,
    pass_fds: tuple[int, ...] = (),
) -> Child:
    import subprocess

    proc = subprocess.Popen(  # noqa: S603 - argv is [interpreter, script path], never a shell string
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        close_fds=True,
        pass_fds=pass_fds,
        start_new_session=True,
        preexec_fn=preexec,  # noqa: PLW1509 - only used to apply resource limits in the child
    )
    assert proc.stdout is not None and proc.stderr is not None  # noqa: S101 - pipes requested above
    # Take the descriptors over; the child is reaped by Child.poll/wait, not by Popen.
    out_fd = os.dup(proc.stdout.fileno())
    err_fd = os.dup(proc.stderr.fileno())
    os.set_inheritable(out_fd, False)
    os.set_inheritable(err_fd, False)
    proc.stdout.close()
    proc.stderr.close()
    proc.returncode = 0  # stop Popen's destructor and the _active list from reaping our child
    return Child(proc.pid, out_fd, err_fd, popen=proc)
