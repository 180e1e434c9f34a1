"""The managed button list in a git repository's root ``AGENTS.md`` (CONTRACT 3.4)."""

from __future__ import annotations

import os

from .atomic import read_bytes, write_atomic

START = "<!-- BUTTONS:LIST:START -->"
END = "<!-- BUTTONS:LIST:END -->"


def git_root(start: str) -> str | None:
    """The work tree root above ``start`` (a ``.git`` directory or file), or None."""
    cur = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(cur, ".git")):
            return cur
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


def write_block(repo_root: str, block: str) -> str:
    """Put ``block`` between the markers of ``<repo>/AGENTS.md``: created, updated or appended."""
    path = os.path.join(repo_root, "AGENTS.md")
    managed = f"{START}\n{block.rstrip()}\n{END}\n"
    try:
        text = read_bytes(path).decode("utf-8", "replace")
    except FileNotFoundError:
        write_atomic(path, managed.encode(), 0o644)
        return "created"
    start, end = text.find(START), text.find(END)
    if start != -1 and end > start:
        new = text[:start] + managed.rstrip("\n") + text[end + len(END) :]
        action = "updated"
    else:
        sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        new = text + sep + managed
        action = "appended"
    if new != text:
        write_atomic(path, new.encode(), _mode(path))
    return action


def _mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return 0o644
