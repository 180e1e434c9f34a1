"""``buttons import code FILE | skill DIR | url URL | mcp`` (flags: ``import`` in ``commandtable.py``)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Args, Context


def handle_no_kind(ns: Args, ctx: Context) -> int:
    from .base import usage_error

    raise usage_error("buttons import", "say what to import: code FILE, skill DIR or url URL")


def plan(ns: Args, ctx: Context) -> int:
    """``import … --summary``: read (and for url, fetch) the source, show the plan, create nothing."""
    from ..services import imports
    from .plan import render

    planned = imports.plan(ns.subcommand, ns.source or "", ns.name)
    return render(ctx, {"dry_run": True, "action": "import", **planned.to_json()})


def handle(ns: Args, ctx: Context) -> int:
    from ..errors import ImportFailed
    from ..services import imports

    plan = imports.plan(ns.subcommand, ns.source or "", ns.name)
    out = ctx.out
    if not out.json:
        for line in plan.lines():
            out.status(line)
    if not ns.yes:
        if out.json or ctx.no_input or not sys.stdin.isatty():
            names = ", ".join(b.name for b in plan.buttons)
            raise ImportFailed(
                f"import needs --yes when it cannot ask (plan: {len(plan.buttons)} button(s): {names})",
                hint="re-run with --yes to import",
            )
        sys.stderr.write(f"Import {len(plan.buttons)} button(s)? [y/N] ")
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            out.status("Cancelled.")
            return 1
    data = imports.apply(ctx.layout, plan, warn=_warn)
    if out.json:
        out.success(data)
    else:
        for name in data["created"]:
            out.status(out.paint("✓", "green") + f" created {name}")
        for name, message in (data.get("errors") or {}).items():
            out.status(out.paint(f"✗ {name}: {message}", "red"))
        out.hint(f"buttons press {data['created'][0]}")
    return 1 if data.get("errors") else 0


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr)
