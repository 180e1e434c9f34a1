"""``buttons smash NAMES…``: press several buttons in parallel."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


EPILOG = """Each button is pressed with no arguments, through the same pipeline as 'buttons press'
(batteries, masking, queues, run records); no prompt is attached.

--on-failure stop: the first failure ends the presses still running (same kill chain as a
timeout; their error_type is CANCELLED) and skips the ones not started yet.
Exit status 1 when any press failed.

Examples:
  buttons smash lint test build --concurrency 3
  buttons smash lint,test,build --on-failure stop --timeout 120"""


def build(p: argparse.ArgumentParser) -> Any:
    p.epilog = EPILOG
    p.add_argument("names", nargs="+", metavar="NAME", help="buttons to press (space- or comma-separated)")
    p.add_argument(
        "--concurrency", type=int, default=0, help="presses at once (default 0 = CPU count; at most 50)"
    )
    p.add_argument(
        "--on-failure",
        choices=["continue", "stop"],
        default="continue",
        help="continue (default) or stop: end the others at the first failure",
    )
    p.add_argument(
        "--timeout", type=float, default=0, help="seconds per press (default 0 = each button's own)"
    )

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
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

    return handle


def _line(out: Any, e: dict[str, Any]) -> str:
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
