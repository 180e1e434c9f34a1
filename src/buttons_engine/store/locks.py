"""Advisory file locks (``flock``) under the data dir: queue slots, idempotency keys, writers.

``flock`` locks belong to the open file description, so the kernel releases them when the
last holder exits for any reason, SIGKILL included: a crashed press can never leak a lock. Lock
fds are opened ``O_CLOEXEC``; the one exception is deliberate: a press hands the descriptors of
its own queue slot and idempotency lock to its processes (``FileLock.fileno``, the code runner's
``hold_fds``), so the lock stays held while any process of that press lives, even if the engine
is killed. No press ever inherits another press's locks.

Waiting is a poll (non-blocking attempt, short sleep) so a waiter can honour its own deadline
and a cancellation request instead of blocking in the kernel.
"""

from __future__ import annotations

import fcntl
import os
import time

from .atomic import FILE_MODE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

POLL_SECONDS = 0.1


class FileLock:
    """An acquired lock; ``release()`` is idempotent."""

    __slots__ = ("_fd", "_unlink", "path")

    def __init__(self, path: str, fd: int, unlink: bool) -> None:
        self.path = path
        self._fd: int | None = fd
        self._unlink = unlink

    def fileno(self) -> int | None:
        """The lock's descriptor while held (a child that inherits it keeps the lock alive)."""
        return self._fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if self._unlink:
            # Unlink while still holding the lock: a waiter that then wins the old inode sees
            # that the path moved on and retries on the new file (see ``_open_locked``).
            try:
                os.unlink(self.path)
            except OSError:
                pass
        os.close(fd)

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)


def try_lock(path: str) -> FileLock | None:
    """Take an exclusive lock on ``path`` (created if missing, kept afterwards) or return None."""
    fd = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return FileLock(path, fd, unlink=False)


def _same_file(fd: int, path: str) -> bool:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    fst = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)


def wait_lock(
    path: str,
    deadline: float | None,
    *,
    transient: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> FileLock | None:
    """Exclusive lock on ``path``, waiting until the monotonic ``deadline`` (None: forever).

    Returns None when the deadline passes or ``should_stop()`` turns true. A ``transient``
    lock file is removed on release, so per-key locks do not pile up.
    """
    while True:
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
        except BaseException:
            os.close(fd)
            raise
        else:
            if not transient or _same_file(fd, path):
                return FileLock(path, fd, unlink=transient)
            os.close(fd)  # the previous holder removed the file: lock the new one
            continue
        if should_stop is not None and should_stop():
            return None
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return None
        pause = POLL_SECONDS if deadline is None else min(POLL_SECONDS, max(0.0, deadline - now))
        time.sleep(pause)


def lock_dir(path: str) -> FileLock:
    """Blocking exclusive lock on a directory (serialises writers of files inside it)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return FileLock(path, fd, unlink=False)
