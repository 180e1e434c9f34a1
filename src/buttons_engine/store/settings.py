"""``settings.json`` in the global dir (CONTRACT 10): ``{"schema_version": 1, "defaults": {...}}``."""

from __future__ import annotations

import os

from ..errors import StorageError
from .atomic import ensure_dir, write_atomic
from .jsonio import dumps, load_file

TYPE_CHECKING = False
if TYPE_CHECKING:
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


def save(path: str, defaults: dict[str, Any]) -> None:
    ensure_dir(os.path.dirname(path))
    write_atomic(path, dumps({"schema_version": 1, "defaults": defaults}, newline=True))
