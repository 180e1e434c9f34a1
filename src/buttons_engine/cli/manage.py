"""``buttons delete``, ``buttons init`` and ``buttons config``."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Args, Context


def plan_delete(ns: Args, ctx: Context) -> int:
    """``delete NAME --summary``: the folder and the number of runs that would go; nothing deleted."""
    from ..services.buttons import delete_plan
    from .plan import render

    return render(ctx, delete_plan(ctx.layout, ns.name))


def handle_delete(ns: Args, ctx: Context) -> int:
    from ..services.buttons import delete, delete_plan

    interactive = not (ns.force or ctx.out.json or ctx.no_input or not sys.stdin.isatty())
    if interactive:
        slug = delete_plan(ctx.layout, ns.name)["name"]  # NOT_FOUND before asking
        sys.stderr.write(f'Delete button "{slug}"? [y/N] ')
        sys.stderr.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            ctx.out.status("Cancelled.")
            return 1
    data = delete(ctx.layout, ns.name)
    if ctx.out.json:
        ctx.out.success(data)
    else:
        ctx.out.status(ctx.out.paint("✓", "green") + f" deleted {data['name']}")
    return 0


def plan_init(ns: Args, ctx: Context) -> int:
    from ..services.project import init
    from .plan import render

    return render(ctx, init(plan=True))


def handle_init(ns: Args, ctx: Context) -> int:
    from ..services.project import init

    data = init()
    if ctx.out.json:
        ctx.out.success(data)
    else:
        verb = "created" if data["created"] else "updated"
        ctx.out.status(ctx.out.paint("✓", "green") + f" {verb} {data['path']}")
        ctx.out.hint("buttons create hello --code 'echo hello'")
    return 0


def config_epilog() -> str:
    """The settings list under ``buttons config --help`` (and docs/cli.md)."""
    from ..services.settings import KEYS

    return "Settings:\n" + "\n".join(
        f"  {k.name:<20} {k.help} (default {_shown(k.default)})" for k in KEYS.values()
    )


def _shown(value: object) -> str:
    if value == "":
        return "none"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _value(value: object) -> str:
    """A setting's value for people: booleans as typed (``true``/``false``), not Python's ``True``."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def handle_config_show(ns: Args, ctx: Context) -> int:
    from ..services import settings

    data = settings.show(ctx.layout)
    if ctx.out.json:
        ctx.out.success(data)
    else:
        for k, v in data.items():
            print(f"{k:<20} {_value(v)}".rstrip())
    return 0


def handle_config_set(ns: Args, ctx: Context) -> int:
    from ..services import settings

    data = settings.set_value(ctx.layout, ns.key, ns.value)
    if ctx.out.json:
        ctx.out.success(data)
    else:
        ctx.out.status(ctx.out.paint("✓", "green") + f" {data['key']} = {_value(data['value'])}")
    return 0


def plan_config_set(ns: Args, ctx: Context) -> int:
    from ..services import settings
    from .plan import render

    return render(ctx, settings.set_value(ctx.layout, ns.key, ns.value, plan=True))


def plan_config_unset(ns: Args, ctx: Context) -> int:
    from ..services import settings
    from .plan import render

    return render(ctx, settings.unset(ctx.layout, ns.key, plan=True))


def handle_config_unset(ns: Args, ctx: Context) -> int:
    from ..services import settings

    data = settings.unset(ctx.layout, ns.key)
    if ctx.out.json:
        ctx.out.success(data)
    else:
        ctx.out.status(ctx.out.paint("✓", "green") + f" {data['key']} reset to its default")
    return 0
