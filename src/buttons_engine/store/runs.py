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
from .atomic import create_empty, create_exclusive
from .jsonio import dumps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

RECORD_SUFFIX = ".json"
PROGRESS_SUFFIX = ".progress.jsonl"


def new_stem(pressed_fd: int, started_us: int, *, progress: bool) -> str:
    """A unique stem (the run id) for a press; with ``progress``, reserve it by creating the
    press's (empty) progress file, otherwise only the record's name (tried when it is written)."""
    for _ in range(100):
        stem = record_stem_us(started_us, random_hex(2))
        if not progress:
            if not _exists(pressed_fd, stem + RECORD_SUFFIX):
                return stem
            continue
        try:
            create_empty(stem + PROGRESS_SUFFIX, dir_fd=pressed_fd)
        except FileExistsError:
            continue
        return stem
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
    """
    # No fsync: a record is linked into place only once fully written, so no reader (and no
    # crash of this process, even SIGKILL) can ever see half of one; only a kernel crash or power
    # loss in the next few seconds could lose it. fsync here cost more than the rest of a press.
    while not create_exclusive(stem + RECORD_SUFFIX, dumps(record), durable=False, dir_fd=pressed_fd):
        stem = stem + "-" + random_hex(2)
        if "run_id" in record:
            record = {**record, "run_id": stem}
    if retention > 0:
        prune(pressed_fd, retention)
    return stem


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _record_names(pressed_dir: str | int) -> list[str]:
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
    """Delete all but the ``keep`` newest records, each with its progress file (a path or a dir fd)."""
    names = _record_names(pressed_dir)
    if len(names) <= keep:
        return 0
    names.sort()
    removed = 0
    for name in names[: len(names) - keep]:
        stem = name[: -len(RECORD_SUFFIX)]
        for victim in (name, stem + PROGRESS_SUFFIX):
            try:
                if isinstance(pressed_dir, int):
                    os.unlink(victim, dir_fd=pressed_dir)
                else:
                    os.unlink(os.path.join(pressed_dir, victim))
                removed += 1
            except FileNotFoundError:
                pass
    return removed


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
