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


def new_stem(pressed_dir: str, started_us: int) -> str:
    """Reserve a unique stem for a press by creating its (empty) progress file."""
    for _ in range(100):
        stem = record_stem_us(started_us, random_hex(2))
        try:
            create_empty(os.path.join(pressed_dir, stem + PROGRESS_SUFFIX))
        except FileExistsError:
            continue
        return stem
    raise OSError("could not reserve a unique run record name")


def write_record(pressed_dir: str, stem: str, record: dict[str, Any], retention: int) -> str:
    """Write the record for ``stem``; the name is guaranteed unused. Then apply retention."""
    data = dumps(record)
    path = os.path.join(pressed_dir, stem + RECORD_SUFFIX)
    # No fsync: a record is linked into place only once fully written, so no reader (and no
    # crash of this process, even SIGKILL) can ever see half of one; only a kernel crash or power
    # loss in the next few seconds could lose it. fsync here cost more than the rest of a press.
    while not create_exclusive(path, data, durable=False):
        # Only possible if something else planted this exact name: never overwrite it.
        stem = stem + "-" + random_hex(2)
        path = os.path.join(pressed_dir, stem + RECORD_SUFFIX)
    if retention > 0:
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
    """Delete all but the ``keep`` newest records, each with its progress file."""
    names = _record_names(pressed_dir)
    if len(names) <= keep:
        return 0
    names.sort()
    removed = 0
    for name in names[: len(names) - keep]:
        stem = name[: -len(RECORD_SUFFIX)]
        for victim in (name, stem + PROGRESS_SUFFIX):
            try:
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
