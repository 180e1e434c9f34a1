"""Run records under ``buttons/<name>/pressed/`` (CONTRACT 8, DEVIATIONS D1 and D12).

Every press gets its own file, created with an exclusive link so that no concurrency can
make two presses share (and overwrite) a name. Names sort by start time; readers also accept
upstream's second-resolution names. Retention keeps the newest N records per button and
removes each pruned record's progress file with it.
"""

from __future__ import annotations

import os
import time

from .. import jsonfmt
from ..ids import random_hex
from ..timefmt import record_stem_us
from .atomic import FILE_MODE, create_exclusive
from .jsonio import dumps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

RECORD_SUFFIX = ".json"
PROGRESS_SUFFIX = ".progress.jsonl"


ORPHAN_AGE_SECONDS = 3600.0


def new_stem(pressed_fd: int, started_us: int, *, progress: bool) -> tuple[str, int | None]:
    """A unique stem (the run id) for a press in the directory ``pressed_fd``.

    With ``progress``, the stem is reserved by creating the press's (empty, 0600) progress file,
    returned open and ``flock``-ed: the caller holds that descriptor until the record is written
    (then closes it), so the orphan sweep of :func:`prune` can tell a running press's file from
    one a crashed engine left (the kernel drops the lock when the engine dies, SIGKILL included).
    Without, only the record's name is checked now (and again when it is written).
    """
    import fcntl

    for _ in range(100):
        stem = record_stem_us(started_us, random_hex(2))
        if not progress:
            if not _exists(pressed_fd, stem + RECORD_SUFFIX):
                return stem, None
            continue
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(stem + PROGRESS_SUFFIX, flags, FILE_MODE, dir_fd=pressed_fd)
        except FileExistsError:
            continue
        try:
            os.fchmod(fd, FILE_MODE)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise
        return stem, fd
    raise OSError("could not reserve a unique run record name")


def discard_progress(pressed_fd: int, stem: str) -> None:
    """Remove a press's progress file when no record will ever name it."""
    try:
        os.unlink(stem + PROGRESS_SUFFIX, dir_fd=pressed_fd)
    except OSError:
        pass


def write_record(pressed_fd: int, stem: str, record: dict[str, Any], retention: int) -> str:
    """Write the record named ``stem`` into the directory ``pressed_fd``; then apply retention.

    The directory is the one the press started in, held open: if the button is deleted meanwhile
    the write fails, and if a button of the same name is created meanwhile its history (another
    directory) is never touched. The name is never reused: if it is taken (something planted
    it), the record gets a new stem and its ``run_id`` says so. Returns the stem used.
    Retention also removes orphan progress files (see :func:`prune`).
    """
    # No fsync: a record is linked into place only once fully written, so no reader (and no
    # crash of this process, even SIGKILL) can ever see half of one; only a kernel crash or power
    # loss in the next few seconds could lose it. fsync here cost more than the rest of a press.
    while not create_exclusive(stem + RECORD_SUFFIX, dumps(record), durable=False, dir_fd=pressed_fd):
        stem = stem + "-" + random_hex(2)
        if "run_id" in record:
            record = {**record, "run_id": stem}
    if _prune_due(pressed_fd, retention):
        prune(pressed_fd, retention)
    return stem


# A long-running process (serve, a drawer's for_each) may press one button many times a second from
# several threads. Each prune reads the whole directory while those threads create files in it, and
# cost more than the rest of a press there: a 200-item for_each at parallelism 8 spent 1.2 s of its
# 2.8 s of CPU pruning. So a process prunes one directory at most once a second; a skipped prune is
# remembered and done by :func:`settle`, which the drawer and smash services call when they finish
# (a server's next press after a second does it too). A CLI press (one per process) always prunes.
PRUNE_INTERVAL = 1.0
# Plain dict operations (atomic under the GIL) instead of a lock: threading is not on the press path.
_last_prune: dict[tuple[int, int], float] = {}
_pending: dict[tuple[int, int], tuple[int, int]] = {}  # directory -> (its fd, duplicated; retention)


def _prune_due(pressed_fd: int, retention: int) -> bool:
    st = os.fstat(pressed_fd)
    key = (st.st_dev, st.st_ino)
    now = time.monotonic()
    if now - _last_prune.get(key, -PRUNE_INTERVAL) >= PRUNE_INTERVAL:
        _last_prune[key] = now
        old = _pending.pop(key, None)  # only the thread that pops an entry closes its fd
        if old is not None:
            os.close(old[0])
        return True
    if key not in _pending:
        fd = os.dup(pressed_fd)
        if _pending.setdefault(key, (fd, retention))[0] != fd:
            os.close(fd)
    return False


