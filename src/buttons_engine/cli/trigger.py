"""``buttons trigger add|list|rm``: a button's triggers in its button.json (CONTRACT 12.1)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .base import Args, Context


def _add(ns: Args, ctx: Context, *, plan: bool) -> dict[str, Any]:
    from ..services import triggers

    return triggers.add(
        ctx.layout,
        ns.name,
        cron=ns.cron,
        watch=ns.watch,
        webhook=ns.webhook,
        schedule=ns.schedule,
        path=ns.path,
        webhook_path=ns.webhook_path,
        token=ns.token,
        args=list(ns.arg or []),
        auth=ns.auth,
        hmac_secret=ns.hmac_secret,
        auth_user=ns.auth_user,
        auth_pass=ns.auth_pass,
        auth_header_name=ns.auth_header_name,
        auth_header_value=ns.auth_header_value,
        jwt={
            "secret": ns.jwt_secret,
            "algorithm": ns.jwt_algorithm,
            "issuer": ns.jwt_issuer,
            "audience": ns.jwt_audience,
        },
        plan=plan,
    )


def _describe(trigger: dict[str, Any]) -> str:
    kind = str(trigger.get("kind", "?"))
    what = trigger.get("schedule") or trigger.get("path") or ""
    args = " ".join(f"{k}={v}" for k, v in (trigger.get("args") or {}).items())
    return " ".join(str(p) for p in (kind, what, args) if p)


def handle_add(ns: Args, ctx: Context) -> int:
    data = _add(ns, ctx, plan=False)
    if ctx.out.json:
        ctx.out.success(data)
    else:
        trigger = data["trigger"]
        ctx.out.status(
            ctx.out.paint("✓", "green") + f" {data['button']}: {_describe(trigger)} ({trigger['id']})"
        )
    return 0


def plan_add(ns: Args, ctx: Context) -> int:
    data = _add(ns, ctx, plan=True)
    if ctx.out.json:
        ctx.out.success(data)
    else:
        ctx.out.status(f"would add to {data['button']}: {_describe(data['trigger'])}")
    return 0


def handle_list(ns: Args, ctx: Context) -> int:
    from ..services import triggers

    data = triggers.list_triggers(ctx.layout, getattr(ns, "name", None))
    if ctx.out.json:
        ctx.out.success(data)
        return 0
    if "button" in data:
        rows = [[data["button"], str(t.get("id", "")), _describe(t)] for t in data["triggers"]]
    else:
        rows = [
            [e["button"], str(e["trigger"].get("id", "")), _describe(e["trigger"])] for e in data["triggers"]
        ]
    if not rows:
        ctx.out.status("No triggers.")
        ctx.out.hint("buttons trigger add NAME --cron --schedule '@hourly'")
        return 0
    ctx.out.table(["BUTTON", "ID", "TRIGGER"], rows)
    return 0


def handle_rm(ns: Args, ctx: Context) -> int:
    from ..services import triggers

    data = triggers.remove(ctx.layout, ns.name, ns.id)
    if ctx.out.json:
        ctx.out.success(data)
    else:
        ctx.out.status(
            ctx.out.paint("✓", "green") + f" removed trigger {data['removed']} from {data['button']}"
        )
    return 0


def plan_rm(ns: Args, ctx: Context) -> int:
    from ..services import triggers

    data = triggers.remove(ctx.layout, ns.name, ns.id, plan=True)
    if ctx.out.json:
        ctx.out.success(data)
    else:
        ctx.out.status(f"would remove trigger {data['removed']} from {data['button']}")
    return 0
