"""``buttons list`` and ``buttons NAME`` (detail)."""

from __future__ import annotations

from .output import truncate

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def build_list(p: argparse.ArgumentParser) -> Any:
    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..services.buttons import list_buttons, list_buttons_json

        if ctx.out.json:
            ctx.out.success_rendered_list(list_buttons_json(ctx.layout))
            return 0
        specs = list_buttons(ctx.layout)
        if not specs:
            ctx.out.status("No buttons yet.")
            ctx.out.hint("buttons create hello --code 'echo hello'")
            return 0
        rows = [
            [
                str(s.get("name", "")),
                truncate(str(s.get("description") or "-"), 50),
                str(s.get("runtime", "")),
                f"{s.get('timeout_seconds', '')}s",
            ]
            for s in specs
        ]
        ctx.out.table(["NAME", "DESCRIPTION", "RUNTIME", "TIMEOUT"], rows)
        ctx.out.hint("buttons press NAME")
        return 0

    return handle


def build_detail(p: argparse.ArgumentParser) -> Any:
    p.prog = "buttons NAME"
    p.add_argument("name")

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        from ..errors import NotFound
        from ..services.buttons import detail

        try:
            data = detail(ctx.layout, ns.name)
        except NotFound as exc:
            import difflib

            close = difflib.get_close_matches(
                ns.name, [c for c in _commands() if not c.startswith("__")], n=1
            )
            exc.message = f"no button or command named {ns.name!r}"
            exc.hint = (
                f"did you mean 'buttons {close[0]}'?" if close else "run 'buttons --help' or 'buttons list'"
            )
            raise
        out = ctx.out
        if out.json:
            out.success(data)
            return 0
        spec = data["button"]
        name = spec.get("name", ns.name)
        usage = " ".join(f"--arg {a.get('name')}=<{a.get('type', 'string')}>" for a in spec.get("args") or [])
        out.status(f"{name}: {spec.get('description') or '(no description)'}")
        out.status(f"  runtime {spec.get('runtime', '')} · timeout {spec.get('timeout_seconds', '')}s")
        for a in spec.get("args") or []:
            extra = f" one of {'|'.join(a.get('values') or [])}" if a.get("type") == "enum" else ""
            req = "required" if a.get("required") else "optional"
            out.status(f"  arg {a.get('name')} ({a.get('type')}, {req}){extra}")
        last = data.get("last_run")
        if last:
            out.status(
                f"  last run: {last.get('status')} at {last.get('started_at')} ({last.get('duration_ms')}ms)"
            )
        print(f"buttons press {name} {usage}".rstrip())
        print(f"buttons press {name} {usage} --json".replace("  ", " "))
        return 0

    return handle


def _commands() -> dict[str, Any]:
    from .commands import COMMANDS

    return COMMANDS