def settle() -> None:
    """Apply the retention this process skipped (see ``PRUNE_INTERVAL``) to every directory."""
    for key in list(_pending):
        entry = _pending.pop(key, None)
        if entry is None:
            continue
        try:
            prune(*entry)
        except OSError:
            pass  # best effort: the next press of that button prunes again
        finally:
            os.close(entry[0])
    _last_prune.clear()


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _record_names(pressed_dir: str) -> list[str]:
    try:
        with os.scandir(pressed_dir) as it:
            return [
                e.name
                for e in it
                if e.name.endswith(RECORD_SUFFIX) and not e.name.startswith(".") and e.name[0].isdigit()
            ]
    except (FileNotFoundError, NotADirectoryError):
        return []


def prune(pressed_dir: str | int, keep: int) -> int:
    """Delete all but the ``keep`` newest records (``keep`` <= 0: all kept), each with its progress
    file, and the orphan progress files; returns how many files were removed.

    An orphan is a progress file with no record that no running press holds (its engine died,
    or the press was refused after the file was made) and that is older than
    ``ORPHAN_AGE_SECONDS``: the age covers the instant between creating a file and locking it,
    and engines that do not take the lock.
    """
    try:
        with os.scandir(pressed_dir) as it:
            entries = [e.name for e in it if not e.name.startswith(".") and e.name[:1].isdigit()]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    names = sorted(n for n in entries if n.endswith(RECORD_SUFFIX))
    stems = {n[: -len(RECORD_SUFFIX)] for n in names}
    removed = 0
    if keep > 0 and len(names) > keep:
        for name in names[: len(names) - keep]:
            stem = name[: -len(RECORD_SUFFIX)]
            for victim in (name, stem + PROGRESS_SUFFIX):
                try:
                    os.unlink(victim, dir_fd=pressed_dir) if isinstance(pressed_dir, int) else os.unlink(
                        os.path.join(pressed_dir, victim)
                    )
                    removed += 1
                except FileNotFoundError:
                    pass
    for name in entries:
        if name.endswith(PROGRESS_SUFFIX) and name[: -len(PROGRESS_SUFFIX)] not in stems:
            removed += _remove_orphan(pressed_dir, name)
    return removed


def _remove_orphan(pressed_dir: str | int, name: str) -> int:
    """Remove the progress file ``name`` if it is old and no running press holds its lock."""
    import fcntl
    import time

    dir_fd = pressed_dir if isinstance(pressed_dir, int) else None
    path = name if dir_fd is not None else os.path.join(str(pressed_dir), name)
    try:
        if os.lstat(path, dir_fd=dir_fd).st_mtime > time.time() - ORPHAN_AGE_SECONDS:
            return 0
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # a running press holds it (another open file description, even in this process)
    else:
        try:
            os.unlink(path, dir_fd=dir_fd)
        except OSError:
            return 0
        return 1
    finally:
        os.close(fd)


def _read(path: str) -> dict[str, Any] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            value = jsonfmt.loads(fh.read())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def newest(pressed_dirs: Iterable[str], limit: int) -> list[dict[str, Any]]:
    """The ``limit`` newest records across ``pressed_dirs`` (``limit`` <= 0: all), newest first.

    Only the selected files are opened, so this stays fast with thousands of records.
    """
    candidates: list[tuple[str, str]] = []
    for d in pressed_dirs:
        names = _record_names(d)
        if limit > 0 and len(names) > limit:
            import heapq

            names = heapq.nlargest(limit, names)
        candidates.extend((n, d) for n in names)
    candidates.sort(reverse=True)
    out: list[dict[str, Any]] = []
    for name, d in candidates:
        rec = _read(os.path.join(d, name))
        if rec is None:
            continue
        rec.setdefault("run_id", name[: -len(RECORD_SUFFIX)])  # records written before run ids
        out.append(rec)
        if 0 < limit <= len(out):
            break
    return out


def find(pressed_dirs: Iterable[str], run_id: str) -> dict[str, Any] | None:
    """The record whose run id (file stem) is ``run_id`` in one of ``pressed_dirs``, or None.

    ``run_id`` must already be a safe file stem (``services.history`` checks it).
    """
    for d in pressed_dirs:
        rec = _read(os.path.join(d, run_id + RECORD_SUFFIX))
        if rec is not None:
            rec.setdefault("run_id", run_id)
            return rec
    return None


def count(pressed_dir: str) -> int:
    return len(_record_names(pressed_dir))


def newest_progress(pressed_dir: str) -> str | None:
    try:
        names = [n for n in os.listdir(pressed_dir) if n.endswith(PROGRESS_SUFFIX)]
    except OSError:
        return None
    return os.path.join(pressed_dir, max(names)) if names else None
