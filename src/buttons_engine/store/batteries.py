"""Battery files (CONTRACT 9): ``{"schema_version": 1, "batteries": {"KEY": "value"}}``, mode 0600.

Two layers: the global file in the global dir, and a project file in ``<project>/.buttons/``
that is active only when the data dir was found by walking up from the cwd (no
``BUTTONS_HOME``). Readers merge them, the project layer winning.

A malformed file is an error, never silently replaced by an empty one (that would destroy
every secret in it). Writers hold an exclusive lock on the file's directory around their
read-modify-write, and replace the file atomically, so concurrent ``batteries set`` calls
never lose each other's keys and readers never see half a file.
"""

from __future__ import annotations

import os

from ..errors import StorageError
from .jsonio import dumps, load_file, locked_update

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .layout import Layout

FILE_NAME = "batteries.json"
SCHEMA_VERSION = 1
_KEY_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_KEY_REST = _KEY_FIRST | frozenset("0123456789_")
ENV_PREFIX = "BUTTONS_BAT_"


def valid_key(key: str) -> bool:
    """``^[A-Z][A-Z0-9_]*$`` (checked without ``re``: this module is on every press's path)."""
    return bool(key) and key[0] in _KEY_FIRST and all(c in _KEY_REST for c in key)


# Linux refuses to start a program with one environment string longer than MAX_ARG_STRLEN
# (32 pages = 128 KiB, counting the ``NAME=`` prefix and the final NUL) with E2BIG.
MAX_ARG_STRLEN = 128 * 1024


# Linux also caps a program's whole argument list and environment together (ARG_MAX, a quarter
# of the stack limit: 2 MiB by default). Batteries may take half of that.
MAX_TOTAL_BYTES = 1024 * 1024


def env_size(values: dict[str, str]) -> int:
    """Bytes ``values`` take in an environment as ``BUTTONS_BAT_KEY=value`` strings and pointers."""
    return sum(
        len(ENV_PREFIX) + len(k) + len(v.encode("utf-8", "replace")) + 2 + 8 for k, v in values.items()
    )


def max_value_bytes(key: str) -> int:
    """The longest value (in UTF-8 bytes) battery ``key`` can carry into a script's environment."""
    return MAX_ARG_STRLEN - len(ENV_PREFIX) - len(key.encode()) - 2  # "=" and the NUL


def value_problem(value: str, key: str = "") -> str:
    """Why ``value`` cannot be a battery ("" when it can): it must fit in an environment variable."""
    if "\0" in value:
        return "contains a NUL byte"
    try:
        size = len(value.encode())
    except UnicodeEncodeError:
        return "is not valid UTF-8 text"
    limit = max_value_bytes(key)
    if size > limit:
        return (
            f"is {size} bytes; an environment variable holds at most {limit} bytes for this key "
            f"(128 KiB including {ENV_PREFIX}{key}=)"
        )
    return ""


def global_path(layout: Layout) -> str:
    return os.path.join(layout.global_dir, FILE_NAME)


def local_path(layout: Layout) -> str | None:
    """The project layer's file, or None when no project layer is active."""
    if layout.project_root is None:
        return None
    if os.path.abspath(layout.root) == os.path.abspath(layout.global_dir):
        return None
    return os.path.join(layout.root, FILE_NAME)


def load(path: str) -> dict[str, str]:
    """The batteries in one file; a missing file holds none, a malformed one is an error."""
    try:
        data = load_file(path)
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise StorageError(f"{path} is a directory, not a batteries file") from None
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not isinstance(data, dict):
        raise StorageError(f"{path} is not a valid batteries file (expected a JSON object)")
    bats = data.get("batteries", {})
    if bats is None:
        return {}
    if not isinstance(bats, dict) or not all(isinstance(v, str) for v in bats.values()):
        raise StorageError(f"{path} is not a valid batteries file ('batteries' must map names to strings)")
    for k, v in bats.items():
        # Every value becomes an environment variable of every press: a key or value the
        # environment cannot carry would fail each press. Name the key, never the value.
        if not valid_key(k):
            raise StorageError(
                f"{path} is not a valid batteries file (invalid key {k!r}: use upper-case letters, "
                "digits and _, starting with a letter)"
            )
        problem = value_problem(v, k)
        if problem:
            raise StorageError(f"{path} is not a valid batteries file (the value of {k} {problem})")
    return dict(bats)


def load_merged(layout: Layout) -> dict[str, str]:
    """Global batteries overlaid by the project's (the project layer wins)."""
    merged = load(global_path(layout))
    local = local_path(layout)
    if local is not None:
        merged.update(load(local))
    return merged


def env_for(values: dict[str, str]) -> dict[str, str]:
    return {ENV_PREFIX + k: v for k, v in values.items()}


def update(path: str, change: Callable[[dict[str, str]], bool]) -> bool:
    """Apply ``change`` to the file's batteries under the directory lock; write if it returns True.

    The file is re-read under the lock, so a concurrent writer's keys are never lost. Temporary
    files a crashed writer left (each a copy of every secret) are removed while the lock is
    held. A failure to write (disk full, file-size limit, permissions) is a ``STORAGE_ERROR``.
    """
    return locked_update(
        path,
        load,
        change,
        lambda bats: dumps(
            {"schema_version": SCHEMA_VERSION, "batteries": dict(sorted(bats.items()))}, newline=True
        ),
    )
