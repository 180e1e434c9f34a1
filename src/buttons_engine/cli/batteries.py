"""``buttons batteries set|get|list|rm``: secrets handed to every press as ``BUTTONS_BAT_<KEY>``.

Flags and help: the ``batteries`` entry of ``commandtable.py``.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Args, Context


def handle_set(ns: Args, ctx: Context) -> int:
    from ..services import batteries as svc

    out = ctx.out
    value = ns.value if ns.value is not None else _read_value(ctx)
    data = svc.set_battery(
        ctx.layout, ns.key, value, force_global=ns.force_global, force_local=ns.force_local
    )
    if out.json:
        out.success(data)
    else:
        out.status(out.paint("✓", "green") + f" saved {data['key']} ({data['scope']})")
        if data.get("gitignore"):
            out.status("  batteries.json is now listed in .buttons/.gitignore")
    return 0


def handle_get(ns: Args, ctx: Context) -> int:
    from ..services import batteries as svc

    data = svc.get_battery(ctx.layout, ns.key)
    if ctx.out.json:
        ctx.out.success(data)
    else:
        print(data["value"])
    return 0


def handle_list(ns: Args, ctx: Context) -> int:
    """``batteries list`` (also bare ``batteries``)."""
    from ..services import batteries as svc

    out = ctx.out
    data = svc.list_batteries(ctx.layout, reveal=getattr(ns, "reveal", False))
    if out.json:
        out.success(data)
    elif not data:
        out.status("No batteries yet.")
        out.hint("buttons batteries set API_TOKEN <value>")
    else:
        out.table(["KEY", "VALUE", "SCOPE"], [[b["key"], b["value"], b["scope"]] for b in data])
    return 0


def handle_rm(ns: Args, ctx: Context) -> int:
    from ..services import batteries as svc

    out = ctx.out
    data = svc.remove_battery(ctx.layout, ns.key, force_global=ns.force_global, force_local=ns.force_local)
    if out.json:
        out.success(data)
    else:
        out.status(out.paint("✓", "green") + f" removed {data['key']} ({data['scope']})")
    return 0


def _read_value(ctx: Context) -> str:
    """The value of ``batteries set KEY`` without VALUE: stdin, or a hidden prompt on a terminal."""
    from ..errors import MissingArg

    if sys.stdin is None:
        raise MissingArg("batteries set needs KEY and VALUE")
    if sys.stdin.isatty():
        if ctx.no_input:
            raise MissingArg("batteries set needs KEY and VALUE (or the value on stdin)")
        import getpass

        return getpass.getpass("Value (hidden): ")
    # Bytes, decoded leniently: whatever the locale, bad input reaches the service's check, not a crash.
    text: str = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    if text.endswith("\n"):
        text = text[:-1]
        if text.endswith("\r"):
            text = text[:-1]
    if not text:
        raise MissingArg("batteries set needs KEY and VALUE (stdin was empty)")
    return text
