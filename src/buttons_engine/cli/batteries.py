"""``buttons batteries set|get|list|rm``: secrets handed to every press as ``BUTTONS_BAT_<KEY>``."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

EPILOG = """Scopes:
  global   batteries.json in $BUTTONS_HOME (or ~/.buttons)
  local    .buttons/batteries.json of the project found from the current directory
           (only when BUTTONS_HOME is unset); local wins over global at press time
set and rm write to the local scope inside a project, else to the global one.

Values never appear in press results, run records, history, logs or summaries: they are
masked as *** in plain, base64 and URL-encoded form (see docs/batteries.md).

Examples:
  buttons batteries set API_TOKEN s3cr3t
  printf %s "$TOKEN" | buttons batteries set API_TOKEN      (value from stdin)
  buttons batteries list --reveal
  buttons batteries rm API_TOKEN --global"""


def _scope_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--global", dest="force_global", action="store_true", help="use the global scope")
    p.add_argument("--local", dest="force_local", action="store_true", help="use the project's scope")


def build(p: argparse.ArgumentParser) -> Any:
    p.epilog = EPILOG
    sub = p.add_subparsers(dest="action", metavar="{set,get,list,rm}")
    s = sub.add_parser("set", help="store a value (VALUE omitted: read from stdin)")
    s.add_argument("key", metavar="KEY", help="name: A-Z, 0-9 and _, starting with a letter")
    s.add_argument("value", metavar="VALUE", nargs="?", help="the secret (omit it to read stdin)")
    _scope_flags(s)
    g = sub.add_parser("get", help="print one value (local scope first)")
    g.add_argument("key", metavar="KEY")
    ls = sub.add_parser("list", help="every key with its value redacted")
    ls.add_argument("--reveal", action="store_true", help="show the values in full")
    r = sub.add_parser("rm", aliases=["remove", "delete"], help="remove a key")
    r.add_argument("key", metavar="KEY")
    _scope_flags(r)

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services import batteries as svc

        out = ctx.out
        action = ns.action or "list"
        if action == "set":
            value = ns.value if ns.value is not None else _read_value(ctx)
            data: Any = svc.set_battery(
                ctx.layout, ns.key, value, force_global=ns.force_global, force_local=ns.force_local
            )
            if out.json:
                out.success(data)
            else:
                out.status(out.paint("✓", "green") + f" saved {data['key']} ({data['scope']})")
                if data.get("gitignore"):
                    out.status("  batteries.json is now listed in .buttons/.gitignore")
            return 0
        if action == "get":
            data = svc.get_battery(ctx.layout, ns.key)
            if out.json:
                out.success(data)
            else:
                print(data["value"])
            return 0
        if action == "list":
            data = svc.list_batteries(ctx.layout, reveal=getattr(ns, "reveal", False))
            if out.json:
                out.success(data)
            elif not data:
                out.status("No batteries yet.")
                out.hint("buttons batteries set API_TOKEN <value>")
            else:
                out.table(["KEY", "VALUE", "SCOPE"], [[b["key"], b["value"], b["scope"]] for b in data])
            return 0
        data = svc.remove_battery(
            ctx.layout, ns.key, force_global=ns.force_global, force_local=ns.force_local
        )
        if out.json:
            out.success(data)
        else:
            out.status(out.paint("✓", "green") + f" removed {data['key']} ({data['scope']})")
        return 0

    return handle


def _read_value(ctx: Any) -> str:
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
