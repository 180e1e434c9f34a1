"""Idempotency entries (CONTRACT 7.7, DEVIATIONS D7).

``idempotency/<sha256 hex of (button NUL key)>.json`` =
``{"key", "button", "stored_at", "expires_at", "result", "button_created_at"?}``, mode 0600.
Keys are scoped per button: the same key on two buttons names two entries. An expired or
unparsable entry is deleted and reads as a miss, and so is one whose ``button_created_at`` is
not the button's ``created_at`` (an earlier button of the same name). Deleting a button removes
its entries (:func:`forget_button`).

``<hash>.lock`` next to an entry serialises presses of one key: the first press holds it while
it runs, the others wait and then find its result. It is removed on release; a holder that
dies (even by SIGKILL) releases it through the kernel.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import time

from .. import timefmt
from ..errors import StorageError
from .atomic import ensure_dir, read_bytes, temp_name_of, write_atomic
from .jsonio import dumps
from .locks import FileLock, wait_lock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .layout import Layout

DIR_NAME = "idempotency"
SWEEP_AFTER_SECONDS = 3600  # entries untouched this long are checked for expiry on store
SWEEP_MAX = 200
STALE_TEMP_SECONDS = 60  # no entry write lasts this long: an older temp file is a crash's leftover
MAX_TTL_SECONDS = 100 * 365 * 24 * 3600.0  # a longer TTL is stored as 100 years


def _dir(layout: Layout) -> str:
    return os.path.join(layout.root, DIR_NAME)


def _digest(button: str, key: str) -> str:
    return hashlib.sha256(button.encode() + b"\0" + key.encode()).hexdigest()


def entry_path(layout: Layout, button: str, key: str) -> str:
    return os.path.join(_dir(layout), _digest(button, key) + ".json")


def _unlink_quiet(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _expired(entry: dict[str, Any], now: _dt.datetime) -> bool:
    try:
        return timefmt.parse_ts(str(entry["expires_at"])) <= now
    except (KeyError, ValueError, TypeError):
        return True


def lookup(layout: Layout, button: str, key: str, *, created_at: str | None = None) -> dict[str, Any] | None:
    """The cached result for ``key`` on ``button``, or None (expired/unparsable entries are removed).

    ``created_at`` is the button's creation time: an entry stored for an earlier button of the
    same name (deleted, then created again) is a miss.
    """
    path = entry_path(layout, button, key)
    try:
        raw = read_bytes(path)
    except FileNotFoundError:
        return None
    except OSError:
        _unlink_quiet(path)
        return None
    try:
        entry = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        _unlink_quiet(path)
        return None
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("result"), dict)
        or entry.get("key") != key
        or entry.get("button", button) != button
        or (created_at is not None and entry.get("button_created_at", created_at) != created_at)
        or _expired(entry, timefmt.now_utc())
    ):
        _unlink_quiet(path)
        return None
    result: dict[str, Any] = entry["result"]
    return result


def _expiry(now: _dt.datetime, ttl_seconds: float) -> _dt.datetime:
    """``now + ttl``, the TTL clamped to ``MAX_TTL_SECONDS`` (a NaN counts as zero)."""
    ttl = float(ttl_seconds)
    if not ttl >= 0:  # NaN
        ttl = 0.0
    try:
        return now + _dt.timedelta(seconds=min(ttl, MAX_TTL_SECONDS))
    except OverflowError:  # near the end of the calendar
        return _dt.datetime.max.replace(tzinfo=now.tzinfo)


def store(
    layout: Layout,
    button: str,
    key: str,
    ttl_seconds: float,
    result: dict[str, Any],
    *,
    created_at: str | None = None,
) -> None:
    directory = _dir(layout)
    ensure_dir(directory, root=layout.root)
    now = timefmt.now_utc()
    entry: dict[str, Any] = {
        "key": key,
        "button": button,
        "stored_at": timefmt.format_ts(now),
        "expires_at": timefmt.format_ts(_expiry(now, ttl_seconds)),
        "result": result,
    }
    if created_at is not None:
        entry["button_created_at"] = created_at
    write_atomic(entry_path(layout, button, key), dumps(entry))
    _sweep(directory, now)


def forget_button(layout: Layout, button: str) -> int:
    """Remove every entry stored for ``button`` (its deletion); returns how many were removed.

    Entries are named by a digest of button and key, so each one is read to find its button.
    Unreadable entries are left to the lookup and the sweep.
    """
    removed = 0
    try:
        with os.scandir(_dir(layout)) as it:
            for e in it:
                if not e.name.endswith(".json") or e.name.startswith("."):
                    continue
                try:
                    if not e.is_file(follow_symlinks=False):
                        continue
                    entry = json.loads(read_bytes(e.path))
                except (OSError, ValueError, UnicodeDecodeError):
                    continue
                if isinstance(entry, dict) and entry.get("button") == button:
                    _unlink_quiet(e.path)
                    removed += 1
    except OSError:
        pass
    return removed


def lock(
    layout: Layout, button: str, key: str, deadline: float | None, should_stop: Callable[[], bool] | None
) -> FileLock | None:
    """Hold the key's lock (None if the deadline passes or ``should_stop`` turns true first)."""
    directory = _dir(layout)
    ensure_dir(directory, root=layout.root)
    path = os.path.join(directory, _digest(button, key) + ".lock")
    try:
        return wait_lock(path, deadline, transient=True, should_stop=should_stop)
    except OSError as exc:  # a symlink (O_NOFOLLOW), a directory, no permission
        raise StorageError(
            f"cannot use the idempotency lock {path}: {exc.strerror or exc}"
            + (" (a symlink or a folder is planted there; remove it)" if os.path.lexists(path) else "")
        ) from exc


def _sweep(directory: str, now: _dt.datetime) -> None:
    """Remove a bounded number of expired entries that nobody looked up again."""
    cutoff = time.time() - SWEEP_AFTER_SECONDS
    temp_cutoff = time.time() - STALE_TEMP_SECONDS
    checked = 0
    try:
        with os.scandir(directory) as it:
            for e in it:
                if checked >= SWEEP_MAX:
                    break
                if temp_name_of(e.name) is not None:  # a crashed writer's temp file
                    try:
                        if e.stat(follow_symlinks=False).st_mtime <= temp_cutoff:
                            _unlink_quiet(e.path)
                    except OSError:
                        pass
                    continue
                if not e.name.endswith(".json") or e.name.startswith("."):
                    continue
                try:
                    if e.stat(follow_symlinks=False).st_mtime > cutoff:
                        continue
                    checked += 1
                    entry = json.loads(read_bytes(e.path))
                except (OSError, ValueError, UnicodeDecodeError):
                    _unlink_quiet(e.path)
                    continue
                if not isinstance(entry, dict) or _expired(entry, now):
                    _unlink_quiet(e.path)
    except OSError:
        pass
