"""Start a child in a new session with its output on pipes, without importing ``subprocess``.

``subprocess`` pulls ``threading``, ``selectors`` and friends onto the press path; a code
button only needs ``posix_spawn`` with three file actions. When resource limits must be
applied between fork and exec (``setrlimit`` in the child), ``subprocess.Popen`` with a
``preexec_fn`` is used instead, imported only then.
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


def spawn(
    argv: list[str], env: dict[str, str], cwd: str | None = None, preexec: Callable[[], None] | None = None
) -> Child:
    """Start ``argv`` in a new session: stdin ``/dev/null``, stdout and stderr on pipes. Raises OSError."""
    if preexec is not None or cwd is not None:
        return _spawn_popen(argv, env, cwd, preexec)
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    try:
        pid = os.posix_spawn(
            argv[0],
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, out_w, 1),
                (os.POSIX_SPAWN_DUP2, err_w, 2),
            ],
            setsid=True,
            setsigdef=_RESET_SIGNALS,
        )
    except BaseException:
        for fd in (out_r, err_r):
            os.close(fd)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    return Child(pid, out_r, err_r)


def _spawn_popen(
    argv: list[str], env: dict[str, str], cwd: str | None, preexec: Callable[[], None] | None
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
