"""``buttons history`` and ``buttons logs``."""

from __future__ import annotations

from .base import usage_error
from .output import truncate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .base import Args, Context


def _runs_table(ctx: Context, runs: list[dict[str, Any]]) -> None:
    rows = []
    for r in runs:
        status = str(r.get("status", ""))
        rows.append(
            [
                str(r.get("started_at", ""))[:19].replace("T", " "),
                str(r.get("button_name", "")),
                status,
                str(r.get("exit_code", "")),
                f"{r.get('duration_ms', '')}ms",
                truncate(str(r.get("stdout") or r.get("stderr") or ""), 40),
            ]
        )
    ctx.out.table(["STARTED (UTC)", "BUTTON", "STATUS", "EXIT", "DURATION", "OUTPUT"], rows)


def handle_history(ns: Args, ctx: Context) -> int:
    from ..services.history import get_run, history

    if ns.run is not None:
        run = get_run(ctx.layout, ns.run, ns.name)
        if ctx.out.json:
            ctx.out.success(run)
        else:
            _print_run(ctx, run)
        return 0
    runs = history(ctx.layout, ns.name, ns.last)
    if ctx.out.json:
        ctx.out.success(runs)
    elif not runs:
        ctx.out.status("No runs yet.")
        ctx.out.hint(f"buttons press {ns.name or 'NAME'}")
    else:
        _runs_table(ctx, runs)
    return 0


def _print_run(ctx: Context, r: dict[str, Any]) -> None:
    out = ctx.out
    mark = out.paint("✓", "green") if r.get("status") == "ok" else out.paint("✗", "red")
    print(f"{mark} {r.get('button_name', '')} {r.get('status', '')}  run {r.get('run_id', '')}")
    print(f"  started  {r.get('started_at', '')}")
    print(f"  duration {r.get('duration_ms', '')}ms  exit {r.get('exit_code', '')}")
    if r.get("error_type"):
        print(f"  error    {r['error_type']}")
    if r.get("args"):
        print("  args     " + " ".join(f"{k}={v}" for k, v in r["args"].items()))
    for key in ("stdout", "stderr"):
        text = str(r.get(key) or "")
        if text:
            print(f"  {key}:")
            for line in text.splitlines():
                print(f"    {line}")


def handle_logs(ns: Args, ctx: Context) -> int:
    if ns.follow:
        if not ns.name:
            raise usage_error("buttons logs", "--follow needs a button name: buttons logs NAME --follow")
        from .tail import run as run_tail

        return run_tail(ctx, ns.name, follow=True)
    from ..services.history import logs

    runs = logs(ctx.layout, ns.name, ns.failed, ns.limit)
    if ctx.out.json:
        ctx.out.success(runs)
        return 0
    if not runs:
        ctx.out.status("Nothing to show.")
        return 0
    if ns.name:
        for r in runs:
            mark = ctx.out.paint("✓", "green") if r.get("status") == "ok" else ctx.out.paint("✗", "red")
            print(f"{mark} {r.get('started_at')}  exit {r.get('exit_code')}  {r.get('duration_ms')}ms")
            for line in str(r.get("stdout") or "").splitlines()[-20:]:
                print(f"  {line}")
            for line in str(r.get("stderr") or "").splitlines()[-20:]:
                print(f"  ! {line}")
    else:
        rows = [
            [
                str(r.get("started_at", ""))[:19].replace("T", " "),
                str(r.get("target", "")),
                str(r.get("status", "")),
                str(r.get("error_type", "")),
                truncate(str(r.get("stderr", "")), 50),
            ]
            for r in runs
        ]
        ctx.out.table(["STARTED (UTC)", "TARGET", "STATUS", "ERROR", "STDERR"], rows)
    return 0
