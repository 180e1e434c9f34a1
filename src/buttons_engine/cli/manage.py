"""``buttons delete``, ``buttons init`` and ``buttons config``."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def build_delete(p: argparse.ArgumentParser) -> Any:
    p.prog = "buttons delete"
    p.add_argument("name", help="button to delete (with its history)")
    p.add_argument("-F", "--force", action="store_true", help="do not ask for confirmation")

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services.buttons import delete
        from ..store.names import lookup_name

        interactive = not (ns.force or ctx.out.json or ctx.no_input or not sys.stdin.isatty())
        if interactive:
            slug = lookup_name(ns.name)
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

    return handle


def build_init(p: argparse.ArgumentParser) -> Any:
    p.add_argument(
        "--agent",
        action="append",
        default=None,
        metavar="LIST",
        help="write instructions for these coding agents (comma-separated or repeated): "
        "cursor, claude, cline, copilot, agents-md, openclaw, hermes, or none",
    )
    p.epilog = (
        "Without --agent, a terminal asks which agents to set up; --json and --no-input do not ask.\n"
        "Files: cursor .cursor/rules/buttons.mdc (whole file); claude CLAUDE.md; cline .clinerules;\n"
        "copilot .github/copilot-instructions.md; agents-md, openclaw, hermes AGENTS.md. Only the block\n"
        "between <!-- BUTTONS:START --> and <!-- BUTTONS:END --> is written; running init again\n"
        "changes nothing."
    )

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services.project import init, parse_agents

        if ns.agent is not None:
            agents = parse_agents(ns.agent)
        elif ctx.out.json or ctx.no_input or not (sys.stdin.isatty() and sys.stderr.isatty()):
            agents = []
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

    return handle


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


def build_config(p: argparse.ArgumentParser) -> Any:
    from ..services.settings import KEYS

    p.add_argument(
        "action", nargs="?", choices=["set", "unset"], help="set KEY VALUE, unset KEY; none shows all"
    )
    p.add_argument("key", nargs="?", help="setting name")
    p.add_argument("value", nargs="?", help="new value (for set)")

    def shown(value: object) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    p.epilog = "Settings:\n" + "\n".join(
        f"  {k.name:<20} {k.help} (default {shown(k.default)})" for k in KEYS.values()
    )

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services import settings

        if ns.action is None:
            if ns.key is not None:
                raise _usage(p, "unexpected argument; use 'buttons config set KEY VALUE'")
            data: Any = settings.show(ctx.layout)
            if not ctx.out.json:
                for k, v in data.items():
                    print(f"{k:<20} {v}")
                return 0
        elif ns.action == "set":
            if ns.key is None or ns.value is None:
                raise _usage(p, "config set needs KEY and VALUE")
            data = settings.set_value(ctx.layout, ns.key, ns.value)
            if not ctx.out.json:
                ctx.out.status(ctx.out.paint("✓", "green") + f" {data['key']} = {data['value']}")
                return 0
        else:
            if ns.key is None or ns.value is not None:
                raise _usage(p, "config unset needs exactly KEY")
            data = settings.unset(ctx.layout, ns.key)
            if not ctx.out.json:
                ctx.out.status(ctx.out.paint("✓", "green") + f" {data['key']} reset to its default")
                return 0
        ctx.out.success(data)
        return 0

    return handle


def _usage(p: argparse.ArgumentParser, message: str) -> Exception:
    from .main import UsageError

    return UsageError(f"{p.prog}: {message}\nRun '{p.prog} --help' for usage.")
