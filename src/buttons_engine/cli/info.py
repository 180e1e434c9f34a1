"""``buttons summary``, ``version``, ``completion`` and the completion helper."""

from __future__ import annotations

import sys

from .output import truncate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .base import Args, Context


def handle_summary(ns: Args, ctx: Context) -> int:
    from ..services.summary import summary

    data = summary(ctx.layout)
    out = ctx.out
    if out.json:
        out.success(data)
        return 0
    counts = data["counts"]
    print(out.paint("Buttons", "bold") + f"  {data['data_dir']}")
    print(f"{counts['buttons']} buttons · {counts['failures_recent']} recent failures")
    print(out.paint(_host_line(data.get("system") or {}), "dim"))
    if data["buttons"]:
        print()
        rows = []
        for b in data["buttons"]:
            last = b["recent_runs"][0] if b["recent_runs"] else None
            last_s = f"{last['status']} {last['started_ago']} ago" if last else "never pressed"
            rows.append([b["name"], truncate(str(b.get("description") or "-"), 40), b["runtime"], last_s])
        out.table(["NAME", "DESCRIPTION", "RUNTIME", "LAST RUN"], rows)
    for f in data["recent_failures"]:
        print(out.paint(f"✗ {f['target']} {f['started_ago']} ago: {f['error']['code']}", "red"))
    out.hint("buttons press NAME" if data["buttons"] else "buttons create hello --code 'echo hello'")
    return 0


def _host_line(system: dict[str, Any]) -> str:
    """One line of host facts for the human summary (the system-info setting)."""
    if not system.get("enabled"):
        return "system info: off (buttons config set system-info true)"
    osinfo, mem = system["os"], system["memory"].get("total_bytes")
    found = [
        f"{name} {rt.get('version') or rt.get('implementation') or ''}".strip()
        for name, rt in system["runtimes"].items()
        if rt["installed"]
    ]
    parts = [
        osinfo["distribution"] or osinfo["name"],
        f"Python {system['python']['version']}",
        f"{system['cpu_count']} CPUs",
    ]
    if mem:
        parts.append(f"{mem / 2**30:.1f} GiB")
    parts.append("runtimes: " + (", ".join(found) or "none"))
    return " · ".join(parts) + "  (hide: buttons config set system-info false)"


def handle_version(ns: Args, ctx: Context) -> int:
    import platform

    from .. import __version__

    data = {
        "version": __version__,
        "commit": "",
        "date": "",
        "python_version": platform.python_version(),
        "os": sys.platform,
        "arch": platform.machine(),
    }
    if ctx.out.json:
        ctx.out.success(data)
    else:
        print(
            f"buttons {__version__} (Python {data['python_version']}, {data['os']}/{data['arch']})",
            file=sys.stderr,
        )
    return 0


def handle_completion(ns: Args, ctx: Context) -> int:
    from .completion import script

    sys.stdout.write(script(ns.shell))
    return 0


def handle_complete(ns: Args, ctx: Context) -> int:
    """``buttons __complete -- WORD…``: candidates for the last word, one ``word<TAB>help`` a line."""
    from ..errors import ButtonsError
    from .completion import FILES, candidates

    try:
        layout = ctx.layout
    except (ButtonsError, OSError):
        layout = None
    found = candidates(list(ns.words), layout)
    if found is None:
        sys.stdout.write(FILES + "\n")
    else:
        sys.stdout.write("".join(f"{w}\t{' '.join(d.split())}\n" for w, d in found))
    return 0
