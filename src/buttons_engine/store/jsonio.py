"""JSON codecs for files on disk (2-space indent, as upstream writes them)."""

from __future__ import annotations

from .. import jsonfmt
from ..errors import StorageError
from .atomic import read_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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
