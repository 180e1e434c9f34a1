"""``buttons list`` and ``buttons NAME`` (detail)."""

from __future__ import annotations

from .output import truncate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Args, Context


def handle_list(ns: Args, ctx: Context) -> int:
    from ..services.buttons import list_buttons, list_buttons_json

    if ctx.out.json:
        ctx.out.success_rendered_list(list_buttons_json(ctx.layout))
        return 0
    specs = list_buttons(ctx.layout)
    if not specs:
        ctx.out.status("No buttons yet.")
        ctx.out.hint("buttons create hello --code 'echo hello'")
        return 0
    rows = [[s.name, truncate(s.description or "-", 50), s.runtime, f"{s.timeout_seconds}s"] for s in specs]
    ctx.out.table(["NAME", "DESCRIPTION", "RUNTIME", "TIMEOUT"], rows)
    ctx.out.hint("buttons press NAME")
    return 0


def handle_detail(ns: Args, ctx: Context) -> int:
    from ..errors import NotFound
    from ..services.buttons import detail

    try:
        data = detail(ctx.layout, ns.name)
    except NotFound as exc:
        from .. import commandtable

        exc.message = f"no button or command named {ns.name!r}"
        exc.hint = _did_you_mean(ns.name, [*commandtable.command_words(), *_button_names(ctx)])
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
    if spec.get("url"):
        out.status(f"  {spec.get('method') or 'GET'} {spec['url']}")
        for header in spec.get("headers") or {}:
            out.status(f"  header {header}")
        cap = spec.get("max_response_bytes")
        private = "allowed" if spec.get("allow_private_networks") else "refused"
        out.status(f"  response cap {_size(cap) if cap else 'default'} · private networks {private}")
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


def _size(n: int) -> str:
    """``10485760`` -> ``10 MiB``; sizes that are not a whole KiB/MiB stay in bytes."""
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def _button_names(ctx: Context) -> list[str]:
    from .completion import button_names

    return button_names(ctx.layout)


def _did_you_mean(word: str, known: list[str]) -> str:
    """``buttons NAME`` hint: the nearest command or button name (difflib), else where to look."""
    import difflib

    close = difflib.get_close_matches(word, known, n=1)
    return f"did you mean 'buttons {close[0]}'?" if close else "run 'buttons --help' or 'buttons list'"
