"""The registry of the presses this engine process is running, and what each one owns.

One engine process may run many presses at once (``smash``); as a child subreaper it adopts the
orphans of all of them. The registry knows every press's main child (so one press's sweep never
touches another's script, and never reaps a child that is not its own) and tells which adopted
orphan belongs to which press:

1. an orphan that holds the press's **tag**, a pipe every process of the press inherits (it
   survives ``exec``, ``setsid`` and a replaced environment);
2. or whose environment carries the press's ``BUTTONS_PRESS_ID`` (it survives a closed tag);
3. or, when this is the only press running, any orphan at all.

An orphan that dropped both marks while several presses run cannot be attributed; it is ended
when the last running press ends (docs/presses.md, "Process ownership").

Spawning and reaping happen under one lock, so a sweep never reaps a child that a concurrent
press has just started but not registered yet.
"""

from __future__ import annotations

import _thread
import os
import sys

from . import proctree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .spawn import Child

PRESS_MARKER = "BUTTONS_PRESS_ID"


class PressEntry:
    """One running press: its id, its main child (also its process group), its two marks."""

    __slots__ = ("child_pid", "marker", "press_id", "tag")

    def __init__(self, press_id: str, tag: str | None) -> None:
        self.press_id = press_id
        self.marker = f"{PRESS_MARKER}={press_id}".encode()
        self.tag = tag  # readlink of the tag descriptor, e.g. "pipe:[1234]"
        self.child_pid = 0

    @property
    def pgid(self) -> int:
        return self.child_pid  # the child leads its own session and group


class ActivePresses:
    __slots__ = ("_entries", "_lock", "_subreaper", "freezing")

    def __init__(self) -> None:
        self._lock = _thread.allocate_lock()
        # Held by a sweep while it freezes (engine/sweep.py): one freeze at a time in this process.
        self.freezing = _thread.allocate_lock()
        self._entries: dict[int, PressEntry] = {}
        self._subreaper = False

    def ensure_subreaper(self) -> bool:
        """Make this process adopt orphaned descendants (Linux). Idempotent; False if unsupported."""
        if not self._subreaper:
            self._subreaper = set_child_subreaper()
        return self._subreaper

    def start(self, entry: PressEntry, spawn: Callable[[], Child]) -> Child:
        """Run ``spawn`` and register its child under the lock (``OSError`` propagates)."""
        with self._lock:
            child = spawn()
            entry.child_pid = child.pid
            self._entries[child.pid] = entry
        return child

    def finish(self, entry: PressEntry) -> None:
        with self._lock:
            self._entries.pop(entry.child_pid, None)

    def main_children(self) -> set[int]:
        with self._lock:
            return set(self._entries)

    def running(self) -> int:
        with self._lock:
            return len(self._entries)

    def owns(self, entry: PressEntry, pid: int) -> bool:
        """Whether the adopted orphan ``pid`` belongs to ``entry``'s press."""
        if self.running() <= 1:
            return True
        if entry.tag is not None and proctree.holds(pid, entry.tag):
            return True
        return proctree.has_env(pid, entry.marker)

    def reap_adopted(self) -> None:
        """Reap exited children of this process that are not a press's main child."""
        with self._lock:
            kids = proctree.own_children() or set()
            for pid in kids - set(self._entries):
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass

    def nothing_left(self, entry: PressEntry) -> bool:
        """Cheap check after a normal exit: no orphan adopted outside a press, and the group is empty.

        When it holds (the common case), the freeze-and-kill machinery (``engine/sweep.py``) is
        not even imported.
        """
        kids = proctree.adopted_children()
        if kids is None or kids - self.main_children() - {entry.child_pid}:
            return False
        try:
            os.killpg(entry.pgid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


REGISTRY = ActivePresses()


# --------------------------------------------------------------------------- subreaper
# ``prctl(PR_SET_CHILD_SUBREAPER)``: orphaned descendants of a press are re-parented to the
# engine. Without it, a process that double-forks away from its press is adopted by init and can
# no longer be told apart from any other process on the machine.

PR_SET_CHILD_SUBREAPER = 36


def set_child_subreaper() -> bool:
    """Make this process a child subreaper (Linux). False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return _prctl(PR_SET_CHILD_SUBREAPER, 1) == 0
    except (OSError, AttributeError, ImportError, TypeError):
        return False


def _prctl(option: int, arg: int) -> int:
    """``prctl(option, arg, 0, 0, 0)`` through the C core of ctypes.

    ``import ctypes`` builds dozens of types at import (several milliseconds of every press); the
    one call needed here only takes a C ``int`` return type and libc's handle, which is exactly
    how ``ctypes.CDLL(None).prctl`` is put together.
    """
    import _ctypes

    class _CInt(_ctypes._SimpleCData):  # type: ignore[type-arg]  # ctypes.c_int (not subscriptable at run time)
        _type_ = "i"

    class _CFunc(_ctypes.CFuncPtr):  # ctypes.CDLL._FuncPtr
        _flags_ = _ctypes.FUNCFLAG_CDECL
        _restype_ = _CInt

    class _Libc:  # what CFuncPtr reads from a CDLL: its handle
        _handle = _ctypes.dlopen(None)  # type: ignore[arg-type]  # NULL: the running program

    result: int = _CFunc(("prctl", _Libc()))(option, arg, 0, 0, 0)  # type: ignore[arg-type]
    return result
