"""Run records under ``buttons/<name>/pressed/`` (CONTRACT 8, DEVIATIONS D1 and D12).

Every press gets its own file, created with an exclusive link so that no concurrency can
make two presses share (and overwrite) a name. Names sort by start time; readers also accept
upstream's second-resolution names. Retention keeps the newest N records per button and
removes each pruned record's progress file with it; in a process that presses one button many
times (a drawer, ``smash``, ``serve``) the pruned files are reused for new runs instead of
deleted (see "Reusing pruned files" below).
"""

from __future__ import annotations

import os
import stat
import time

from .. import jsonfmt
from ..ids import random_hex
from ..timefmt import record_stem_us
from .atomic import FILE_MODE, create_exclusive, fill
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
        reused = _reuse_spare(pressed_fd, stem + PROGRESS_SUFFIX, b"", lock=True)
        if reused is not None:
            if reused is False:
                continue  # the name is taken
            return stem, reused
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
    _unlink_quiet(pressed_fd, stem + PROGRESS_SUFFIX)


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
    while not _create_record(pressed_fd, stem + RECORD_SUFFIX, dumps(record)):
        stem = stem + "-" + random_hex(2)
        if "run_id" in record:
            record = {**record, "run_id": stem}
    due, again = _prune_due(pressed_fd, retention)
    if due:
        prune(pressed_fd, retention, recycle=again)
    return stem


def _create_record(pressed_fd: int, name: str, data: bytes) -> bool:
    """Create the record ``name`` holding ``data`` (in a reused file if there is a spare);
    False if the name is taken."""
    reused = _reuse_spare(pressed_fd, name, data, lock=False)
    if reused is None:
        return create_exclusive(name, data, durable=False, dir_fd=pressed_fd)
    if reused is False:
        return False
    os.close(reused)
    return True


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


def _prune_due(pressed_fd: int, retention: int) -> tuple[bool, bool]:
    """Whether to prune now, and whether this process pruned this directory before (then it is
    pressing it in a batch, and reuses the pruned files)."""
    key = _dir_key(pressed_fd)
    now = time.monotonic()
    last = _last_prune.get(key)
    if last is None or now - last >= PRUNE_INTERVAL:
        _last_prune[key] = now
        old = _pending.pop(key, None)  # only the thread that pops an entry closes its fd
        if old is not None:
            os.close(old[0])
        return True, last is not None
    if key not in _pending:
        fd = os.dup(pressed_fd)
        if _pending.setdefault(key, (fd, retention))[0] != fd:
            os.close(fd)
    return False, False


def settle() -> None:
    """Apply the retention this process skipped (see ``PRUNE_INTERVAL``) to every directory."""
    for key in list(_pending):
        entry = _pending.pop(key, None)
        if entry is None:
            continue
        try:
            prune(*entry, recycle=True)
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


def prune(pressed_fd: int, keep: int, *, recycle: bool = False) -> int:
    """Remove all but the ``keep`` newest records (``keep`` <= 0: all kept), each with its progress
    file, and the orphan progress files; returns how many files were removed.

    An orphan is a progress file with no record that no running press holds (its engine died,
    or the press was refused after the file was made) and that is older than
    ``ORPHAN_AGE_SECONDS``: the age covers the instant between creating a file and locking it,
    and engines that do not take the lock.

    The spares found are offered to this process's next presses of that button, expired ones are
    deleted (a few per prune), and with ``recycle`` the pruned files become spares (up to
    ``SPARE_LIMIT``) instead of being deleted.
    """
    try:
        with os.scandir(pressed_fd) as it:
            listing = [e.name for e in it]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    entries = [n for n in listing if n[:1].isdigit()]
    pool = _take_stock(pressed_fd, listing)
    names = sorted(n for n in entries if n.endswith(RECORD_SUFFIX))
    stems = {n[: -len(RECORD_SUFFIX)] for n in names}
    removed = 0
    if keep > 0 and len(names) > keep:
        for name in names[: len(names) - keep]:
            stem = name[: -len(RECORD_SUFFIX)]
            for victim in (name, stem + PROGRESS_SUFFIX):
                if recycle and _make_spare(pressed_fd, victim, pool):
                    removed += 1
                    continue
                try:
                    os.unlink(victim, dir_fd=pressed_fd)
                    removed += 1
                except FileNotFoundError:
                    pass
    for name in entries:
        if name.endswith(PROGRESS_SUFFIX) and name[: -len(PROGRESS_SUFFIX)] not in stems:
            removed += _remove_orphan(pressed_fd, name)
    return removed


