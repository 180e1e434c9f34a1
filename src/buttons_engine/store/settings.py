"""``settings.json`` in the global dir (CONTRACT 10): ``{"schema_version": 1, "defaults": {...}}``."""

from __future__ import annotations

import os

from ..errors import StorageError
from .atomic import ensure_dir, remove_stale_temps, write_atomic
from .jsonio import dumps, load_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def load(path: str) -> dict[str, Any]:
    """The ``defaults`` object; missing file means no settings. Unparsable is an error, never reset."""
    try:
        # Settings may be a symlink (dotfile managers such as stow); reading through it is fine.
        # Writes replace the link with a private regular file and never write through it.
        data = load_file(path, follow_symlinks=True)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("defaults", {}), dict):
        raise StorageError(f"{path} is not a valid settings file")
    defaults: dict[str, Any] = data.get("defaults") or {}
    return defaults


def update(path: str, change: Callable[[dict[str, Any]], bool]) -> bool:
    """Apply ``change`` to the defaults under the directory lock; write if it returns True.

    The file is re-read under the lock, so concurrent ``config set`` calls of different keys
    all keep their value (the lock is the one ``batteries`` writers take on the same folder).
    A temporary file a crashed writer left is removed while the lock is held. Disk full, a
    file-size limit or any other failure to write is a ``STORAGE_ERROR``.
    """
    from .locks import lock_dir  # writers only

    directory = os.path.dirname(path)
    try:
        ensure_dir(directory)
        with lock_dir(directory):
            defaults = load(path)
            if not change(defaults):
                return False
            remove_stale_temps(directory, target=os.path.basename(path))
            write_atomic(path, dumps({"schema_version": 1, "defaults": defaults}, newline=True))
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return True
