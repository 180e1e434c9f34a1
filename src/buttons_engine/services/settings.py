"""``buttons config``: the settings keys, their validation and their defaults (CONTRACT 10)."""

from __future__ import annotations

import os

from ..engine import limits as _limits
from ..errors import ValidationError
from ..store import settings as store
from ..store.layout import Layout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _pos_int(value: str) -> int:
    try:
        n = int(value.strip())
    except ValueError:
        raise ValidationError(f"expected a whole number, got {value!r}") from None
    if n <= 0:
        raise ValidationError(f"expected a number greater than 0, got {value!r}")
    return n


def _nonneg_int(value: str) -> int:
    try:
        n = int(value.strip())
    except ValueError:
        raise ValidationError(f"expected a whole number, got {value!r}") from None
    if n < 0:
        raise ValidationError(f"expected 0 or more, got {value!r}")
    return n


# Largest limits a setting accepts: the kernel's rlimit is a 64-bit byte or unit count, so a
# larger value would make every later press fail when the limit is applied.
MAX_COUNT_LIMIT = _limits.MAX_COUNT  # cpu seconds (68 years), open files, processes
MAX_MB_LIMIT = _limits.MAX_MB  # MiB (4 EiB): MiB * 2**20 stays below 2**63


def _limit(maximum: int, unit: str) -> Any:
    def parse(value: str) -> int:
        n = _nonneg_int(value)
        if n > maximum:
            raise ValidationError(f"expected at most {maximum} {unit} (0 = no limit), got {value!r}")
        return n

    return parse


def _path_list(value: str) -> str:
    """``os.pathsep``-separated absolute directories (``~`` expanded), or ``*`` for every directory."""
    out: list[str] = []
    for raw in value.split(os.pathsep):
        entry = raw.strip()
        if entry and entry != "*":
            entry = os.path.expanduser(entry)
            if not os.path.isabs(entry):
                raise ValidationError(f"safe-directories takes absolute paths, got {entry!r}")
            entry = os.path.normpath(entry)
        if entry:
            out.append(entry)
    return os.pathsep.join(out)


_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_bool(value: str) -> bool:
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    raise ValidationError(f"expected true or false, got {value!r}")


def _placement(value: str) -> str:
    if value not in ("local", "fleet"):
        raise ValidationError(f"expected local or fleet, got {value!r}")
    return value


class Key:
    """One setting: its CLI name, where it is stored under ``defaults``, its parser and default."""

    __slots__ = ("default", "help", "name", "parse", "path")

    def __init__(self, name: str, path: tuple[str, ...], parse: Any, default: Any, help: str) -> None:
        self.name = name
        self.path = path
        self.parse = parse
        self.default = default
        self.help = help


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "default-timeout",
            ("timeout_seconds",),
            _pos_int,
            300,
            "Timeout in seconds given to new buttons when create has no --timeout.",
        ),
        Key(
            "history-retention",
            ("history_retention",),
            _nonneg_int,
            100,
            "Run records kept per button (0 keeps all); progress files are pruned with them.",
        ),
        Key(
            "limit-cpu-seconds",
            ("limits", "cpu_seconds"),
            _limit(MAX_COUNT_LIMIT, "seconds"),
            0,
            "Default CPU-time limit for code buttons, in seconds (0 = none).",
        ),
        Key(
            "limit-memory-mb",
            ("limits", "memory_mb"),
            _limit(MAX_MB_LIMIT, "MiB"),
            0,
            "Default address-space limit for code buttons, in MiB (0 = none).",
        ),
        Key(
            "limit-open-files",
            ("limits", "open_files"),
            _limit(MAX_COUNT_LIMIT, "files"),
            0,
            "Default open-file limit for code buttons (0 = none).",
        ),
        Key(
            "limit-processes",
            ("limits", "processes"),
            _limit(MAX_COUNT_LIMIT, "processes"),
            0,
            "Default process-count limit for code buttons (0 = none).",
        ),
        Key(
            "limit-file-size-mb",
            ("limits", "file_size_mb"),
            _limit(MAX_MB_LIMIT, "MiB"),
            0,
            "Default largest file a code button may write, in MiB (0 = none).",
        ),
        Key(
            "system-info",
            ("system_info",),
            parse_bool,
            True,
            "Report host facts (OS, CPUs, memory, runtimes) in summary; false runs no OS command for them.",
        ),
        Key(
            "require-signatures",
            ("require_signatures",),
            parse_bool,
            False,
            "Refuse registry packages that are not signed (SIGNATURE_REQUIRED); see docs/registry.md.",
        ),
        Key(
            "placement",
            ("placement",),
            _placement,
            "local",
            "Where code buttons without their own placement run: fleet sends them to 'buttons worker's "
            "when serve has --redis (docs/fleet.md).",
        ),
        Key(
            "safe-directories",
            ("safe_directories",),
            _path_list,
            "",
            "Directories trusted as data dirs even if another user owns or can write them "
            f"('{os.pathsep}'-separated, '*' for all; read from ~/.buttons/settings.json).",
        ),
    )
}


def _get(defaults: dict[str, Any], path: tuple[str, ...]) -> Any:
    cur: Any = defaults
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def _key(name: str) -> Key:
    key = KEYS.get(name)
    if key is None:
        raise ValidationError(f"unknown setting {name!r}; known settings: {', '.join(KEYS)}")
    return key


def show(layout: Layout) -> dict[str, Any]:
    defaults = store.load(layout.settings_path)
    out: dict[str, Any] = {}
    for key in KEYS.values():
        value = _get(defaults, key.path)
        out[key.name] = key.default if value is None else value
    return out


def set_value(layout: Layout, name: str, value: str, *, plan: bool = False) -> dict[str, Any]:
    """Set a setting; with ``plan`` (``--summary``), check it and return the change without writing."""
    key = _key(name)
    parsed = key.parse(value)
    if plan:
        return {
            "dry_run": True,
            "action": "config set",
            "key": name,
            "value": parsed,
            "current": show(layout)[name],
        }

    def change(defaults: dict[str, Any]) -> bool:
        cur = defaults
        for p in key.path[:-1]:
            nxt = cur.get(p)
            if not isinstance(nxt, dict):
                nxt = {}
                cur[p] = nxt
            cur = nxt
        cur[key.path[-1]] = parsed
        return True

    store.update(layout.settings_path, change)
    return {"key": name, "value": parsed}


def unset(layout: Layout, name: str, *, plan: bool = False) -> dict[str, Any]:
    key = _key(name)
    if plan:
        current = show(layout)[name]
        return {
            "dry_run": True,
            "action": "config unset",
            "key": name,
            "current": current,
            "value": key.default,
        }

    def change(defaults: dict[str, Any]) -> bool:
        cur = defaults
        for p in key.path[:-1]:
            nxt = cur.get(p)
            if not isinstance(nxt, dict):
                return False
            cur = nxt
        if key.path[-1] not in cur:
            return False
        del cur[key.path[-1]]
        if len(key.path) > 1 and not cur:
            defaults.pop(key.path[0], None)
        return True

    store.update(layout.settings_path, change)
    return {"key": name, "unset": True}


def default_timeout(layout: Layout) -> int:
    value = store.load(layout.settings_path).get("timeout_seconds")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 300
