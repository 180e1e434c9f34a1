"""JSON codecs for files on disk (2-space indent, as upstream writes them)."""

from __future__ import annotations

from .. import jsonfmt
from ..errors import StorageError
from .atomic import read_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")


def dumps(value: Any, *, newline: bool = False) -> bytes:
    text = jsonfmt.dumps(value)
    return (text + "\n" if newline else text).encode()


def load_file(path: str, *, follow_symlinks: bool = False) -> Any:
    """Parse a JSON file; ``FileNotFoundError`` passes through, bad JSON becomes StorageError."""
    data = read_bytes(path, follow_symlinks=follow_symlinks)
    try:
        return jsonfmt.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StorageError(f"{path} is not valid JSON: {exc}") from exc


def locked_update(
    path: str, read: Callable[[str], T], change: Callable[[T], bool], render: Callable[[T], bytes]
) -> bool:
    """Read, change and rewrite one JSON file under its folder's lock; False if ``change`` says no.

    The file is re-read under the lock, so concurrent writers of different keys all keep their
    value (batteries and settings writers take the same folder lock). Temporary files a crashed
    writer left beside the file are removed while the lock is held. Disk full, a file-size limit
    or any other failure to write is a ``STORAGE_ERROR``.
    """
    import os

    from .atomic import ensure_dir, remove_stale_temps, write_atomic
    from .locks import lock_dir  # writers only: readers never lock

    directory = os.path.dirname(path)
    try:
        ensure_dir(directory)
        with lock_dir(directory):
            value = read(path)
            if not change(value):
                return False
            remove_stale_temps(directory, target=os.path.basename(path))
            write_atomic(path, render(value))
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return True
