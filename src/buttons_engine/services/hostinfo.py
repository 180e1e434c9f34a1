"""Host facts for ``buttons summary`` (and later the REST health endpoint), behind ``system-info``.

Collecting them reads ``/etc/os-release`` and ``/proc/meminfo`` and runs ``RUNTIME --version`` for
each runtime found on PATH. An operator who must not have the program run OS commands or read host
details turns the setting off (``buttons config set system-info false``): then ``collect`` is never
called and this module is not even imported. Nothing on the press path imports it.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from typing import Any

RUNTIMES = ("sh", "bash", "python3", "node")
VERSION_TIMEOUT_S = 2.0
_VERSION_RE = re.compile(r"\d+(?:\.\d+)+")


def _os_release() -> dict[str, str]:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        out = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                out[key.strip()] = value.strip().strip("\"'")
        return out
    return {}


def _memory() -> dict[str, int | None]:
    """Total and available memory in bytes (Linux /proc/meminfo; None where unknown)."""
    facts: dict[str, int | None] = {"total_bytes": None, "available_bytes": None}
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                key, _, rest = line.partition(":")
                field = {"MemTotal": "total_bytes", "MemAvailable": "available_bytes"}.get(key)
                if field and rest.split():
                    facts[field] = int(rest.split()[0]) * 1024
    except (OSError, ValueError):
        pass
    if facts["total_bytes"] is None:
        try:
            facts["total_bytes"] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (OSError, ValueError):
            pass
    return facts


def _version_of(path: str) -> str | None:
    try:
        proc = subprocess.run(  # noqa: S603 - a resolved runtime path and a fixed flag, no shell
            [path, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=VERSION_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    text = (proc.stdout or proc.stderr).decode("utf-8", "replace")
    match = _VERSION_RE.search(text.splitlines()[0] if text else "")
    return match.group(0) if match else None


def runtimes() -> dict[str, dict[str, Any]]:
    """Each known runtime: whether it is on PATH, where, and its version (``RUNTIME --version``)."""
    out: dict[str, dict[str, Any]] = {}
    for name in RUNTIMES:
        path = shutil.which(name)
        entry: dict[str, Any] = {"installed": path is not None, "path": path, "version": None}
        if path is not None:
            if name == "sh":
                # POSIX sh has no --version (dash refuses it); name what it really is instead.
                entry["implementation"] = os.path.basename(os.path.realpath(path))
            else:
                entry["version"] = _version_of(path)
        out[name] = entry
    return out


def collect() -> dict[str, Any]:
    """Every host fact, as the ``system`` object of the summary."""
    rel = _os_release()
    uname = platform.uname()
    return {
        "enabled": True,
        "os": {
            "name": uname.system,
            "release": uname.release,
            "machine": uname.machine,
            "distribution": rel.get("PRETTY_NAME") or rel.get("NAME") or "",
        },
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "cpu_count": os.cpu_count(),
        "memory": _memory(),
        "runtimes": runtimes(),
    }
