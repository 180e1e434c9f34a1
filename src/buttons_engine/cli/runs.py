"""``buttons history`` and ``buttons logs``."""

from __future__ import annotations

from .output import truncate

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def _runs_table(ctx: Any, runs: list[dict[str, Any]]) -> None:
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


def build_history(p: argparse.ArgumentParser) -> Any:
    p.add_argument("name", nargs="?", help="button (default: all buttons)")
    p.add_argument("--last", type=int, default=20, help="how many runs (default 20; 0 or less = all)")
    p.add_argument("--run", metavar="RUN_ID", help="show one run: the run_id a press returned")

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
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

    return handle


def _print_run(ctx: Any, r: dict[str, Any]) -> None:
    out = ctx.out
    ok = r.get("status") == "ok"
    mark = out.paint("✓", "green") if ok else out.paint("✗", "red")
    print(f"{mark} {r.get('button_name', '')} {r.get('status', '')}  run {r.get('run_id', '')}")
    print(f"  started  {r.get('started_at', '')}")
    print(f"  duration {r.get('duration_ms', '')}ms  exit {r.get('exit_code', '')}")
    if r.get("error_type"):
        print(f"  error    {r['error_type']}")
    if r.get("args"):
        print("  args     " + " ".join(f"{k}={v}" for k, v in r["args"].items()))
    for label, key in (("stdout", "stdout"), ("stderr", "stderr")):
        text = str(r.get(key) or "")
        if text:
            print(f"  {label}:")
            for line in text.splitlines():
                print(f"    {line}")


def build_logs(p: argparse.ArgumentParser) -> Any:
    p.add_argument("name", nargs="?", help="button (default: recent failures across the workspace)")
    p.add_argument("--failed", action="store_true", help="only runs that did not succeed")
    p.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    p.add_argument(
        "-f", "--follow", action="store_true", help="follow the button's progress stream (= tail NAME -f)"
    )

    def handle(ns: argparse.Namespace, ctx: Any) -> int:
        if ns.follow:
            if not ns.name:
                raise _usage_error(p, "--follow needs a button name: buttons logs NAME --follow")
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

    return handle


def _usage_error(p: argparse.ArgumentParser, message: str) -> Exception:
    from .manage import _usage

    return _usage(p, message)
