"""Reading progress streams (``pressed/<stem>.progress.jsonl``, CONTRACT 7.9) for ``tail``.

Scripts append to these files themselves; the engine only creates them (``runs.new_stem``)
and reads them back. A reader keeps the file open and picks up what was appended since its
last read, starting over if the file was truncated.
"""

from __future__ import annotations

import errno
import os
import stat

from .runs import newest_progress

__all__ = ["ProgressReader", "newest_progress"]

READ_CHUNK = 1 << 20


class ProgressReader:
    """Incremental reader of one file. ``nofollow`` refuses a symlink at the final component."""

    __slots__ = ("_fd", "_pos", "path")

    def __init__(self, path: str, *, nofollow: bool) -> None:
        # O_NONBLOCK: a FIFO planted under a progress file's name must not block the open (a
        # reader would wait for a writer forever); anything but a regular file is refused.
        flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | (os.O_NOFOLLOW if nofollow else 0)
        self.path = path
        self._fd = os.open(path, flags)
        if not stat.S_ISREG(os.fstat(self._fd).st_mode):
            os.close(self._fd)
            raise OSError(errno.EINVAL, "not a regular file", path)
        self._pos = 0

    def read_new(self, limit: int = READ_CHUNK) -> bytes:
        """Up to ``limit`` bytes appended since the last call (b"" when nothing is new)."""
        if os.fstat(self._fd).st_size < self._pos:  # truncated or rewritten: start over
            self._pos = 0
        data = os.pread(self._fd, limit, self._pos)
        self._pos += len(data)
        return data

    def close(self) -> None:
        os.close(self._fd)
