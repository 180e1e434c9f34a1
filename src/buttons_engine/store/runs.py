"""Run records under ``buttons/<name>/pressed/`` (CONTRACT 8, DEVIATIONS D1 and D12).

Every press gets its own file, created with an exclusive link so that no concurrency can
make two presses share (and overwrite) a name. Names sort by start time; readers also accept
upstream's second-resolution names. Retention keeps the newest N records per button and
removes each pruned record's progress file with it.
"""

from __future__ import annotations

import os

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
# The engine holds an ``flock`` on the progress file of each press it runs, from ``new_stem``
# until the press's record is written; the kernel drops it if the engine dies (SIGKILL
# included). path -> fd of those held here.
_live: dict[str, int] = {}


def new_stem(pressed_dir: str, started_us: int) -> str:
    """Reserve a unique stem for a press by creating its (empty, 0600) progress file.

    The file stays locked by this process until :func:`write_record` (or :func:`release`), so
    the orphan sweep can tell a running press's file from a crashed one's.
    """
    import fcntl

    _forget_gone()
    for _ in range(100):
        stem = record_stem_us(started_us, random_hex(2))
        path = os.path.join(pressed_dir, stem + PROGRESS_SUFFIX)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
        except FileExistsError:
            continue
        try:
            os.fchmod(fd, FILE_MODE)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise
        _live[path] = fd
        return stem
    raise OSError("could not reserve a unique run record name")


def release(progress_path: str) -> None:
    """Stop marking ``progress_path`` as the file of a running press (its record is written)."""
    fd = _live.pop(progress_path, None)
    if fd is not None:
        os.close(fd)


def _forget_gone() -> None:
    """Close the locks of progress files that were removed (a press that failed to start)."""
    for path in [p for p in list(_live) if not os.path.lexists(p)]:  # list(): smash runs threads
        release(path)


def write_record(pressed_dir: str, stem: str, record: dict[str, Any], retention: int) -> str:
    """Write the record for ``stem``; the name is guaranteed unused. Then apply retention.

    Retention also removes orphan progress files (see :func:`prune`).
    """
    data = dumps(record)
    progress = os.path.join(pressed_dir, stem + PROGRESS_SUFFIX)
    path = os.path.join(pressed_dir, stem + RECORD_SUFFIX)
    # No fsync: a record is linked into place only once fully written, so no reader (and no
    # crash of this process, even SIGKILL) can ever see half of one; only a kernel crash or power
    # loss in the next few seconds could lose it. fsync here cost more than the rest of a press.
    while not create_exclusive(path, data, durable=False):
        # Only possible if something else planted this exact name: never overwrite it.
        stem = stem + "-" + random_hex(2)
        path = os.path.join(pressed_dir, stem + RECORD_SUFFIX)
    release(progress)
    prune(pressed_dir, retention)
    return path


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


def prune(pressed_dir: str, keep: int) -> int:
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
                    os.unlink(os.path.join(pressed_dir, victim))
                    removed += 1
                except FileNotFoundError:
                    pass
    for name in entries:
        if name.endswith(PROGRESS_SUFFIX) and name[: -len(PROGRESS_SUFFIX)] not in stems:
            removed += _remove_orphan(os.path.join(pressed_dir, name))
    return removed


def _remove_orphan(path: str) -> int:
    import fcntl
    import time

    if path in _live:
        return 0
    try:
        if os.lstat(path).st_mtime > time.time() - ORPHAN_AGE_SECONDS:
            return 0
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # a running press holds it
    else:
        try:
            os.unlink(path)
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
        out.append(rec)
        if 0 < limit <= len(out):
            break
    return out


def count(pressed_dir: str) -> int:
    return len(_record_names(pressed_dir))


def newest_progress(pressed_dir: str) -> str | None:
    try:
        names = [n for n in os.listdir(pressed_dir) if n.endswith(PROGRESS_SUFFIX)]
    except OSError:
        return None
    return os.path.join(pressed_dir, max(names)) if names else None
