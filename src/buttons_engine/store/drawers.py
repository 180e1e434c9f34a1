"""Drawer folders: ``drawers/<name>/{drawer.json, pressed/}`` (CONTRACT 11.1, 11.7).

``drawer.json`` is written atomically with its keys sorted (as upstream writes it). A drawer's
run records are written *as the run goes* (DEVIATIONS "durable runs"): the record exists from
the first step with ``status: "running"`` and is rewritten atomically after every step. While a
run is alive its engine holds an ``flock`` on ``pressed/.<stem>.running``; a reader that finds a
``running`` record whose lock nobody holds (the engine was killed, even with SIGKILL, or the
machine lost power) reports it ``interrupted``.
"""

from __future__ import annotations

import fcntl
import os

from ..drawer_spec import DrawerSpec, sort_keys
from ..errors import DrawerError, StorageError, ValidationError
from ..ids import random_hex
from .atomic import ensure_dir, write_atomic
from .jsonio import dumps, load_file
from .layout import Layout
from .names import lookup_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DRAWER_FILE = "drawer.json"
PRESSED = "pressed"
RUNNING_SUFFIX = ".running"
RETENTION = 100


def not_found(slug: str) -> DrawerError:
    return DrawerError(
        "DRAWER_NOT_FOUND", f"drawer {slug!r} not found", hint="run 'buttons drawer list' to see drawers"
    )


def exists(layout: Layout, slug: str) -> bool:
    return os.path.isfile(os.path.join(layout.drawers_dir, slug, DRAWER_FILE))


def read(layout: Layout, raw_name: str) -> DrawerSpec:
    """The drawer's typed spec; a malformed file is a ``VALIDATION_ERROR`` naming it."""
    slug = lookup_name(raw_name, "drawer")
    path = os.path.join(layout.drawer_dir(slug), DRAWER_FILE)
    try:
        raw = load_file(path)
    except (FileNotFoundError, NotADirectoryError):
        raise not_found(slug) from None
    except StorageError as exc:  # not JSON
        raise ValidationError(exc.message, hint=f"fix or remove {path}") from None
    except OSError as exc:
        raise StorageError(f"cannot read drawer {slug!r}: {exc.strerror}") from exc
    return DrawerSpec.from_json(raw, where=path, folder_name=slug)


def write(layout: Layout, slug: str, document: dict[str, Any]) -> None:
    """Replace ``drawer.json`` atomically (keys sorted, 2-space indent, no trailing newline, as upstream)."""
    path = os.path.join(layout.drawer_dir(slug), DRAWER_FILE)
    write_atomic(path, dumps(sort_keys(document)))


def write_flow_definition(layout: Layout, slug: str, text: str) -> None:
    """Replace a flow drawer's normalised ``flow-definition.json`` (CONTRACT 11.9) atomically."""
    write_atomic(os.path.join(layout.drawer_dir(slug), "flow-definition.json"), text.encode())


def create(layout: Layout, slug: str, document: dict[str, Any], extra: dict[str, str] | None = None) -> None:
    """Make ``drawers/<slug>/`` with its ``drawer.json`` (and ``extra`` files): built aside,
    renamed into place, so the folder never exists half-made."""
    final = layout.drawer_dir(slug)
    if os.path.lexists(final):
        raise ValidationError(f"drawer {slug!r} already exists", hint=f"buttons drawer {slug} summary")
    staged = os.path.join(layout.drawers_dir, f".creating-{slug}-{random_hex(4)}")
    ensure_dir(staged, root=layout.root)
    try:
        write_atomic(os.path.join(staged, DRAWER_FILE), dumps(sort_keys(document)))
        for name, text in (extra or {}).items():
            write_atomic(os.path.join(staged, name), text.encode())
        os.rename(staged, final)
    except BaseException:
        import shutil

        shutil.rmtree(staged, ignore_errors=True)
        raise


def list_all(layout: Layout, warn: Any = None) -> list[DrawerSpec]:
    """Every readable drawer, sorted by name; unreadable ones are skipped (``warn`` is told)."""
    try:
        names = sorted(
            e.name for e in os.scandir(layout.drawers_dir) if e.is_dir() and not e.name.startswith(".")
        )
    except FileNotFoundError:
        return []
    out: list[DrawerSpec] = []
    for name in names:
        if not exists(layout, name):
            continue
        try:
            out.append(read(layout, name))
        except (ValidationError, StorageError, DrawerError) as exc:
            if warn is not None:
                warn(f"skipping drawer {name!r}: {exc.message}")
    return out


def remove(layout: Layout, slug: str) -> None:
    final = layout.drawer_dir(slug)
    if not exists(layout, slug) or os.path.islink(final):
        raise not_found(slug)
    trash = os.path.join(layout.drawers_dir, f".deleting-{slug}-{random_hex(4)}")
    os.rename(final, trash)
    import shutil

    shutil.rmtree(trash, ignore_errors=True)


