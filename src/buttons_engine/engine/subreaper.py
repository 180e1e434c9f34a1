"""``prctl(PR_SET_CHILD_SUBREAPER)``: orphaned descendants of a press are re-parented to the engine.

Without it, a process that double-forks away from its press is adopted by init and can no
longer be told apart from any other process on the machine.
"""

from __future__ import annotations

import sys

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
