"""``buttons ignore [NAME|button/NAME|drawer/NAME]`` and ``buttons unignore NAME`` (CONTRACT 16.8)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

EPILOG = (
    "Adds buttons/<name>/ (or drawers/<name>/) to <data dir>/.gitignore so the folder stays out of\n"
    "git; unignore removes it. Other lines and comments are kept. Without NAME, lists the entries.\n"
    "\n"
    "Examples:\n"
    "  buttons ignore scratch\n"
    "  buttons ignore drawer/nightly\n"
    "  buttons unignore scratch"
)


def build_ignore(p: argparse.ArgumentParser) -> Any:
    p.add_argument("name", nargs="?", help="button (NAME or button/NAME) or drawer (drawer/NAME)")
    p.epilog = EPILOG
    return handle_ignore


def build_unignore(p: argparse.ArgumentParser) -> Any:
    p.add_argument("name", help="button (NAME or button/NAME) or drawer (drawer/NAME)")
    p.epilog = EPILOG
    return handle_unignore


def handle_ignore(ns: Any, ctx: Any) -> int:
    from ..services import ignore

    out = ctx.out
    if ns.name is None:
        items = ignore.entries(ctx.layout)
        if out.json:
            out.success(items)
        elif items:
            print("\n".join(items))
        else:
            out.status("Nothing ignored. Add one with: buttons ignore NAME")
        return 0
    data = ignore.ignore(ctx.layout, ns.name, write=not ctx.summary)
    if out.json:
        out.success(data)
    else:
        verb = "would ignore" if ctx.summary else "ignored" if data["added"] else "already ignored:"
        out.status(out.paint("✓", "green") + f" {verb} {data['ignored']}")
    return 0


def handle_unignore(ns: Any, ctx: Any) -> int:
    from ..services import ignore

    out = ctx.out
    data = ignore.unignore(ctx.layout, ns.name, write=not ctx.summary)
    if out.json:
        out.success(data)
    elif data["removed"]:
        verb = "would unignore" if ctx.summary else "unignored"
        out.status(out.paint("✓", "green") + f" {verb} {data['unignored']}")
    else:
        out.status(f"{data['unignored']} was not ignored")
    return 0
