"""``settings.json`` in the global dir (CONTRACT 10): ``{"schema_version": 1, "defaults": {...}}``."""

from __future__ import annotations

from ..errors import StorageError
from .jsonio import dumps, load_file, locked_update

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
    return locked_update(
        path,
        load,
        change,
        lambda defaults: dumps({"schema_version": 1, "defaults": defaults}, newline=True),
    )
