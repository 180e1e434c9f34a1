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
    data = ignore.ignore(ctx.layout, ns.name)
    if out.json:
        out.success(data)
    else:
        verb = "ignored" if data["added"] else "already ignored:"
        out.status(out.paint("✓", "green") + f" {verb} {data['ignored']}")
    return 0


def handle_unignore(ns: Args, ctx: Context) -> int:
    from ..services import ignore

    out = ctx.out
    data = ignore.unignore(ctx.layout, ns.name)
    if out.json:
        out.success(data)
    elif data["removed"]:
        out.status(out.paint("✓", "green") + f" unignored {data['unignored']}")
    else:
        out.status(f"{data['unignored']} was not ignored")
    return 0


def plan_ignore(ns: Args, ctx: Context) -> int:
    """``ignore NAME --summary``: the entry it would add, and whether it is new; nothing written."""
    from ..services import ignore
    from .plan import render

    if ns.name is None:  # listing changes nothing
        return handle_ignore(ns, ctx)
    data = ignore.ignore(ctx.layout, ns.name, write=False)
    return render(
        ctx, {"dry_run": True, "action": "ignore", "ignored": data["ignored"], "added": data["added"]}
    )


def plan_unignore(ns: Args, ctx: Context) -> int:
    """``unignore NAME --summary``: the entry it would remove, if any; nothing written."""
    from ..services import ignore
    from .plan import render

    data = ignore.unignore(ctx.layout, ns.name, write=False)
    return render(
        ctx,
        {"dry_run": True, "action": "unignore", "unignored": data["unignored"], "removed": data["removed"]},
    )
