"""Optional resource limits for code buttons (DEVIATIONS D13), applied to the child only.

``button.json`` ``limits`` = ``{cpu_seconds, memory_mb, open_files, processes, file_size_mb}``;
any key missing there falls back to the settings default; 0 or absent means no limit.
"""

from __future__ import annotations

from ..errors import ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any
if TYPE_CHECKING:
    import signal
else:  # the C module: ``signal`` builds IntEnums at import, pulling ``enum`` onto the press path
    import _signal as signal

KEYS = ("cpu_seconds", "memory_mb", "open_files", "processes", "file_size_mb")

SIGNAL_LIMIT = {
    getattr(signal, "SIGXCPU", 24): "cpu_seconds",
    getattr(signal, "SIGXFSZ", 25): "file_size_mb",
}


# The largest value each limit can take: a count or seconds fits a C int, a size in MiB stays
# below 2**63 bytes. A larger value (a hand-edited file) is refused, never passed to setrlimit.
MAX_COUNT = 2**31 - 1
MAX_MB = 2**42
MAXIMUM = {
    "cpu_seconds": MAX_COUNT,
    "memory_mb": MAX_MB,
    "open_files": MAX_COUNT,
    "processes": MAX_COUNT,
    "file_size_mb": MAX_MB,
}


def validate(raw: Any, where: str = "limits") -> dict[str, int]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValidationError(f"{where} must be an object with keys {', '.join(KEYS)}")
    out: dict[str, int] = {}
    for k, v in raw.items():
        if k not in KEYS:
            raise ValidationError(f"{where}: unknown limit {k!r} (known: {', '.join(KEYS)})")
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValidationError(f"{where}.{k} must be a non-negative integer")
        if v > MAXIMUM[k]:
            raise ValidationError(f"{where}.{k} is too large (at most {MAXIMUM[k]})")
        if v > 0:
            out[k] = v
    return out


def effective(button_limits: Any, defaults: dict[str, Any]) -> dict[str, int]:
    merged = dict(validate(defaults, "settings limits"))
    merged.update(validate(button_limits, "button.json limits"))
    return {k: v for k, v in merged.items() if v > 0}


def preexec_for(limits: dict[str, int]) -> Callable[[], None] | None:
    """A function run in the child between fork and exec that applies ``setrlimit``."""
    if not limits:
        return None
    import resource

    plan: list[tuple[int, int]] = []
    if "cpu_seconds" in limits:
        plan.append((resource.RLIMIT_CPU, limits["cpu_seconds"]))
    if "memory_mb" in limits:
        plan.append((resource.RLIMIT_AS, limits["memory_mb"] * 1024 * 1024))
    if "open_files" in limits:
        plan.append((resource.RLIMIT_NOFILE, limits["open_files"]))
    if "processes" in limits:
        plan.append((resource.RLIMIT_NPROC, limits["processes"]))
    if "file_size_mb" in limits:
        plan.append((resource.RLIMIT_FSIZE, limits["file_size_mb"] * 1024 * 1024))

    def apply() -> None:
        for res, value in plan:
            _soft, hard = resource.getrlimit(res)
            new_hard = value if hard == resource.RLIM_INFINITY else min(value, hard)
            if res == resource.RLIMIT_CPU and (hard == resource.RLIM_INFINITY or hard > value + 1):
                new_hard = value + 1  # SIGXCPU at the soft limit, SIGKILL one second later
            resource.setrlimit(res, (min(value, new_hard), new_hard))

    return apply


_STDERR_HINTS = (
    ("memory_mb", ("MemoryError", "Cannot allocate memory", "out of memory", "std::bad_alloc")),
    ("open_files", ("Too many open files",)),
    ("processes", ("Resource temporarily unavailable", "fork: retry", "Cannot fork")),
    ("file_size_mb", ("File too large",)),
)


def diagnose(limits: dict[str, int], sig: int | None, stderr_tail: str, exit_code: int = 0) -> str | None:
    """Name the limit a failed press most likely hit, or None.

    A shell reports a command killed by signal N as exit status 128+N, so a script whose
    ``head`` died of SIGXFSZ exits 153: that counts as the signal too.
    """
    if not limits:
        return None
    if sig is None and 128 < exit_code < 128 + 65:
        sig = exit_code - 128
    if sig is not None:
        name = SIGNAL_LIMIT.get(sig)
        if name and name in limits:
            return name
        if sig == signal.SIGKILL and "cpu_seconds" in limits:
            return "cpu_seconds"
    for name, needles in _STDERR_HINTS:
        if name in limits and any(n in stderr_tail for n in needles):
            return name
    return None


UNITS = {
    "cpu_seconds": "s",
    "memory_mb": " MB",
    "open_files": " files",
    "processes": " processes",
    "file_size_mb": " MB",
}


def describe(name: str, limits: dict[str, int]) -> str:
    return f"resource limit exceeded: {name} ({limits.get(name)}{UNITS.get(name, '')})"
