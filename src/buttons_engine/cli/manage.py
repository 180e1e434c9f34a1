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
    from ..services.project import init, parse_agents
    from .plan import render

    return render(ctx, init(agents=parse_agents(ns.agent or []), plan=True))


def handle_init(ns: Args, ctx: Context) -> int:
    from ..services.project import init, parse_agents

    if ns.agent:
        agents = parse_agents(ns.agent)
    elif ctx.out.json or ctx.no_input or not (sys.stdin.isatty() and sys.stderr.isatty()):
        agents = []  # JSON mode, --no-input and pipes never prompt
    else:
        agents = _pick_agents()
    data = init(agents=agents)
    if ctx.out.json:
        ctx.out.success(data)
    else:
        verb = "created" if data["created"] else "updated"
        ctx.out.status(ctx.out.paint("✓", "green") + f" {verb} {data['path']}")
        for item in data["agent_installs"]:
            ctx.out.status(f"  {item['target_id']}: {item['action']} {item['path']}")
        ctx.out.hint("buttons create hello --code 'echo hello'")
    return 0


def _pick_agents() -> list[str]:
    """The terminal picker: numbers or names, separated by spaces or commas; Enter for none."""
    from ..services.agent_instructions import TARGET_IDS, TARGETS
    from ..services.project import parse_agents

    lines = ["Set up instructions for which coding agents?"]
    for i, target_id in enumerate(TARGET_IDS, 1):
        t = TARGETS[target_id]
        lines.append(f"  {i}) {target_id:<10} {t.label} ({t.path})")
    lines.append("Numbers or names separated by spaces or commas, Enter for none: ")
    sys.stderr.write("\n".join(lines))
    sys.stderr.flush()
    answer = sys.stdin.readline()
    picked = []
    for part in answer.replace(",", " ").split():
        if part.isdigit() and 1 <= int(part) <= len(TARGET_IDS):
            picked.append(TARGET_IDS[int(part) - 1])
        else:
            picked.append(part)
    return parse_agents(picked)


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
