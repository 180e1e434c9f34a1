"""Timestamps in the shape of Go's ``time.Time`` JSON (RFC 3339, up to 9 fractional digits).

The press path works in integer microseconds since the epoch (``now_us``, ``format_us``,
``record_stem_us``) with the ``time`` module; ``datetime`` is imported only by the functions
that take or return ``datetime`` objects (history queries, summaries, idempotency), since
importing it costs a shell press milliseconds.
"""

from __future__ import annotations

import time as _time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as _dt


def now_us() -> int:
    """Now, in microseconds since the epoch."""
    return _time.time_ns() // 1000


def _rfc3339(base: str, micro: int, offset_seconds: int) -> str:
    """``base`` (date and time to the second), trimmed fraction, then ``Z`` or ``±HH:MM``."""
    if micro:
        base += "." + f"{micro:06d}".rstrip("0")
    if not offset_seconds:
        return base + "Z"
    sign = "+" if offset_seconds >= 0 else "-"
    off = abs(offset_seconds)
    return f"{base}{sign}{off // 3600:02d}:{(off % 3600) // 60:02d}"


def format_us(us: int, *, local: bool = False) -> str:
    """RFC 3339 for an epoch-microsecond stamp: ``Z`` in UTC, or the local offset when ``local``."""
    secs, micro = divmod(us, 1_000_000)
    tm = _time.localtime(secs) if local else _time.gmtime(secs)
    return _rfc3339(_time.strftime("%Y-%m-%dT%H:%M:%S", tm), micro, tm.tm_gmtoff if local else 0)


def record_stem_us(us: int, suffix: str) -> str:
    """File stem of a run record: sorts by start time, unique per press (DEVIATIONS D1)."""
    secs, micro = divmod(us, 1_000_000)
    return _time.strftime("%Y-%m-%dT%H-%M-%S", _time.gmtime(secs)) + f".{micro:06d}Z-{suffix}"


def now_utc() -> _dt.datetime:
    import datetime as _dt

    return _dt.datetime.now(_dt.UTC)


def format_ts(ts: _dt.datetime) -> str:
    """RFC 3339 with trailing fractional zeros dropped and ``Z`` for UTC."""
    off = ts.utcoffset()
    seconds = int(off.total_seconds()) if off is not None else 0
    return _rfc3339(ts.strftime("%Y-%m-%dT%H:%M:%S"), ts.microsecond, seconds)


def parse_ts(text: str) -> _dt.datetime:
    """Parse an RFC 3339 timestamp with up to 9 fractional digits (Go writes nanoseconds)."""
    import datetime as _dt

    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dot = s.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(s) and s[end].isdigit():
            end += 1
        frac = s[dot + 1 : end][:6]
        s = s[:dot] + ("." + frac if frac else "") + s[end:]
    parsed = _dt.datetime.fromisoformat(s)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    return parsed


def ago(ts: _dt.datetime, now: _dt.datetime | None = None) -> str:
    """Short age like ``5s``, ``3m``, ``2h``, ``4d``."""
    delta = ((now or now_utc()) - ts).total_seconds()
    delta = max(delta, 0)
    if delta < 60:
        return f"{int(delta)}s"
    if delta < 3600:
        return f"{int(delta // 60)}m"
    if delta < 86400:
        return f"{int(delta // 3600)}h"
    return f"{int(delta // 86400)}d"


_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign
    "μs": 1e-6,  # U+03BC greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration string (``1h30m``, ``200ms``, ``-1.5h``, ``0``); ValueError if invalid."""
    import re

    s = text.strip()
    if not s:
        raise ValueError(f"invalid duration {text!r}")
    sign = 1.0
    if s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)", s)
    if not parts or "".join(n + u for n, u in parts) != s:
        raise ValueError(f"invalid duration {text!r} (examples: 30s, 5m, 1h30m, 24h)")
    return sign * sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