# ------------------------------------------------------------------- reusing pruned files
# On ext4 without a journal (the machine this project is built and benchmarked on), creating a file
# scans, under its block group's lock, past every inode of the group freed within the last minute
# or more; and with the ``discard`` mount option each freed block costs a TRIM. A process that
# presses one button in a batch creates two files per press (its progress file and its record)
# while retention deletes two, so each run made the next slower: the 200-item for_each benchmark
# went from 0.61 s to 0.93 s over 25 runs, and stayed at 0.54 s once pruned files were reused.
#
# So a batch's retention renames a pruned run's files to hidden spares ``.spare-<hex unix
# time>-<hex>`` beside the records, and later presses reuse them. A spare belongs to whoever
# renames it to a claim name (``rename`` is atomic: across threads and processes one claimant
# wins, the others get ENOENT); the claimant opens it without following links, uses it only if it
# is a regular file of this user with no other link (anything else is deleted), rewrites it
# whole, and links it under the new name (an exclusive link, as for a new file), so a reader sees
# the new content complete or not at all. A spare holds pruned content until it is reused; one
# not reused within ``SPARE_AGE_SECONDS`` is deleted by a later prune, and a pruned file larger
# than ``SPARE_MAX_BYTES`` is deleted, not kept.
SPARE_PREFIX = ".spare-"
CLAIM_PREFIX = ".claim-"
SPARE_LIMIT = 512  # spare files per button: two per pruned run; a 200-item batch needs 400
SPARE_MAX_BYTES = 64 * 1024
SPARE_AGE_SECONDS = 3600.0
SWEEP_PER_PRUNE = 16  # expired spares deleted per prune: a long backlog drains without a stall
_spares: dict[tuple[int, int], list[str]] = {}  # directory -> spare names this process may claim


def _dir_key(dir_fd: int) -> tuple[int, int]:
    st = os.fstat(dir_fd)
    return st.st_dev, st.st_ino


def _hidden_name(prefix: str) -> str:
    return f"{prefix}{int(time.time()):x}-{random_hex(4)}"


def _expired(name: str, prefix: str, now: float) -> bool:
    """Whether the hidden file ``name`` (``prefix`` + hex time + ``-`` + hex) is older than
    ``SPARE_AGE_SECONDS``; a name that does not parse is treated as expired."""
    made, _, _ = name[len(prefix) :].partition("-")
    try:
        return int(made, 16) < now - SPARE_AGE_SECONDS
    except ValueError:
        return True


def _take_stock(dir_fd: int, listing: list[str]) -> list[str]:
    """Offer the directory's live spares to this process's presses; delete expired spares and
    claims a crashed claimant left (at most ``SWEEP_PER_PRUNE``). Returns the pool."""
    now = time.time()
    pool: list[str] = []
    sweep = SWEEP_PER_PRUNE
    for name in listing:
        if name.startswith(SPARE_PREFIX):
            expired = _expired(name, SPARE_PREFIX, now)
            if not expired:
                pool.append(name)
        elif name.startswith(CLAIM_PREFIX):
            expired = _expired(name, CLAIM_PREFIX, now)
        else:
            continue
        if expired and sweep > 0:
            sweep -= 1
            _unlink_quiet(dir_fd, name)
    _spares[_dir_key(dir_fd)] = pool  # replaced whole: list operations are atomic under the GIL
    return pool


def _make_spare(dir_fd: int, victim: str, pool: list[str]) -> bool:
    """Rename the pruned file ``victim`` to a spare; False if it must be deleted instead."""
    if len(pool) >= SPARE_LIMIT:
        return False
    try:
        st = os.stat(victim, dir_fd=dir_fd, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_size > SPARE_MAX_BYTES:
            return False
        spare = _hidden_name(SPARE_PREFIX)
        os.rename(victim, spare, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError:
        return False
    pool.append(spare)
    return True


def _reuse_spare(dir_fd: int, name: str, data: bytes, *, lock: bool) -> int | bool | None:
    """Put ``data`` in a spare and link it as ``name``: its descriptor (``flock``-ed if ``lock``),
    False if ``name`` is taken, None if there is no usable spare (the caller creates a file)."""
    if not _spares:
        return None  # this process never pruned: a CLI press
    pool = _spares.get(_dir_key(dir_fd))
    while pool:
        try:
            spare = pool.pop()
        except IndexError:  # another thread took the last one
            return None
        claim = _hidden_name(CLAIM_PREFIX)
        try:
            os.rename(spare, claim, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            fd = os.open(claim, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        except OSError:  # claimed or deleted by another process; or not a file we can open
            _unlink_quiet(dir_fd, claim)
            continue
        try:
            st = os.fstat(fd)
            usable = stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_uid == os.geteuid()
            if usable and lock:
                import fcntl

                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    usable = False
            if not usable:
                os.close(fd)
                _unlink_quiet(dir_fd, claim)
                continue
            fill(fd, data, FILE_MODE, durable=False)  # from offset 0: the file was just opened
            if st.st_size > len(data):
                os.ftruncate(fd, len(data))
            os.link(claim, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
        except FileExistsError:
            os.close(fd)
            _unlink_quiet(dir_fd, claim)
            return False
        except BaseException:
            os.close(fd)
            _unlink_quiet(dir_fd, claim)
            raise
        _unlink_quiet(dir_fd, claim)
        return fd
    return None


def _unlink_quiet(dir_fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass


def _remove_orphan(dir_fd: int, name: str) -> int:
    """Remove the progress file ``name`` if it is old and no running press holds its lock."""
    import fcntl

    try:
        if os.lstat(name, dir_fd=dir_fd).st_mtime > time.time() - ORPHAN_AGE_SECONDS:
            return 0
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # a running press holds it (another open file description, even in this process)
    else:
        try:
            os.unlink(name, dir_fd=dir_fd)
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