# ---------------------------------------------------------------------------------------- runs


class RunWriter:
    """The record of one drawer run, rewritten atomically as the run goes; holds the alive-lock."""

    __slots__ = ("_lock_fd", "directory", "path", "stem")

    def __init__(self, layout: Layout, slug: str, stem: str) -> None:
        self.directory = os.path.join(layout.drawer_dir(slug), PRESSED)
        ensure_dir(self.directory, root=layout.root)
        self.stem = stem
        self.path = os.path.join(self.directory, stem + ".json")
        lock_path = os.path.join(self.directory, "." + stem + RUNNING_SUFFIX)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._lock_fd: int | None = fd

    def write(self, record: dict[str, Any]) -> None:
        try:
            write_atomic(self.path, record_bytes(record), durable=False)
        except OSError as exc:
            raise StorageError(f"cannot write the drawer run record {self.path}: {exc.strerror}") from exc

    def finish(self, record: dict[str, Any], retention: int = RETENTION) -> None:
        """The final record (fsynced), then the lock goes and retention applies."""
        try:
            write_atomic(self.path, record_bytes(record), durable=True)
        except OSError as exc:
            raise StorageError(f"cannot write the drawer run record {self.path}: {exc.strerror}") from exc
        finally:
            self.release()
        prune(self.directory, retention)

    def release(self) -> None:
        if self._lock_fd is None:
            return
        try:
            os.unlink(os.path.join(self.directory, "." + self.stem + RUNNING_SUFFIX))
        except OSError:
            pass
        os.close(self._lock_fd)
        self._lock_fd = None


def record_bytes(record: dict[str, Any]) -> bytes:
    """A run record as one line of JSON, through CPython's C encoder when it is there.

    A record holds every step (a 10,000-iteration ``for_each`` is 10,000 entries); the indented
    encoder builds a Python string per token, which at that size was most of the run's peak
    memory (31 MB against 18 MB for 4,000 iterations). Readers parse it; the layout is not the
    contract.
    """
    try:
        from _json import encode_basestring, make_encoder
    except ImportError:  # pragma: no cover - non-CPython
        from ..jsonfmt import dumps_compact

        return (dumps_compact(record) + "\n").encode()
    encode = make_encoder(None, _not_json, encode_basestring, None, ": ", ", ", False, False, True)
    return ("".join(encode(record, 0)) + "\n").encode()


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _record_names(directory: str) -> list[str]:
    try:
        return sorted(
            e.name
            for e in os.scandir(directory)
            if e.name.endswith(".json") and e.name[:1].isdigit() and e.is_file(follow_symlinks=False)
        )
    except (FileNotFoundError, NotADirectoryError):
        return []


def prune(directory: str, keep: int) -> None:
    sweep_locks(directory)
    names = _record_names(directory)
    if keep <= 0 or len(names) <= keep:
        return
    for name in names[: len(names) - keep]:
        if _alive(directory, name[: -len(".json")]):
            continue
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


def sweep_locks(directory: str) -> None:
    """Remove the ``.running`` lock files nobody holds (left by an engine killed with SIGKILL).

    Such a file never blocks anything (``_alive`` takes the lock, it does not test the file), so
    this is tidiness: its record still reads ``interrupted`` without it.
    """
    import time

    # A lock file younger than a minute may be one whose run has not taken its lock yet.
    cutoff = time.time() - 60
    try:
        names = [
            e.name
            for e in os.scandir(directory)
            if e.name.endswith(RUNNING_SUFFIX) and e.stat(follow_symlinks=False).st_mtime < cutoff
        ]
    except OSError:
        return
    for name in names:
        stem = name[1 : -len(RUNNING_SUFFIX)]
        if not _alive(directory, stem):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def _alive(directory: str, stem: str) -> bool:
    """Whether the run named ``stem`` still has an engine holding its lock."""
    try:
        fd = os.open(os.path.join(directory, "." + stem + RUNNING_SUFFIX), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def runs(layout: Layout, slug: str, limit: int = 0) -> list[dict[str, Any]]:
    """Run records, newest first (``limit`` <= 0: all); dead ``running`` records read ``interrupted``."""
    directory = os.path.join(layout.drawer_dir(slug), PRESSED)
    names = _record_names(directory)[::-1]
    out: list[dict[str, Any]] = []
    for name in names:
        try:
            record = load_file(os.path.join(directory, name))
        except (OSError, StorageError):
            continue
        if not isinstance(record, dict):
            continue
        if record.get("status") == "running" and not _alive(directory, name[: -len(".json")]):
            record["status"] = "interrupted"
        out.append(record)
        if limit > 0 and len(out) >= limit:
            break
    return out
