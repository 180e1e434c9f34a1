"""``buttons tail NAME|PATH [-f]`` (and ``logs NAME --follow``): print a progress stream.

Output is the stream's raw bytes (battery values masked), never an envelope. On a terminal
without ``--json``, lines shaped like the suggested events (``{"event": "progress", "pct",
"msg"}``, ``{"event": "log", "level", "msg"}``) are shown readably; every other line, malformed
JSON included, is printed as it is.
"""

from __future__ import annotations

import json
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Args, Context

POLL_SECONDS = 0.2


def handle(ns: Args, ctx: Context) -> int:
    return run(ctx, ns.target, follow=ns.follow)


def run(ctx: Context, target: str, *, follow: bool) -> int:
    from ..services.progress import ProgressTail

    tail = ProgressTail(ctx.layout, target)
    sink: _Renderer | _Raw = _Renderer() if not ctx.out.json else _Raw()
    try:
        sink.write(tail.read(final=not follow))
        while follow:
            time.sleep(POLL_SECONDS)
            sink.write(tail.read())
    except KeyboardInterrupt:
        try:  # what was held back in case it began a secret: the stream is over, give it out masked
            sink.write(tail.read(final=True))
        except (KeyboardInterrupt, OSError):
            pass
    except BrokenPipeError:
        return 0
    finally:
        tail.close()
    try:
        sink.close()
    except BrokenPipeError:
        pass
    return 0


class _Raw:
    def write(self, data: bytes) -> None:
        if data:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()

    def close(self) -> None:
        sys.stdout.buffer.flush()


class _Renderer:
    """Line-based rendering for a terminal; anything it does not recognise is printed raw."""

    def __init__(self) -> None:
        self._partial = b""

    def write(self, data: bytes) -> None:
        if not data:
            return
        buf = self._partial + data
        *lines, self._partial = buf.split(b"\n")
        out = sys.stdout
        for line in lines:
            out.write(render_line(line) + "\n")
        out.flush()

    def close(self) -> None:
        if self._partial:
            sys.stdout.write(render_line(self._partial) + "\n")
            self._partial = b""
        sys.stdout.flush()


def render_line(line: bytes) -> str:
    raw = line.decode("utf-8", "replace")
    try:
        obj = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(obj, dict):
        return raw
    event = obj.get("event")
    msg = obj.get("msg", obj.get("message", ""))
    if not isinstance(msg, str):
        msg = json.dumps(msg, ensure_ascii=False)
    ts = obj.get("ts")
    clock = ts[11:19] + " " if isinstance(ts, str) and len(ts) >= 19 and ts[10] in "T " else ""
    if event == "progress":
        pct = obj.get("pct")
        bar = f"{pct:>3}%" if isinstance(pct, int | float) and not isinstance(pct, bool) else "  …"
        return f"{clock}[{bar}] {msg}".rstrip()
    if event == "log":
        level = obj.get("level", "info")
        return f"{clock}{str(level).upper():<5} {msg}".rstrip()
    return raw
