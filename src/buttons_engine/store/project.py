"""Files of a project-local ``.buttons/`` written by ``init``.

Each function maps a failure to write (a directory where a file belongs, disk full, a
folder this user cannot write) to a ``STORAGE_ERROR`` naming the path.
"""

from __future__ import annotations

import os

from ..errors import StorageError
from .atomic import ensure_dir, read_bytes, write_atomic


def _storage_error(path: str, exc: OSError) -> StorageError:
    if os.path.isdir(path) and not os.path.islink(path):
        return StorageError(f"{path} is a directory, not a file: move it away and try again")
    return StorageError(f"cannot write {path}: {exc.strerror or exc}")


def ensure_project_dirs(root: str) -> None:
    try:
        ensure_dir(root)
        ensure_dir(os.path.join(root, "buttons"), root=root)
        ensure_dir(os.path.join(root, "drawers"), root=root)
    except OSError as exc:
        raise StorageError(f"cannot create {root}: {exc.strerror or exc}") from exc


def update_gitignore(
    root: str, header: str, patterns: tuple[str, ...], append_if_missing: tuple[str, ...]
) -> str:
    path = os.path.join(root, ".gitignore")
    try:
        try:
            existing = read_bytes(path).decode()
        except FileNotFoundError:
            write_atomic(path, (header + "\n".join(patterns) + "\n").encode())
            return "created"
        lines = {ln.strip() for ln in existing.splitlines() if ln.strip() and not ln.lstrip().startswith("#")}
        missing = [p for p in append_if_missing if p not in lines]
        if not missing:
            return "unchanged"
        text = existing if existing.endswith("\n") or not existing else existing + "\n"
        write_atomic(path, (text + "\n".join(missing) + "\n").encode())
    except OSError as exc:
        raise _storage_error(path, exc) from exc
    except UnicodeDecodeError:
        raise StorageError(f"{path} is not UTF-8 text: fix or remove it") from None
    return "updated"


def write_agents_guide(root: str, text: str) -> str:
    """Write ``.buttons/AGENTS.md``; a symlink there is replaced, never written through."""
    path = os.path.join(root, "AGENTS.md")
    try:
        write_atomic(path, text.encode())
    except OSError as exc:
        raise _storage_error(path, exc) from exc
    return path
