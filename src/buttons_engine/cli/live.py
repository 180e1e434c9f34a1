"""The live status line of a long ``buttons press`` on a terminal (elapsed time, last progress message).

Design: one helper thread started through ``_thread`` (the C module the supervisor already
imports, so nothing new is imported for a press). It first sleeps on a lock for ``DELAY`` seconds;
a press that ends sooner releases the lock, the thread returns without drawing anything and the
press's output is exactly what it would be without the line. A longer press gets one line on
stderr, redrawn in place (``\\r``) every ``TICK`` seconds and wiped before the result is printed.
The engine's own loop is untouched: its ``on_output`` hook only fires when the script writes, so
it cannot tick the clock of a silent script.

The progress message comes from the press's progress file (``$BUTTONS_PROGRESS_PATH``, JSON
lines with ``msg`` and ``pct``), found in the button's ``pressed/`` directory: a file whose stem
(start time) is not older than this press, preferring the one this process holds locked (the
engine ``flock``s its press's progress file, ``/proc/locks`` names the holder), so a concurrent
press of the same button elsewhere is not shown. Its content is masked like ``buttons tail``.
Everything here is best effort: a failure to read or draw never touches the press.
"""

from __future__ import annotations

import _thread
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..services.progress import ProgressTail
    from ..store.layout import Layout

DELAY = 1.0  # seconds before the line appears: short presses never see it
TICK = 0.25
MAX_PROGRESS_LINE = 64 * 1024


class LiveLine:
    """``start()`` after deciding the line is wanted; ``close()`` (always) before printing the result."""

    def __init__(self, layout: Layout, name: str, *, delay: float = DELAY) -> None:
        self._layout = layout
        self._name = name
        self._delay = delay
        self._started = time.monotonic()
        self._not_before = _stem_prefix(time.time())
        self._stop = _thread.allocate_lock()
        self._stop.acquire()
        self._draw = _thread.allocate_lock()
        self._closed = False
        self._width = 0  # characters of the line now on screen
        self._shown = ""
        self._tail: ProgressTail | None = None
        self._searched_at = 0.0
        self._pending = b""
        self._message = ""

    def start(self) -> LiveLine:
        _thread.start_new_thread(self._run, ())
        return self

    def close(self) -> None:
        """Stop the thread and wipe the line; idempotent."""
        with self._draw:
            if self._closed:
                return
            self._closed = True
            self._stop.release()
            if self._width:
                _write("\r" + " " * self._width + "\r")
                self._width = 0
            tail, self._tail = self._tail, None
        if tail is not None:
            try:
                tail.close()
            except OSError:
                pass

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        try:
            if self._stop.acquire(timeout=self._delay):
                return
            while True:
                with self._draw:
                    if self._closed:
                        return
                    self._redraw()
                if self._stop.acquire(timeout=TICK):
                    return
        # The line is decoration: whatever goes wrong here must never disturb a press.
        except Exception:  # noqa: S110  # nosec B110
            pass

    def _redraw(self) -> None:
        self._read_progress()
        elapsed = int(time.monotonic() - self._started)
        text = f"… {self._name} running {_elapsed(elapsed)}"
        if self._message:
            text += " · " + self._message
        try:
            columns = os.get_terminal_size(2).columns
        except OSError:
            columns = 0
        text = text[: (columns if columns >= 20 else 80) - 1]  # one row, or \r cannot redraw it
        if text == self._shown:
            return
        pad = " " * max(0, self._width - len(text))
        _write("\r" + text + pad)
        self._shown, self._width = text, len(text)

    def _read_progress(self) -> None:
        if self._tail is None:
            now = time.monotonic()
            if now - self._searched_at < 1.0:
                return
            self._searched_at = now
            self._tail = self._open_tail()
            if self._tail is None:
                return
        data = self._pending + self._tail.read()
        *lines, rest = data.split(b"\n")
        self._pending = rest if len(rest) <= MAX_PROGRESS_LINE else b""
        for line in reversed(lines):
            message = progress_message(line)
            if message:
                self._message = message
                return

    def _open_tail(self) -> ProgressTail | None:
        from ..services.progress import ProgressTail
        from ..store.names import lookup_name

        pressed = self._layout.pressed_dir(lookup_name(self._name))
        path = find_progress_file(pressed, self._not_before)
        return ProgressTail(self._layout, path) if path is not None else None


def progress_message(line: bytes) -> str:
    """``[40%] uploading`` from a progress JSON line (``msg`` or ``message``, ``pct``); else ``""``."""
    import json

    try:
        obj = json.loads(line.decode("utf-8", "replace"))
    except ValueError:
        return ""
    if not isinstance(obj, dict):
        return ""
    msg = obj.get("msg", obj.get("message", ""))
    msg = " ".join(msg.split()) if isinstance(msg, str) else ""
    pct = obj.get("pct")
    if isinstance(pct, int | float) and not isinstance(pct, bool):
        return f"[{pct:g}%] {msg}".rstrip()
    return msg


def find_progress_file(pressed_dir: str, not_before: str) -> str | None:
    """This press's progress file in ``pressed_dir``: started at or after ``not_before`` (a stem
    prefix), the one this process holds locked if ``/proc/locks`` tells, else the newest."""
    from ..store.runs import PROGRESS_SUFFIX

    try:
        names = [n for n in os.listdir(pressed_dir) if n.endswith(PROGRESS_SUFFIX) and n >= not_before]
    except OSError:
        return None
    if not names:
        return None
    mine = _locked_by_me()
    if mine is None:  # no /proc/locks (not Linux): the newest file that started after this press
        return os.path.join(pressed_dir, max(names))
    for name in sorted(names, reverse=True):
        path = os.path.join(pressed_dir, name)
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            continue
        if st.st_ino in mine:
            return path
    return None  # another press's file, or not created yet (e.g. waiting for a queue slot)


def _locked_by_me() -> set[int] | None:
    """Inode numbers of the files this process holds ``flock`` locks on, from
    ``/proc/locks`` (Linux); None when that cannot be read."""
    found: set[int] = set()
    pid = str(os.getpid())
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (blocked waiters carry "->" first)
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[4] == pid:
            try:
                found.add(int(parts[5].rsplit(":", 1)[1]))  # the device (major:minor) is not
                # compared: overlay file systems report a different one to stat
            except ValueError:
                continue
    return found


def _stem_prefix(epoch: float) -> str:
    """The run-record stem prefix of a press started at ``epoch`` (to the second, a second early)."""
    return time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(int(epoch) - 1))


def _elapsed(seconds: int) -> str:
    return f"{seconds}s" if seconds < 60 else f"{seconds // 60}m{seconds % 60:02d}s"


def _write(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
