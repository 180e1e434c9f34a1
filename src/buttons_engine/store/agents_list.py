"""Managed Markdown blocks in a project's files (CONTRACT 3.4).

Two kinds, each between its own markers so neither touches the other:

- the agent instructions ``init --agent`` writes (``<!-- BUTTONS:START -->`` ... ``<!-- BUTTONS:END -->``)
  into ``CLAUDE.md``, ``AGENTS.md``, ``.clinerules``, ``.github/copilot-instructions.md``;
- the button list of a git repository's root ``AGENTS.md``
  (``<!-- BUTTONS:LIST:START -->`` ... ``<!-- BUTTONS:LIST:END -->``), kept current after create and delete.

Everything outside the markers is left as it is, byte for byte.
"""

from __future__ import annotations

import os

from .atomic import read_bytes, write_atomic

START = "<!-- BUTTONS:LIST:START -->"
END = "<!-- BUTTONS:LIST:END -->"
AGENT_START = "<!-- BUTTONS:START -->"
AGENT_END = "<!-- BUTTONS:END -->"


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
    """Put the button list between its markers in ``<repo>/AGENTS.md``: created, updated or appended."""
    action = write_managed(os.path.join(repo_root, "AGENTS.md"), START, END, block)
    return "updated" if action == "unchanged" else action


def write_managed(path: str, start_marker: str, end_marker: str, block: str) -> str:
    """Put ``block`` between the markers of the file at ``path``.

    Returns ``created`` (no file), ``updated`` (the markers were there), ``appended`` (a file without
    them: the block goes at its end) or ``unchanged`` (the block was already exactly this).
    """
    managed = f"{start_marker}\n{block.rstrip()}\n{end_marker}\n"
    try:
        text = read_bytes(path).decode("utf-8", "replace")
    except FileNotFoundError:
        _ensure_parent(path)
        write_atomic(path, managed.encode(), 0o644)
        return "created"
    start, end = text.find(start_marker), text.find(end_marker)
    if start != -1 and end > start:
        new = text[:start] + managed.rstrip("\n") + text[end + len(end_marker) :]
        action = "updated"
    else:
        sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        new = text + sep + managed
        action = "appended"
    if new == text:
        return "unchanged"
    write_atomic(path, new.encode(), _mode(path))
    return action


def write_whole(path: str, text: str) -> str:
    """A file this project owns entirely (``.cursor/rules/buttons.mdc``): created, updated or unchanged."""
    try:
        old: str | None = read_bytes(path).decode("utf-8", "replace")
    except FileNotFoundError:
        old = None
    if old == text:
        return "unchanged"
    _ensure_parent(path)
    write_atomic(path, text.encode(), _mode(path) if old is not None else 0o644)
    return "created" if old is None else "updated"


def _ensure_parent(path: str) -> None:
    parent = os.path.dirname(path)
    if parent and not os.path.isdir(parent):
        # Ordinary project folders (.cursor/rules, .github): the project's usual modes, not 0700.
        os.makedirs(parent, 0o755, exist_ok=True)


def _mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return 0o644
