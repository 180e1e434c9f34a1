"""``buttons smash NAMES…``: press several buttons in parallel."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .base import Args, Context
    from .output import Output


def handle(ns: Args, ctx: Context) -> int:
    from ..services.smash import smash

    data = smash(
        ctx.layout, ns.names, concurrency=ns.concurrency, on_failure=ns.on_failure, timeout=ns.timeout
    )
    out = ctx.out
    if out.json:
        out.success(data)
    else:
        for e in data["results"]:
            out.status(_line(out, e))
        summary = f"{data['total']} pressed, {data['failures']} failed"
        out.status(out.paint(summary, "red" if data["failures"] else "green"))
    return 1 if data["failures"] or data.get("interrupted") else 0


def _line(out: Output, e: dict[str, Any]) -> str:
    name = e["button"]
    if e.get("skipped"):
        return str(out.paint("-", "dim") + f" {name} skipped")
    if "error" in e:
        return str(out.paint("✗", "red") + f" {name}: {e.get('error_code', 'ERROR')}: {e['error']}")
    r = e["result"]
    if r.get("status") == "ok":
        return str(out.paint("✓", "green") + f" {name} completed in {r.get('duration_ms')}ms")
    if r.get("status") == "timeout":
        return str(out.paint("✗", "red") + f" {name} timed out after {r.get('duration_ms')}ms")
    if r.get("error_type") == "CANCELLED":
        return str(out.paint("✗", "yellow") + f" {name} cancelled after {r.get('duration_ms')}ms")
    return str(
        out.paint("✗", "red") + f" {name} failed (exit {r.get('exit_code')}) in {r.get('duration_ms')}ms"
    )
