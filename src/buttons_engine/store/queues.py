"""Queue slots (CONTRACT 7.8): ``queues/<dir>/slot-0.lock … slot-(C-1).lock``.

A press holds one slot, an exclusive ``flock`` on its file, for as long as it runs. Slots are
plain files shared by every button and every process that names the queue; the kernel drops
a dead holder's lock, so a press killed with SIGKILL never leaks its slot. Slot files persist.
A queue has at most ``MAX_CONCURRENCY`` slots, whatever ``concurrency`` says.
"""

from __future__ import annotations

import os
import re
import time

from ..errors import StorageError
from .atomic import ensure_dir
from .locks import FileLock, try_lock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .layout import Layout

DIR_NAME = "queues"
POLL_SECONDS = 0.1
MAX_DIR_NAME = 200
MAX_CONCURRENCY = 1024  # a larger queue.concurrency is clamped to this many slots

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def sanitize(text: str) -> str:
    return _UNSAFE.sub("_", text)


def dir_name(name: str, key: str = "") -> str:
    """``sanitize(name)``, or ``sanitize(name + "__" + sanitize(key))`` with a key (as upstream)."""
    out = sanitize(name + "__" + sanitize(key)) if key else sanitize(name)
    if len(out) > MAX_DIR_NAME:  # a file name must fit the filesystem; keep it unique with a digest
        import hashlib

        out = out[:150] + "-" + hashlib.sha256(out.encode()).hexdigest()[:16]
    return out


def acquire(
    layout: Layout,
    queue_dir: str,
    concurrency: int,
    deadline: float | None,
    should_stop: Callable[[], bool] | None = None,
) -> FileLock | None:
    """Lock the first free slot, retrying every 100 ms; None once the deadline passes (or on stop)."""
    directory = os.path.join(layout.root, DIR_NAME, queue_dir)
    ensure_dir(directory, root=layout.root)
    slots = min(max(1, concurrency), MAX_CONCURRENCY)
    while True:
        for i in range(slots):  # slot paths are built as tried: the first free one ends the scan
            path = os.path.join(directory, f"slot-{i}.lock")
            try:
                held = try_lock(path)
            except OSError as exc:  # a symlink (O_NOFOLLOW), a directory, no permission
                raise StorageError(
                    f"cannot use queue slot {path}: {exc.strerror or exc}"
                    + (
                        " (a symlink or a folder is planted there; remove it)"
                        if os.path.lexists(path)
                        else ""
                    )
                ) from exc
            if held is not None:
                return held
        if should_stop is not None and should_stop():
            return None
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return None
        time.sleep(POLL_SECONDS if deadline is None else min(POLL_SECONDS, max(0.0, deadline - now)))
