"""Files of a project-local ``.buttons/`` written by ``init``."""

from __future__ import annotations

import os

from .atomic import ensure_dir, read_bytes, write_atomic


def ensure_project_dirs(root: str) -> None:
    ensure_dir(root)
    ensure_dir(os.path.join(root, "buttons"), root=root)
    ensure_dir(os.path.join(root, "drawers"), root=root)


def update_gitignore(
    root: str, header: str, patterns: tuple[str, ...], append_if_missing: tuple[str, ...]
) -> str:
    path = os.path.join(root, ".gitignore")
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
    return "updated"


def write_agents_guide(root: str, text: str) -> str:
    path = os.path.join(root, "AGENTS.md")
    write_atomic(path, text.encode())
    return path
