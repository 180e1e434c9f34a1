"""Reading the process table from ``/proc``: parents, groups, states, environments, descriptors.

Pure functions over what the kernel shows right now; no state of their own. The supervisor's
sweep (``engine/sweep.py``) decides what to do with what they find.
"""

from __future__ import annotations

import os

# pid -> (ppid, pgid, state letter)
Table = dict[int, tuple[int, int, str]]


def table() -> Table:
    """pid -> (ppid, pgid, state) for every visible process."""
    out: Table = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for name in entries:
        if name.isdigit():
            row = stat(int(name))
            if row is not None:
                out[int(name)] = row
    return out


def stat(pid: int) -> tuple[int, int, str] | None:
    """(ppid, pgid, state) of one process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    if len(fields) < 3:
        return None
    return int(fields[1]), int(fields[2]), fields[0].decode()


def children_index(tab: Table) -> dict[int, list[int]]:
    """ppid -> [pid, …] for a table."""
    index: dict[int, list[int]] = {}
    for pid, (ppid, _pg, _st) in tab.items():
        index.setdefault(ppid, []).append(pid)
    return index


def subtree(tab: Table, roots: list[int]) -> list[tuple[int, int, str]]:
    """Every process of ``tab`` under ``roots`` (roots included): (pid, pgid, state)."""
    index = children_index(tab)
    found: list[tuple[int, int, str]] = []
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        pid = stack.pop()
        if pid in seen or pid not in tab:
            continue
        seen.add(pid)
        _ppid, pgid, state = tab[pid]
        found.append((pid, pgid, state))
        stack.extend(index.get(pid, []))
    return found


def own_children() -> set[int] | None:
    """Direct children of this process (every thread's), or None when the kernel cannot say.

    Cheap (one small file per thread), so a sweep can look at adopted orphans many times a
    second without reading the whole process table.
    """
    out: set[int] = set()
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/children", "rb") as fh:
                out.update(int(p) for p in fh.read().split())
    except (OSError, ValueError):
        return None
    return out


def adopted_children() -> set[int] | None:
    """Children listed on this process's main thread, or None when the kernel cannot say.

    Linux gives an orphan to the first live thread of its subreaper, the thread group leader
    (kernel/exit.c, ``find_alive_thread``), so every adopted orphan is here, with the children
    the main thread spawned itself. One file instead of one per thread: a drawer's ``for_each``
    at parallelism 8 read nine after every press (about 45 system calls).
    """
    try:
        with open(f"/proc/self/task/{os.getpid()}/children", "rb") as fh:
            return {int(p) for p in fh.read().split()}
    except (OSError, ValueError):
        return None


def has_env(pid: int, entry: bytes) -> bool:
    """True if ``pid``'s environment holds exactly ``entry`` (``NAME=value``)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            env = fh.read()
    except OSError:
        return False
    return entry in env.split(b"\0")


def holds(pid: int, link: str) -> bool:
    """True if one of ``pid``'s descriptors points at ``link`` (e.g. ``pipe:[1234]``)."""
    base = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(base)
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"{base}/{fd}") == link:
                return True
        except OSError:
            continue
    return False
