"""``buttons ignore [NAME|button/NAME|drawer/NAME]`` and ``buttons unignore NAME`` (``commandtable.py``)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Args, Context


def handle_ignore(ns: Args, ctx: Context) -> int:
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


def handle_unignore(ns: Args, ctx: Context) -> int:
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
